"""Human review of machine suggestions: which segments a coder reviews and what they see
(shared by the Excel review sheet and the terminal), and reading a filled-in sheet back.

Machines only suggest; a person decides. Reading a sheet checks every row first; one bad
row is an error naming the file and the row, and then nothing at all is applied. The
decisions and the segments marked as coded go in one ``apply_decisions`` call.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from qualcode.coding.base import previous_turns, turn_text
from qualcode.coding.evidence import evidence_words
from qualcode.errors import InvalidInput
from qualcode.store.codings import MACHINE_CODERS, Decision, apply_decisions, coding_records, reviewed_segments
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ("suggested", "unreviewed", "all")
DECISIONS = ("accept", "reject")
DONE_VALUES = ("yes", "y", "x", "true", "1")
MIN_SLOTS = 3
ADD_SLOTS = 3
CONTEXT_CHARS = 400
REVIEW_SHEET, INSTRUCTIONS_SHEET, CODES_SHEET, IDS_SHEET = "review", "instructions", "codes", "coding_ids"
BASE_COLUMNS = ("segment_id", "document", "site", "role", "context", "text", "suggestions")
IDS_COLUMNS = ("segment_id", "slot", "coding_id", "code")


@dataclass(slots=True)
class SuggestionView:
    """A machine suggestion as one coder sees it: the coding id to decide on and its status
    for that coder (``suggested`` while they have not decided it)."""

    coding_id: int
    segment_id: int
    code: str
    source: str
    confidence: float | None
    provenance: dict[str, Any]
    status: str

    @property
    def open(self) -> bool:
        return self.status == "suggested"


@dataclass(slots=True)
class ReviewItem:
    """One segment to review, with the turn before it and its suggestions."""

    segment_id: int
    document: str
    site: str | None
    role: str
    context: str
    text: str
    suggestions: list[SuggestionView]


@dataclass(slots=True)
class ReviewSummary:
    """What a review sheet holds: decisions to apply, and what was already so."""

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    added: int = 0
    unchanged: int = 0
    reviewed: int = 0
    notes_unsaved: int = 0  # rows with a note but no decision and no `done` to keep it with


def describe_suggestion(s: SuggestionView, *, rule_id: bool = False) -> str:
    """``co_location (rule 0.80: 'three days a week')`` or ``job_start (classifier 0.71)``."""
    prov = s.provenance if isinstance(s.provenance, dict) else {}
    head = s.source
    if rule_id and prov.get("rule"):
        head += f" {prov['rule']}"
    if s.confidence is not None:
        head += f" {s.confidence:.2f}"
    extras = ["hedged"] if prov.get("hedged") else []
    if prov.get("negated_from"):
        extras.append(f"negated {prov['negated_from']}")
    if extras:
        head += ", " + ", ".join(extras)
    if prov.get("matched"):
        head += ": '" + " ".join(str(prov["matched"]).split()) + "'"
    elif evidence_words(prov):
        head += ": " + ", ".join(f"'{w}'" for w in evidence_words(prov))
    return f"{s.code} ({head})"


def _status_for(rec: dict[str, Any], own: dict[tuple, dict[str, Any]], coder: str | None) -> str:
    """The status of a machine suggestion for ``coder`` (for nobody in particular if None)."""
    if coder is None or rec["decided_by"] == coder:
        return rec["status"]
    mine = own.get((rec["segment_id"], rec["source"], rec["code"]))
    if mine is not None:
        return mine["status"]
    return rec["status"] if rec["decided_by"] is None else "suggested"


def _own_index(records: Sequence[dict[str, Any]], coder: str | None) -> dict[tuple, dict[str, Any]]:
    return {(r["segment_id"], r["source"], r["code"]): r for r in records
            if coder is not None and r["decided_by"] == coder and r["source"] in MACHINE_CODERS}


def _views(records: Sequence[dict[str, Any]], coder: str | None) -> dict[int, list[SuggestionView]]:
    own = _own_index(records, coder)
    first: dict[tuple, dict[str, Any]] = {}
    for r in records:
        if r["source"] in MACHINE_CODERS:
            first.setdefault((r["segment_id"], r["source"], r["code"]), r)
    out: dict[int, list[SuggestionView]] = {}
    for key, base in first.items():
        chosen = own.get(key, base)
        out.setdefault(key[0], []).append(SuggestionView(
            coding_id=chosen["coding_id"], segment_id=key[0], code=key[2], source=key[1],
            confidence=base["confidence"], provenance=base["provenance"] or {},
            status=_status_for(base, own, coder)))
    return out


def segment_suggestions(
    store: Store, coder: str | None = None, *, segment_ids: Iterable[int] | None = None
) -> dict[int, list[SuggestionView]]:
    """Machine suggestions per segment, one per (source, code), as ``coder`` sees them.

    The coding id is the coder's own copy when they have one, else the original row (a
    decision on it gives the coder their own copy if someone else decided it first).
    """
    return _views(coding_records(store, segment_ids=segment_ids), coder)


def add_code(suggestions: Sequence[SuggestionView], coder: str, segment_id: int, code: str,
             note: str | None = None) -> list[Decision]:
    """The decisions that give a segment ``code``: accepting the machine's suggestions of it
    when there are any (so the rule or classifier gets the credit), else a human add."""
    same = [s for s in suggestions if s.code == code]
    if not same:
        return [Decision("add", coder, segment_id=segment_id, code=code, note=note)]
    return [Decision("accept", coder, coding_id=s.coding_id, note=note) for s in same if s.status != "accepted"]


def coder_codes(records: Iterable[dict[str, Any]], coder: str) -> dict[int, set[str]]:
    """Codes the coder has accepted or added, per segment."""
    out: dict[int, set[str]] = {}
    for r in records:
        if r["decided_by"] == coder and r["status"] == "accepted":
            out.setdefault(r["segment_id"], set()).add(r["code"])
    return out


def document_ids(store: Store, names: Sequence[str] | None) -> list[int] | None:
    """Document ids for names (None = every document); an unknown name is an error."""
    if not names:
        return None
    known = {d["name"]: d["id"] for d in store.documents()}
    missing = [n for n in names if n not in known]
    if missing:
        raise InvalidInput(f"unknown document {missing[0]!r} (see `qualcode export segments`)")
    return [known[n] for n in names]


def review_items(
    store: Store, *, status: str = "suggested", documents: Sequence[str] | None = None, coder: str | None = None
) -> list[ReviewItem]:
    """Segments eligible for coding, in document and turn order, with context and suggestions.

    ``suggested``: segments with a suggestion still open (for ``coder``, when given);
    ``unreviewed``: segments ``coder`` (or, without one, anybody) has not coded; ``all``.
    """
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r} (choose from {', '.join(STATUSES)})")
    rows = store.segment_rows(all_roles=True, document_ids=document_ids(store, documents))
    suggestions = segment_suggestions(store, coder)
    reviewed = reviewed_segments(store, coder) if status == "unreviewed" else set()
    previous = previous_turns(rows)
    items = []
    for r in rows:
        if r["role"] == "interviewer":
            continue
        sugg = suggestions.get(r["segment_id"], [])
        if status == "suggested" and not any(s.open for s in sugg):
            continue
        if status == "unreviewed" and r["segment_id"] in reviewed:
            continue
        turn = previous[r["segment_id"]]
        context = ""
        if turn:
            text = turn_text(turn)
            if len(text) > CONTEXT_CHARS:
                text = "…" + text[-CONTEXT_CHARS:]
            context = f"{turn[0]['speaker'] or turn[0]['role']}: {text}"
        items.append(ReviewItem(r["segment_id"], r["document"], r["site"], r["role"], context, r["text"], sugg))
    return items


def review_columns(slots: int) -> list[str]:
    """The review sheet's visible columns for ``slots`` suggestion slots."""
    cols = list(BASE_COLUMNS)
    for i in range(1, slots + 1):
        cols += [f"suggested_{i}", f"decision_{i}"]
    return cols + [f"add_{i}" for i in range(1, ADD_SLOTS + 1)] + ["done", "note"]


