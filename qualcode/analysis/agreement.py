"""Inter-coder agreement, code by code, before anyone's coding is trusted.

Coders (people, and the machine assistants "rules" and "classifier") apply codes to
transcript segments ("units"). Every function here is pure: pandas in, DataFrame out.

Conventions shared by all functions:

* ``codings``: a DataFrame with columns ``unit`` (segment id), ``coder`` and ``code``, one
  row per code a coder applied to a unit. Duplicate rows are ignored; rows of coders or
  codes not asked about are ignored.
* ``coverage``: mapping coder -> units that coder actually reviewed, so "reviewed, code not
  applied" (0) is told apart from "not reviewed" (missing). When ``coverage`` is None a
  coder's coverage is every unit in which that coder has any row in ``codings`` (for any
  code) -- so a unit a coder reviewed but left uncoded counts as missing, not as 0; pass
  ``coverage`` whenever "nothing applies" is a real decision. A coding on a unit outside
  the coder's given coverage is an error.
* Kappa and alpha are undefined when there is no variation (a code never, or always,
  applied by everyone) or nothing to compare: they are then NaN, and percent agreement is
  still reported. The libraries' warnings for those cases are never shown.

Kappa is scikit-learn's ``cohen_kappa_score``; alpha is the ``krippendorff`` package's
nominal alpha (coders x units, NaN = missing).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

from qualcode.errors import InvalidInput

OVERALL = "(overall)"
MACRO = "(macro)"
NONE = "(none)"  # nominal category for a covered unit given no code
COLUMNS = ("unit", "coder", "code")

Coverage = Mapping[str, Iterable[int]]


# --- validation and preparation -------------------------------------------------------
def _clean(codings: pd.DataFrame) -> pd.DataFrame:
    """The unit/coder/code columns, checked for presence and blanks, without duplicates."""
    if not isinstance(codings, pd.DataFrame):
        raise InvalidInput(f"codings must be a pandas DataFrame, not {type(codings).__name__}")
    missing = [c for c in COLUMNS if c not in codings.columns]
    if missing:
        raise InvalidInput(f"codings lack column(s) {', '.join(missing)}; "
                           f"expected columns {', '.join(COLUMNS)}")
    df = codings.loc[:, list(COLUMNS)]
    blank = df.isna().any(axis=1)
    if blank.any():
        first = df.index[blank.to_numpy()][0]
        raise InvalidInput(f"codings row {first} has an empty unit, coder or code")
    return df.drop_duplicates().reset_index(drop=True)


def _check_coders(coders: Sequence[str], minimum: int = 2) -> list[str]:
    if isinstance(coders, str):
        raise InvalidInput(f"coders must be a list of coder names, not the string {coders!r}")
    out = list(coders)
    if len(set(out)) != len(out):
        raise InvalidInput(f"coders are listed twice: {out}")
    if len(out) < minimum:
        raise InvalidInput(f"agreement needs at least {minimum} coders, got {len(out)}: {out}")
    return out


def _check_codes(codes: Sequence[str] | str) -> list[str]:
    out = [codes] if isinstance(codes, str) else list(dict.fromkeys(codes))
    if not out:
        raise InvalidInput("no codes to compare")
    return out


def _coverage(df: pd.DataFrame, coders: list[str], coverage: Coverage | None) -> dict[str, set]:
    """Each coder's covered units (see module docstring); raise for unknown coders."""
    present = set(df["coder"])
    if coverage is None:
        unknown = [c for c in coders if c not in present]
        if unknown:
            raise InvalidInput(
                f"unknown coder(s) {', '.join(map(repr, unknown))}: no codings by them "
                "(pass coverage to include a coder who applied no code)")
        return {c: set(df.loc[df["coder"] == c, "unit"]) for c in coders}
    unknown = [c for c in coders if c not in coverage]
    if unknown:
        raise InvalidInput(f"no coverage given for coder(s) {', '.join(map(repr, unknown))}")
    cov = {c: set(coverage[c]) for c in coders}
    for c in coders:
        outside = set(df.loc[df["coder"] == c, "unit"]) - cov[c]
        if outside:
            raise InvalidInput(f"coder {c!r} coded unit(s) {sorted(outside)[:5]} that are not "
                               "in their coverage")
    return cov


