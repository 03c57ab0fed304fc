"""Agreement between coders in a project, people and machines alike, code by code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from qualcode.errors import InvalidInput
from qualcode.store.codings import coder_codings
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd


MIN_INTERVIEWS = 5  # fewer interviews than this are too few to resample as wholes


@dataclass
class AgreementResult:
    table: "pd.DataFrame"  # one row per code, then (overall)
    disagreements: "pd.DataFrame"
    pairwise: "pd.DataFrame | None"
    coders: list[str]
    level: str
    mode: str
    interval_note: str = ""  # what the kappa intervals resampled, when there are any


def project_agreement(
    store: Store,
    coders: Sequence[str],
    *,
    codes: Sequence[str] | None = None,
    level: str = "top",
    mode: str = "presence",
    intervals: int = 0,
    ci_by: str = "interview",
) -> AgreementResult:
    """Percent agreement, Cohen's kappa (two coders) and Krippendorff's alpha per code.

    Name a machine as a coder (``rules``, ``classifier``) to measure it against a person.
    ``level='top'`` compares top-level themes (a sub-code counts for its theme);
    ``'all'`` compares every code, each sub-code also counting for its ancestors.
    ``intervals=N`` (two coders, presence mode) adds ``kappa_low`` and ``kappa_high``, a
    95% bootstrap interval from N resamples. ``ci_by='interview'`` (the default) resamples
    whole interviews, since segments of one interview are not independent; with fewer than
    ``MIN_INTERVIEWS`` interviews in common it falls back to resampling segments
    (``ci_by='segment'``), and ``interval_note`` says which was done.
    """
    from qualcode.analysis import agreement as ag

    if level not in ("top", "all"):
        raise InvalidInput(f"unknown level {level!r} (top or all)")
    if mode not in ("presence", "nominal"):
        raise InvalidInput(f"unknown mode {mode!r} (presence or nominal)")
    if len(coders) < 2:
        raise InvalidInput("name at least two coders, e.g. --coders rules,alice")
    if intervals and (len(coders) != 2 or mode != "presence"):
        raise InvalidInput("kappa intervals need exactly two coders and presence mode")
    if ci_by not in ("interview", "segment"):
        raise InvalidInput(f"unknown ci_by {ci_by!r} (interview or segment)")
    codebook = store.codebook()
    parent_of = {c.id: c.parent for c in codebook.codes}
    frame, coverage = coder_codings(store, list(coders))
    rolled = ag.roll_up(frame, parent_of, level)
    if codes:
        unknown = [c for c in codes if c not in parent_of]
        if unknown:
            raise InvalidInput(f"unknown code(s): {', '.join(unknown)}")
        wanted = list(codes)
    else:
        wanted = [c.id for c in codebook.walk() if level == "all" or c.parent is None]
    rows = store.segment_rows()
    texts = {s["segment_id"]: s["text"] for s in rows}
    if mode == "presence":
        table = ag.agreement_presence(rolled, list(coders), wanted, coverage=coverage)
    else:
        table = ag.agreement_nominal(rolled[rolled.code.isin(wanted)], list(coders), coverage=coverage)
    note = ""
    if intervals:
        shared = set(coverage[coders[0]]) & set(coverage[coders[1]])
        document = {s["segment_id"]: s["document"] for s in rows}
        interviews = {document[u] for u in shared}
        by_interview = ci_by == "interview" and len(interviews) >= MIN_INTERVIEWS
        ci = ag.kappa_intervals(rolled, list(coders), wanted, coverage=coverage,
                                resamples=intervals, groups=document if by_interview else None)
        table = table.merge(ci, on="code", how="left")
        note = _interval_note(intervals, len(shared), len(interviews), by_interview, ci_by)
    dis = ag.disagreements(rolled, list(coders), wanted, coverage=coverage, texts=texts)
    pairwise = ag.pairwise_kappa(rolled, list(coders), wanted, coverage=coverage) if len(coders) > 2 else None
    return AgreementResult(table, dis, pairwise, list(coders), level, mode, note)


def _interval_note(resamples: int, segments: int, interviews: int, by_interview: bool,
                   ci_by: str) -> str:
    if by_interview:
        return (f"kappa 95% intervals: {resamples:,} resamples of the {interviews} interviews "
                f"both coders covered ({segments} segments)")
    why = "" if ci_by == "segment" else (
        f"; only {interviews} interview{'s' if interviews != 1 else ''} in common, fewer than "
        f"{MIN_INTERVIEWS}, so segments were resampled and the interval is too narrow if "
        "an interview's segments are alike")
    return f"kappa 95% intervals: {resamples:,} resamples of the {segments} segments both coders covered{why}"
