"""Codings done elsewhere: a CSV of ``segment_id, code`` (or ``document, quote, code``).

Every row is checked before anything is written; the first bad row is an error naming the
file and the row, and then nothing at all is applied.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InvalidInput, InvalidTranscript
from qualcode.store.codings import Decision, apply_decisions
from qualcode.store.repo import Store


@dataclass(slots=True)
class ImportResult:
    applied: int
    coders: list[str]
    segments_reviewed: int


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    from qualcode.ingest.decode import decode_bytes

    try:
        text, _ = decode_bytes(path.read_bytes(), path)
    except OSError as exc:
        raise InvalidInput(f"cannot read file: {exc.strerror or exc}", file=path) from exc
    except InvalidTranscript as exc:
        raise InvalidInput(exc.message, file=path) from exc
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    rows = []
    for n, cells in enumerate(reader, start=2):
        if any(c.strip() for c in cells):
            rows.append((n, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}))
    return header, rows


def import_codings(store: Store, path: str | Path, *, coder: str | None = None, covered: str = "documents") -> ImportResult:
    """Apply a codings CSV as human codings, all or nothing.

    A row names its segment by ``segment_id``, or by ``document`` plus ``quote`` (a piece of
    the segment's text, unique in that document). ``coder`` in the file wins over the
    ``coder`` argument. ``covered='documents'`` records each coder as having coded every
    eligible segment of the documents they coded (a segment with no row had no code);
    ``covered='rows'`` only the segments named.
    """
    path = Path(path)
    header, rows = _read_csv(path)
    if "code" not in header or not ({"segment_id"} <= set(header) or {"document", "quote"} <= set(header)):
        raise InvalidInput("needs columns segment_id and code (or document, quote and code)", file=path, row=1)
    known_codes = set(store.code_row_ids())
    segs = store.segment_rows()
    by_id = {s["segment_id"]: s for s in segs}
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for s in segs:
        by_doc[s["document"]].append(s)

    decisions: list[Decision] = []
    covered_docs: dict[str, set[str]] = defaultdict(set)
    covered_segs: dict[str, set[int]] = defaultdict(set)
    for n, row in rows:
        who = row.get("coder") or coder
        if not who:
            raise InvalidInput("no coder: give --coder or a coder column", file=path, row=n)
        code = row["code"]
        if code not in known_codes:
            raise InvalidInput(f"unknown code {code!r}", file=path, row=n)
        if row.get("segment_id"):
            try:
                seg = by_id[int(row["segment_id"])]
            except (ValueError, KeyError):
                raise InvalidInput(f"unknown segment id {row['segment_id']!r}", file=path, row=n) from None
        else:
            doc, quote = row.get("document", ""), " ".join(row.get("quote", "").split())
            if doc not in by_doc:
                raise InvalidInput(f"unknown document {doc!r}", file=path, row=n)
            if not quote:
                raise InvalidInput("empty quote", file=path, row=n)
            found = [s for s in by_doc[doc] if quote in " ".join(s["text"].split())]
            if len(found) != 1:
                what = "no segment" if not found else f"{len(found)} segments"
                raise InvalidInput(f"{what} of {doc} contain the quote {quote[:40]!r}", file=path, row=n)
            seg = found[0]
        decisions.append(Decision("add", who, segment_id=seg["segment_id"], code=code, note=row.get("note") or None))
        covered_docs[who].add(seg["document"])
        covered_segs[who].add(seg["segment_id"])

    with_reviews = []
    for who in sorted(covered_docs):
        ids = covered_segs[who] if covered == "rows" else {s["segment_id"] for d in covered_docs[who] for s in by_doc[d]}
        with_reviews.append((who, ids))
    applied = apply_decisions(store, decisions)
    total = 0
    for who, ids in with_reviews:
        apply_decisions(store, [], reviewed=ids, reviewer=who)
        total += len(ids)
    return ImportResult(applied=len(applied), coders=sorted(covered_docs), segments_reviewed=total)
