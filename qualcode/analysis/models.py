"""Binary logistic regression of a client outcome (job start) with odds ratios by factor.

DOMAIN.md: the evaluation regressed job start on client factors and reported odds ratios
against a reference category of each factor, and compared borough odds ratios with and
without controlling for meetings. The design matrix is built here (treatment coding, one
dummy per non-reference level) so that every row of the table can be explained.

Reference level rule: a factor's reference is its *first level*: the first category of a
pandas Categorical (so set the order you want), otherwise the first in natural sort order
('1-4' < '5-8' < '9-12' < '13+', '0' < '1'). ``reference={"site": "Barnet"}`` overrides.
In the table the reference row has odds_ratio 1.0 and NaN ci_low, ci_high and p_value.
"""

from __future__ import annotations

import math
import os
import re
import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qualcode.analysis import charts
from qualcode.errors import InvalidInput

TABLE_COLUMNS = ("factor", "level", "odds_ratio", "ci_low", "ci_high", "p_value", "n")
PER_UNIT = "(per unit)"
#: Ridge penalty of the fallback fit used when maximum likelihood has no finite answer.
FALLBACK_ALPHA = 0.05


@dataclass(frozen=True)
class ModelResult:
    """Odds-ratio table and fit summary of one logistic regression."""

    table: pd.DataFrame
    n_used: int
    n_dropped: int
    reference: dict[str, str]
    converged: bool
    pseudo_r2: float
    aic: float
    warnings: list[str] = field(default_factory=list)
    intercept_odds: float = math.nan
    method: str = "maximum likelihood"


def _natural(text: str) -> list[Any]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in re.split(r"(\d+)", text) if p]


def _level_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _missing(series: pd.Series) -> pd.Series:
    blank = series.map(lambda v: isinstance(v, str) and not v.strip())
    return series.isna() | blank.astype(bool)


def _levels(series: pd.Series, text: pd.Series) -> list[str]:
    present = set(text)
    if isinstance(series.dtype, pd.CategoricalDtype):
        ordered = [_level_text(c) for c in series.cat.categories]
        return [c for c in ordered if c in present]
    return sorted(present, key=_natural)


def _prepare(
    df: pd.DataFrame, outcome: str, factors: Sequence[str], numeric: Sequence[str],
    reference: Mapping[str, Any] | None,
) -> tuple[pd.DataFrame, int, dict[str, list[str]], dict[str, str]]:
    """Complete rows with the outcome as 0/1, factors as level text, numbers as floats."""
    factors, numeric = list(factors), list(numeric)
    used = [outcome, *factors, *numeric]
    for column in used:
        if column not in df.columns:
            raise InvalidInput(f"no column {column!r} in the data")
    if len(set(used)) != len(used):
        raise InvalidInput("a column is named twice among outcome, factors and numeric")
    for name in (reference or {}):
        if name not in factors:
            raise InvalidInput(f"reference given for {name!r}, which is not one of the factors")
    data = df[used]
    keep = ~pd.concat([_missing(data[c]) for c in used], axis=1).any(axis=1)
    n_dropped = int((~keep).sum())
    data = data[keep]
    if data.empty:
        raise InvalidInput("no rows left once rows with missing values are dropped")
    frame = pd.DataFrame(index=data.index)
    y = pd.to_numeric(data[outcome].map(lambda v: int(v) if isinstance(v, (bool, np.bool_)) else v), errors="coerce")
    bad = data[outcome][~y.isin([0, 1])]
    if len(bad):
        raise InvalidInput(f"outcome {outcome!r} must be 0/1; found {bad.iloc[0]!r}")
    frame[outcome] = y.astype(float)
    for column in numeric:
        values = pd.to_numeric(data[column], errors="coerce")
        if values.isna().any():
            raise InvalidInput(f"numeric column {column!r}: {data[column][values.isna()].iloc[0]!r} is not a number")
        frame[column] = values.astype(float)
    levels: dict[str, list[str]] = {}
    refs: dict[str, str] = {}
    for column in factors:
        text = data[column].astype(object).map(_level_text)
        frame[column] = text
        levels[column] = _levels(data[column], text)
        if len(levels[column]) < 2:
            raise InvalidInput(f"factor {column!r} has only one level among the rows used; it cannot be estimated")
        wanted = (reference or {}).get(column)
        if wanted is None:
            refs[column] = levels[column][0]
        elif _level_text(wanted) in levels[column]:
            refs[column] = _level_text(wanted)
        else:
            raise InvalidInput(
                f"reference level {wanted!r} is not a level of {column!r} "
                f"(levels: {', '.join(levels[column])})"
            )
    if frame[outcome].nunique() < 2:
        raise InvalidInput(f"outcome {outcome!r} has only one value among the rows used; nothing to model")
    return frame, n_dropped, levels, refs


