"""Codebook exchange: YAML, Excel (.xlsx) and REFI-QDA (.qdc codebooks, .qdpx projects).

Exports are written to a temporary file beside the target and moved into place, so a
failed export never leaves half a file. qualcode's own exports round-trip exactly:
xlsx keeps each code's rules as YAML text in one cell, and .qdc keeps the full code data
in a marked block at the end of each code's Description (after the readable definition).
On import of such a block the data wins, except that the code's name and its place in the
tree come from the XML, so renaming or moving codes in another program is kept. Codes from
other QDA programs (NVivo, ATLAS.ti, MAXQDA) import with ids made from their names and no
rules. Imports are not validated here: call :func:`qualcode.codebook.validate`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from qualcode import __version__
from qualcode.codebook import (
    Code,
    Codebook,
    code_from_dict,
    code_to_dict,
    codebook_to_yaml,
    load_codebook,
    raise_first,
    rule_from_dict,
    rule_to_dict,
    validate,
)
from qualcode.errors import InvalidCodebook

QDC_NS = "urn:QDA-XML:codebook:1.0"
QDPX_NS = "urn:QDA-XML:project:1.0"
ORIGIN = f"qualcode {'.'.join(__version__.split('.')[:2])}"
# Fixed namespace for code GUIDs: the same code id always gets the same GUID.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://qualcode.invalid/codebook/code")

MARK_START = "[qualcode-code-data: do not edit below]"
MARK_END = "[/qualcode-code-data]"
_MARK_RE = re.compile(re.escape(MARK_START) + r"\s*(.*?)\s*" + re.escape(MARK_END), re.S)
_META_PREFIX = "qualcode-codebook "

XLSX_COLUMNS = ("id", "parent", "path", "name", "definition", "include", "exclude",
                "example", "realist_role", "direction", "rules")
_XLSX_WIDTHS = {"id": 26, "parent": 22, "path": 36, "name": 38, "definition": 60,
                "include": 45, "exclude": 45, "example": 45, "realist_role": 13,
                "direction": 12, "rules": 70}
_BULLET = "• "
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx", ".qdc": "qdc", ".qdpx": "qdpx"}


def code_guid(code_id: str) -> str:
    """A stable GUID for a code id (uuid5), in the REFI-QDA GUIDType form."""
    return str(uuid.uuid5(GUID_NAMESPACE, code_id))


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """The exchange format named explicitly or implied by the file suffix."""
    if fmt:
        f = fmt.lower().lstrip(".")
        f = "yaml" if f == "yml" else f
        if f not in set(_FORMATS.values()):
            raise InvalidCodebook(f"unknown codebook format {fmt!r}; use one of yaml, xlsx, "
                                  "qdc, qdpx", file=path)
        return f
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise InvalidCodebook(f"cannot tell the codebook format from the suffix {suffix!r}; "
                              "use .yaml, .xlsx, .qdc or .qdpx", file=path)
    return _FORMATS[suffix]


# ======================================================================================
# export
# ======================================================================================

def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temp file in the target's folder, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def export_codebook(cb: Codebook, path: str | Path, fmt: str | None = None) -> Path:
    """Write the codebook as yaml, xlsx or qdc (by ``fmt`` or the suffix); returns the path."""
    p = Path(path)
    f = detect_format(p, fmt)
    if f == "qdpx":
        raise InvalidCodebook("qualcode imports codebooks from .qdpx projects but exports "
                              "codebooks only as .qdc (or yaml/xlsx)", file=p)
    # the tree must be sound to be written as a hierarchy
    raise_first(validate(cb, compile_patterns=False), cb.source)
    writers: dict[str, Callable[[Path], None]] = {
        "yaml": lambda tmp: tmp.write_text(codebook_to_yaml(cb), encoding="utf-8"),
        "xlsx": lambda tmp: _write_xlsx(cb, tmp),
        "qdc": lambda tmp: tmp.write_bytes(codebook_to_qdc_bytes(cb)),
    }
    _atomic_write(p, writers[f])
    return p


def _lines_text(items: list[str]) -> str:
    return "\n".join(_BULLET + " ".join(i.split("\n")) for i in items)


def _write_xlsx(cb: Codebook, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Codes"
    ws.append(list(XLSX_COLUMNS))
    header_fill = PatternFill("solid", fgColor="DDE5F0")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for code in cb.codes:
        rules = ""
        if code.rules:
            rules = yaml.safe_dump([rule_to_dict(r) for r in code.rules], sort_keys=False,
                                   allow_unicode=True, width=100, default_flow_style=None)
        if len(rules) > 32000:
            raise InvalidCodebook("the rules of this code are too long for one Excel cell",
                                  code=code.id, line=code.line)
        ws.append([code.id, code.parent or "", cb.path(code.id), code.name, code.definition,
                   _lines_text(code.include), _lines_text(code.exclude), code.example,
                   code.realist_role or "", code.direction or "", rules])
        row = ws.max_row
        depth = cb.depth(code.id)
        for col, cell in enumerate(ws[row], start=1):
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, not a formula
            cell.alignment = Alignment(vertical="top", wrap_text=True,
                                       indent=depth * 2 if col == 4 else 0)
        if depth == 0:
            for cell in ws[row][:4]:
                cell.font = Font(bold=True)
    for i, name in enumerate(XLSX_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _XLSX_WIDTHS[name]
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{ws.max_row}"

    about = wb.create_sheet("About")
    for key, value in (("name", cb.name), ("version", cb.version),
                       ("description", cb.description), ("codes", len(cb.codes)),
                       ("exported by", ORIGIN),
                       ("note", "One row per code. The rules column holds the rule patterns "
                                "as YAML; edit with care or leave as is.")):
        about.append([key, value])
    for cell in about["B"]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"  # text, not a formula
    for cell in about["A"]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    for cell in about["B"]:
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    about.column_dimensions["A"].width = 14
    about.column_dimensions["B"].width = 90
    wb.save(path)


def _readable_description(code: Code) -> str:
    parts = [code.definition.strip()] if code.definition.strip() else []
    if code.include:
        parts.append("Include:\n" + "\n".join(f"- {i}" for i in code.include))
    if code.exclude:
        parts.append("Exclude:\n" + "\n".join(f"- {i}" for i in code.exclude))
    if code.example:
        parts.append(f"Example: \"{code.example}\"")
    facets = [f"{k.replace('_', ' ')}: {v}" for k, v in
              (("realist_role", code.realist_role), ("direction", code.direction)) if v]
    if facets:
        parts.append("; ".join(facets).capitalize())
    data = code_to_dict(code)
    data.pop("name")
    data.pop("parent")
    data["position"] = code.position
    parts.append(f"{MARK_START}\n{json.dumps(data, ensure_ascii=False)}\n{MARK_END}")
    return "\n\n".join(parts)


def codebook_meta_comment(cb: Codebook) -> etree._Comment:
    """The XML comment carrying the codebook's name, version and description.

    Put it as a direct child of the root element (``<CodeBook>`` in a .qdc, ``<Project>``
    in a .qde) so the importers find it again.
    """
    meta = json.dumps({"name": cb.name, "version": cb.version,
                       "description": cb.description}, ensure_ascii=True)
    # "--" may not appear inside an XML comment; \u002d is the same character in JSON
    return etree.Comment(" " + _META_PREFIX + meta.replace("--", "-\\u002d") + " ")


def codes_element(cb: Codebook, ns: str = QDC_NS) -> etree._Element:
    """The codebook as a REFI-QDA ``<Codes>`` element (nested ``<Code>``s) in namespace ``ns``."""
    codes_el = etree.Element(f"{{{ns}}}Codes", nsmap={None: ns})

    def add(parent_el: etree._Element, code: Code) -> None:
        el = etree.SubElement(parent_el, f"{{{ns}}}Code", guid=code_guid(code.id),
                              name=code.name, isCodable="true")
        desc = etree.SubElement(el, f"{{{ns}}}Description")
        desc.text = _readable_description(code)
        for child in cb.children(code.id):
            add(el, child)

    for root_code in cb.roots():
        add(codes_el, root_code)
    return codes_el


def codebook_to_qdc_bytes(cb: Codebook) -> bytes:
    """The codebook as a REFI-QDA codebook (.qdc) document."""
    root = etree.Element(f"{{{QDC_NS}}}CodeBook", nsmap={None: QDC_NS}, origin=ORIGIN)
    root.append(codebook_meta_comment(cb))
    root.append(codes_element(cb, QDC_NS))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


# ======================================================================================
# import
# ======================================================================================

def import_codebook(path: str | Path, fmt: str | None = None) -> Codebook:
    """Read a codebook from yaml, xlsx, qdc or qdpx (by ``fmt`` or the suffix)."""
    p = Path(path)
    f = detect_format(p, fmt)
    if not p.is_file():
        raise InvalidCodebook("no such codebook file", file=p)
    if f == "yaml":
        return load_codebook(p)
    if f == "xlsx":
        return _read_xlsx(p)
    if f == "qdc":
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InvalidCodebook(f"cannot read file: {exc}", file=p) from exc
        return codebook_from_qdc_bytes(data, source=str(p))
    return _read_qdpx(p)


def _split_lines(value: Any) -> list[str]:
    if value is None or str(value).strip() == "":
        return []
    out = []
    for line in str(value).splitlines():
        line = line.strip()
        if line.startswith(_BULLET.strip()):
            line = line[len(_BULLET.strip()):].strip()
        if line:
            out.append(line)
    return out


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_xlsx(path: Path) -> Codebook:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InvalidCodebook(f"not a readable .xlsx workbook: {exc}", file=path) from exc
    try:
        ws = wb["Codes"] if "Codes" in wb.sheetnames else wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        meta: dict[str, Any] = {}
        if "About" in wb.sheetnames:
            for row in wb["About"].iter_rows(values_only=True):
                if row and row[0] is not None:
                    meta[str(row[0]).strip().lower()] = row[1] if len(row) > 1 else None
    finally:
        wb.close()
    if not rows:
        raise InvalidCodebook("the Codes sheet is empty", file=path, row=1)
    header = [_cell_text(h).lower() for h in rows[0]]
    for required in ("id", "name"):
        if required not in header:
            raise InvalidCodebook(f"the header row has no {required!r} column", file=path,
                                  row=1)
    col = {name: header.index(name) for name in XLSX_COLUMNS if name in header}

    def get(row: tuple[Any, ...], name: str) -> Any:
        i = col.get(name)
        return row[i] if i is not None and i < len(row) else None

    codes: list[Code] = []
    for rownum, row in enumerate(rows[1:], start=2):
        if all(v is None or _cell_text(v) == "" for v in row):
            continue
        cid = _cell_text(get(row, "id"))
        if not cid:
            raise InvalidCodebook("row has no code id", file=path, row=rownum)
        rules_text = get(row, "rules")
        rules = []
        if rules_text is not None and str(rules_text).strip():
            try:
                raw_rules = yaml.safe_load(str(rules_text))
            except yaml.YAMLError as exc:
                raise InvalidCodebook(f"the rules cell is not valid YAML: {exc}", file=path,
                                      row=rownum, code=cid) from exc
            if not isinstance(raw_rules, list):
                raise InvalidCodebook("the rules cell must hold a YAML list of rules",
                                      file=path, row=rownum, code=cid)
            try:
                rules = [rule_from_dict(r, code=cid, source=str(path)) for r in raw_rules]
            except InvalidCodebook as exc:
                raise InvalidCodebook(exc.message, file=path, row=rownum, code=cid) from exc
        codes.append(Code(
            id=cid, name=_cell_text(get(row, "name")), parent=_cell_text(get(row, "parent")) or None,
            definition=_cell_text(get(row, "definition")),
            include=_split_lines(get(row, "include")), exclude=_split_lines(get(row, "exclude")),
            example=_cell_text(get(row, "example")),
            realist_role=_cell_text(get(row, "realist_role")) or None,
            direction=_cell_text(get(row, "direction")) or None,
            rules=rules, line=rownum, position=len(codes)))
    ids = {c.id for c in codes}
    for c in codes:
        if c.parent and c.parent not in ids:
            raise InvalidCodebook(f"parent {c.parent!r} is not a code in this sheet",
                                  file=path, row=c.line, code=c.id)
    version = meta.get("version", 1)
    try:
        version = int(version) if version not in (None, "") else 1
    except (TypeError, ValueError) as exc:
        raise InvalidCodebook(f"version {version!r} in the About sheet is not a number",
                              file=path) from exc
    return Codebook(name=_cell_text(meta.get("name")) or path.stem, version=version,
                    description=_cell_text(meta.get("description")), codes=codes,
                    source=str(path))


def _local(el: etree._Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(el: etree._Element, name: str) -> Iterator[etree._Element]:
    return (c for c in el if _local(c) == name)


def _slug(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not text:
        return "code"
    return text if text[0].isalpha() else f"c_{text}"


def _parse_xml(data: bytes, source: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else exc.lineno
        raise InvalidCodebook(f"malformed XML: {exc.msg}", file=source, line=line) from exc


def _codes_from_xml(codes_el: etree._Element, source: str,
                    guids: dict[str, str] | None = None) -> list[Code]:
    """Read nested <Code> elements (any namespace) into a flat list of codes.

    When ``guids`` is given it is filled with each code's GUID -> code id.
    """
    found: list[tuple[etree._Element, str, dict[str, Any] | None]] = []
    parent_el_map: dict[etree._Element, etree._Element | None] = {}

    def visit(el: etree._Element, parent_el: etree._Element | None) -> None:
        for code_el in _children(el, "Code"):
            name = (code_el.get("name") or "").strip()
            if not name:
                raise InvalidCodebook("a <Code> has no name attribute", file=source,
                                      line=code_el.sourceline)
            desc_el = next(_children(code_el, "Description"), None)
            desc = (desc_el.text or "") if desc_el is not None else ""
            data = None
            m = _MARK_RE.search(desc)
            if m:
                try:
                    data = json.loads(m.group(1))
                except json.JSONDecodeError as exc:
                    raise InvalidCodebook(f"the qualcode data block is damaged: {exc.msg}",
                                          file=source, line=code_el.sourceline) from exc
                if not isinstance(data, dict) or not data.get("id"):
                    raise InvalidCodebook("the qualcode data block has no code id",
                                          file=source, line=code_el.sourceline)
            found.append((code_el, desc.strip(), data))
            parent_el_map[code_el] = parent_el
            visit(code_el, code_el)

    visit(codes_el, None)

    # ids: qualcode's own first, then foreign codes from their names, made unique
    ids: dict[etree._Element, str] = {}
    taken: set[str] = set()
    for el, _, data in found:
        if data is not None:
            cid = str(data["id"])
            if cid in taken:
                raise InvalidCodebook(f"code id {cid!r} appears twice", file=source,
                                      line=el.sourceline, code=cid)
            ids[el] = cid
            taken.add(cid)
    for el, _, data in found:
        if data is None:
            base = _slug(el.get("name", ""))
            cid, n = base, 2
            while cid in taken:
                cid, n = f"{base}_{n}", n + 1
            ids[el] = cid
            taken.add(cid)

    if guids is not None:
        for el, _, _ in found:
            if el.get("guid"):
                guids[el.get("guid", "")] = ids[el]
    codes: list[Code] = []
    for doc_pos, (el, desc, data) in enumerate(found):
        parent_el = parent_el_map[el]
        parent = ids[parent_el] if parent_el is not None else None
        name = el.get("name", "").strip()
        if data is None:
            codes.append(Code(id=ids[el], name=name, parent=parent, definition=desc or "",
                              line=el.sourceline, position=doc_pos))
            continue
        fields = {k: v for k, v in data.items() if k != "position"}
        fields.update(name=name, parent=parent)
        try:
            code = code_from_dict(fields, position=doc_pos, line=el.sourceline, source=source)
        except InvalidCodebook as exc:
            raise InvalidCodebook(exc.message, file=source, line=el.sourceline,
                                  code=ids[el]) from exc
        pos = data.get("position")
        code.position = pos if isinstance(pos, int) and not isinstance(pos, bool) else doc_pos
        codes.append(code)
    # keep qualcode's original order when every code carries it; otherwise document order
    if codes and all(d is not None for _, _, d in found):
        codes.sort(key=lambda c: c.position)
    for i, c in enumerate(codes):
        c.position = i
    return codes


def _meta_from_comments(root: etree._Element) -> dict[str, Any]:
    for node in root.iterchildren(etree.Comment):
        text = (node.text or "").strip()
        if text.startswith(_META_PREFIX):
            try:
                meta = json.loads(text[len(_META_PREFIX):])
            except json.JSONDecodeError:
                return {}
            return meta if isinstance(meta, dict) else {}
    return {}


def codebook_from_qdc_bytes(data: bytes, source: str) -> Codebook:
    """Parse a REFI-QDA codebook (.qdc) from any program."""
    root = _parse_xml(data, source)
    if _local(root) != "CodeBook":
        raise InvalidCodebook(f"expected a <CodeBook> root element, found <{_local(root)}>",
                              file=source, line=root.sourceline)
    return _codebook_from_codebook_el(root, root, source, Path(source).stem)


def _codebook_from_codebook_el(cb_el: etree._Element, root: etree._Element, source: str,
                               default_name: str,
                               guids: dict[str, str] | None = None) -> Codebook:
    codes_el = next(_children(cb_el, "Codes"), None)
    if codes_el is None:
        raise InvalidCodebook("the <CodeBook> has no <Codes> element", file=source,
                              line=cb_el.sourceline)
    codes = _codes_from_xml(codes_el, source, guids)
    meta = _meta_from_comments(root)
    version = meta.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        version = 1
    return Codebook(name=str(meta.get("name") or default_name), version=version,
                    description=str(meta.get("description") or ""), codes=codes,
                    source=source)


def _read_qdpx(path: Path) -> Codebook:
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(".qde")]
            if not members:
                raise InvalidCodebook("the .qdpx archive holds no .qde project file",
                                      file=path)
            member = members[0]
            data = zf.read(member)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidCodebook(f"not a readable .qdpx (zip) archive: {exc}", file=path) from exc
    source = f"{path}!{member}"
    root = _parse_xml(data, source)
    if _local(root) != "Project":
        raise InvalidCodebook(f"expected a <Project> root element, found <{_local(root)}>",
                              file=source, line=root.sourceline)
    cb, _ = codebook_from_project(root, source, path.stem)
    return cb


def codebook_from_project(root: etree._Element, source: str,
                          default_name: str) -> tuple[Codebook, dict[str, str]]:
    """The codebook of a parsed REFI-QDA ``<Project>`` and a map of code GUID -> code id.

    Raises InvalidCodebook when the project has no ``<CodeBook>``.
    """
    cb_el = next(_children(root, "CodeBook"), None)
    if cb_el is None:
        raise InvalidCodebook("the project has no <CodeBook>", file=source,
                              line=root.sourceline)
    name = (root.get("name") or "").strip() or default_name
    guids: dict[str, str] = {}
    return _codebook_from_codebook_el(cb_el, root, source, name, guids), guids


def convert_codebook(src: str | Path, dst: str | Path, fmt: str | None = None) -> Codebook:
    """Import a codebook from one format and export it to another; returns the codebook."""
    cb = import_codebook(src)
    export_codebook(cb, dst, fmt)
    return cb


__all__ = [
    "QDC_NS", "QDPX_NS", "XLSX_COLUMNS", "code_guid", "codebook_from_project",
    "codebook_from_qdc_bytes", "codebook_meta_comment", "codebook_to_qdc_bytes",
    "codes_element", "convert_codebook", "detect_format",
    "export_codebook", "import_codebook",
]
