"""Group clients by how their wellbeing changed between baseline and follow-up.

DOMAIN.md: a k-means cluster analysis of wellbeing change (241 clients) found three groups,
steady improvers (82%), clients of concern (4%) and "superstars" (14%). Clients without a
follow-up are counted and left out, never imputed.

Standardising: each measure's change is divided by the standard deviation of that change
(not centred), so measures weigh equally in k-means and the sign still means better (+) or
worse (-). A group's *mean standardised change* is the mean of these over its clients and
measures. Label rule, applied in that order:

* mean below 0: "of concern";
* the group with the largest mean, if it is at least ``STEADY_BAND`` (0.2 SD): "strong improvers";
* other groups at or above ``STEADY_BAND``: "improvers";
* the rest (0 to 0.2 SD): "steady".

Labels are suggestions for the researcher to rename. Repeated labels get a number
("of concern", "of concern 2") in order of mean change, highest first. Groups are numbered
1..k by mean standardised change, highest first, so numbering is stable across runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from qualcode.analysis import charts
from qualcode.errors import InvalidInput

STEADY_BAND = 0.2


@dataclass(frozen=True)
class ClusterResult:
    """Group per client, one summary row per group, the chosen k and silhouette scores."""

    assignments: pd.Series
    summary: pd.DataFrame
    k: int
    silhouette: dict[int, float]
    n_missing: int
    labels: dict[int, str] = field(default_factory=dict)


def change_scores(
    df: pd.DataFrame,
    measures: Sequence[str],
    baseline_suffix: str = "_base",
    followup_suffix: str = "_follow",
) -> tuple[pd.DataFrame, int]:
    """Follow-up minus baseline per measure, for clients with every score.

    Returns (changes indexed like ``df``, number of clients left out because a follow-up
    or baseline score is missing). Nothing is imputed.
    """
    if not measures:
        raise InvalidInput("no wellbeing measures given")
    changes = {}
    for measure in measures:
        pair = []
        for column in (measure + baseline_suffix, measure + followup_suffix):
            if column not in df.columns:
                raise InvalidInput(f"no column {column!r} for measure {measure!r}")
            values = pd.to_numeric(df[column], errors="coerce")
            bad = values.isna() & df[column].notna() & (df[column].astype(str).str.strip() != "")
            if bad.any():
                label = bad.index[bad.to_numpy()][0]
                raise InvalidInput(f"column {column!r}: {df[column][label]!r} (index {label!r}) is not a number")
            pair.append(values.astype(float))
        changes[measure] = pair[1] - pair[0]
    frame = pd.DataFrame(changes, index=df.index)
    complete = frame.notna().all(axis=1)
    return frame[complete], int((~complete).sum())


def _labels(means: Sequence[float]) -> list[str]:
    """Suggested label per group, for groups already sorted by mean change, highest first."""
    raw = []
    for i, mean in enumerate(means):
        if mean < 0:
            raw.append("of concern")
        elif i == 0 and mean >= STEADY_BAND:
            raw.append("strong improvers")
        elif mean >= STEADY_BAND:
            raw.append("improvers")
        else:
            raw.append("steady")
    seen: dict[str, int] = {}
    out = []
    for label in raw:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} {seen[label]}")
    return out


def cluster_change(
    df: pd.DataFrame,
    measures: Sequence[str],
    k: int | Literal["auto"] = "auto",
    k_range: Sequence[int] = range(2, 7),
    seed: int = 0,
    outcome: str | None = "job_start",
    baseline_suffix: str = "_base",
    followup_suffix: str = "_follow",
) -> ClusterResult:
    """k-means on standardised change scores; k chosen by best silhouette when "auto".

    ``summary`` has one row per group: group, label, n, share, mean_change_<measure> (in the
    measure's own units), mean_std_change, and <outcome>_rate (NaN without that column).
    ``assignments`` holds the group of each client with complete scores, indexed like ``df``.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    changes, n_missing = change_scores(df, measures, baseline_suffix, followup_suffix)
    n = len(changes)
    scale = changes.std(ddof=0)
    if n < 3:
        raise InvalidInput(f"only {n} clients have every baseline and follow-up score; too few to cluster")
    flat = [m for m in measures if not scale[m] > 0]
    if flat:
        raise InvalidInput(f"every client changed by the same amount on {flat[0]!r}; it cannot be standardised")
    z = changes / scale
    if k == "auto":
        candidates = [c for c in k_range if 2 <= c < n]
        if not candidates:
            raise InvalidInput(f"no k in {list(k_range)} can be tried on {n} clients")
    elif isinstance(k, int) and 1 <= k <= n:
        candidates = [k]
    else:
        raise InvalidInput(f"k must be 'auto' or a whole number from 1 to {n}, not {k!r}")

    fits: dict[int, np.ndarray] = {}
    silhouette: dict[int, float] = {}
    for c in candidates:
        # one thread: client data sets are small, and OpenMP threads on a busy machine cost seconds
        with threadpool_limits(1):
            labels = KMeans(n_clusters=c, n_init=10, random_state=seed).fit_predict(z.to_numpy())
        fits[c] = labels
        distinct = len(set(labels))
        silhouette[c] = float(silhouette_score(z, labels)) if 2 <= distinct < n else math.nan
    chosen = candidates[0] if len(candidates) == 1 else max(
        candidates, key=lambda c: (silhouette[c] if not math.isnan(silhouette[c]) else -2.0, -c))

    raw = pd.Series(fits[chosen], index=z.index)
    group_means = z.mean(axis=1).groupby(raw).mean().sort_values(ascending=False, kind="stable")
    renumber = {old: new for new, old in enumerate(group_means.index, start=1)}
    assignments = raw.map(renumber).astype("int64").rename("group")
    names = dict(zip(range(1, len(group_means) + 1), _labels(list(group_means.to_numpy()))))

    rows = []
    has_outcome = outcome is not None and outcome in df.columns
    for group in sorted(names):
        members = assignments.index[assignments == group]
        row = {"group": group, "label": names[group], "n": len(members), "share": len(members) / n}
        for measure in measures:
            row[f"mean_change_{measure}"] = float(changes.loc[members, measure].mean())
        row["mean_std_change"] = float(z.loc[members].to_numpy().mean())
        if outcome is not None:
            rate = pd.to_numeric(df.loc[members, outcome], errors="coerce").mean() if has_outcome else math.nan
            row[f"{outcome}_rate"] = float(rate)
        rows.append(row)
    return ClusterResult(assignments=assignments, summary=pd.DataFrame(rows), k=chosen,
                         silhouette=silhouette, n_missing=n_missing, labels=names)


def cluster_chart(summary: pd.DataFrame, measures: Sequence[str], path: str | os.PathLike[str],
                  title: str = "Mean change in wellbeing by group") -> Path:
    """Grouped bars: mean change per measure (x) for each group (one colour each); PNG."""
    columns = [f"mean_change_{m}" for m in measures]
    for column in ("group", "label", "n", *columns):
        if column not in summary.columns:
            raise InvalidInput(f"cluster summary has no column {column!r}")
    if summary.empty:
        raise InvalidInput("cluster summary is empty: nothing to plot")
    groups = summary.reset_index(drop=True)
    width = 0.8 / len(groups)
    xs = np.arange(len(measures))
    with charts.figure(max(5.0, 1.4 * len(measures) + 2.5), 4.2) as (fig, ax):
        for i, row in groups.iterrows():
            colour = charts.PALETTE[int(i) % len(charts.PALETTE)]
            ax.bar(xs - 0.4 + width * (int(i) + 0.5), [row[c] for c in columns], width=width, color=colour,
                   label=f"{row['group']}: {row['label']} (n = {int(row['n'])})")
        ax.axhline(0, color=charts.GREY, linewidth=0.8)
        ax.set_xticks(xs, [charts.humanise(m) for m in measures])
        ax.set_ylabel("Mean change (follow-up minus baseline)")
        ax.set_title(title)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return charts.save_png(fig, path)