def _separated(frame: pd.DataFrame, outcome: str, levels: Mapping[str, list[str]]) -> set[tuple[str, str]]:
    """Levels whose clients all have the same outcome (no finite odds ratio exists)."""
    found: set[tuple[str, str]] = set()
    for factor in levels:
        rates = frame.groupby(factor)[outcome].mean()
        found |= {(factor, lvl) for lvl, rate in rates.items() if rate in (0.0, 1.0)}
    return found


def _design(frame: pd.DataFrame, levels: Mapping[str, list[str]], refs: Mapping[str, str],
            numeric: Sequence[str]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    columns: list[np.ndarray] = [np.ones(len(frame))]
    names: list[tuple[str, str]] = [("const", "")]
    for factor, lvls in levels.items():
        for level in lvls:
            if level != refs[factor]:
                columns.append((frame[factor] == level).to_numpy(dtype=float))
                names.append((factor, level))
    for column in numeric:
        columns.append(frame[column].to_numpy(dtype=float))
        names.append((column, PER_UNIT))
    return np.column_stack(columns), names


def _aliased(X: np.ndarray) -> list[int]:
    """Columns that add nothing to the span of the columns before them (collinear)."""
    kept: list[int] = []
    dropped: list[int] = []
    for j in range(X.shape[1]):
        if np.linalg.matrix_rank(X[:, kept + [j]]) > len(kept):
            kept.append(j)
        else:
            dropped.append(j)
    return dropped


def _fit(y: np.ndarray, X: np.ndarray) -> tuple[Any, list[str]]:
    """Maximum likelihood, or (None, reasons) when it has no finite, converged answer."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            res = sm.Logit(y, X).fit(disp=0, maxiter=200)
        except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
            return None, [f"maximum likelihood failed ({type(exc).__name__})"]
    reasons = []
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught):
        reasons.append("perfect separation: some combination of factors predicts the outcome exactly")
    if not res.mle_retvals.get("converged", False):
        reasons.append("the fit did not converge")
    if not (np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.bse))):
        reasons.append("some estimates are not finite")
    return (None, reasons) if reasons else (res, [])


def _ridge(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm

    alpha = np.full(X.shape[1], FALLBACK_ALPHA)
    alpha[0] = 0.0  # leave the intercept unpenalised
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = sm.GLM(y, X, family=sm.families.Binomial()).fit_regularized(alpha=alpha, L1_wt=0.0)
    return np.asarray(res.params, dtype=float)


def fit_logistic(
    df: pd.DataFrame,
    outcome: str,
    factors: Sequence[str],
    numeric: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
) -> ModelResult:
    """Fit logit(P(outcome = 1)) on categorical ``factors`` and ``numeric`` columns.

    Rows missing the outcome or any used column are dropped and counted (``n_dropped``).
    A level where every client has the same outcome has no finite odds ratio: its rows are
    set aside, its row in the table is NaN and a warning says so (the other estimates are
    then the maximum-likelihood ones). Levels fully determined by other factors are NaN too.
    If maximum likelihood still fails, a ridge-penalised fit gives shrunken odds ratios with
    no confidence intervals, and ``converged`` is False.
    """
    frame, n_dropped, levels, refs = _prepare(df, outcome, factors, numeric, reference)
    notes: list[str] = []
    counts = {f: frame[f].value_counts() for f in levels}
    for factor, ref in refs.items():
        if counts[factor][ref] < 10:
            notes.append(f"reference level {ref!r} of {factor!r} has only {counts[factor][ref]} clients, "
                         "so odds ratios against it are imprecise; consider reference={...}")
    nan_rows: set[tuple[str, str]] = set()
    work = frame
    while True:  # set aside perfectly predicted levels until none are left
        sep = _separated(work, outcome, levels) - nan_rows
        if not sep:
            break
        for factor, level in sorted(sep):
            rate = work.loc[work[factor] == level, outcome].iloc[0]
            notes.append(f"{factor} = {level!r}: every client has {outcome} = {int(rate)}, so no odds ratio "
                         f"can be estimated; its {int((work[factor] == level).sum())} rows were set aside")
            if level == refs[factor]:
                notes.append(f"{factor!r}: with its reference level set aside, none of its odds ratios can be "
                             f"estimated; choose another reference with reference={{{factor!r}: ...}}")
                nan_rows |= {(factor, lvl) for lvl in levels[factor]}
            nan_rows.add((factor, level))
            work = work[work[factor] != level]
        if work.empty or work[outcome].nunique() < 2:
            raise InvalidInput(f"after setting aside perfectly predicted levels, {outcome!r} has one value; "
                               "nothing is left to model")
    X, names = _design(work, levels, refs, numeric)
    y = work[outcome].to_numpy(dtype=float)
    aliased = _aliased(X)
    for j in aliased:
        if names[j] not in nan_rows:
            notes.append(f"{names[j][0]} = {names[j][1]!r} is fully determined by other terms (aliased); "
                         "not estimable")
        nan_rows.add(names[j])
    keep = [j for j in range(len(names)) if j not in aliased]
    X, names = X[:, keep], [names[j] for j in keep]

    events = int(min(y.sum(), len(y) - y.sum()))
    if X.shape[1] > 1 and events / (X.shape[1] - 1) < 10:
        notes.append(f"only {events} clients in the rarer outcome group for {X.shape[1] - 1} parameters "
                     "(fewer than 10 per parameter): estimates may be unstable")
    res, reasons = _fit(y, X)
    estimates: dict[tuple[str, str], tuple[float, float, float, float]] = {}
    if res is not None:
        ci = np.asarray(res.conf_int(alpha=0.05))
        for j, nm in enumerate(names):
            estimates[nm] = (res.params[j], ci[j, 0], ci[j, 1], res.pvalues[j])
        converged, r2, aic, method = True, float(res.prsquared), float(res.aic), "maximum likelihood"
    else:
        notes.append("; ".join(reasons) + ". Odds ratios come from a ridge-penalised fit: they are shrunk "
                     "towards 1 and have no confidence intervals or p-values")
        for j, (nm, beta) in enumerate(zip(names, _ridge(y, X))):
            estimates[nm] = (beta, math.nan, math.nan, math.nan)
        converged, r2, aic, method = False, math.nan, math.nan, "ridge-penalised fallback"

    rows: list[dict[str, Any]] = []
    for factor, lvls in levels.items():
        ordered = [refs[factor]] + [lvl for lvl in lvls if lvl != refs[factor]]
        for level in ordered:
            n = int(counts[factor][level])
            if level == refs[factor]:
                rows.append(dict(factor=factor, level=level, odds_ratio=1.0, ci_low=math.nan,
                                 ci_high=math.nan, p_value=math.nan, n=n))
            else:
                est = None if (factor, level) in nan_rows else estimates.get((factor, level))
                rows.append(_row(factor, level, est, n))
    for column in numeric:
        est = None if (column, PER_UNIT) in nan_rows else estimates.get((column, PER_UNIT))
        rows.append(_row(column, PER_UNIT, est, len(frame)))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["n"] = table["n"].astype("int64")
    return ModelResult(
        table=table, n_used=len(frame), n_dropped=n_dropped, reference=dict(refs), converged=converged,
        pseudo_r2=r2, aic=aic, warnings=notes, intercept_odds=float(np.exp(estimates[("const", "")][0])),
        method=method,
    )


def _row(factor: str, level: str, est: tuple[float, float, float, float] | None, n: int) -> dict[str, Any]:
    beta, lo, hi, p = est if est is not None else (math.nan,) * 4
    with np.errstate(over="ignore"):
        return dict(factor=factor, level=level, odds_ratio=float(np.exp(beta)), ci_low=float(np.exp(lo)),
                    ci_high=float(np.exp(hi)), p_value=float(p), n=n)


def compare_without(
    df: pd.DataFrame,
    outcome: str,
    factors: Sequence[str],
    without: str,
    focus: str,
    numeric: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The ``focus`` factor's odds ratios with every term, and with ``without`` left out.

    Both models are fitted on the same clients (complete on every column of the full
    model), so a change in the odds ratios comes from dropping the term, not from a change
    of sample. Example: borough odds ratios with and without meetings separate service
    quantity (meetings) from service quality. Columns: factor, level, n, odds_ratio_with,
    ci_low_with, ci_high_with, p_value_with, odds_ratio_without, ci_low_without,
    ci_high_without, p_value_without ('with' = with ``without`` in the model). The frame's
    ``attrs`` record the term left out and each model's warnings.
    """
    factors, numeric = list(factors), list(numeric)
    if focus not in factors:
        raise InvalidInput(f"focus {focus!r} must be one of the factors")
    if without == focus or without not in factors + numeric:
        raise InvalidInput(f"'without' must be another factor or numeric term, not {without!r}")
    used = [outcome, *factors, *numeric]
    for column in used:
        if column not in df.columns:
            raise InvalidInput(f"no column {column!r} in the data")
    complete = df[~pd.concat([_missing(df[c]) for c in used], axis=1).any(axis=1)]
    ref = dict(reference or {})
    full = fit_logistic(complete, outcome, factors, numeric, ref)
    ref.pop(without, None)
    reduced = fit_logistic(complete, outcome, [f for f in factors if f != without],
                           [c for c in numeric if c != without], ref)
    stats = ["odds_ratio", "ci_low", "ci_high", "p_value"]
    left = full.table[full.table["factor"] == focus][["factor", "level", "n", *stats]]
    right = reduced.table[reduced.table["factor"] == focus][["level", *stats]]
    table = left.merge(right, on="level", how="left", suffixes=("_with", "_without")).reset_index(drop=True)
    table.attrs.update(without=without, n_used=full.n_used, n_dropped=len(df) - full.n_used,
                       warnings_with=list(full.warnings), warnings_without=list(reduced.warnings))
    return table


def forest_plot(table: pd.DataFrame, path: str | os.PathLike[str], title: str = "Odds ratios") -> Path:
    """Odds ratios on a log axis with 95% CI whiskers and a line at 1; PNG via a temp file.

    Reference levels (odds ratio 1 with no CI) are drawn hollow and marked '(reference)';
    rows with no estimate are listed as 'not estimable'.
    """
    for column in ("factor", "level", "odds_ratio", "ci_low", "ci_high"):
        if column not in table.columns:
            raise InvalidInput(f"odds-ratio table has no column {column!r}")
    if table.empty:
        raise InvalidInput("odds-ratio table is empty: nothing to plot")
    data = table.reset_index(drop=True)
    finite = pd.concat([data["odds_ratio"], data["ci_low"], data["ci_high"]])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo = min(float(finite.min()) if len(finite) else 1.0, 1.0) / 1.6
    hi = max(float(finite.max()) if len(finite) else 1.0, 1.0) * 1.6
    ys = np.arange(len(data))[::-1]
    with charts.figure(6.4, 1.2 + 0.32 * len(data)) as (fig, ax):
        ax.axvline(1.0, color=charts.GREY, linestyle="--", linewidth=1, zorder=1)
        labels = []
        for y, row in zip(ys, data.itertuples(index=False)):
            is_ref = row.odds_ratio == 1.0 and np.isnan(row.ci_low) and np.isnan(row.ci_high)
            label = f"{row.factor}: {row.level}"
            if is_ref:
                ax.plot([1.0], [y], marker="o", mfc="white", mec=charts.GREY, linestyle="none", zorder=3)
                label += " (reference)"
            elif not np.isfinite(row.odds_ratio) or row.odds_ratio <= 0:
                ax.text(1.0, y, "  not estimable", va="center", fontsize=7, color=charts.GREY)
            else:
                if np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
                    a, b = max(row.ci_low, lo), min(row.ci_high, hi)
                    ax.plot([a, b], [y, y], color=charts.PALETTE[0], linewidth=1.5, zorder=2)
                ax.plot([row.odds_ratio], [y], marker="s", color=charts.PALETTE[0], linestyle="none", zorder=3)
            labels.append(label)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        from matplotlib.ticker import FuncFormatter, NullFormatter

        nice = [m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5)]
        ax.set_xticks([t for t in nice if lo <= t <= hi])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(ys, labels)
        ax.set_ylim(-0.7, len(data) - 0.3)
        ax.set_xlabel("Odds ratio (log scale), 95% confidence interval")
        ax.set_title(title)
        return charts.save_png(fig, path)
