"""Linking a theme to an outcome across sites: joint display, Spearman's rho, chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import InvalidInput
from qualcode.store.repo import Store
from qualcode.workflows.matrix import project_integration_evidence, project_matrix
from qualcode.workflows.outcomes import stored_outcomes

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.analysis.link import LinkResult


@dataclass
class ThemeLink:
    display: "pd.DataFrame"  # one row per site
    result: "LinkResult"
    x: str
    y: str


def theme_by_site(store: Store, theme: str, status: str = "accepted") -> "pd.DataFrame":
    """Per site: interviews mentioning the theme, their share, and coded segments."""
    import pandas as pd

    columns = {}
    for measure in ("documents", "share", "segments"):
        frame = project_matrix(store, cols="site", measure=measure, level="all", status=status)
        row = frame[frame["code"] == theme]
        if row.empty:
            raise InvalidInput(f"unknown theme {theme!r}: give a code id from the codebook")
        values = row.drop(columns=[c for c in ("code", "name", "Total") if c in row.columns]).iloc[0]
        columns[f"{theme}_{'interviews' if measure == 'documents' else measure}"] = values
    out = pd.DataFrame(columns)
    out.index.name = "site"
    return out.reset_index()


def link_theme(
    store: Store,
    theme: str,
    outcome: str,
    *,
    x: str = "integration_rating",
    status: str = "accepted",
    chart: str | Path | None = None,
) -> ThemeLink:
    """Set a theme beside a site outcome: the joint display, Spearman's rho of the outcome
    against ``x`` (the entered integration rating by default, or any display column such
    as ``integration_share``), with a caveat for few sites, and optionally a chart."""
    from qualcode.analysis.link import joint_display, link_chart, spearman_link

    outcomes = stored_outcomes(store, "site")
    counts = theme_by_site(store, theme, status)
    evidence = None
    if theme == "integration":
        ev = project_integration_evidence(store, status=status)
        evidence = ev[["site", "rating"]].rename(columns={"rating": "evidence_rating"})
    display = joint_display(counts, outcomes, outcome, evidence_rating=evidence)
    if x not in display.columns:
        raise InvalidInput(f"no column {x!r} to correlate with; choose from {', '.join(display.columns)}")
    result = spearman_link(display, x, outcome)
    if chart is not None:
        link_chart(display, x, outcome, path=Path(chart))
    return ThemeLink(display, result, x, outcome)