def review_frame(
    store: Store, status: str = "suggested", documents: Sequence[str] | None = None, *, coder: str | None = None
) -> "pd.DataFrame":
    """One row per segment to review: the sheet's columns plus hidden ``coding_id_i`` columns.

    With ``coder``, decision columns show what that coder already decided.
    """
    import pandas as pd

    items = review_items(store, status=status, documents=documents, coder=coder)
    slots = max([MIN_SLOTS, *(len(it.suggestions) for it in items)])
    records = []
    for it in items:
        row: dict[str, Any] = {
            "segment_id": it.segment_id, "document": it.document, "site": it.site, "role": it.role,
            "context": it.context, "text": it.text,
            "suggestions": "; ".join(describe_suggestion(s) for s in it.suggestions),
        }
        for i, s in enumerate(it.suggestions, start=1):
            row[f"suggested_{i}"] = s.code
            row[f"coding_id_{i}"] = s.coding_id
            if coder is not None and not s.open:
                row[f"decision_{i}"] = "accept" if s.status == "accepted" else "reject"
        records.append(row)
    columns = review_columns(slots) + [f"coding_id_{i}" for i in range(1, slots + 1)]
    frame = pd.DataFrame(records, columns=columns)
    return frame.astype(object).where(frame.notna(), None)


