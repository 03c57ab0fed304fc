"""Codings export: one CSV row per coding, with the code's path and the segment text."""

from __future__ import annotations

import csv
import json
import os

from qualcode.export.atomic import atomic_path
from qualcode.store.codings import coding_rows
from qualcode.store.repo import Store

CODING_COLUMNS = (
    "segment_id", "document", "site", "role", "code", "code_path", "source", "coder",
    "confidence", "status", "provenance", "text",
)


def export_codings(
    store: Store,
    out: str | os.PathLike[str],
    *,
    status: str | None = None,
    source: str | None = None,
) -> int:
    """Write the codings CSV; ``status``/``source`` filter (None or 'all' = every row).

    ``coder`` is the person who decided (or the machine, for an open suggestion).
    """
    rows = coding_rows(
        store,
        status=None if status in (None, "all") else status,
        source=None if source in (None, "all") else source,
    )
    with atomic_path(out) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CODING_COLUMNS)
            for r in rows:
                writer.writerow([
                    r["segment_id"], r["document"], r["site"] or "", r["role"], r["code"], r["code_path"],
                    r["source"], r["decided_by"] or r["coder"],
                    "" if r["confidence"] is None else f"{r['confidence']:.4f}", r["status"],
                    json.dumps(r["provenance"], ensure_ascii=False, sort_keys=True), r["text"],
                ])
    return len(rows)
