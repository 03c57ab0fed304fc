"""Codings in the store: machine suggestions, human decisions, and the audit trail.

A machine suggestion is a ``codings`` row with ``source`` rule or classifier and status
``suggested``. A person's decision sets its status and ``decided_by``; when a second coder
decides on a suggestion someone already decided, they get their own copy of the row, so
coders stay independent and agreement can be measured. A code a person adds is a row with
``source='human'``. Every decision writes a ``coding_events`` row; an undo is one more event,
never a deletion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import Connection, and_, delete, insert, select, update

from qualcode.errors import InvalidInput
from qualcode.store.repo import Store, now
from qualcode.store.schema import codes, coding_events, codings, documents, segment_reviews, segments, speakers

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.coding.base import Suggestion

MACHINE_CODERS = {"rule": "rules", "classifier": "classifier"}
ACTIONS = ("accept", "reject", "add")


@dataclass(slots=True)
class SuggestResult:
    added: int = 0
    replaced: int = 0
    kept: int = 0  # suggestions not stored because a person already decided that code there


@dataclass(slots=True)
class Decision:
    """One decision a coder makes: accept or reject a coding row, or add a code to a segment."""

    action: str  # accept | reject | add
    coder: str
    coding_id: int | None = None
    segment_id: int | None = None
    code: str | None = None
    start: int | None = None
    end: int | None = None
    note: str | None = None
    confidence: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


def store_suggestions(store: Store, suggestions: Sequence["Suggestion"], source: str) -> SuggestResult:
    """Replace ``source``'s open suggestions with new ones, in one transaction.

    Rows a person has decided on are never touched, and a suggestion for a (segment, code)
    that already carries a decision from this source is not stored again.
    """
    if source not in MACHINE_CODERS:
        raise InvalidInput(f"unknown suggestion source {source!r}")
    code_ids = store.code_row_ids()
    result = SuggestResult()
    stamp = now()
    with store.write() as conn:
        open_rows = and_(codings.c.source == source, codings.c.status == "suggested", codings.c.decided_by.is_(None))
        result.replaced = conn.execute(delete(codings).where(open_rows)).rowcount or 0
        decided = {
            (r.segment_id, r.code_id)
            for r in conn.execute(select(codings.c.segment_id, codings.c.code_id).where(codings.c.source == source))
        }
        payload = []
        for s in suggestions:
            if s.code not in code_ids:
                raise InvalidInput(f"suggestion for a code not in the project codebook: {s.code}")
            key = (s.segment_id, code_ids[s.code])
            if key in decided:
                result.kept += 1
                continue
            decided.add(key)
            span = s.provenance.get("span") if isinstance(s.provenance, dict) else None
            payload.append(
                {
                    "segment_id": s.segment_id,
                    "code_id": code_ids[s.code],
                    "source": source,
                    "coder": MACHINE_CODERS[source],
                    "confidence": float(s.confidence),
                    "status": "suggested",
                    "provenance": s.provenance,
                    "start_char": span[0] if span else None,
                    "end_char": span[1] if span else None,
                    "decided_by": None,
                    "created_at": stamp,
                    "updated_at": None,
                }
            )
        if payload:
            conn.execute(insert(codings), payload)
        result.added = len(payload)
    return result


def _event(conn: Connection, coding_id: int, action: str, before: str | None, after: str, coder: str, note: str | None) -> None:
    conn.execute(
        insert(coding_events).values(
            coding_id=coding_id, action=action, status_before=before, status_after=after, coder=coder, at=now(), note=note
        )
    )


def _mark_reviewed(conn: Connection, segment_ids: Iterable[int], coder: str) -> None:
    ids = set(segment_ids)
    if not ids:
        return
    have = {
        r.segment_id
        for r in conn.execute(
            select(segment_reviews.c.segment_id).where(
                segment_reviews.c.coder == coder, segment_reviews.c.segment_id.in_(ids)
            )
        )
    }
    stamp = now()
    rows = [{"segment_id": s, "coder": coder, "at": stamp} for s in sorted(ids - have)]
    if rows:
        conn.execute(insert(segment_reviews), rows)


def _apply(conn: Connection, d: Decision, code_ids: dict[str, int], index: int) -> int:
    where = f"decision {index}"
    if d.action not in ACTIONS:
        raise InvalidInput(f"{where}: unknown action {d.action!r}")
    if not d.coder:
        raise InvalidInput(f"{where}: every decision needs a coder name")
    if d.action == "add":
        if d.code not in code_ids:
            raise InvalidInput(f"{where}: unknown code {d.code!r}")
        seg = conn.execute(
            select(segments.c.id, segments.c.start_char, segments.c.end_char).where(segments.c.id == d.segment_id)
        ).first()
        if seg is None:
            raise InvalidInput(f"{where}: unknown segment {d.segment_id}")
        if d.start is not None or d.end is not None:
            if d.start is None or d.end is None or not (seg.start_char <= d.start < d.end <= seg.end_char):
                raise InvalidInput(f"{where}: span {d.start}-{d.end} is not inside segment {d.segment_id}")
        existing = conn.execute(
            select(codings.c.id, codings.c.status).where(
                codings.c.segment_id == d.segment_id,
                codings.c.code_id == code_ids[d.code],
                codings.c.decided_by == d.coder,
                codings.c.start_char.is_(d.start) if d.start is None else codings.c.start_char == d.start,
            )
        ).first()
        if existing is not None:
            if existing.status != "accepted":
                conn.execute(update(codings).where(codings.c.id == existing.id).values(status="accepted", updated_at=now()))
                _event(conn, existing.id, "accept", existing.status, "accepted", d.coder, d.note)
            _mark_reviewed(conn, [d.segment_id], d.coder)
            return existing.id
        coding_id = conn.execute(
            insert(codings).values(
                segment_id=d.segment_id, code_id=code_ids[d.code], source="human", coder=d.coder,
                confidence=d.confidence, status="accepted", provenance=d.provenance or {}, start_char=d.start,
                end_char=d.end, decided_by=d.coder, created_at=now(), updated_at=None,
            )
        ).inserted_primary_key[0]
        _event(conn, coding_id, "add", None, "accepted", d.coder, d.note)
        _mark_reviewed(conn, [d.segment_id], d.coder)
        return coding_id

    row = conn.execute(select(codings).where(codings.c.id == d.coding_id)).mappings().first()
    if row is None:
        raise InvalidInput(f"{where}: unknown coding {d.coding_id}")
    status = "accepted" if d.action == "accept" else "rejected"
    target_id = row["id"]
    if row["decided_by"] not in (None, d.coder):
        # someone else decided this suggestion: this coder gets their own copy
        own = conn.execute(
            select(codings.c.id, codings.c.status).where(
                codings.c.segment_id == row["segment_id"], codings.c.code_id == row["code_id"],
                codings.c.source == row["source"], codings.c.decided_by == d.coder,
            )
        ).first()
        if own is None:
            values = {k: v for k, v in row.items() if k != "id"}
            values.update(status="suggested", decided_by=d.coder, created_at=now(), updated_at=None)
            target_id = conn.execute(insert(codings).values(**values)).inserted_primary_key[0]
            before = "suggested"
        else:
            target_id, before = own.id, own.status
    else:
        before = row["status"]
    conn.execute(
        update(codings).where(codings.c.id == target_id).values(status=status, decided_by=d.coder, updated_at=now())
    )
    _event(conn, target_id, d.action, before, status, d.coder, d.note)
    _mark_reviewed(conn, [row["segment_id"]], d.coder)
    return target_id


def apply_decisions(store: Store, decisions: Sequence[Decision], *, reviewed: Iterable[int] = (), reviewer: str | None = None) -> list[int]:
    """Apply decisions all together or not at all; returns the coding ids touched.

    ``reviewed`` segments are recorded as coded by ``reviewer`` even when nothing was
    applied to them (a coder who read a segment and gave it no code has still coded it).
    """
    code_ids = store.code_row_ids()
    with store.write() as conn:
        touched = [_apply(conn, d, code_ids, i) for i, d in enumerate(decisions, start=1)]
        if reviewer:
            _mark_reviewed(conn, reviewed, reviewer)
    return touched


def undo_last(store: Store, coder: str) -> dict[str, Any] | None:
    """Undo the coder's latest decision that is not yet undone, as a new event.

    An undone accept or reject returns the coding to its previous status; an undone add
    leaves the row but marks it rejected. Returns what was undone, or None.
    """
    with store.write() as conn:
        events = conn.execute(
            select(coding_events).where(coding_events.c.coder == coder).order_by(coding_events.c.id.desc())
        ).mappings().all()
        undone = {int(e["note"].split()[-1]) for e in events if e["action"] == "undo" and e["note"]}
        for e in events:
            if e["action"] == "undo" or e["id"] in undone:
                continue
            restore = e["status_before"] or "rejected"
            conn.execute(update(codings).where(codings.c.id == e["coding_id"]).values(status=restore, updated_at=now()))
            _event(conn, e["coding_id"], "undo", e["status_after"], restore, coder, f"undoes event {e['id']}")
            return {"coding_id": e["coding_id"], "undid": e["action"], "status": restore}
    return None


def coding_records(
    store: Store, *, segment_ids: Iterable[int] | None = None, coding_ids: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """Codings with their code id, in segment, codebook and source order (what review needs:
    ``coding_id, segment_id, code, source, confidence, provenance, status, decided_by``)."""
    stmt = (
        select(codings.c.id.label("coding_id"), codings.c.segment_id, codes.c.code, codings.c.source,
               codings.c.confidence, codings.c.provenance, codings.c.status, codings.c.decided_by)
        .select_from(codings.join(codes, codings.c.code_id == codes.c.id))
        .order_by(codings.c.segment_id, codes.c.position, codings.c.source, codings.c.id)
    )
    if segment_ids is not None:
        stmt = stmt.where(codings.c.segment_id.in_(list(segment_ids)))
    if coding_ids is not None:
        stmt = stmt.where(codings.c.id.in_(list(coding_ids)))
    with store.read() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def reviewed_segments(store: Store, coder: str | None = None, *, segment_ids: Iterable[int] | None = None) -> set[int]:
    """Segments ``coder`` (without one: anybody) has recorded as coded, with or without a
    code; with ``segment_ids``, only among those."""
    stmt = select(segment_reviews.c.segment_id).distinct()
    if coder is not None:
        stmt = stmt.where(segment_reviews.c.coder == coder)
    if segment_ids is not None:
        stmt = stmt.where(segment_reviews.c.segment_id.in_(list(segment_ids)))
    with store.read() as conn:
        return {r[0] for r in conn.execute(stmt)}


def human_decisions(store: Store) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """What people decided, for training: (segment, coder) for every segment a coder recorded
    as coded, and (segment, coder, code) for every accepted coding a person decided."""
    with store.read() as conn:
        reviewed = [(r[0], r[1]) for r in conn.execute(
            select(segment_reviews.c.segment_id, segment_reviews.c.coder))]
        accepted = [(r[0], r[1], r[2]) for r in conn.execute(
            select(codings.c.segment_id, codings.c.decided_by, codes.c.code)
            .select_from(codings.join(codes, codings.c.code_id == codes.c.id))
            .where(codings.c.status == "accepted", codings.c.decided_by.is_not(None)))]
    return reviewed, accepted


def sources_in_use(store: Store) -> set[str]:
    """The coding sources (``rule``, ``classifier``, ``human``) with any stored coding."""
    with store.read() as conn:
        return {r[0] for r in conn.execute(select(codings.c.source).distinct())}


def coding_rows(
    store: Store,
    *,
    status: str | None = None,
    source: str | None = None,
    coder: str | None = None,
    all_roles: bool = False,
    document_id: int | None = None,
) -> list[dict[str, Any]]:
    """Codings with their segment, document and code, for exports and analysis; with
    ``document_id``, only that document's."""
    stmt = (
        select(
            codings.c.id.label("coding_id"),
            codings.c.segment_id,
            documents.c.name.label("document"),
            documents.c.site,
            documents.c.wave,
            documents.c.participant,
            segments.c.role,
            speakers.c.tag.label("speaker"),
            codes.c.code,
            codes.c.path.label("code_path"),
            codings.c.source,
            codings.c.coder,
            codings.c.decided_by,
            codings.c.confidence,
            codings.c.status,
            codings.c.provenance,
            codings.c.start_char,
            codings.c.end_char,
            segments.c.text,
            codings.c.created_at,
            codings.c.updated_at,
        )
        .select_from(
            codings.join(segments, codings.c.segment_id == segments.c.id)
            .join(documents, segments.c.document_id == documents.c.id)
            .join(codes, codings.c.code_id == codes.c.id)
            .outerjoin(speakers, segments.c.speaker_id == speakers.c.id)
        )
        .order_by(documents.c.name, segments.c.seq, codes.c.position, codings.c.id)
    )
    if status:
        stmt = stmt.where(codings.c.status == status)
    if source:
        stmt = stmt.where(codings.c.source == source)
    if coder:
        stmt = stmt.where((codings.c.coder == coder) | (codings.c.decided_by == coder))
    if not all_roles:
        stmt = stmt.where(segments.c.role != "interviewer")
    if document_id is not None:
        stmt = stmt.where(segments.c.document_id == document_id)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def codings_frame(store: Store, **filters: Any) -> "pd.DataFrame":
    """``coding_rows`` as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(coding_rows(store, **filters))


def coder_codings(store: Store, coders: Sequence[str]) -> tuple["pd.DataFrame", dict[str, set[int]]]:
    """Each coder's positive codings and coverage, as agreement functions take them.

    A machine (``rules``, ``classifier``) applied every code it suggested, whatever a
    person later decided, and covered every segment eligible for coding. A person applied
    the codes they accepted or added, and covered the segments they decided on or marked
    as reviewed.
    """
    import pandas as pd

    machine_source = {v: k for k, v in MACHINE_CODERS.items()}
    frames = []
    coverage: dict[str, set[int]] = {}
    eligible = {r["segment_id"] for r in store.segment_rows()}
    with store.read() as conn:
        for coder in coders:
            if coder in machine_source:
                stmt = select(codings.c.segment_id, codes.c.code).where(codings.c.source == machine_source[coder])
                cover = set(eligible)
            else:
                stmt = select(codings.c.segment_id, codes.c.code).where(
                    codings.c.decided_by == coder, codings.c.status == "accepted"
                )
                cover = {
                    r.segment_id
                    for r in conn.execute(select(segment_reviews.c.segment_id).where(segment_reviews.c.coder == coder))
                }
                if not cover:
                    raise InvalidInput(f"coder {coder!r} has coded nothing in this project")
            stmt = stmt.select_from(codings.join(codes, codings.c.code_id == codes.c.id))
            rows = [(r.segment_id, coder, r.code) for r in conn.execute(stmt) if r.segment_id in eligible]
            frames.append(pd.DataFrame(rows, columns=["unit", "coder", "code"]))
            coverage[coder] = cover & eligible
    return pd.concat(frames, ignore_index=True).drop_duplicates(), coverage


def coders(store: Store) -> list[str]:
    """People who have decided anything in this project."""
    with store.read() as conn:
        names = {r[0] for r in conn.execute(select(segment_reviews.c.coder).distinct())}
        names |= {r[0] for r in conn.execute(select(codings.c.decided_by).where(codings.c.decided_by.is_not(None)).distinct())}
    return sorted(names)