# -- reading a filled-in sheet -------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _load(path: Path) -> tuple[list[tuple[int, list[Any]]], list[tuple[int, list[Any]]] | None]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, data_only=True)
    except OSError as exc:
        raise InvalidInput(f"cannot read file: {exc.strerror or exc}", file=path) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise InvalidInput("not an .xlsx workbook", file=path) from exc
    if REVIEW_SHEET not in wb.sheetnames:
        raise InvalidInput(f"no sheet {REVIEW_SHEET!r}: not a sheet from `qualcode export review`", file=path)
    main = [(n, list(v)) for n, v in enumerate(wb[REVIEW_SHEET].iter_rows(values_only=True), start=1)]
    ids = None
    if IDS_SHEET in wb.sheetnames:
        ids = [(n, list(v)) for n, v in enumerate(wb[IDS_SHEET].iter_rows(values_only=True), start=1)]
    return main, ids


def _mapping(ids: list[tuple[int, list[Any]]] | None, path: Path) -> dict[tuple[int, int], tuple[int, str]]:
    """(segment id, slot) -> (coding id, code) from the hidden coding_ids sheet."""
    out: dict[tuple[int, int], tuple[int, str]] = {}
    for n, cells in (ids or [])[1:]:
        values = [_cell(c) for c in cells[: len(IDS_COLUMNS)]]
        if not any(values):
            continue
        try:
            seg, slot, cid = (int(v) for v in values[:3])
        except ValueError:
            raise InvalidInput(f"sheet {IDS_SHEET}: not a segment, slot and coding id: {values[:3]}",
                               file=path, row=n) from None
        out[(seg, slot)] = (cid, values[3] if len(values) > 3 else "")
    return out


