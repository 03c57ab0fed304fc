"""Set coded themes and integration ratings beside site outcomes (a joint display).

With a handful of sites (six, eight) any statistic is fragile, so the rank correlation
comes with a caveat in plain words and, for small n, an exact permutation p-value.
"""

from __future__ import annotations

import math
import os
import warnings as _warnings
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd

from qualcode.analysis import charts
from qualcode.analysis.outcomes import INTEGRATION_LEVELS
from qualcode.errors import InvalidInput

RATING_SCORE = {level: i + 1 for i, level in enumerate(INTEGRATION_LEVELS)}
#: Up to this many sites the p-value is exact (all orderings); above it, scipy's t approximation.
EXACT_MAX_N = 8
SMALL_N = 10


@dataclass(frozen=True)
class LinkResult:
    """Spearman's rho between two site columns, with an honest caveat for small n."""

    rho: float
    p_value: float
    n: int
    caveat: str | None
    method: str


def _site_key(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _need(frame: pd.DataFrame, column: str, what: str) -> None:
    if column not in frame.columns:
        raise InvalidInput(f"{what} has no column {column!r} (columns: {', '.join(map(str, frame.columns))})")


#: What an evidence rating says when a site has too few codings to be rated
#: (qualcode.analysis.rating.INSUFFICIENT): shown as it is, scored as missing.
INSUFFICIENT = "insufficient evidence"


def _ratings(series: pd.Series, what: str, *, allow_insufficient: bool = False) -> pd.Series:
    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return np.nan
        text = str(value).strip().lower()
        if not text:
            return np.nan
        if allow_insufficient and text == INSUFFICIENT:
            return INSUFFICIENT
        if text not in RATING_SCORE:
            raise InvalidInput(f"{what}: rating {value!r} must be low, medium or high")
        return text

    return pd.Series([one(v) for v in series], index=series.index, dtype=object)


def _keyed(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    _need(frame, "site", what)
    keyed = frame.copy()
    keyed["_key"] = [_site_key(s) for s in keyed["site"]]
    dupes = keyed["_key"][keyed["_key"].duplicated()]
    if len(dupes):
        raise InvalidInput(f"{what}: site {keyed.loc[dupes.index[0], 'site']!r} appears more than once")
    return keyed


def joint_display(
    theme_counts: pd.DataFrame,
    outcomes: pd.DataFrame,
    outcome: str,
    rating_col: str = "integration_rating",
    evidence_rating: pd.DataFrame | None = None,
    *,
    key: str = "site",
) -> pd.DataFrame:
    """One row per site: site, entered rating, evidence rating (if given), themes, outcome.

    Sites are matched ignoring case and spacing; a site found on one side only still gets
    a row, with NaN for what is missing. ``evidence_rating`` is a frame with ``site`` and
    one rating column (``evidence_rating``, ``rating`` or its only other column). Rows are
    sorted low -> medium -> high (unrated last), then by outcome, then by site. ``key``
    names the outcomes' site column when it is not ``site`` (e.g. ``borough``).
    """
    if key != "site":
        _need(outcomes, key, "outcomes")
        outcomes = outcomes.drop(columns=["site"], errors="ignore").rename(columns={key: "site"})
    out = _keyed(outcomes, "outcomes")
    themes = _keyed(theme_counts, "theme counts")
    _need(out, outcome, "outcomes")
    _need(out, rating_col, "outcomes")
    theme_cols = [c for c in themes.columns if c not in ("site", "_key")]
    clash = [c for c in theme_cols if c in (outcome, rating_col, "evidence_rating")]
    if clash:
        raise InvalidInput(f"theme counts column {clash[0]!r} has the same name as an outcome column")

    left = out[["_key", "site", rating_col, outcome]].copy()
    left[rating_col] = _ratings(left[rating_col], f"outcomes column {rating_col!r}")
    table = left.merge(themes[["_key", "site", *theme_cols]], on="_key", how="outer", suffixes=("", "_t"))
    table["site"] = table["site"].where(table["site"].notna(), table["site_t"])
    columns = ["site", rating_col]
    if evidence_rating is not None:
        ev = _keyed(evidence_rating, "evidence ratings")
        others = [c for c in ev.columns if c not in ("site", "_key")]
        pick = next((c for c in ("evidence_rating", "rating") if c in others), None)
        if pick is None and len(others) == 1:
            pick = others[0]
        if pick is None:
            raise InvalidInput("evidence ratings need a column 'evidence_rating' (or 'rating') beside 'site'")
        ev = ev[["_key", "site", pick]].rename(columns={pick: "evidence_rating", "site": "site_e"})
        ev["evidence_rating"] = _ratings(ev["evidence_rating"], "evidence ratings",
                                         allow_insufficient=True)
        table = table.merge(ev, on="_key", how="outer")
        table["site"] = table["site"].where(table["site"].notna(), table["site_e"])
        columns.append("evidence_rating")
    columns += [*theme_cols, outcome]

    order = table[rating_col].map(RATING_SCORE).fillna(len(RATING_SCORE) + 1)
    table = table.assign(_order=order, _value=pd.to_numeric(table[outcome], errors="coerce"))
    table = table.sort_values(["_order", "_value", "site"], na_position="last", kind="stable")
    return table[columns].reset_index(drop=True)


def _scores(series: pd.Series) -> pd.Series:
    """Numbers as they are; low/medium/high ratings as 1/2/3."""
    numeric = pd.to_numeric(series, errors="coerce")
    text = series[numeric.isna() & series.notna()]
    if len(text) == 0:
        return numeric.astype(float)
    mapped = _ratings(series, f"column {series.name!r}", allow_insufficient=True).map(RATING_SCORE)
    return mapped.astype(float)  # "insufficient evidence" maps to NaN: not a rating


def _exact_p(x: np.ndarray, y: np.ndarray, rho: float) -> tuple[float, int]:
    """Two-sided exact p: share of all orderings of y with |rho| at least as large."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    rx = (rx - rx.mean()) / np.sqrt(((rx - rx.mean()) ** 2).sum())
    ry = ry - ry.mean()
    perms = np.array(list(permutations(ry)))
    stats = perms @ rx / np.sqrt((ry**2).sum())
    hits = int(np.count_nonzero(np.abs(stats) >= abs(rho) - 1e-12))
    return hits / len(perms), len(perms)


def spearman_link(display: pd.DataFrame, x: str, y: str) -> LinkResult:
    """Spearman's rank correlation between two columns of a joint display.

    ``x`` (or ``y``) may be a low/medium/high rating, scored 1/2/3. Sites missing either
    value are left out. Fewer than 3 sites, or a column with a single value, gives NaN and
    a caveat instead of an error; fewer than 10 sites always carries a caveat.
    """
    from scipy.stats import ConstantInputWarning, spearmanr

    _need(display, x, "the display")
    _need(display, y, "the display")
    pair = pd.DataFrame({"x": _scores(display[x]), "y": _scores(display[y])}).dropna()
    n = len(pair)
    method = "Spearman rank correlation"
    if n < 3:
        caveat = f"Only {n} site{'s' if n != 1 else ''} with both {x} and {y}: too few for a rank correlation."
        return LinkResult(math.nan, math.nan, n, caveat, method)
    notes: list[str] = []
    if n < SMALL_N:
        notes.append(
            f"Only {n} sites: a rank correlation on so few sites is fragile; "
            "read it as description, not evidence."
        )
    for name, col in ((x, pair["x"]), (y, pair["y"])):
        if col.nunique() == 1:
            notes.append(f"Every site has the same {name}, so no correlation can be computed.")
            return LinkResult(math.nan, math.nan, n, " ".join(notes), method)
    tied = [
        f"{int(col.duplicated(keep=False).sum())} of {n} sites share a value of {name}"
        for name, col in ((x, pair["x"]), (y, pair["y"]))
        if col.duplicated().any()
    ]
    if tied:
        notes.append("Ties: " + "; ".join(tied) + " (tied sites get their average rank).")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", ConstantInputWarning)
        rho, p_value = spearmanr(pair["x"], pair["y"])
    rho, p_value = float(rho), float(p_value)
    if n <= EXACT_MAX_N:
        p_value, count = _exact_p(pair["x"].to_numpy(), pair["y"].to_numpy(), rho)
        method += f"; exact two-sided p-value over all {count} orderings"
    else:
        method += "; p-value from scipy's t approximation"
    return LinkResult(rho, p_value, n, " ".join(notes) or None, method)


def _jitter(groups: pd.Series, values: pd.Series, width: float = 0.24) -> np.ndarray:
    """Spread sites within one category evenly (ordered by value) so ties do not overlap."""
    offsets = np.zeros(len(groups))
    for _, idx in groups.groupby(groups).groups.items():
        positions = [groups.index.get_loc(i) for i in sorted(idx, key=lambda i: (values[i], i))]
        if len(positions) > 1:
            offsets[positions] = np.linspace(-width / 2, width / 2, len(positions))
    return offsets


def link_chart(
    display: pd.DataFrame,
    x: str,
    y: str,
    label: str = "site",
    *,
    path: str | os.PathLike[str],
    title: str | None = None,
) -> Path:
    """Plot outcome ``y`` against ``x`` (a rating or a number), one labelled point per site.

    A low/medium/high ``x`` is drawn at three category positions with a small even spread
    for sites in the same category; a ``y`` named '*rate*' with values in 0..1 is shown as
    percentages. Written as a PNG via a temporary file.
    """
    _need(display, x, "the display")
    _need(display, y, "the display")
    _need(display, label, "the display")
    yv = pd.to_numeric(display[y], errors="coerce")
    numeric_x = pd.to_numeric(display[x], errors="coerce")
    categorical = bool((numeric_x.isna() & display[x].notna()).any())
    xv = _scores(display[x]) - 1 if categorical else numeric_x
    data = pd.DataFrame({"x": xv, "y": yv, "label": display[label].astype(str)}).dropna(subset=["x", "y"])
    if data.empty:
        raise InvalidInput(f"no site has both {x} and {y} to plot")
    offsets = _jitter(data["x"], data["y"]) if categorical else np.zeros(len(data))
    xs = data["x"] + offsets
    with charts.figure(6.4, 4.4) as (fig, ax):
        ax.scatter(xs, data["y"], s=36, color=charts.PALETTE[0], zorder=3)
        for px, py, text, off, base in zip(xs, data["y"], data["label"], offsets, data["x"]):
            left = off < 0 and base > 0  # left half of a spread group labelled on its left (not by the axis)
            ax.annotate(text, (px, py), xytext=(-5 if left else 5, 3), textcoords="offset points",
                        fontsize=8, ha="right" if left else "left")
        if categorical:
            ax.set_xticks(range(len(INTEGRATION_LEVELS)), [lvl.capitalize() for lvl in INTEGRATION_LEVELS])
            ax.set_xlim(-0.5, len(INTEGRATION_LEVELS) - 0.3)
        if "rate" in y.lower() and data["y"].between(0, 1).all():
            charts.percent_axis(ax, "y")
            ax.set_ylim(0, max(0.05, float(data["y"].max()) * 1.15))
        ax.set_xlabel(charts.humanise(x))
        ax.set_ylabel(charts.humanise(y))
        ax.set_title(title or f"{charts.humanise(y)} by {charts.humanise(x).lower()}")
        charts.footnote(fig, f"n = {len(data)} sites")
        return charts.save_png(fig, path)
