"""Writing an imported project (REFI-QDA) into the store, in one transaction.

The importer (``qualcode.ingest.qdpx``) reads and checks the project and hands over plain
rows: new documents with their speakers and segments, and each document's codings as
code-point spans. Here they are written; a coding already in the project (same segment,
code, coder and span) is counted, not written twice, and each coder is recorded as having
coded every eligible segment of the documents they coded.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import insert, select

from qualcode.store.repo import Store, now
from qualcode.store.schema import coding_events, codings, documents, segment_reviews, segments, speakers


@dataclass(frozen=True)
class ImportedSpeaker:
    label: str
    role: str
    tag: str
    n_turns: int


@dataclass(frozen=True)
class ImportedSegment:
    turn_index: int
    speaker_label: str | None
    role: str
    start_char: int
    end_char: int
    text: str
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class ImportedCoding:
    """A person's coding as a span of document code points; ``code`` is a project code id."""

    start: int
    end: int
    code: str
    coder: str
    created_at: str | None = None


@dataclass
class ImportedDocument:
    """A document to add (``row`` holds its documents-table columns) or, with
    ``existing_id``, one already in the project that the codings go onto."""

    name: str
    codings: list[ImportedCoding]
    existing_id: int | None = None
    row: dict[str, Any] | None = None
    speakers: list[ImportedSpeaker] = field(default_factory=list)
    segments: list[ImportedSegment] = field(default_factory=list)


@dataclass
class ImportWritten:
    documents_added: list[str] = field(default_factory=list)
    documents_matched: list[str] = field(default_factory=list)
    codings: int = 0
    codings_already_there: int = 0
    coders: set[str] = field(default_factory=set)


def segment_for(starts: list[int], ends: list[int], start: int) -> int:
    """Index of the segment holding ``start``, else the next one, else the last before it."""
    i = bisect_right(starts, start) - 1
    if i >= 0 and start < ends[i]:
        return i
    return i + 1 if i + 1 < len(starts) else max(i, 0)


def _insert_document(conn: Any, doc: ImportedDocument, stamp: str) -> int:
    assert doc.row is not None
    doc_id = conn.execute(insert(documents).values(**doc.row, ingested_at=stamp)).inserted_primary_key[0]
    speaker_ids = {s.label: conn.execute(insert(speakers).values(
        document_id=doc_id, label=s.label, role=s.role, tag=s.tag, n_turns=s.n_turns)).inserted_primary_key[0]
        for s in doc.speakers}
    if doc.segments:
        conn.execute(insert(segments), [
            {"document_id": doc_id, "seq": i, "turn_index": s.turn_index,
             "speaker_id": speaker_ids.get(s.speaker_label or ""), "role": s.role,
             "start_char": s.start_char, "end_char": s.end_char, "text": s.text,
             "start_ms": s.start_ms, "end_ms": s.end_ms} for i, s in enumerate(doc.segments)])
    return doc_id


def write_imported(store: Store, docs: Sequence[ImportedDocument], *, provenance: dict[str, Any],
                   note: str) -> ImportWritten:
    """Documents, speakers, segments and codings in one transaction (all or nothing).

    ``provenance`` is stored on every coding, ``note`` on its audit-trail event.
    """
    code_rows = store.code_row_ids(include_retired=True)
    stamp = now()
    out = ImportWritten()
    with store.write() as conn:
        for doc in docs:
            if doc.existing_id is None:
                doc_id = _insert_document(conn, doc, stamp)
                out.documents_added.append(doc.name)
            else:
                doc_id = doc.existing_id
                out.documents_matched.append(doc.name)
            rows = conn.execute(select(segments.c.id, segments.c.start_char, segments.c.end_char, segments.c.role)
                                .where(segments.c.document_id == doc_id).order_by(segments.c.start_char)).all()
            starts, ends = [r.start_char for r in rows], [r.end_char for r in rows]
            span = {r.id: (r.start_char, r.end_char) for r in rows}
            have = {(r.segment_id, r.code_id, r.decided_by, *((r.start_char, r.end_char) if r.start_char is not None
                                                              else span[r.segment_id]))
                    for r in conn.execute(select(codings).where(codings.c.segment_id.in_(list(span))))}
            for c in doc.codings:
                seg_id = rows[segment_for(starts, ends, c.start)].id
                key = (seg_id, code_rows[c.code], c.coder, c.start, c.end)
                if key in have:
                    out.codings_already_there += 1
                    continue
                have.add(key)
                whole = span[seg_id] == (c.start, c.end)  # a whole segment is stored without a span
                coding_id = conn.execute(insert(codings).values(
                    segment_id=seg_id, code_id=code_rows[c.code], source="human", coder=c.coder, confidence=None,
                    status="accepted", provenance=provenance,
                    start_char=None if whole else c.start, end_char=None if whole else c.end, decided_by=c.coder,
                    created_at=c.created_at or stamp, updated_at=None)).inserted_primary_key[0]
                conn.execute(insert(coding_events).values(coding_id=coding_id, action="import", status_before=None,
                                                          status_after="accepted", coder=c.coder, at=stamp,
                                                          note=note))
                out.codings += 1
                out.coders.add(c.coder)
            # each coder has coded every eligible segment of the documents they coded here
            for coder in sorted({c.coder for c in doc.codings}):
                done = {r[0] for r in conn.execute(select(segment_reviews.c.segment_id).where(
                    segment_reviews.c.coder == coder, segment_reviews.c.segment_id.in_([r.id for r in rows])))}
                todo = [{"segment_id": r.id, "coder": coder, "at": stamp} for r in rows
                        if r.role != "interviewer" and r.id not in done]
                if todo:
                    conn.execute(insert(segment_reviews), todo)
    return out
