"""Outcome data in a project: import with checks, client-level models and client groups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from qualcode.errors import InvalidInput, QualcodeError
from qualcode.store.outcomes import LEVELS, outcomes_frame, save_outcomes
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.analysis.clusters import ClusterResult
    from qualcode.analysis.models import ModelResult


@dataclass
class ImportedOutcomes:
    level: str
    rows: int
    unknown_sites: list[str]
    warnings: list[str]


def import_outcomes(store: Store, path: str | Path, level: str, key: str | None = None) -> ImportedOutcomes:
    """Check an outcomes table (csv/xlsx) and, only if every row is valid, store it.

    Sites not among the project's documents are reported, not refused (outcomes may cover
    sites not interviewed). A re-import replaces the level's earlier table.
    """
    from qualcode.analysis.outcomes import read_table, validate_client_outcomes, validate_site_outcomes

    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r} (site or client)")
    path = Path(path)
    frame = read_table(path)
    known = sorted({d["site"] for d in store.documents() if d["site"]}) or None
    if level == "site":
        key = key or "site"
        result = validate_site_outcomes(frame, path, known_sites=known, key=key)
    else:
        key = key or "client_id"
        result = validate_client_outcomes(frame, path, key=key, known_sites=known)
    from qualcode.analysis.outcomes import normalise_header

    n = save_outcomes(store, level, result.frame, normalise_header(key), str(path))
    return ImportedOutcomes(level, n, list(result.unknown_sites), list(result.warnings))


def stored_outcomes(store: Store, level: str) -> "pd.DataFrame":
    """The imported outcomes of a level; a clear error when none were imported."""
    frame = outcomes_frame(store, level)
    if frame.empty:
        raise QualcodeError(f"no {level}-level outcomes in the project: run `qualcode outcomes import FILE --level {level}`")
    return frame


def client_model(
    store: Store,
    outcome: str,
    factors: Sequence[str],
    *,
    numeric: Sequence[str] = (),
    reference: dict[str, str] | None = None,
    without: str | None = None,
) -> tuple["ModelResult", "pd.DataFrame | None"]:
    """Logistic regression of a 0/1 client outcome; with ``without``, the site odds ratios
    with and without that factor side by side."""
    from qualcode.analysis.models import compare_without, fit_logistic

    frame = stored_outcomes(store, "client")
    result = fit_logistic(frame, outcome, list(factors), numeric=list(numeric), reference=reference)
    comparison = None
    if without:
        focus = "site" if "site" in factors else factors[0]
        comparison = compare_without(frame, outcome, list(factors), without=without, focus=focus,
                                     numeric=list(numeric), reference=reference)
    return result, comparison


def client_groups(
    store: Store,
    measures: Sequence[str],
    *,
    k: int | str = "auto",
    baseline_suffix: str = "_base",
    followup_suffix: str = "_follow",
) -> "ClusterResult":
    """Clients grouped by their baseline-to-follow-up change (k-means on standardised change)."""
    from qualcode.analysis.clusters import cluster_change

    frame = stored_outcomes(store, "client")
    return cluster_change(frame, list(measures), k=k, baseline_suffix=baseline_suffix, followup_suffix=followup_suffix)
