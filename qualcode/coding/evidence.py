"""Why the classifier suggested a code: the words that pushed its score up most.

The classifier is linear, so a code's log-odds for a segment is a sum over features of
(feature value x weight). The features are the segment's word n-grams, its character
n-grams and the word n-grams of the turn before it (its context). Character n-grams carry
most of a score but mean nothing alone, so each is credited to the words of the segment it
occurs in (shared equally when several words hold it), and a word's evidence is its own
weight plus its character n-grams'. :func:`block_contributions` and :func:`credit_characters`
do this for many (segment, code) pairs at once, :func:`top_entries` keeps the largest, and
:func:`find_term` locates a word n-gram in the text, so a suggestion can show and highlight
its evidence the way a rule shows the words it matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np


def block_contributions(x: Any, rows: Sequence[int], cols: Sequence[int], coef: np.ndarray,
                        block: tuple[int, int]) -> Any:
    """Pairs x block columns (CSR): ``x[rows[i], f] * coef[f, cols[i]]`` for the columns
    ``block`` = (first, end) of the CSR matrix ``x``; one pass over their non-zeros."""
    from scipy import sparse

    first, end = block
    sub = x[:, first:end][np.asarray(rows)]
    pair = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    data = sub.data * coef[sub.indices + first, np.asarray(cols, dtype=np.int64)[pair]]
    return sparse.csr_matrix((data, sub.indices, sub.indptr), shape=sub.shape)


def credit_characters(words: Any, chars: Any, grams_of_word: Any) -> Any:
    """Each word's share of the character n-gram contributions ``chars`` (pairs x char
    columns): a gram's contribution split equally among the words present in the pair
    (non-zeros of ``words``, pairs x word columns) whose padded form holds it
    (``grams_of_word``: word columns x char columns, 1 where the word holds the gram)."""
    present = words.copy()
    present.data = np.ones_like(present.data)
    holders = present @ grams_of_word  # pairs x chars: how many present words hold each gram
    share = chars.multiply(holders.power(-1.0)).tocsr()  # 1/0 never stored: unheld grams drop
    return (share @ grams_of_word.T).multiply(present).tocsr()


def top_entries(m: Any, k: int) -> list[list[tuple[int, float]]]:
    """Per row of the CSR matrix ``m``: up to ``k`` (column, value) with the largest
    positive values, largest first."""
    m = m.tocsr()
    pair = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    keep = m.data > 0
    pair, col, val = pair[keep], m.indices[keep], m.data[keep]
    order = np.lexsort((-val, pair))
    pair, col, val = pair[order], col[order], val[order]
    top = (np.arange(len(pair)) - np.searchsorted(pair, pair)) < k  # rank within its row
    out: list[list[tuple[int, float]]] = [[] for _ in range(m.shape[0])]
    for p, c, v in zip(pair[top].tolist(), col[top].tolist(), val[top].tolist()):
        out[p].append((c, v))
    return out


_BETWEEN = r"(?:\W|(?<!\w)\w(?!\w))+"  # what lies between two tokens: no run of 2 word characters


@lru_cache(maxsize=65536)
def _term_pattern(term: str) -> re.Pattern[str]:
    words = [rf"(?<!\w){re.escape(w)}(?!\w)" for w in term.split(" ")]
    return re.compile(_BETWEEN.join(words), re.IGNORECASE)


def find_term(text: str, term: str) -> tuple[int, int] | None:
    """Where the word n-gram ``term`` (lower-case words joined by single spaces, as the
    vectoriser names it) first occurs in ``text``, as code-point offsets; None if nowhere.
    Words are runs of two or more word characters, as the vectoriser counts them."""
    m = _term_pattern(term).search(text)
    return (m.start(), m.end()) if m else None


def explain(x: Any, segments: Sequence[Any], picked: Sequence[tuple[int, int, float]],
            coef: np.ndarray, cal_a: np.ndarray, readable: dict[str, Any],
            shown: dict[str, int]) -> list[dict[str, Any]]:
    """The provenance additions of each suggestion ``picked`` = (row of ``x`` and of
    ``segments``, code column, p): under "evidence" the ``shown["word"]`` words of the
    segment with the largest share of the score (term, the text matched, its span in the
    document when the segment's start is known, weight in calibrated log-odds), and under
    "context_evidence" the ``shown["context"]`` words of the question before it.
    ``readable`` is the model's blocks: name -> ((first, end), terms), and "chars" ->
    ((first, end), word x char n-gram matrix) when char n-grams can be credited to words."""
    out: list[dict[str, Any]] = [{} for _ in picked]
    if not picked:
        return out
    rows, cols = [r for r, _, _ in picked], [j for _, j, _ in picked]
    for block, key in (("word", "evidence"), ("context", "context_evidence")):
        if block not in readable:
            continue
        span, terms = readable[block]
        scores = block_contributions(x, rows, cols, coef, span)
        if block == "word" and "chars" in readable:
            char_span, grams = readable["chars"]
            scores = scores + credit_characters(scores, block_contributions(x, rows, cols, coef, char_span), grams)
        for n, found in enumerate(top_entries(scores, shown[block])):
            seg, scale = segments[rows[n]], float(cal_a[cols[n]])
            items = []
            for f, c in found:
                item: dict[str, Any] = {"term": str(terms[f]), "weight": round(scale * c, 3)}
                at = find_term(seg.text, item["term"]) if block == "word" else None
                if at is not None:
                    item["matched"] = seg.text[at[0]:at[1]]
                    if isinstance(seg.start, int):  # offsets in the document, when known
                        item["span"] = [seg.start + at[0], seg.start + at[1]]
                items.append(item)
            if items:
                out[n][key] = items
    return out


def evidence_words(provenance: dict[str, Any]) -> list[str]:
    """The words a classifier suggestion rests on, as they appear in the segment."""
    items = provenance.get("evidence") if isinstance(provenance, dict) else None
    if not isinstance(items, list):
        return []
    return [" ".join(str(e.get("matched") or e.get("term", "")).split())
            for e in items if isinstance(e, dict) and (e.get("matched") or e.get("term"))]
