"""Why the classifier suggested a code: the words that pushed its score up most.

The classifier is linear, so a code's log-odds for a segment is a sum over features of
(feature value x weight). The features a person can read are the segment's word n-grams
and the word n-grams of the turn before it (its context); the character n-grams are not
shown. :func:`top_contributions` finds, for many (segment, code) pairs at once, the
readable features with the largest positive share, and :func:`find_term` locates a word
n-gram in the segment's text, so a suggestion can show and highlight its evidence the way a
rule shows the words it matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

def top_contributions(x: Any, rows: Sequence[int], cols: Sequence[int], coef: np.ndarray,
                      block: tuple[int, int], k: int) -> list[list[tuple[int, float]]]:
    """For each pair (``rows[i]`` of the sparse CSR matrix ``x``, code column ``cols[i]`` of
    ``coef``): up to ``k`` (feature, contribution) with the largest positive contribution
    ``x[row, f] * coef[f, col]`` among the columns ``block`` = (first, end), largest first.
    Vectorised over all pairs: one pass over their non-zero features in the block."""
    if not len(rows):
        return []
    first, end = block
    sub = x[:, first:end][np.asarray(rows)]
    pair = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    contrib = sub.data * coef[sub.indices + first, np.asarray(cols)[pair]]
    keep = contrib > 0
    pair, feat, contrib = pair[keep], sub.indices[keep] + first, contrib[keep]
    order = np.lexsort((-contrib, pair))
    pair, feat, contrib = pair[order], feat[order], contrib[order]
    top = (np.arange(len(pair)) - np.searchsorted(pair, pair)) < k  # rank within its pair
    out: list[list[tuple[int, float]]] = [[] for _ in rows]
    for p, f, c in zip(pair[top].tolist(), feat[top].tolist(), contrib[top].tolist()):
        out[p].append((f, c))
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


def evidence_words(provenance: dict[str, Any]) -> list[str]:
    """The words a classifier suggestion rests on, as they appear in the segment."""
    items = provenance.get("evidence") if isinstance(provenance, dict) else None
    if not isinstance(items, list):
        return []
    return [" ".join(str(e.get("matched") or e.get("term", "")).split())
            for e in items if isinstance(e, dict) and (e.get("matched") or e.get("term"))]
