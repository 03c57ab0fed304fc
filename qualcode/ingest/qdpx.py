"""REFI-QDA project import (.qdpx) from NVivo, ATLAS.ti, MAXQDA, QualCoder and qualcode.

Text sources become documents; the CodeBook is merged into the project codebook (codes
already there, by GUID or id, stay as they are); each coded PlainTextSelection becomes an
accepted human coding by its creating user. Offsets never move: the text is stored as it
comes and segments are spans inside it: the selections a ``Role: ...`` case references
(qualcode's own segments), else the ``Label: text`` turns parse_text finds, else the
non-blank lines. A coding goes on the segment holding its first character (or the next
one it overlaps) and keeps its exact span. Speaker labels stay as written; the report
names any that may be a person's name. A document already in the project with the same
name and text (line endings aside) is reused, so codings made elsewhere on qualcode's
export come back onto its segments. PDF, picture, audio and video sources are skipped.

Everything is read and checked before anything is written: any error (malformed XML, a
selection outside its text, an unknown code) raises InvalidInput naming the file and line
and imports nothing. The merged codebook is saved first, then documents, segments and
codings in one transaction (so only a database failure could leave the codebook alone).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from lxml import etree

from qualcode.codebook import Codebook, validate
from qualcode.codebook_io import code_guid, codebook_from_project
from qualcode.errors import InvalidCodebook, InvalidInput, InvalidTranscript
from qualcode.ingest.roles import ROLE_DISPLAY, RoleMap
from qualcode.ingest.segment import speaker_tags
from qualcode.ingest.text import parse_text
from qualcode.store.imported import (
    ImportedCoding,
    ImportedDocument,
    ImportedSegment,
    ImportedSpeaker,
    write_imported,
)
from qualcode.store.repo import Store

DOCUMENT_VARIABLES = ("site", "wave", "date", "participant")
SITE_CASE_PREFIX = "Site: "
ROLE_CASE_PREFIX = "Role: "
STATUS_MARK = "qualcode coding:"  # opens a selection Description written by qualcode's export
MACHINE_NAMES = ("rules", "classifier")
_STATUS_RE = re.compile(r"\bstatus=(\w+)")
_ROLE_NAMES = {**{r: r for r in ROLE_DISPLAY}, **{v.casefold(): k for k, v in ROLE_DISPLAY.items()}}
_NON_TEXT = {"PDFSource": "PDF", "PictureSource": "picture", "AudioSource": "audio", "VideoSource": "video"}


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    file: str
    documents_added: list[str] = field(default_factory=list)
    documents_matched: list[str] = field(default_factory=list)  # already in the project, same text
    codes_added: list[str] = field(default_factory=list)
    codebook_version: int | None = None
    codings: int = 0
    codings_already_there: int = 0
    coders: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Seg:
    start: int
    end: int
    role: str
    label: str | None = None
    turn: int = 0
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(slots=True)
class _Coding:
    start: int
    end: int
    code: str  # the CodeRef GUID, then the project code id
    coder: str
    at: str
    line: int | None


@dataclass(slots=True)
class _Doc:
    name: str
    text: str
    line: int | None
    values: dict[str, str]
    codings: list[_Coding]
    segs: list[_Seg] = field(default_factory=list)
    existing_id: int | None = None
    unit: str = "paragraph"


def _local(el: Any) -> str:
    return etree.QName(el.tag).localname if isinstance(el.tag, str) else ""


def _kids(el: etree._Element, name: str) -> Iterator[etree._Element]:
    return (c for c in el if _local(c) == name)


def _guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


class _Reader:
    """The archive, its .qde and everything parsed from it, before any write."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, coder_default: str, roles: RoleMap) -> None:
        self.path, self.zf, self.coder_default, self.roles = path, zf, coder_default, roles
        self.default_roles = RoleMap.load(None)
        self.notes: list[str] = []
        self.skipped: Counter[str] = Counter()
        self.members = {n.lower(): n for n in self.zf.namelist() if not n.endswith("/")}
        qde = sorted((n for n in self.members.values() if n.lower().endswith(".qde")),
                     key=lambda n: (n.count("/"), n.lower() != "project.qde", n))
        if not qde:
            raise InvalidInput("the .qdpx archive holds no .qde project file", file=path)
        self.where = f"{path}!{qde[0]}"
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        try:
            self.root = etree.fromstring(self.zf.read(qde[0]), parser)
        except etree.XMLSyntaxError as exc:
            line = exc.position[0] if exc.position else exc.lineno
            raise InvalidInput(f"malformed XML: {exc.msg}", file=self.where, line=line) from exc
        if _local(self.root) != "Project":
            raise InvalidInput(f"expected a <Project> root element, found <{_local(self.root)}>",
                               file=self.where, line=self.root.sourceline)
        self.atlas = "atlas" in (self.root.get("origin") or "").lower()

    def fail(self, message: str, where: etree._Element | int | None) -> InvalidInput:
        line = where if isinstance(where, int) or where is None else where.sourceline
        return InvalidInput(message, file=self.where, line=line)

    def section(self, name: str) -> list[etree._Element]:
        return [c for s in _kids(self.root, name) for c in s if isinstance(c.tag, str)]

    # -- users, variables, cases -------------------------------------------------------
    def users(self) -> dict[str, str]:
        """User GUID -> name (a user called like a machine coder gets " (imported)")."""
        names = {_guid(u.get("guid")): (u.get("name") or u.get("id") or "").strip() or self.coder_default
                 for u in self.section("Users")}
        return {g: f"{n} (imported)" if n in MACHINE_NAMES else n for g, n in names.items()}

    def values(self, el: etree._Element, variables: dict[str, str]) -> dict[str, str]:
        """The element's VariableValues by variable name."""
        out = {}
        for vv in _kids(el, "VariableValue"):
            ref, vals = next(_kids(vv, "VariableRef"), None), [c for c in vv if _local(c).endswith("Value")]
            name = variables.get(_guid(ref.get("targetGUID")) if ref is not None else "")
            if name is None or not vals:
                self.notes.append(f"line {vv.sourceline}: a variable value with no known variable, skipped")
            else:
                out[name] = (vals[0].text or "").strip()
        return out

    def cases(self, variables: dict[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]], set[str]]:
        """Roles of segment selections, variable values by source GUID, and case GUIDs."""
        sel_roles: dict[str, str] = {}
        by_source: dict[str, dict[str, str]] = {}
        guids: set[str] = set()
        for case in self.section("Cases"):
            guids.add(_guid(case.get("guid")))
            name = (case.get("name") or "").strip()
            values = self.values(case, variables)
            role = _ROLE_NAMES.get(name.removeprefix(ROLE_CASE_PREFIX).strip().casefold())
            if name.startswith(ROLE_CASE_PREFIX) and role:
                sel_roles.update({_guid(r.get("targetGUID")): role for r in _kids(case, "SelectionRef")})
            if name.startswith(SITE_CASE_PREFIX):
                values.setdefault("site", name[len(SITE_CASE_PREFIX):].strip())
            for ref in _kids(case, "SourceRef"):  # to the sources the case holds; the source's own values win
                for k, v in values.items():
                    by_source.setdefault(_guid(ref.get("targetGUID")), {}).setdefault(k, v)
        return sel_roles, by_source, guids

    # -- sources -------------------------------------------------------------------------
    def read_member(self, ref: str, el: etree._Element) -> str:
        """The text a plainTextPath names: in the archive, else beside it on disk."""
        rel = re.sub(r"^(internal|relative|absolute|file):/*", "", ref.strip(), flags=re.I).replace("\\", "/")
        for cand in (rel, f"sources/{rel}", f"{self.root.get('basePath', '').strip('/')}/{rel}"):
            member = self.members.get(cand.lower().lstrip("/"))
            if member:
                return self.decode(self.zf.read(member), el)
        leaf = PurePosixPath(rel).name.lower()
        found = [m for k, m in self.members.items() if PurePosixPath(k).name == leaf]
        if len(found) == 1:
            return self.decode(self.zf.read(found[0]), el)
        # a relative path may name a file beside the .qdpx (under a relative basePath); nothing
        # outside that folder is read, so a project file cannot pull in other files on this disk
        home = self.path.parent.resolve()
        base = home / (self.root.get("basePath") or ".").replace("\\", "/").lstrip("/")
        for disk in (base / rel, home / rel) if not ref.lower().startswith(("internal:", "absolute:")) else ():
            disk = disk.resolve()
            if disk.is_relative_to(home) and disk.is_file():
                self.notes.append(f"read {ref} from {disk}, outside the archive")
                return self.decode(disk.read_bytes(), el)
        raise self.fail(f"the source file {ref!r} is not in the archive (nor beside it)", el)

    def decode(self, data: bytes, el: etree._Element) -> str:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise self.fail(f"the source text is not UTF-8 (byte {exc.start})", el) from exc
        # ATLAS.ti counts a Windows line end as one character (QualCoder's import does the same)
        return text.replace("\r\n", "\n") if self.atlas else text

    def sources(self, variables: dict[str, str], users: dict[str, str],
                case_values: dict[str, dict[str, str]]) -> list[tuple[_Doc, dict[str, tuple[int, int]]]]:
        """(document, its uncoded selections by GUID) for every text source."""
        out = []
        for src in self.section("Sources"):
            kind = _local(src)
            name = (src.get("name") or "").strip() or _guid(src.get("guid"))
            if kind != "TextSource":
                if kind in _NON_TEXT:
                    self.notes.append(f"skipped the {_NON_TEXT[kind]} source {name!r}: only text is imported")
                continue
            content = next(_kids(src, "PlainTextContent"), None)
            if content is not None:
                text = content.text or ""
            elif src.get("plainTextPath"):
                text = self.read_member(src.get("plainTextPath", ""), src)
            else:
                self.notes.append(f"skipped the text source {name!r}: it has no plain text")
                continue
            values = {**case_values.get(_guid(src.get("guid")), {}), **self.values(src, variables)}
            doc = _Doc(name=name, text=text, line=src.sourceline, values=values, codings=[])
            bare: dict[str, tuple[int, int]] = {}
            self.skipped["codings of whole sources (not of a selection)"] += len(list(_kids(src, "Coding")))
            for sel in _kids(src, "PlainTextSelection"):
                self.selection(doc, sel, users, bare)
            out.append((doc, bare))
        return out

    def selection(self, doc: _Doc, sel: etree._Element, users: dict[str, str],
                  bare: dict[str, tuple[int, int]]) -> None:
        try:
            start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
        except ValueError:
            raise self.fail("a PlainTextSelection needs whole-number startPosition and endPosition", sel) from None
        if not 0 <= start <= end <= len(doc.text):
            raise self.fail(f"selection {start}-{end} is outside the text of {doc.name!r} "
                            f"({len(doc.text)} characters)", sel)
        found = list(_kids(sel, "Coding"))
        if not found:
            bare[_guid(sel.get("guid"))] = (start, end)
            return
        desc = next(_kids(sel, "Description"), None)
        note = (desc.text or "") if desc is not None else ""
        status = _STATUS_RE.search(note) if note.startswith(STATUS_MARK) else None
        if status and status.group(1) != "accepted":
            self.skipped[f"codings with status {status.group(1)} (qualcode's own marking)"] += len(found)
            return
        if start == end:
            self.skipped["codings of empty selections"] += len(found)
            return
        for c in found:
            ref = next(_kids(c, "CodeRef"), None)
            if ref is None:
                raise self.fail("a <Coding> has no <CodeRef>", c)
            user = _guid(c.get("creatingUser") or sel.get("creatingUser") or sel.get("modifyingUser"))
            at = c.get("creationDateTime") or sel.get("creationDateTime") or ""
            doc.codings.append(_Coding(start, end, _guid(ref.get("targetGUID")), users.get(user, self.coder_default),
                                       at, c.sourceline))


