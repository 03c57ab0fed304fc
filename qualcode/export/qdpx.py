"""REFI-QDA project export (.qdpx): documents, codebook, codings, cases and variables.

A .qdpx is a zip holding ``project.qde`` (XML in the ``urn:QDA-XML:project:1.0``
namespace) and ``sources/<guid>.txt``, one UTF-8 file per document with its stored text
(role-tagged turns: raw speaker labels never reach it, and nothing here reads them).

* Users: every coder in the project, people and the machines ("rules", "classifier").
* CodeBook: the project codebook, nested, written by :mod:`qualcode.codebook_io` (so
  qualcode reads ids, rules and definitions back exactly).
* Sources: one TextSource per document; one PlainTextSelection per exported coding,
  holding one Coding by the coder who decided it (or the machine, for an open
  suggestion); and one uncoded PlainTextSelection per segment, which the role cases
  reference (roles belong to segments, not to whole documents).
* Cases: ``Site: <site>`` (SourceRef to its documents, VariableValue site) and
  ``Role: <role>`` (SelectionRef to that role's segment selections).
* Variables: site, wave, date, participant and every document attribute, as Text
  variables with VariableValues on the TextSources.

Positions are Unicode code points into the stored text, the unit qualcode uses
everywhere. REFI-QDA counts "characters"; programs built on UTF-16 strings (.NET, Qt,
Java) count a character outside the Basic Multilingual Plane (most emoji) as two units,
so in a text holding such characters their positions after it may differ by one per
character. We write code points and do not convert: the text and offsets stay exactly
qualcode's, and qualcode's own import reads them back unchanged.

GUIDs are stable (uuid5): the same project exported twice gives the same GUIDs.
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lxml import etree

from qualcode.codebook_io import ORIGIN, QDPX_NS, code_guid, codebook_meta_comment, codes_element
from qualcode.errors import InvalidInput
from qualcode.export.atomic import atomic_path
from qualcode.ingest.qdpx import DOCUMENT_VARIABLES, ROLE_CASE_PREFIX, SITE_CASE_PREFIX, STATUS_MARK, iso_datetime
from qualcode.ingest.roles import ROLE_DISPLAY
from qualcode.store.codings import coders, coding_rows
from qualcode.store.repo import Store

GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://qualcode.invalid/qdpx")
PROJECT_MEMBER = "project.qde"
SOURCES_FOLDER = "sources"


def stable_guid(kind: str, *parts: object) -> str:
    """A GUID that depends only on what it names (``kind`` and ``parts``)."""
    return str(uuid.uuid5(GUID_NAMESPACE, ":".join([kind, *map(str, parts)])))


def user_guid(name: str) -> str:
    """The GUID of a coder (person or machine), the same in every export."""
    return stable_guid("user", name)


@dataclass(slots=True)
class QdpxProject:
    """An export ready to be written: the XML and the source texts by member name."""

    xml: bytes
    texts: dict[str, str]
    documents: int
    codings: int


def _q(tag: str) -> str:
    return f"{{{QDPX_NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v is not None})


def _document_values(doc: dict[str, Any]) -> dict[str, str]:
    """Variable name -> value for one document (columns first, then its attributes)."""
    values = {k: str(doc[k]) for k in DOCUMENT_VARIABLES if doc.get(k) not in (None, "")}
    for key, value in sorted((doc.get("attributes") or {}).items()):
        if value not in (None, "") and key not in values:
            values[str(key)] = str(value)
    return values


def _variable_value(parent: etree._Element, var_guid: str, value: str) -> None:
    vv = _sub(parent, "VariableValue")
    _sub(vv, "VariableRef", targetGUID=var_guid)
    _sub(vv, "TextValue").text = value


def _coding_description(row: dict[str, Any]) -> str | None:
    """Provenance for codings other than a person's accepted one (None for those)."""
    if row["source"] == "human" and row["status"] == "accepted":
        return None
    parts = [f"status={row['status']}", f"source={row['source']}", f"coder={row['coder']}"]
    if row["decided_by"]:
        parts.append(f"decided_by={row['decided_by']}")
    if row["confidence"] is not None:
        parts.append(f"confidence={row['confidence']:.3f}")
    return f"{STATUS_MARK} " + "; ".join(parts)


