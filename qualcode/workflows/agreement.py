"""Agreement between coders in a project, people and machines alike, code by code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from qualcode.errors import InvalidInput
from qualcode.store.codings import coder_codings
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class AgreementResult:
    table: "pd.DataFrame"  # one row per code, then (overall)
    disagreements: "pd.DataFrame"
    pairwise: "pd.DataFrame | None"
    coders: list[str]
    level: str
    mode: str


def project_agreement(
    store: Store,
    coders: Sequence[str],
    *,
    codes: Sequence[str] | None = None,
    level: str = "top",
    mode: str = "presence",
    intervals: int = 0,
) -> AgreementResult:
    """Percent agreement, Cohen's kappa (two coders) and Krippendorff's alpha per code.

    Name a machine as a coder (``rules``, ``classifier``) to measure it against a person.
    ``level='top'`` compares top-level themes (a sub-code counts for its theme);
    ``'all'`` compares every code, each sub-code also counting for its ancestors.
    ``intervals=N`` (two coders, presence mode) adds ``kappa_low`` and ``kappa_high``, a
    95% bootstrap interval from N resamples of the segments both coded.
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
    texts = {s["segment_id"]: s["text"] for s in store.segment_rows()}
    if mode == "presence":
        table = ag.agreement_presence(rolled, list(coders), wanted, coverage=coverage)
    else:
        table = ag.agreement_nominal(rolled[rolled.code.isin(wanted)], list(coders), coverage=coverage)
    if intervals:
        ci = ag.kappa_intervals(rolled, list(coders), wanted, coverage=coverage,
                                resamples=intervals)
        table = table.merge(ci, on="code", how="left")
    dis = ag.disagreements(rolled, list(coders), wanted, coverage=coverage, texts=texts)
    pairwise = ag.pairwise_kappa(rolled, list(coders), wanted, coverage=coverage) if len(coders) > 2 else None
    return AgreementResult(table, dis, pairwise, list(coders), level, mode)
