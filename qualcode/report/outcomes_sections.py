"""Report sections that measure coders and set themes beside numbers: agreement, outcome
linkage, the client model and client groups."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from qualcode.errors import InvalidInput, QualcodeError
from qualcode.report.build import Inputs, NotIncluded, require_codings, chart_bytes, headers, rate_like
from qualcode.report.model import Chart, Section, Table

if TYPE_CHECKING:
    import pandas as pd

#: Client columns used as model factors when --model-factors is not given.
DEFAULT_FACTORS = ("site", "referral_source", "meetings_band")
AGREEMENT_NAMES = {"percent_agreement": "Percent agreement", "cohen_kappa": "Cohen's kappa",
                   "krippendorff_alpha": "Krippendorff's alpha", "units": "Units (both coded)",
                   "alpha_units": "Units (any coder)", "kappa_low": "Kappa 95% from",
                   "kappa_high": "Kappa 95% to"}
AGREEMENT_FORMATS = {"Percent agreement": "pct", "Cohen's kappa": "2dp", "Krippendorff's alpha": "2dp",
                     "Kappa 95% from": "2dp", "Kappa 95% to": "2dp"}
INTERVAL_RESAMPLES = 1000


def check_options(d: Inputs) -> None:
    """Refuse, before any work, an option that names something the project's data lack
    (data that are missing altogether only leave their section out)."""
    o, sites, clients = d.options, d.site_outcomes, d.client_outcomes
    if o.coders is not None and len(o.coders) < 2:
        raise InvalidInput("--coders needs at least two coders, e.g. --coders alice,bob")
    if o.theme and o.theme not in d.parent_of:
        raise InvalidInput(f"unknown theme {o.theme!r}: give a code id from the codebook")
    if o.outcome and not sites.empty and o.outcome not in sites.columns:
        raise InvalidInput(f"site outcomes have no column {o.outcome!r}; choose from {', '.join(sites.columns)}")
    if clients.empty:
        return
    named = [*([o.model_outcome] if o.model_outcome else []), *(o.model_factors or [])]
    absent = [c for c in named if c not in clients.columns]
    if absent:
        raise InvalidInput(f"client outcomes have no column {absent[0]!r}; choose from {', '.join(clients.columns)}")
    absent = [m for m in o.cluster_measures or [] for s in ("_base", "_follow") if m + s not in clients.columns]
    if absent:
        raise InvalidInput(f"client outcomes have no {absent[0]}_base and _follow columns")


def _machine_coders(d: Inputs) -> list[str]:
    """Machine coders (``rules``, ``classifier``) that stored any suggestion in the project."""
    from qualcode.store.codings import MACHINE_CODERS, sources_in_use

    sources = sources_in_use(d.store)
    return [name for source, name in MACHINE_CODERS.items() if source in sources]


def _agreement_table(frame: "pd.DataFrame", title: str) -> Table:
    """An agreement table with readable headers, shares as % and kappa, alpha to 2 dp."""
    names = {**AGREEMENT_NAMES, "coder_a": "Coder 1", "coder_b": "Coder 2", "coders": "Coders",
             **{c: f"n {c[2:]}" for c in frame.columns if c.startswith("n_")}}
    shown = headers(frame, names)
    counts = {c: "int" for c in shown.columns if c.startswith(("n ", "Units", "Coders"))}
    return Table(shown, title=title, formats={**AGREEMENT_FORMATS, **counts}, key_columns=1)


def agreement_section(d: Inputs) -> Section:
    """Human coders with each other (per code), then each machine against each person."""
    import pandas as pd

    from qualcode.analysis.matrix import role_label
    from qualcode.store.codings import MACHINE_CODERS, coders
    from qualcode.workflows.agreement import MIN_INTERVIEWS, project_agreement

    if d.segments is None:
        raise NotIncluded("no transcripts ingested")
    machines = set(MACHINE_CODERS.values())
    given = d.options.coders
    people = list(given) if given else [c for c in coders(d.store) if c not in machines]
    tables, notes, resampled = [], [], []
    if len(people) >= 2:
        result = project_agreement(d.store, people,
                                   intervals=INTERVAL_RESAMPLES if len(people) == 2 else 0)
        if result.interval_note:
            resampled.append(f"{' vs '.join(people)}: {result.interval_note}")
        table = result.table.dropna(axis=1, how="all")  # kappa and percent agreement need two coders
        tables.append(_agreement_table(table, f"Agreement between {', '.join(people)} (per theme)"))
        if result.pairwise is not None:
            pairs = result.pairwise
            overlap = pairs.groupby(["coder_a", "coder_b"])["units"].transform("max") > 0
            apart = sorted({f"{a} and {b}" for a, b in pairs.loc[~overlap, ["coder_a", "coder_b"]].to_numpy()})
            if overlap.any():
                tables.append(_agreement_table(pairs[overlap], "Each pair of coders"))
            if apart:
                notes.append(f"No segment was coded by both of: {'; '.join(apart)} (left out of the pairs).")
        if not result.disagreements.empty:
            dis = result.disagreements
            where = d.segments.drop_duplicates("segment_id").set_index("segment_id")
            dis = dis.assign(document=dis["unit"].map(where["document"]),
                             role=dis["unit"].map(where["role"]).map(role_label))
            dis = dis[["unit", "document", "role", "code", "applied_by", "not_applied_by", "text"]]
            tables.append(Table(headers(dis, {"unit": "Segment"}), title="Disagreements", wrap=["Text"],
                                formats={"Segment": "int"}))
    humans = [p for p in people if p not in machines]
    runs = []
    for m in _machine_coders(d):
        for h in humans:
            run = project_agreement(d.store, [m, h], intervals=INTERVAL_RESAMPLES)
            runs.append(run.table.assign(comparison=f"{m} vs {h}"))
            resampled.append(f"{m} vs {h}: {run.interval_note}")
    if runs:
        frame = pd.concat(runs, ignore_index=True)
        frame = frame[["comparison", *[c for c in frame.columns if c != "comparison"]]]
        tables.append(_agreement_table(frame, "Machine suggestions against each human coder"))
    if not tables:
        who = f"only one human coder ({people[0]})" if people else "no human coder yet"
        raise NotIncluded(f"{who} and no machine suggestions to compare")
    notes.append("Themes compare top-level codes (a sub-code counts for its theme). Kappa and alpha from 0.8 are "
                 "usually read as good agreement, 0.67 to 0.8 as tentative. A machine covered every segment; a "
                 "person only the segments they coded or marked as reviewed. The kappa intervals (95%) are bootstrap "
                 "percentile intervals. They resample whole interviews where the two coders share at least "
                 f"{MIN_INTERVIEWS}, since segments of one interview are not independent, and single segments "
                 "otherwise (then they are if anything too narrow).")
    notes += resampled
    return Section("agreement", "Agreement", "How far coders agree, code by code: percent agreement, Cohen's "
                   "kappa (two coders) and Krippendorff's alpha.", tables, notes=notes)


def _theme_by_site(cache: dict[str, "pd.DataFrame"], d: Inputs, theme: str) -> "pd.DataFrame":
    """Per site: interviews with the theme, their share, coded segments (as ``qualcode link``)."""
    import pandas as pd

    from qualcode.analysis.matrix import theme_matrix
    from qualcode.workflows.matrix import _with_names

    columns = {}
    for measure in ("documents", "share", "segments"):
        key = f"site_{measure}"
        if key not in cache:
            frame = theme_matrix(d.codings, d.segments, d.parent_of, cols="site", measure=measure, level="all",
                                 code_order=list(d.info["code"]), documents=d.documents)
            cache[key] = _with_names(frame, d.info, "all")
        row = cache[key][cache[key]["code"] == theme]
        values = row.drop(columns=[c for c in ("code", "name", "Total") if c in row.columns]).iloc[0]
        columns[f"{theme}_{'interviews' if measure == 'documents' else measure}"] = values
    out = pd.DataFrame(columns)
    out.index.name = "site"
    return out.reset_index()


def linkage_section(d: Inputs, cache: dict[str, "pd.DataFrame"]) -> Section:
    """The theme beside a site outcome: joint display, Spearman's rho with its caveat, chart."""
    from qualcode.analysis.charts import humanise
    from qualcode.analysis.link import joint_display, link_chart, spearman_link
    from qualcode.analysis.rating import integration_evidence

    o, outcomes = d.options, d.site_outcomes
    theme, outcome, x = o.theme or "integration", o.outcome or "job_entry_rate", "integration_rating"
    if outcomes.empty:
        raise NotIncluded("no site outcomes imported")
    if theme not in d.parent_of:
        raise NotIncluded(f"no --theme given and the codebook has no {theme!r} code")
    if outcome not in outcomes.columns:
        raise NotIncluded(f"site outcomes have no {outcome} column (choose one with --outcome)")
    if x not in outcomes.columns:
        raise NotIncluded(f"site outcomes have no {x} column")
    require_codings(d)
    evidence = None
    if theme == "integration" and (d.info["top"] == "integration").any():
        ev = cache.get("evidence")
        ev = ev if ev is not None else integration_evidence(d.codings, d.segments, d.info, quotes=0)
        evidence = ev[["site", "rating"]].rename(columns={"rating": "evidence_rating"})
    display = joint_display(_theme_by_site(cache, d, theme), outcomes, outcome, evidence_rating=evidence)
    r = spearman_link(display, x, outcome)
    if math.isnan(r.rho):
        notes = [f"Spearman's rho ({x} vs {outcome}) cannot be computed; n = {r.n} sites."]
    else:
        notes = [f"Spearman's rho ({x} vs {outcome}) = {r.rho:.2f}, p = {r.p_value:.3f}, n = {r.n} sites "
                 f"({r.method})."]
    if r.caveat:
        notes.append(f"Caveat: {r.caveat}")
    charts = []
    try:
        png = chart_bytes(lambda p: link_chart(display, x, outcome, path=p))
        charts.append(Chart(f"{humanise(outcome)} by {humanise(x).lower()}, one point per site", png))
    except InvalidInput as exc:
        notes.append(f"No chart: {exc}")
    formats = {c: "pct" for c in display.columns if c.endswith("_share") or rate_like(display, c)}
    formats.update({c: "int" for c in display.columns if c.endswith(("_interviews", "_segments"))})
    shown = headers(display)
    formats = {shown.columns[list(display.columns).index(c)]: f for c, f in formats.items()}
    return Section("linkage", "Outcome linkage",
                   f"The {theme} theme beside each site's {outcome}: the rating the evaluator entered, the rating "
                   "the coded evidence suggests, the theme's interviews and segments, and the outcome.",
                   [Table(shown, formats=formats, key_columns=1)], charts, notes)