def build_project(store: Store, *, status: str = "accepted", name: str = "qualcode project") -> QdpxProject:
    """Build the project XML and source texts (nothing is written).

    ``status`` is ``accepted`` (default) or ``all``. Codings whose code has been retired
    from the codebook are left out (the CodeBook would not hold their code).
    """
    if status not in ("accepted", "all"):
        raise InvalidInput(f"unknown status {status!r}: use accepted or all")
    codebook = store.codebook() if store.codebook_version() is not None else None
    live_codes = {c.id for c in codebook.codes} if codebook else set()
    all_rows = coding_rows(store, all_roles=True)
    rows = [r for r in all_rows if r["code"] in live_codes and (status == "all" or r["status"] == "accepted")]
    documents = store.documents(with_text=True)
    segments = store.segment_rows(all_roles=True)

    root = etree.Element(_q("Project"), nsmap={None: QDPX_NS}, name=name, origin=ORIGIN,
                         creationDateTime=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if codebook is not None:
        root.append(codebook_meta_comment(codebook))

    people = set(coders(store)) | {name for r in all_rows for name in (r["coder"], r["decided_by"]) if name}
    if people:
        users_el = _sub(root, "Users")
        for person in sorted(people):
            _sub(users_el, "User", guid=user_guid(person), name=person)
    if codebook is not None and codebook.codes:
        _sub(root, "CodeBook").append(codes_element(codebook, QDPX_NS))

    doc_values = {d["id"]: _document_values(d) for d in documents}
    var_names = [v for v in DOCUMENT_VARIABLES if any(v in vals for vals in doc_values.values())]
    var_names += sorted({k for vals in doc_values.values() for k in vals} - set(DOCUMENT_VARIABLES))
    var_guid = {v: stable_guid("variable", v) for v in var_names}
    if var_names:
        vars_el = _sub(root, "Variables")
        for v in var_names:
            _sub(vars_el, "Variable", guid=var_guid[v], name=v, typeOfVariable="Text")

    doc_guid = {d["id"]: stable_guid("document", d["name"], d["content_hash"]) for d in documents}
    seg_guid = {s["segment_id"]: stable_guid("segment", doc_guid[s["document_id"]], s["seq"]) for s in segments}
    _cases(root, documents, segments, doc_guid, seg_guid, var_guid)

    by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_doc[r["document"]].append(r)
    segs_by_doc: dict[int, list[dict[str, Any]]] = defaultdict(list)
    seg_span = {}
    for s in segments:
        segs_by_doc[s["document_id"]].append(s)
        seg_span[s["segment_id"]] = (s["start"], s["end"])
    texts: dict[str, str] = {}
    if documents:
        sources_el = _sub(root, "Sources")
        for d in documents:
            guid = doc_guid[d["id"]]
            texts[f"{SOURCES_FOLDER}/{guid}.txt"] = d["text"]
            src = _sub(sources_el, "TextSource", guid=guid, name=d["name"],
                       plainTextPath=f"internal://{guid}.txt", creationDateTime=iso_datetime(d["ingested_at"]))
            for r in by_doc.get(d["name"], []):
                start, end = seg_span[r["segment_id"]]
                if r["start_char"] is not None and r["end_char"] is not None:
                    start, end = r["start_char"], r["end_char"]
                who = user_guid(r["decided_by"] or r["coder"])
                when = iso_datetime(r["updated_at"] or r["created_at"])
                sel = _sub(src, "PlainTextSelection", guid=stable_guid("selection", guid, r["coding_id"]),
                           startPosition=str(start), endPosition=str(end), creatingUser=who, creationDateTime=when)
                note = _coding_description(r)
                if note:
                    _sub(sel, "Description").text = note
                coding = _sub(sel, "Coding", guid=stable_guid("coding", guid, r["coding_id"]), creatingUser=who,
                              creationDateTime=when)
                _sub(coding, "CodeRef", targetGUID=code_guid(r["code"]))
            for s in segs_by_doc.get(d["id"], []):
                label = s["speaker"] or ROLE_DISPLAY.get(s["role"], s["role"])
                _sub(src, "PlainTextSelection", guid=seg_guid[s["segment_id"]], name=f"{label}, segment {s['seq'] + 1}",
                     startPosition=str(s["start"]), endPosition=str(s["end"]))
            for v, value in doc_values[d["id"]].items():
                _variable_value(src, var_guid[v], value)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return QdpxProject(xml=xml, texts=texts, documents=len(documents), codings=len(rows))


def _cases(root: etree._Element, documents: list[dict[str, Any]], segments: list[dict[str, Any]],
           doc_guid: dict[int, str], seg_guid: dict[int, str], var_guid: dict[str, str]) -> None:
    """One case per site (its documents) and one per role (its segments)."""
    sites: dict[str, list[int]] = defaultdict(list)
    for d in documents:
        if d.get("site"):
            sites[str(d["site"])].append(d["id"])
    roles: dict[str, list[int]] = defaultdict(list)
    for s in segments:
        roles[s["role"]].append(s["segment_id"])
    if not sites and not roles:
        return
    cases_el = _sub(root, "Cases")
    for site in sorted(sites):
        case = _sub(cases_el, "Case", guid=stable_guid("case", "site", site), name=SITE_CASE_PREFIX + site)
        _variable_value(case, var_guid["site"], site)
        for doc_id in sites[site]:
            _sub(case, "SourceRef", targetGUID=doc_guid[doc_id])
    order = {r: i for i, r in enumerate(ROLE_DISPLAY)}
    for role in sorted(roles, key=lambda r: (order.get(r, len(order)), r)):
        case = _sub(cases_el, "Case", guid=stable_guid("case", "role", role),
                    name=ROLE_CASE_PREFIX + ROLE_DISPLAY.get(role, role))
        for seg_id in roles[role]:
            _sub(case, "SelectionRef", targetGUID=seg_guid[seg_id])


def write_qdpx(project: QdpxProject, out: str | os.PathLike[str]) -> Path:
    """Write a built project to ``out`` atomically (a temp file beside it, then renamed)."""
    target = Path(out)
    with atomic_path(target) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(PROJECT_MEMBER, project.xml)
            for member, text in project.texts.items():
                zf.writestr(member, text.encode("utf-8"))
    return target


def export_qdpx(store: Store, out: str | os.PathLike[str], *, status: str = "accepted") -> Path:
    """Export the project as a REFI-QDA .qdpx (see the module docstring); returns the path."""
    project = build_project(store, status=status, name=Path(out).stem or "qualcode project")
    return write_qdpx(project, out)