# -- segments -----------------------------------------------------------------------------
def _turn_segments(text: str, name: str, roles: RoleMap) -> list[_Seg] | None:
    """Speaker turns as spans of the text as it is, or None when it has no ``Label:`` turns."""
    try:
        turns = parse_text(text, file=name).turns
    except InvalidTranscript:
        return None
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    # lines before the first turn (a title, notes, a header block) are paragraphs of their own
    out = _paragraph_segments(text[:starts[turns[0].line - 1]])
    for i, turn in enumerate(turns, start=len(out)):
        at, first, last = turn.line - 1, None, 0
        for piece in turn.text.split("\n"):  # each piece is the tail of one line
            while at < len(lines) and not lines[at].rstrip().endswith(piece):
                at += 1
            if at >= len(lines):
                return None
            last = starts[at] + len(lines[at].rstrip())
            first = last - len(piece) if first is None else first
            at += 1
        label = turn.label or "(no label)"
        out.append(_Seg(first or 0, last, roles.resolve(label, document=name), label, i, turn.start_ms, turn.end_ms))
    return out


def _is_role_tag(label: str) -> bool:
    """A tag like qualcode writes ("IPS client 2", "Unknown role"), not a name."""
    return re.sub(r"\s+\d+$", "", label.strip()).casefold() in _ROLE_NAMES


