"""Segments export: one CSV row per segment eligible for coding."""

from __future__ import annotations

import csv
import os

from qualcode.export.atomic import atomic_path
from qualcode.store.repo import Store

SEGMENT_COLUMNS = ("segment_id", "document", "site", "wave", "speaker", "role", "start", "end", "text")


def export_segments(store: Store, out: str | os.PathLike[str], *, all_roles: bool = False) -> int:
    """Write the segments CSV (interviewer turns only with ``all_roles``); returns the row count.

    ``speaker`` is the anonymised tag used in the stored text ("IPS ES 2"), never a raw label.
    """
    rows = store.segment_rows(all_roles=all_roles)
    with atomic_path(out) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(SEGMENT_COLUMNS)
            for r in rows:
                writer.writerow([r[c] if r[c] is not None else "" for c in SEGMENT_COLUMNS])
    return len(rows)