def read_review_sheet(
    path: str | Path, store: Store, *, coder: str
) -> tuple[list[Decision], set[int], ReviewSummary]:
    """Check every row of a review sheet; return the decisions, the segments the coder has
    coded, and a summary. Nothing is written; the first bad row raises InvalidInput.

    A decision the coder already made (e.g. prefilled by ``export review --coder``) is
    counted as unchanged, not applied twice.
    """
    path = Path(path)
    if not coder or not coder.strip():
        raise InvalidInput("a coder name is needed: decisions are never anonymous", file=path)
    main, ids = _load(path)
    if not main:
        raise InvalidInput("the review sheet is empty", file=path, row=1)
    header = {_cell(h).lower(): i for i, h in enumerate(main[0][1]) if _cell(h)}
    if "segment_id" not in header:
        raise InvalidInput("no segment_id column: not a sheet from `qualcode export review`", file=path, row=1)
    slots = sorted(int(m.group(1)) for h in header if (m := re.fullmatch(r"decision_(\d+)", h)))
    adds = sorted(h for h in header if re.fullmatch(r"add_\d+", h))
    mapping = _mapping(ids, path)
    known_codes = set(store.code_row_ids())
    eligible = {r["segment_id"] for r in store.segment_rows()}
    records = coding_records(store)
    by_id = {r["coding_id"]: r for r in records}
    own = _own_index(records, coder)
    views = _views(records, coder)
    has = coder_codes(records, coder)

    decisions: list[Decision] = []
    reviewed: set[int] = set()
    summary = ReviewSummary()
    seen: dict[int, int] = {}
    for n, cells in main[1:]:
        def get(name: str) -> str:
            i = header.get(name)
            return _cell(cells[i]) if i is not None and i < len(cells) else ""

        if not any(_cell(c) for c in cells):
            continue
        summary.rows += 1
        raw = get("segment_id")
        try:
            seg = int(raw)
        except ValueError:
            raise InvalidInput(f"segment_id {raw!r} is not a segment id", file=path, row=n) from None
        if seg not in eligible:
            raise InvalidInput(f"unknown segment id {seg} (or an interviewer turn)", file=path, row=n)
        if seg in seen:
            raise InvalidInput(f"segment {seg} is also on row {seen[seg]}", file=path, row=n)
        seen[seg] = n
        note = get("note") or None
        accepted_here, rejected_here, acted, before = set(), set(), False, len(decisions)
        for slot in slots:
            value = get(f"decision_{slot}").lower()
            if not value:
                continue
            if value not in DECISIONS:
                raise InvalidInput(f"decision_{slot} is {value!r}: use accept or reject", file=path, row=n)
            if (seg, slot) not in mapping:
                why = "has no suggestion to decide" if ids is not None else (
                    f"cannot be read: the hidden sheet {IDS_SHEET!r} is missing (export the sheet again)")
                raise InvalidInput(f"decision_{slot} {why}", file=path, row=n)
            cid, _ = mapping[(seg, slot)]
            rec = by_id.get(cid)
            if rec is None or rec["source"] not in MACHINE_CODERS:
                raise InvalidInput(f"unknown coding id {cid} for suggested_{slot}", file=path, row=n)
            if rec["segment_id"] != seg:
                raise InvalidInput(f"coding {cid} (suggested_{slot}) belongs to segment {rec['segment_id']}, "
                                   f"not {seg}", file=path, row=n)
            if get(f"suggested_{slot}") != rec["code"]:
                raise InvalidInput(f"suggested_{slot} reads {get(f'suggested_{slot}')!r} but its coding {cid} "
                                   f"is {rec['code']!r}: don't edit the suggested columns", file=path, row=n)
            acted = True
            (accepted_here if value == "accept" else rejected_here).add(rec["code"])
            if _status_for(rec, own, coder) == ("accepted" if value == "accept" else "rejected"):
                summary.unchanged += 1
                continue
            decisions.append(Decision(value, coder, coding_id=cid, note=note))
            if value == "accept":
                summary.accepted += 1
            else:
                summary.rejected += 1
        for name in adds:
            code = get(name)
            if not code:
                continue
            if code not in known_codes:
                raise InvalidInput(f"{name}: unknown code {code!r}", file=path, row=n)
            if code in rejected_here:
                raise InvalidInput(f"{name}: {code} is both added and rejected on this row", file=path, row=n)
            acted = True
            if code in accepted_here or code in has.get(seg, set()):
                summary.unchanged += 1
                continue
            accepted_here.add(code)
            for d in add_code(views.get(seg, []), coder, seg, code, note):
                decisions.append(d)
                if d.action == "add":
                    summary.added += 1
                else:
                    summary.accepted += 1
        done = get("done").lower()
        if done and done not in DONE_VALUES:
            raise InvalidInput(f"done is {done!r}: use yes or leave it blank", file=path, row=n)
        if acted or done:
            reviewed.add(seg)
        if note and len(decisions) == before:
            summary.notes_unsaved += 1
    summary.reviewed = len(reviewed)
    return decisions, reviewed, summary


def import_review_sheet(store: Store, path: str | Path, *, coder: str) -> ReviewSummary:
    """Apply a filled-in review sheet as ``coder``'s decisions, all of it or nothing."""
    decisions, reviewed, summary = read_review_sheet(path, store, coder=coder)
    apply_decisions(store, decisions, reviewed=reviewed, reviewer=coder)
    return summary