def _prepare(codings: pd.DataFrame, coders: Sequence[str], coverage: Coverage | None,
             minimum: int = 2) -> tuple[pd.DataFrame, list[str], dict[str, set]]:
    df = _clean(codings)
    names = _check_coders(coders, minimum)
    cov = _coverage(df, names, coverage)
    return df[df["coder"].isin(names)], names, cov


def _units(cov: dict[str, set]) -> list:
    return sorted(set().union(*cov.values()))


def _presence(df: pd.DataFrame, coders: list[str], code: str, cov: dict[str, set],
              units: list) -> np.ndarray:
    """coders x units matrix: 1 applied, 0 covered and not applied, NaN not covered."""
    col = {u: i for i, u in enumerate(units)}
    m = np.full((len(coders), len(units)), np.nan)
    sub = df[df["code"] == code]
    for r, coder in enumerate(coders):
        m[r, [col[u] for u in cov[coder]]] = 0.0
        m[r, [col[u] for u in sub.loc[sub["coder"] == coder, "unit"]]] = 1.0
    return m


# --- statistics on a coders x units matrix (NaN = missing) ----------------------------
def _complete(m: np.ndarray) -> np.ndarray:
    return m[:, ~np.isnan(m).any(axis=0)]


def _percent(m: np.ndarray) -> float:
    full = _complete(m)
    if full.shape[1] == 0:
        return float("nan")
    return float((full == full[0]).all(axis=0).mean())


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa; NaN when empty or when both coders used one and the same value."""
    if len(a) == 0 or len(np.union1d(a, b)) < 2:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b))


def _alpha(m: np.ndarray) -> float:
    """Nominal Krippendorff's alpha; NaN without pairable units or without variation."""
    pairable = m[:, (~np.isnan(m)).sum(axis=0) >= 2]
    values = pairable[~np.isnan(pairable)]
    if pairable.shape[1] == 0 or len(np.unique(values)) < 2:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(krippendorff.alpha(reliability_data=pairable,
                                        level_of_measurement="nominal"))


def _stats(m: np.ndarray) -> dict[str, float]:
    full = _complete(m)
    kappa = _kappa(full[0], full[1]) if m.shape[0] == 2 else float("nan")
    return {"percent_agreement": _percent(m), "cohen_kappa": kappa,
            "krippendorff_alpha": _alpha(m)}


def _unit_counts(m: np.ndarray) -> dict[str, int]:
    observed = ~np.isnan(m)
    return {"units": int(observed.all(axis=0).sum()),
            "alpha_units": int((observed.sum(axis=0) >= 2).sum())}


# --- public API ------------------------------------------------------------------------
def roll_up(codings: pd.DataFrame, parent_of: Mapping[str, str | None],
            level: Literal["top", "all"]) -> pd.DataFrame:
    """Apply the code hierarchy: a coding on a sub-code implies its ancestors.

    ``parent_of`` maps every code to its parent (None for a top-level code), e.g.
    ``{c.id: c.parent for c in codebook.codes}``. ``level="all"`` adds a row for every
    ancestor; ``level="top"`` replaces each code by its top-level ancestor. Returns the
    unit/coder/code columns only (others are dropped), deduplicated.
    """
    if level not in ("top", "all"):
        raise InvalidInput(f"level must be 'top' or 'all', not {level!r}")
    df = _clean(codings)
    chains: dict[str, list[str]] = {}
    for code in dict.fromkeys(df["code"]):
        chain = [code]
        while True:
            if chain[-1] not in parent_of:
                where = "" if len(chain) == 1 else f" (an ancestor of {code!r})"
                raise InvalidInput(f"unknown code {chain[-1]!r}{where}: not in the hierarchy",
                                   code=chain[-1])
            parent = parent_of[chain[-1]]
            if parent is None:
                break
            if parent in chain:
                raise InvalidInput(f"the hierarchy has a cycle through {parent!r}", code=parent)
            chain.append(parent)
        chains[code] = chain if level == "all" else chain[-1:]
    out = df.assign(code=df["code"].map(chains)).explode("code")
    return out.drop_duplicates().reset_index(drop=True)


