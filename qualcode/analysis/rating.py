"""Integration evidence per site: the coded material behind a low / medium / high rating.

Pure functions, pandas in and out, with the conventions of :mod:`qualcode.analysis.matrix`.
The derived rating is a prompt for the evaluator's own judgement, not a replacement for it:
:func:`compare_ratings` sets it beside the rating the evaluator entered and flags where
they differ.

How the rating is derived (constants below):

* evidence = codings (distinct segment-code pairs, whoever coded them) on codes under the
  ``integration`` pillar whose codebook ``direction`` is enabling or hindering; codes
  without a direction (the pillar itself) are not counted;
* balance = (enabling - hindering) / (enabling + hindering), from -1 to +1;
* fewer than :data:`MIN_EVIDENCE` codings: "insufficient evidence"; otherwise balance
  below :data:`LOW_BELOW` (0) is "low", below :data:`HIGH_FROM` (0.5) "medium", else
  "high". A site where two thirds of the evidence is enabling (balance 1/3) is medium; it
  takes three quarters (balance 0.5) for high.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from qualcode.analysis.matrix import (
    MISSING,
    coded_segments,
    natural_key,
    pick_quotes,
    rank_codings,
    require_columns,
    trim_text,
    value_label,
)
from qualcode.analysis.outcomes import INTEGRATION_LEVELS
from qualcode.errors import InvalidInput

PILLAR = "integration"
DIRECTIONS = ("enabling", "hindering")
MIN_EVIDENCE = 3
LOW_BELOW = 0.0
HIGH_FROM = 0.5
INSUFFICIENT = "insufficient evidence"
COLUMNS = ["site", "enabling", "hindering", "evidence", "interviews", "balance", "rating",
           "enabling_quotes", "hindering_quotes"]


def derive_rating(enabling: int, hindering: int, *, min_evidence: int = MIN_EVIDENCE) -> tuple[float, str]:
    """(balance, rating) for counts of enabling and hindering codings (see module doc)."""
    total = enabling + hindering
    balance = (enabling - hindering) / total if total else float("nan")
    if total < min_evidence or total == 0:
        return balance, INSUFFICIENT
    if balance < LOW_BELOW:
        return balance, "low"
    return balance, "medium" if balance < HIGH_FROM else "high"


def integration_evidence(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    codebook_info: pd.DataFrame,
    *,
    pillar: str = PILLAR,
    quotes: int = 2,
    max_chars: int = 300,
    min_evidence: int = MIN_EVIDENCE,
) -> pd.DataFrame:
    """One row per site in ``segments`` (sites without evidence included).

    Columns: site, enabling, hindering, evidence (their sum), interviews (documents with
    any of it), balance (NaN without evidence), rating, and up to ``quotes`` enabling and
    hindering quotes (a person's codings first, then confidence, one per interview first),
    attributed by role and site. ``codebook_info`` needs code, direction and top (the
    pillar a code sits under), as :func:`~qualcode.analysis.matrix.codebook_table` gives.
    """
    info = require_columns(codebook_info, ["code", "direction", "top"], "codebook_info")
    if min_evidence < 1:
        raise InvalidInput(f"min_evidence must be at least 1, not {min_evidence}")
    trim_text("", max_chars)  # checks max_chars
    direction = {c: d for c, d, t in zip(info["code"], info["direction"], info["top"]) if t == pillar and d in DIRECTIONS}
    segments = require_columns(segments, ["segment_id", "document", "role", "site"], "segments")
    hits = rank_codings(coded_segments(codings, segments, {}, None)).drop_duplicates(["segment_id", "code"])
    hits = hits[hits["code"].isin(direction)]
    hits = hits.assign(_dir=hits["code"].map(direction), _site=hits["site"].map(value_label))
    sites = sorted(set(segments["site"].map(value_label)), key=natural_key)
    rows = []
    for site in sites:
        part = hits[hits["_site"] == site]
        enabling = part[part["_dir"] == "enabling"]
        hindering = part[part["_dir"] == "hindering"]
        balance, rating = derive_rating(len(enabling), len(hindering), min_evidence=min_evidence)
        rows.append({
            "site": site, "enabling": len(enabling), "hindering": len(hindering),
            "evidence": len(part), "interviews": part["document"].nunique(), "balance": balance,
            "rating": rating, "enabling_quotes": pick_quotes(enabling, quotes, max_chars),
            "hindering_quotes": pick_quotes(hindering, quotes, max_chars),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _site_key(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _entered(value: object, site: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    if text not in INTEGRATION_LEVELS:
        raise InvalidInput(f"entered integration rating {value!r} for site {site!r} must be low, medium or high")
    return text


def compare_ratings(evidence: pd.DataFrame, entered: pd.DataFrame,
                    rating_col: str = "integration_rating") -> pd.DataFrame:
    """``evidence`` with the evaluator's ``entered_rating`` and a ``differs`` flag.

    Sites match ignoring case and spacing. ``differs`` is True or False where both ratings
    exist, and missing (pd.NA) where the entered rating is missing or the evidence is
    insufficient. Entered sites without interviews are added with no evidence.
    """
    evidence = require_columns(evidence, ["site", "rating"], "evidence")
    entered = require_columns(entered, ["site", rating_col], "entered ratings")
    given: dict[str, tuple[str, str | None]] = {}
    for site, value in zip(entered["site"], entered[rating_col]):
        if site is None or (isinstance(site, float) and math.isnan(site)):
            continue
        key = _site_key(site)
        if key in given:
            raise InvalidInput(f"entered ratings: site {site!r} appears more than once")
        given[key] = (str(site), _entered(value, site))
    out = evidence.copy()
    known = {_site_key(s) for s in out["site"]}
    extra = [{"site": name, "enabling": 0, "hindering": 0, "evidence": 0, "interviews": 0, "balance": np.nan,
              "rating": INSUFFICIENT, "enabling_quotes": "", "hindering_quotes": ""}
             for key, (name, _) in given.items() if key not in known and name != MISSING]
    if extra:
        out = pd.concat([out, pd.DataFrame(extra, columns=out.columns)], ignore_index=True)
    out["entered_rating"] = [given.get(_site_key(s), (None, None))[1] for s in out["site"]]
    out["differs"] = pd.array(
        [pd.NA if e is None or r == INSUFFICIENT else r != e for r, e in zip(out["rating"], out["entered_rating"])],
        dtype="boolean",
    )
    return out
