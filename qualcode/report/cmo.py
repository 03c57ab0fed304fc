"""The top candidate CMO configurations of each site, counted without listing them all.

:func:`qualcode.analysis.matrix.cmo_configurations` lists every (context, mechanism,
outcome) triple found in an interview, with quotes for each; on a large project (hundreds
of interviews with dozens of codings each) that is hundreds of thousands of triples and
takes minutes. The report shows only the ``top`` configurations of each site, so here the
triples are counted with integer joins and quotes are picked for the chosen rows only.
Definition, ranking and quotes are those of ``cmo_configurations`` (the tests check that
both give the same rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qualcode.analysis.matrix import (
    CMO_PARTS,
    MISSING,
    coded_segments,
    document_table,
    natural_key,
    rank_codings,
    value_label,
)

if TYPE_CHECKING:
    import pandas as pd


def top_configurations(codings: "pd.DataFrame", segments: "pd.DataFrame", info: "pd.DataFrame", *,
                       by: str = "site", top: int = 5, quotes: int = 2, max_chars: int = 300,
                       documents: "pd.DataFrame | None" = None) -> "pd.DataFrame":
    """The ``top`` configurations of each ``by`` group (most interviews first, then codebook
    order), with the columns of ``cmo_configurations``."""
    import numpy as np
    import pandas as pd

    from qualcode.report.quotes import pick_by

    columns = [by, *CMO_PARTS, "interviews", *(f"{p}_quote" for p in CMO_PARTS)]
    role_of = {c: r for c, r in zip(info["code"], info["realist_role"]) if r in CMO_PARTS}
    position = {c: i for i, c in enumerate(info["code"])}
    hits = rank_codings(coded_segments(codings, segments, {}, None)).drop_duplicates(["segment_id", "code"])
    hits = hits[hits["code"].isin(role_of)]
    if hits.empty:
        return pd.DataFrame(columns=columns)
    docs = document_table(segments, documents)
    group_of = docs[by].map(value_label) if by in docs.columns else pd.Series(MISSING, index=docs.index)
    doc_ids = {d: i for i, d in enumerate(sorted(set(hits["document"])))}
    present = pd.DataFrame({"doc": hits["document"].map(doc_ids).to_numpy(),
                            "pos": hits["code"].map(position).to_numpy(),
                            "part": hits["code"].map(role_of).to_numpy()}).drop_duplicates(["doc", "pos"])
    parts = [present.loc[present["part"] == p, ["doc", "pos"]].rename(columns={"pos": p}) for p in CMO_PARTS]
    triples = parts[0].merge(parts[1], on="doc").merge(parts[2], on="doc")
    if triples.empty:
        return pd.DataFrame(columns=columns)
    names = {i: d for d, i in doc_ids.items()}
    groups = sorted(set(group_of.reindex(list(doc_ids)).fillna(MISSING)), key=natural_key)
    rank = {g: i for i, g in enumerate(groups)}
    doc_group = pd.Series({i: rank[group_of.get(d, MISSING)] for d, i in doc_ids.items()})
    triples["g"] = triples["doc"].map(doc_group)
    counts = triples.groupby(["g", *CMO_PARTS]).size().rename("interviews").reset_index()
    counts = counts.assign(n=-counts["interviews"]).sort_values(["g", "n", *CMO_PARTS], kind="mergesort")
    chosen = counts.groupby("g", sort=False).head(top)
    chosen = chosen.reset_index(drop=True).assign(cfg=lambda f: range(len(f)))
    support = triples.merge(chosen[["g", *CMO_PARTS, "cfg"]], on=["g", *CMO_PARTS])
    support["document"] = support["doc"].map(names)
    code_at = pd.Series(list(info["code"]))
    ranked = hits.assign(_o=np.arange(len(hits)))
    pools = [support[["cfg", "document"]].assign(code=support[p].map(code_at), _part=p) for p in CMO_PARTS]
    pool = pd.concat(pools, ignore_index=True).merge(ranked, on=["document", "code"])
    picked = pick_by(pool.sort_values(["cfg", "_part", "_o"], kind="mergesort"), ["cfg", "_part"], quotes, max_chars)
    out = pd.DataFrame({by: [groups[g] for g in chosen["g"]],
                        **{p: chosen[p].map(code_at).to_numpy() for p in CMO_PARTS},
                        "interviews": chosen["interviews"].astype(int).to_numpy()})
    for p in CMO_PARTS:
        out[f"{p}_quote"] = [picked.get((i, p), "") for i in range(len(chosen))]
    return out[columns]