def _paragraph_segments(text: str) -> list[_Seg]:
    return [_Seg(m.start(), m.end(), "unknown", None, i) for i, m in enumerate(re.finditer(r"\S(?:[^\n]*\S)?", text))]


def _build_segments(reader: _Reader, doc: _Doc, bare: dict[str, tuple[int, int]], sel_roles: dict[str, str]) -> bool:
    """Cut a new document into segments; False (with a note) when its text is empty."""
    turns = _turn_segments(doc.text, doc.name, reader.roles)
    marked = sorted((span[0], span[1], sel_roles[g]) for g, span in bare.items() if g in sel_roles)
    if marked and all(a[0] < a[1] <= b[0] for a, b in zip(marked, [*marked[1:], (len(doc.text) + 1,)])):
        tstarts = [t.start for t in turns or []]
        for a, b, role in marked:
            t = turns[bisect_right(tstarts, a) - 1] if turns and bisect_right(tstarts, a) else None
            doc.segs.append(_Seg(a, b, role, t.label if t else None, t.turn if t else len(doc.segs),
                                 t.start_ms if t else None, t.end_ms if t else None))
        doc.unit = "turn"
    elif turns:
        doc.segs, doc.unit = turns, "turn"
    else:
        doc.segs = _paragraph_segments(doc.text)
    if not doc.segs:
        reader.notes.append(f"skipped the text source {doc.name!r}: its text is empty")
        return False
    found = {s.label: s.role for s in reversed(doc.segs) if s.label}
    odd = [f"{x}={r}" for x, r in sorted(found.items())
           if not _is_role_tag(x) and reader.default_roles.resolve(x) == "unknown"]
    reader.notes += [f"{doc.name}: the text keeps these speaker labels as written (they may be names; "
                     f"roles: {', '.join(odd)})"] * bool(odd)
    return True