def presence_table(codings: pd.DataFrame, coders: Sequence[str], codes: Sequence[str],
                   coverage: Coverage | None = None) -> dict[str, pd.DataFrame]:
    """For each code, the coder x unit matrix: 1 applied, 0 covered but not applied, NaN
    not covered; columns are the units covered by any of the coders."""
    df, names, cov = _prepare(codings, coders, coverage, minimum=1)
    units = _units(cov)
    return {code: pd.DataFrame(_presence(df, names, code, cov, units), index=names,
                               columns=units) for code in _check_codes(codes)}


def agreement_presence(codings: pd.DataFrame, coders: Sequence[str],
                       codes: Sequence[str], coverage: Coverage | None = None) -> pd.DataFrame:
    """Agreement on whether each code applies to each unit (present/absent).

    One row per code, then a row ``code="(overall)"``. Columns:

    * ``units``: units covered by all the coders, the basis of ``percent_agreement`` (share
      of those units where all coders agree, 0..1) and ``cohen_kappa`` (exactly two
      coders only, else NaN; see :func:`pairwise_kappa`);
    * ``alpha_units``: units covered by at least two coders, the basis of
      ``krippendorff_alpha`` (nominal, other coders' gaps treated as missing);
    * ``coders``; ``n_<coder>``: units the coder applied the code to, over their coverage.

    The overall row pools every (unit, code) decision as if it were its own unit: percent
    agreement, kappa and alpha are computed once over all of them (the pooled figure NVivo
    reports), not averaged over codes; its ``units``/``alpha_units`` are unit counts as in
    the code rows and its ``n_<coder>`` are totals. For the mean of per-code values, average
    the code rows yourself.
    """
    df, names, cov = _prepare(codings, coders, coverage)
    units = _units(cov)
    rows, mats = [], []
    for code in _check_codes(codes):
        m = _presence(df, names, code, cov, units)
        mats.append(m)
        rows.append(_row(code, m, names))
    overall = _row(OVERALL, np.hstack(mats), names)
    overall.update(_unit_counts(mats[0]))
    rows.append(overall)
    return pd.DataFrame(rows)


def _row(code: str, m: np.ndarray, names: list[str]) -> dict:
    counts = np.nansum(m, axis=1).astype(int)
    return {"code": code, **_unit_counts(m), "coders": len(names), **_stats(m),
            **{f"n_{c}": int(n) for c, n in zip(names, counts)}}


