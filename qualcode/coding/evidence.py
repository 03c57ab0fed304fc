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
from typing import Any

import numpy as np

# scikit-learn's default token_pattern: what the word vectorisers count as a word
TOKEN = re.compile(r"(?u)\b\w\w+\b")


def top_contributions(x: Any, rows: Sequence[int], cols: Sequence[int], coef: np.ndarray,
                      readable: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """For each pair (``rows[i]`` of the sparse matrix ``x``, code column ``cols[i]`` of
    ``coef``): up to ``k`` (feature, contribution) with the largest positive contribution
    ``x[row, f] * coef[f, col]`` among the features where ``readable`` is True, largest
    first. Vectorised over all pairs: one pass over their non-zero features."""
    if not len(rows):
        return []
    sub = x[np.asarray(rows)]
    lengths = np.diff(sub.indptr)
    pair = np.repeat(np.arange(len(rows)), lengths)
    contrib = sub.data * coef[sub.indices, np.repeat(np.asarray(cols), lengths)]
    keep = readable[sub.indices] & (contrib > 0)
    pair, feat, contrib = pair[keep], sub.indices[keep], contrib[keep]
    order = np.lexsort((-contrib, pair))
    pair, feat, contrib = pair[order], feat[order], contrib[order]
    rank = np.arange(len(pair)) - np.searchsorted(pair, pair)  # position within its pair
    out: list[list[tuple[int, float]]] = [[] for _ in rows]
    for p, f, c in zip(pair[rank < k], feat[rank < k], contrib[rank < k]):
        out[p].append((int(f), float(c)))
    return out


def find_term(text: str, term: str) -> tuple[int, int] | None:
    """Where the word n-gram ``term`` (lower-case words joined by single spaces, as the
    vectoriser names it) first occurs in ``text``, as code-point offsets; None if nowhere."""
    words = term.split(" ")
    tokens = [(m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]
    n = len(words)
    for i in range(len(tokens) - n + 1):
        if all(tokens[i + j][0] == words[j] for j in range(n)):
            return tokens[i][1], tokens[i + n - 1][2]
    return None


def evidence_words(provenance: dict[str, Any]) -> list[str]:
    """The words a classifier suggestion rests on, as they appear in the segment."""
    items = provenance.get("evidence") if isinstance(provenance, dict) else None
    if not isinstance(items, list):
        return []
    return [" ".join(str(e.get("matched") or e.get("term", "")).split())
            for e in items if isinstance(e, dict) and (e.get("matched") or e.get("term"))]