def _match_existing(reader: _Reader, store: Store, doc: _Doc, existing: dict[str, Any]) -> None:
    """Reuse a project document of the same name and text (a CRLF copy maps its offsets to LF)."""
    if existing["text"] != doc.text and existing["text"] == doc.text.replace("\r\n", "\n"):
        crs = [m.start() for m in re.finditer("\r\n", doc.text)]
        for c in doc.codings:
            c.start, c.end = c.start - bisect_left(crs, c.start), c.end - bisect_left(crs, c.end)
    elif existing["text"] != doc.text:
        raise reader.fail(f"the project already has a document named {doc.name!r} with a different text", doc.line)
    if doc.codings and not store.segment_rows(all_roles=True, document_ids=[existing["id"]]):
        raise reader.fail(f"the project's document {doc.name!r} has no segments to code", doc.line)
    doc.existing_id = existing["id"]


# -- codebook -----------------------------------------------------------------------------
def _codebook(reader: _Reader, store: Store, case_guids: set[str]) -> tuple[Codebook | None, dict[str, str], list[str]]:
    """The merged codebook, imported code GUID -> project code id, and the codes added."""
    project = store.codebook() if store.codebook_version() is not None else None
    if next(_kids(reader.root, "CodeBook"), None) is None:
        return project, {}, []
    try:
        imported, guid_ids = codebook_from_project(reader.root, reader.where, reader.path.stem)
    except InvalidCodebook as exc:
        raise InvalidInput(exc.message, file=exc.file, line=exc.line, code=exc.code) from exc
    index = imported.by_id
    dropped = {cid for g, cid in guid_ids.items() if _guid(g) in case_guids}  # NVivo lists its cases as codes too
    reader.skipped["codes that are cases"] += len(dropped)
    base = project.codes if project else []
    have, by_guid = {c.id for c in base}, {code_guid(c.id): c.id for c in base}
    to_project = {cid: by_guid.get(_guid(g), cid) for g, cid in guid_ids.items()}

    def parent_of(cid: str | None) -> str | None:  # the nearest kept ancestor, as a project code id
        while cid in dropped:
            cid = index[cid].parent
        return to_project.get(cid, cid) if cid else None

    added = [c for c in imported.codes if c.id not in dropped and to_project.get(c.id, c.id) not in have]
    meta = project or imported
    merged = Codebook(name=meta.name, version=meta.version, description=meta.description, source=reader.where,
                      codes=[*base, *(replace(c, parent=parent_of(c.parent), position=len(base) + i)
                                      for i, c in enumerate(added))])
    problems = validate(merged, compile_patterns=any(c.rules for c in added)) if merged.codes else []
    if problems:
        raise InvalidInput(f"the merged codebook is not valid: {problems[0].message}", file=reader.where,
                           code=problems[0].code)
    ids = {_guid(g): to_project[cid] for g, cid in guid_ids.items() if cid not in dropped}
    return (merged if merged.codes else None), ids, [c.id for c in added]


