"""Active learning: which uncoded segments a person should code next.

With a trained classifier, the segments it is least sure about teach it most (uncertainty
sampling). The picks are spread round-robin over sites, and over documents within a site,
among the top candidates, so one long or unusual interview does not fill the list. Without
a model (nothing coded yet) the list is a seeded random sample spread the same way.

Only numpy is imported at module level; pandas is imported when the table is built.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qualcode.coding.base import SegmentInput
from qualcode.errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from qualcode.coding.classifier import CodeClassifier

STRATEGIES = ("margin", "entropy")
POOL_FACTOR = 5  # spread among the top POOL_FACTOR * n candidates
COLUMNS = ["segment_id", "document", "site", "role", "uncertainty", "most_uncertain_code",
           "p", "text"]


def uncertainty(probs: np.ndarray, strategy: str = "margin") -> tuple[np.ndarray, np.ndarray]:
    """Uncertainty of each row in [0, 1] (1 = most uncertain) and its most uncertain code.

    ``margin``: 1 - 2 * min over codes of |p - 0.5| (the single closest call).
    ``entropy``: the mean binary entropy over codes, in bits (unsure about several codes).
    The most uncertain code is the one with p closest to 0.5 under both.
    """
    if strategy not in STRATEGIES:
        raise InvalidInput(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] == 0:
        raise InvalidInput("probabilities must be a 2-D array with at least one code")
    margin = np.abs(probs - 0.5)
    worst = margin.argmin(axis=1)
    if strategy == "margin":
        u = 1.0 - 2.0 * margin[np.arange(len(probs)), worst]
    else:
        p = np.clip(probs, 1e-15, 1 - 1e-15)
        u = (-(p * np.log2(p) + (1 - p) * np.log2(1 - p))).mean(axis=1)
    return u, worst


def _spread(order: Sequence[int], segs: Sequence[SegmentInput], n: int) -> list[int]:
    """Take ``n`` of ``order`` round-robin: over sites, and over each site's documents in
    turn, each document giving its candidates in the order given."""
    queues: dict[str, dict[str, deque[int]]] = {}
    for i in order:
        site_q = queues.setdefault(segs[i].site or "", {})
        site_q.setdefault(segs[i].document or "", deque()).append(i)
    rotation = {site: deque(docs) for site, docs in queues.items()}
    picked: list[int] = []
    while len(picked) < n and any(rotation.values()):
        for site, docs in rotation.items():
            while docs and not queues[site][docs[0]]:
                docs.popleft()
            if not docs:
                continue
            doc = docs[0]
            docs.rotate(-1)
            picked.append(queues[site][doc].popleft())
            if len(picked) == n:
                break
    return picked


def select_next(model: CodeClassifier | None, segments: Sequence[SegmentInput], n: int = 20,
                strategy: str = "margin", *, seed: int = 0) -> pd.DataFrame:
    """The ``n`` uncoded segments whose coding would help the classifier most.

    ``segments`` should be the uncoded ones (the caller knows which are coded); blank
    segments are ignored. Rows come most uncertain first; without a model, in the order of
    the spread random sample, with ``uncertainty`` and ``p`` NaN.
    """
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInput(f"n must be a positive whole number, got {n!r}")
    if strategy not in STRATEGIES:
        raise InvalidInput(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    segs: list[SegmentInput] = []
    for s in segments:
        if not isinstance(s, SegmentInput):
            raise InvalidInput(f"expected a SegmentInput, got {type(s).__name__}")
        if s.text.strip():
            segs.append(s)
    if not segs:
        return pd.DataFrame(columns=COLUMNS)

    u = np.full(len(segs), math.nan)
    code: list[str | None] = [None] * len(segs)
    p = np.full(len(segs), math.nan)
    if model is None:
        order = [int(i) for i in np.random.default_rng(seed).permutation(len(segs))]
        picked = _spread(order, segs, n)
    else:
        if not model.codes:
            raise InvalidInput("the classifier has no trained codes")
        probs = model.predict_proba([s.text for s in segs], [s.context for s in segs])
        u, worst = uncertainty(probs, strategy)
        code = [model.codes[j] for j in worst]
        p = probs[np.arange(len(segs)), worst]
        order = sorted(range(len(segs)), key=lambda i: (-u[i], segs[i].id))
        picked = _spread(order[: n * POOL_FACTOR], segs, n)
        picked.sort(key=lambda i: (-u[i], segs[i].id))

    rows = [{"segment_id": segs[i].id, "document": segs[i].document, "site": segs[i].site,
             "role": segs[i].role, "uncertainty": float(u[i]), "most_uncertain_code": code[i],
             "p": float(p[i]), "text": segs[i].text} for i in picked]
    return pd.DataFrame(rows, columns=COLUMNS)
