"""Quotes for many cells at once, by the rule of :func:`qualcode.analysis.matrix.pick_quotes`.

``pick_quotes`` picks the quotes of one cell; the framework matrix and the CMO table call
it once per cell, which on a large project (hundreds of interviews, twenty sites, fifty
codes) costs seconds in pandas overhead alone. :func:`pick_by` applies the same rule to
every group in one sort: within a group, rows in ranked order, one quote per document
before a second from any document, at most ``n``. The tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qualcode.analysis.matrix import (
    MISSING,
    QUOTE_SEPARATOR,
    coded_segments,
    document_table,
    format_quote,
    rank_codings,
    trim_text,
    value_label,
)

if TYPE_CHECKING:
    import pandas as pd


def pick_by(ranked: "pd.DataFrame", keys: Sequence[str], n: int, max_chars: int) -> "pd.Series":
    """Joined quotes per group of ``keys`` from rows ranked best first (a Series indexed by
    the keys); groups with no rows are absent."""
    import numpy as np
    import pandas as pd

    keys = list(keys)
    if n <= 0 or ranked.empty:
        return pd.Series(dtype=object)
    rows = ranked.drop_duplicates([*keys, "segment_id"])
    rows = rows.assign(_dr=rows.groupby([*keys, "document"], sort=False).cumcount().to_numpy(),
                       _o=np.arange(len(rows)))
    chosen = rows.sort_values([*keys, "_dr", "_o"], kind="mergesort").groupby(keys, sort=False).head(n)
    texts = [format_quote(r, max_chars) for r in chosen.to_dict("records")]
    quoted = pd.Series(texts, index=pd.MultiIndex.from_frame(chosen[keys]) if len(keys) > 1 else chosen[keys[0]])
    return quoted.groupby(level=list(range(len(keys))), sort=False).agg(QUOTE_SEPARATOR.join)


def framework_cells(codings: "pd.DataFrame", segments: "pd.DataFrame", parent_of: dict[str, str | None],
                    skeleton: "pd.DataFrame", *, cols: str = "site", quotes: int = 3, max_chars: int = 300,
                    documents: "pd.DataFrame | None" = None) -> "pd.DataFrame":
    """The framework matrix (every code, level all) on the rows and columns of ``skeleton``
    (a theme matrix of the same codings by ``cols``: code, name, one column per value,
    Total), each cell holding its quotes as :func:`~qualcode.analysis.matrix.framework_matrix`
    picks them; ``cols`` is a document field (not role)."""
    from qualcode.analysis.matrix import TOTAL

    trim_text("", max_chars)  # checks max_chars
    hits = rank_codings(coded_segments(codings, segments, parent_of, "all")).drop_duplicates(["segment_id", "code"])
    docs = document_table(segments, documents)
    hits = hits.assign(_col=hits["document"].map(docs[cols].map(value_label)).fillna(MISSING))
    table = skeleton.copy()
    labels = [c for c in table.columns if c not in ("code", "name")]
    cells = pick_by(hits, ["code", "_col"], quotes, max_chars)
    totals = pick_by(hits, ["code"], quotes, max_chars)
    present = set(cells.index.get_level_values("_col")) if len(cells) else set()
    for label in labels:
        if label == TOTAL:
            table[label] = table["code"].map(totals).fillna("").astype(object)
        else:
            part = cells.xs(label, level="_col") if label in present else None
            table[label] = table["code"].map(part).fillna("").astype(object) if part is not None else ""
    return table