# -- the import -----------------------------------------------------------------------------
def import_qdpx(store: Store, path: str | Path, *, coder_default: str = "imported",
                roles: str | Path | None = None) -> ImportReport:
    """Import a REFI-QDA project: documents, codebook (merged) and codings; all or nothing.

    ``coder_default`` names the coder of codings whose creating user is unknown; ``roles``
    is an optional roles.yaml for speaker labels in the texts.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidInput("no such file", file=p)
    role_map = RoleMap.load(Path(roles) if roles else None)
    report = ImportReport(file=str(p))
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"not a readable .qdpx (zip) archive: {exc}", file=p) from exc
    with zf:
        reader = _Reader(p, zf, coder_default, role_map)
        variables = {_guid(v.get("guid")): (v.get("name") or "").strip() for v in reader.section("Variables")}
        users = reader.users()
        sel_roles, case_values, case_guids = reader.cases(variables)
        found = reader.sources(variables, users, case_values)
    merged, code_ids, report.codes_added = _codebook(reader, store, case_guids)

    docs: list[_Doc] = []
    names: set[str] = set()
    for doc, bare in found:
        base, n = doc.name, 2
        while doc.name in names:
            doc.name, n = f"{base} ({n})", n + 1
        reader.notes += [f"a second source named {base!r} imported as {doc.name!r}"] * (doc.name != base)
        names.add(doc.name)
        for c in doc.codings:
            if c.code not in code_ids and c.code not in case_guids:
                raise reader.fail(f"a coding refers to code GUID {c.code!r}, which is not in the codebook", c.line)
            reader.skipped["codings of cases (case membership)"] += c.code not in code_ids
            c.code = code_ids.get(c.code, "")
        doc.codings = [c for c in doc.codings if c.code]
        if (existing := store.document_by_name(doc.name)) is not None:
            _match_existing(reader, store, doc, existing)
        elif not _build_segments(reader, doc, bare, sel_roles):
            continue
        docs.append(doc)

    if merged is not None:
        report.codebook_version = store.save_codebook(merged)
    _write(store, docs, report, reader.where)
    report.notes = reader.notes + [f"{n} {what} skipped" for what, n in reader.skipped.items() if n]
    return report


def _write(store: Store, docs: list[_Doc], report: ImportReport, where: str) -> None:
    """Documents, segments, speakers and codings in one transaction (through the store)."""
    rows = [ImportedDocument(
        name=doc.name, existing_id=doc.existing_id,
        codings=[ImportedCoding(c.start, c.end, c.code, c.coder, iso_datetime(c.at)) for c in doc.codings],
        **({} if doc.existing_id is not None else _new_document(doc, where))) for doc in docs]
    name = Path(report.file).name
    written = write_imported(store, rows, provenance={"import": "qdpx", "file": name},
                             note=f"imported from {name}")
    report.documents_added += written.documents_added
    report.documents_matched += written.documents_matched
    report.codings += written.codings
    report.codings_already_there += written.codings_already_there
    report.coders = sorted(written.coders)


def iso_datetime(value: str | None) -> str | None:
    """An ISO / xsd:dateTime timestamp in qualcode's form (UTC if it has no zone); None if unreadable."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat(timespec="seconds")


def _new_document(doc: _Doc, where: str) -> dict[str, Any]:
    """The documents-table row, speakers and segments of a document the project lacks."""
    values = {k.strip(): v for k, v in doc.values.items()}
    cols = {k: next((v for name, v in values.items() if name.casefold() == k), None) for k in DOCUMENT_VARIABLES}
    attributes = {k: v for k, v in values.items() if k.casefold() not in DOCUMENT_VARIABLES}
    row = dict(name=doc.name, source_path=where, format="qdpx", encoding="utf-8",
               content_hash=hashlib.sha256(doc.text.encode("utf-8")).hexdigest(), attributes=attributes,
               unit=doc.unit, text=doc.text,
               word_count=sum(len(doc.text[s.start:s.end].split()) for s in doc.segs), **cols)
    labelled = [s for s in doc.segs if s.label]
    tags = speaker_tags([s.label or "" for s in labelled], [s.role for s in labelled], ROLE_DISPLAY)
    speakers = [ImportedSpeaker(label, next(s.role for s in labelled if s.label == label), tag,
                                len({s.turn for s in labelled if s.label == label}))
                for label, tag in tags.items()]
    segs = [ImportedSegment(s.turn, s.label, s.role, s.start, s.end, doc.text[s.start:s.end], s.start_ms, s.end_ms)
            for s in doc.segs]
    return {"row": row, "speakers": speakers, "segments": segs}