def model_section(d: Inputs) -> Section:
    """Binary logistic regression of a 0/1 client outcome: odds ratios and a forest plot."""
    from qualcode.analysis.models import compare_without, fit_logistic, forest_plot

    o, frame = d.options, d.client_outcomes
    explicit = o.model_factors is not None or o.model_outcome is not None
    outcome = o.model_outcome or "job_start"
    if frame.empty:
        raise NotIncluded("no client outcomes imported")
    if outcome not in frame.columns:
        raise NotIncluded(f"client outcomes have no {outcome} column (choose one with --model-outcome)")
    if o.model_factors:
        factors = list(o.model_factors)
    else:
        factors = [f for f in DEFAULT_FACTORS if f in frame.columns and frame[f].nunique(dropna=True) >= 2]
        if not factors:
            raise NotIncluded(f"client outcomes have none of the factors {', '.join(DEFAULT_FACTORS)}")
    try:
        result = fit_logistic(frame, outcome, factors)
        comparison = (compare_without(frame, outcome, factors, without="meetings_band", focus="site")
                      if "site" in factors and "meetings_band" in factors else None)
    except QualcodeError as exc:
        if explicit:
            raise
        raise NotIncluded(f"the model could not be fitted: {exc}") from exc
    names = {"odds_ratio": "Odds ratio", "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "p", "n": "n"}
    stats = {"Odds ratio": "2dp", "95% CI low": "2dp", "95% CI high": "2dp", "p": "p", "n": "int"}
    tables = [Table(headers(result.table, names), title="Odds ratios", formats=stats, key_columns=2)]
    if comparison is not None:
        shown = headers(comparison, {"n": "n", **{f"{k}_{w}": f"{v} ({w} meetings)" for k, v in names.items()
                                                   for w in ("with", "without")}})
        formats = {c: ("p" if c.startswith("p ") else "2dp") for c in shown.columns if "meetings)" in c}
        tables.append(Table(shown, title="Site odds ratios with and without meetings_band", formats={**formats,
                            "n": "int"}, key_columns=2))
    png = chart_bytes(lambda p: forest_plot(result.table, p, title=f"Odds of {outcome}"))
    refs = ", ".join(f"{k} = {v}" for k, v in result.reference.items())
    notes = [f"Binary logistic regression of {outcome} on {', '.join(factors)} ({result.method}): "
             f"{result.n_used} clients used, {result.n_dropped} left out for missing data. Reference levels: {refs}."]
    if not math.isnan(result.pseudo_r2):
        notes.append(f"McFadden's pseudo R-squared {result.pseudo_r2:.3f}; AIC {result.aic:.1f}.")
    notes += [f"Note: {w}" for w in result.warnings]
    if comparison is not None:
        notes.append("Site odds ratios with and without meetings in the model (same clients): a site whose odds "
                     "fall once meetings are controlled for owes its results to the quantity of support.")
    return Section("model", "Model", f"Odds of {outcome} for each factor level against its reference level "
                   "(odds ratio 1), with 95% confidence intervals and p-values.", tables,
                   [Chart(f"Odds ratios of {outcome} with 95% confidence intervals (log scale)", png)], notes)


def groups_section(d: Inputs) -> Section:
    """Clients grouped by their baseline-to-follow-up change (k-means), with a chart."""
    from qualcode.analysis.clusters import cluster_change, cluster_chart

    o, frame = d.options, d.client_outcomes
    if frame.empty:
        raise NotIncluded("no client outcomes imported")
    if o.cluster_measures:
        measures = list(o.cluster_measures)
    else:
        measures = [c[: -len("_base")] for c in frame.columns
                    if c.endswith("_base") and c[: -len("_base")] + "_follow" in frame.columns]
        if not measures:
            raise NotIncluded("client outcomes have no pair of X_base and X_follow columns")
    outcome = "job_start" if "job_start" in frame.columns else None
    try:
        result = cluster_change(frame, measures, outcome=outcome)
    except QualcodeError as exc:
        if o.cluster_measures:
            raise
        raise NotIncluded(f"clients could not be grouped: {exc}") from exc
    names = {f"mean_change_{m}": f"Mean change in {m}" for m in measures}
    names.update({"mean_std_change": "Mean standardised change", "n": "n", "share": "Share"})
    shown = headers(result.summary, names)
    formats = {c: "2dp" for c in shown.columns if c.startswith("Mean")}
    formats.update({"n": "int", "Share": "pct", "Group": "int", "Job start rate": "pct"})
    png = chart_bytes(lambda p: cluster_chart(result.summary, measures, p))
    sil = ", ".join(f"k={k}: {v:.2f}" for k, v in result.silhouette.items() if not math.isnan(v))
    notes = [f"{result.k} groups (k-means on change scores standardised by their SD; k chosen by the best "
             f"silhouette{': ' + sil if sil else ''}). {result.n_missing} clients without every baseline and "
             "follow-up score were left out; nothing is imputed.",
             "Group labels are suggestions for the evaluator to rename."]
    return Section("groups", "Client groups", f"Clients grouped by how {', '.join(measures)} changed between "
                   "baseline and follow-up.", [Table(shown, formats=formats, key_columns=2)],
                   [Chart("Mean change between baseline and follow-up, by group", png)], notes)
