"""What the queue, codebook, matrix and quotes pages show, from library calls.

The matrix comes from :func:`qualcode.workflows.matrix.project_matrix` and the quotes
behind a cell from the same roll-up (:func:`qualcode.analysis.matrix.coded_segments`), so
a cell's count and its quote list agree. Quotes are attributed by role and site only.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from qualcode.codebook import Codebook
from qualcode.ingest.roles import ROLE_DISPLAY
from qualcode.store.codings import coding_rows
from qualcode.store.repo import Store


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def review_queue(store: Store, n: int = 20, strategy: str = "margin") -> list[dict[str, Any]]:
    """Segments in the order :func:`qualcode.workflows.assist.next_segments` gives them."""
    from qualcode.workflows.assist import next_segments

    ids = {d["name"]: d["id"] for d in store.documents()}
    frame = next_segments(store, n=n, strategy=strategy)
    out = []
    for rank, row in enumerate(frame.to_dict("records"), start=1):
        out.append({
            "rank": rank, "segment_id": int(row["segment_id"]), "document": row["document"],
            "document_id": ids.get(row["document"]), "site": row.get("site"),
            "role": ROLE_DISPLAY.get(row.get("role"), row.get("role")),
            "uncertainty": _number(row.get("uncertainty")), "code": row.get("most_uncertain_code") or None,
            "p": _number(row.get("p")), "text": " ".join(str(row.get("text", "")).split()),
        })
    return out


def codebook_entries(store: Store, codebook: Codebook) -> list[dict[str, Any]]:
    """Every code in tree order with its depth and accepted codings: its own and with sub-codes."""
    own = Counter(r["code"] for r in coding_rows(store, status="accepted"))
    out = []
    for code in codebook.walk():
        below = sum(own[c.id] for c in codebook.descendants(code.id))
        out.append({"code": code, "depth": min(codebook.depth(code.id), 5), "accepted": own[code.id],
                    "with_children": own[code.id] + below, "has_children": bool(codebook.children(code.id))})
    return out


def site_matrix(store: Store) -> dict[str, Any]:
    """Top-level themes by site: accepted coded segments (``project_matrix``)."""
    from qualcode.analysis.matrix import TOTAL
    from qualcode.workflows.matrix import project_matrix

    frame = project_matrix(store, cols="site", measure="segments", level="top", status="accepted")
    columns = [c for c in frame.columns if c not in ("code", "name")]
    rows = []
    for rec in frame.to_dict("records"):
        cells = [{"column": c, "site": None if c == TOTAL else c, "value": int(rec[c])} for c in columns]
        rows.append({"code": rec["code"], "name": str(rec["name"]).strip(), "cells": cells})
    peak = max((cell["value"] for r in rows for cell in r["cells"] if cell["site"] is not None), default=0)
    for r in rows:
        for cell in r["cells"]:
            cell["shade"] = 0 if not peak or not cell["value"] else min(5, 1 + (4 * cell["value"]) // peak)
    return {"columns": columns, "rows": rows}


def _parent_map(codebook: Codebook, paths: dict[str, str]) -> dict[str, str | None]:
    """Code -> parent, with retired codes placed by the path their codings stored."""
    parent_of: dict[str, str | None] = {c.id: c.parent for c in codebook.walk()}
    for path in paths.values():
        parts = path.split("/")
        for i, part in enumerate(parts):
            parent_of.setdefault(part, parts[i - 1] if i else None)
    return parent_of


def quotes(store: Store, codebook: Codebook, code: str, site: str | None) -> list[dict[str, Any]]:
    """The segments behind a matrix cell: accepted codings of ``code`` or a code below it,
    at ``site`` (every site when None), one per segment, in document order."""
    import pandas as pd

    from qualcode.analysis.matrix import MISSING, coded_segments
    from qualcode.workflows.matrix import codings_for, segments_for

    codings = codings_for(store, "accepted")
    segments = segments_for(store)
    if codings.empty:
        return []
    parent_of = _parent_map(codebook, dict(zip(codings["code"], codings["code_path"])))
    if code not in parent_of:
        return []
    hits = coded_segments(codings, segments, parent_of, level="all")
    hits = hits[hits["code"] == code]
    if site is not None:
        label = hits["site"].map(lambda s: MISSING if pd.isna(s) or not str(s).strip() else str(s).strip())
        hits = hits[label == site]
    ids = {d["name"]: d["id"] for d in store.documents()}
    names = {c.id: c.name for c in codebook.codes}
    out: dict[int, dict[str, Any]] = {}
    for row in hits.sort_values(["document", "seq"], kind="mergesort").to_dict("records"):
        item = out.get(row["segment_id"])
        if item is None:
            item = out[row["segment_id"]] = {
                "segment_id": int(row["segment_id"]), "document_id": ids.get(row["document"]),
                "role": ROLE_DISPLAY.get(row["role"], row["role"]),
                "site": None if pd.isna(row["site"]) else row["site"],
                "before": row["text"], "mark": "", "after": "", "codes": [],
            }
        coded = names.get(row["coded"], row["coded"])
        if coded not in item["codes"]:
            item["codes"].append(coded)
        start, end = _number(row.get("start_char")), _number(row.get("end_char"))
        if start is not None and end is not None and not item["mark"]:
            a, b = int(start) - int(row["start"]), int(end) - int(row["start"])
            text = row["text"]
            if 0 <= a < b <= len(text):
                item.update(before=text[:a], mark=text[a:b], after=text[b:])
    return list(out.values())