def agreement_nominal(assignments: pd.DataFrame, coders: Sequence[str],
                      coverage: Coverage | None = None) -> pd.DataFrame:
    """Agreement for a mutually exclusive scheme: each coder gives a unit at most one code.

    Returns the per-code one-vs-rest presence rows of :func:`agreement_presence`, then a
    ``code="(overall)"`` row with percent agreement (units covered by all coders), Cohen's
    kappa (two coders only) and nominal Krippendorff's alpha over the codes themselves;
    its ``n_<coder>`` is the number of units the coder assigned. A unit inside a coder's
    ``coverage`` without any code gets the category ``"(none)"``. Raises InvalidInput
    naming the unit and coder when a coder gave one unit several codes.
    """
    df, names, cov = _prepare(assignments, coders, coverage)
    multi = df.groupby(["unit", "coder"])["code"].nunique()
    multi = multi[multi > 1]
    if len(multi):
        unit, coder = multi.index[0]
        given = sorted(df.loc[(df["unit"] == unit) & (df["coder"] == coder), "code"])
        raise InvalidInput(f"coder {coder!r} gave unit {unit} several codes {given} in a "
                           "mutually exclusive scheme", code=given[0])
    codes = sorted(set(df["code"]))
    if not codes:
        raise InvalidInput("no assignments by the given coders")
    per_code = agreement_presence(df, names, codes, cov)
    per_code = per_code[per_code["code"] != OVERALL]
    units = _units(cov)
    index = {code: i for i, code in enumerate([*codes, NONE])}
    col = {u: i for i, u in enumerate(units)}
    m = np.full((len(names), len(units)), np.nan)
    for r, coder in enumerate(names):
        m[r, [col[u] for u in cov[coder]]] = index[NONE]
        sub = df[df["coder"] == coder]
        m[r, [col[u] for u in sub["unit"]]] = [index[c] for c in sub["code"]]
    overall = _row(OVERALL, m, names)
    overall.update({f"n_{c}": int((df["coder"] == c).sum()) for c in names})
    return pd.concat([per_code, pd.DataFrame([overall])], ignore_index=True)


def pairwise_kappa(codings: pd.DataFrame, coders: Sequence[str], codes: Sequence[str],
                   coverage: Coverage | None = None) -> pd.DataFrame:
    """Cohen's kappa for every pair of coders and code (for more than two coders).

    Columns ``coder_a, coder_b, code, units, percent_agreement, cohen_kappa``; ``units`` are
    those covered by both coders of the pair. Each pair ends with a pooled
    ``code="(overall)"`` row as in :func:`agreement_presence`.
    """
    df, names, cov = _prepare(codings, coders, coverage)
    code_list = _check_codes(codes)
    rows = []
    for a, b in combinations(names, 2):
        sub = agreement_presence(df[df["coder"].isin([a, b])], [a, b], code_list,
                                 {a: cov[a], b: cov[b]})
        for rec in sub.to_dict("records"):
            rows.append({"coder_a": a, "coder_b": b, "code": rec["code"],
                         "units": rec["units"],
                         "percent_agreement": rec["percent_agreement"],
                         "cohen_kappa": rec["cohen_kappa"]})
    return pd.DataFrame(rows, columns=["coder_a", "coder_b", "code", "units",
                                       "percent_agreement", "cohen_kappa"])


def resample_indices(n_units: int, resamples: int, seed: int = 0) -> np.ndarray:
    """``resamples`` x ``n_units`` unit positions drawn with replacement (the bootstrap)."""
    return np.random.default_rng(seed).integers(0, n_units, size=(resamples, n_units))


def _binary_kappas(agree: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cohen's kappa from per-resample shares: observed agreement and each coder's share
    of 1s. NaN where chance agreement is 1 (both coders used one and the same value)."""
    pe = a * b + (1 - a) * (1 - b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pe < 1, (agree - pe) / (1 - pe), np.nan)


def kappa_intervals(codings: pd.DataFrame, coders: Sequence[str], codes: Sequence[str],
                    coverage: Coverage | None = None, *, resamples: int = 1000,
                    confidence: float = 0.95, seed: int = 0,
                    groups: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Bootstrap percentile intervals of Cohen's kappa for two coders, per code and pooled.

    The units both coders covered are resampled with replacement ``resamples`` times, the
    same draw for every code, and kappa recomputed on each draw. With ``groups`` (unit ->
    interview, say) whole groups are drawn instead, each bringing all its units: the
    cluster bootstrap, right for interview data, whose segments of one interview are not
    independent (resampling segments then gives intervals that are too narrow). Columns
    ``code, kappa_low, kappa_high``, with a final ``code="(overall)"`` row for the pooled
    kappa of :func:`agreement_presence`. An interval is NaN where kappa is undefined in more
    than half of the draws, and everywhere when the coders share no unit.
    """
    if not (isinstance(resamples, int) and resamples >= 100):
        raise InvalidInput(f"resamples must be a whole number of at least 100, got {resamples!r}")
    if not 0.5 <= confidence < 1:
        raise InvalidInput(f"confidence must be between 0.5 and 1, got {confidence!r}")
    df, names, cov = _prepare(codings, coders, coverage)
    if len(names) != 2:
        raise InvalidInput(f"kappa intervals need exactly two coders, got {len(names)}")
    code_list = _check_codes(codes)
    units = sorted(cov[names[0]] & cov[names[1]])
    if not units:  # nothing both coded: no interval, as agreement_presence gives no kappa
        return pd.DataFrame({"code": [*code_list, OVERALL], "kappa_low": np.nan,
                             "kappa_high": np.nan})
    member = _group_positions(units, groups)
    n_groups = int(member.max()) + 1
    # how often each group is drawn in each resample; a draw's sums are counts @ group sums
    counts = np.zeros((resamples, n_groups))
    draws = resample_indices(n_groups, resamples, seed)
    np.add.at(counts, (np.arange(resamples)[:, None], draws), 1)
    drawn_units = counts @ np.bincount(member, minlength=n_groups)
    both = {c: set(units) for c in names}
    tail = (1 - confidence) / 2 * 100
    totals = np.zeros((3, resamples))  # agreements, a's 1s, b's 1s over every code

    def interval(k: np.ndarray) -> tuple[float, float]:
        if np.isnan(k).mean() > 0.5:
            return float("nan"), float("nan")
        lo, hi = np.nanpercentile(k, [tail, 100 - tail])
        return float(lo), float(hi)

    rows = []
    for code in code_list:
        a, b = _presence(df[df["unit"].isin(units)], names, code, both, units)
        per_group = np.vstack([np.bincount(member, weights=v, minlength=n_groups)
                               for v in ((a == b), a, b)])  # 3 x groups
        shares = per_group @ counts.T  # 3 x resamples
        totals += shares
        lo, hi = interval(_binary_kappas(*(shares / drawn_units)))
        rows.append({"code": code, "kappa_low": lo, "kappa_high": hi})
    lo, hi = interval(_binary_kappas(*(totals / (drawn_units * len(code_list)))))
    rows.append({"code": OVERALL, "kappa_low": lo, "kappa_high": hi})
    return pd.DataFrame(rows, columns=["code", "kappa_low", "kappa_high"])


def _group_positions(units: Sequence[int], groups: Mapping[int, str] | None) -> np.ndarray:
    """Each unit's group as a position 0..G-1 (in order of first appearance); every unit its
    own group when ``groups`` is None."""
    if groups is None:
        return np.arange(len(units))
    missing = [u for u in units if u not in groups]
    if missing:
        raise InvalidInput(f"unit {missing[0]} has no group: give every unit both coders "
                           "covered its group (interview)")
    position: dict[str, int] = {}
    return np.array([position.setdefault(groups[u], len(position)) for u in units])


def disagreements(codings: pd.DataFrame, coders: Sequence[str], codes: Sequence[str],
                  coverage: Coverage | None = None,
                  texts: Mapping[int, str] | None = None) -> pd.DataFrame:
    """The (unit, code) pairs on which the coders covering the unit disagree, for review.

    Columns ``unit, code, applied_by, not_applied_by`` (coders joined by ", ", coders who
    did not cover the unit are in neither), plus ``text`` when ``texts`` (unit -> text) is
    given. Sorted by unit, then codes in the order given.
    """
    df, names, cov = _prepare(codings, coders, coverage)
    units = _units(cov)
    columns = ["unit", "code", "applied_by", "not_applied_by"]
    rows = []
    for order, code in enumerate(_check_codes(codes)):
        m = _presence(df, names, code, cov, units)
        split = (m == 1).any(axis=0) & (m == 0).any(axis=0)
        for j in np.flatnonzero(split):
            rows.append({
                "unit": units[j], "code": code, "_order": order,
                "applied_by": ", ".join(c for c, v in zip(names, m[:, j]) if v == 1),
                "not_applied_by": ", ".join(c for c, v in zip(names, m[:, j]) if v == 0),
            })
    out = pd.DataFrame(rows, columns=[*columns, "_order"])
    out = out.sort_values(["unit", "_order"], kind="stable").drop(columns="_order")
    if texts is not None:
        columns.append("text")
        out["text"] = [texts.get(u) for u in out["unit"]]
    return out.reset_index(drop=True)[columns]


def confusion(codings: pd.DataFrame, coder_a: str, coder_b: str, code: str,
              coverage: Coverage | None = None) -> pd.DataFrame:
    """2x2 counts for one code over the units both coders covered.

    Rows are ``coder_a`` (index named after them), columns ``coder_b``, each with labels
    "applied" and "not applied": [0, 0] = both applied, [0, 1] = only a, [1, 0] = only b,
    [1, 1] = neither.
    """
    df, names, cov = _prepare(codings, [coder_a, coder_b], coverage)
    units = _units(cov)
    full = _complete(_presence(df, names, code, cov, units))
    a, b = full[0] == 1, full[1] == 1
    labels = ["applied", "not applied"]
    table = pd.DataFrame([[int((a & b).sum()), int((a & ~b).sum())],
                          [int((~a & b).sum()), int((~a & ~b).sum())]],
                         index=pd.Index(labels, name=coder_a),
                         columns=pd.Index(labels, name=coder_b))
    return table


def precision_recall(codings: pd.DataFrame, predicted: str, gold: str, codes: Sequence[str],
                     coverage: Coverage | None = None) -> pd.DataFrame:
    """A machine coder (``predicted``) scored against a ``gold`` coder, per code.

    Only units covered by both count. Columns ``code, support`` (gold positives),
    ``predicted`` (predicted positives), ``tp, fp, fn, precision, recall, f1,
    cohen_kappa``; an undefined precision/recall/F1 is 0 (scikit-learn's zero_division=0),
    an undefined kappa NaN. A final ``code="(macro)"`` row averages precision, recall, F1
    and kappa (ignoring NaN) over the codes with support > 0; its counts are totals.
    """
    df, names, cov = _prepare(codings, [predicted, gold], coverage)
    units = sorted(cov[predicted] & cov[gold])
    if not units:
        raise InvalidInput(f"coders {predicted!r} and {gold!r} share no covered unit")
    both = {c: cov[c] & set(units) for c in names}
    rows = []
    for code in _check_codes(codes):
        m = _presence(df[df["unit"].isin(units)], names, code, both, units)
        yp, yt = m[0] == 1, m[1] == 1
        p, r, f, _ = precision_recall_fscore_support(yt.astype(int), yp.astype(int),
                                                     labels=[1], average=None,
                                                     zero_division=0)
        rows.append({"code": code, "support": int(yt.sum()), "predicted": int(yp.sum()),
                     "tp": int((yt & yp).sum()), "fp": int((~yt & yp).sum()),
                     "fn": int((yt & ~yp).sum()),
                     "precision": float(p[0]), "recall": float(r[0]), "f1": float(f[0]),
                     "cohen_kappa": _kappa(yt.astype(int), yp.astype(int))})
    out = pd.DataFrame(rows)
    scored = out[out["support"] > 0]
    macro: dict = {"code": MACRO}
    macro.update({k: int(out[k].sum()) for k in ("support", "predicted", "tp", "fp", "fn")})
    macro.update({k: float(scored[k].mean()) if len(scored) else float("nan")
                  for k in ("precision", "recall", "f1", "cohen_kappa")})
    return pd.concat([out, pd.DataFrame([macro])], ignore_index=True)
