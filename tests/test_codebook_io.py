"""Tests for codebook exchange: YAML, Excel, REFI-QDA .qdc and .qdpx."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl import Workbook, load_workbook

from qualcode.codebook import (
    Code,
    Codebook,
    Rule,
    codebook_hash,
    default_codebook_path,
    load_codebook,
    validate,
)
from qualcode.codebook_io import (
    MARK_START,
    QDC_NS,
    QDPX_NS,
    XLSX_COLUMNS,
    code_guid,
    codebook_from_qdc_bytes,
    codebook_to_qdc_bytes,
    convert_codebook,
    detect_format,
    export_codebook,
    import_codebook,
)
from qualcode.errors import InvalidCodebook

FIXTURES = Path(__file__).parent / "fixtures" / "codebooks"
#: The published REFI-QDA project schema (QDA-XML 1.0, MIT licence, notice kept in the file).
PROJECT_XSD = Path(__file__).parent / "fixtures" / "refi-qda" / "Project.xsd"


@pytest.fixture(scope="module")
def default_cb() -> Codebook:
    return load_codebook(default_codebook_path())


@pytest.fixture(scope="module")
def tiny() -> Codebook:
    return load_codebook(FIXTURES / "tiny.yaml")


def _guid_pattern() -> re.Pattern[str]:
    """The GUIDType pattern, read from the REFI-QDA schema itself."""
    xsd = etree.parse(str(PROJECT_XSD))
    ns = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    (pattern,) = xsd.xpath("//xsd:simpleType[@name='GUIDType']//xsd:pattern/@value",
                           namespaces=ns)
    return re.compile(f"^(?:{pattern})$")


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- YAML ----------------------------------------------------------------------------------

def test_yaml_export_import_round_trip(default_cb: Codebook, tmp_path: Path) -> None:
    path = export_codebook(default_cb, tmp_path / "book.yml")
    again = import_codebook(path)
    assert again == default_cb
    assert codebook_hash(again) == codebook_hash(default_cb)
    assert validate(again) == []
    assert _no_temp_files(tmp_path)


# --- Excel ---------------------------------------------------------------------------------

def test_xlsx_round_trip_is_exact(default_cb: Codebook, tmp_path: Path) -> None:
    path = export_codebook(default_cb, tmp_path / "book.xlsx")
    again = import_codebook(path)
    assert again == default_cb
    assert codebook_hash(again) == codebook_hash(default_cb)
    assert again.source == str(path)


def test_xlsx_is_formatted_for_evaluators(tiny: Codebook, tmp_path: Path) -> None:
    path = export_codebook(tiny, tmp_path / "tiny.xlsx", fmt="xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Codes", "About"]
    ws = wb["Codes"]
    assert [c.value for c in ws[1]] == list(XLSX_COLUMNS)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:K{len(tiny) + 1}"
    assert ws.column_dimensions["E"].width >= 50  # definition
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert rows["co_location"][2].value == "integration/co_location"
    assert rows["co_location"][3].alignment.indent > rows["integration"][3].alignment.indent
    assert rows["co_location"][4].alignment.wrap_text
    assert rows["integration"][3].font.bold and not rows["co_location"][3].font.bold
    assert "• Days on site" in rows["co_location"][5].value
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert about["name"] == "Tiny IPS codebook" and about["version"] == 1


def test_xlsx_keeps_text_that_looks_like_a_formula(tmp_path: Path) -> None:
    cb = Codebook(name="f", codes=[Code(id="a", name="=SUM(A1:A2)", definition="=1+1",
                                        include=["=x", "plain"], example="-5")])
    assert import_codebook(export_codebook(cb, tmp_path / "f.xlsx")) == cb


def _sheet(tmp_path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Codes"
    for row in rows:
        ws.append(row)
    path = tmp_path / "hand.xlsx"
    wb.save(path)
    return path


def test_hand_made_xlsx_imports_without_about_sheet(tmp_path: Path) -> None:
    path = _sheet(tmp_path, [["id", "name", "parent", "include"],
                             ["integration", "Integration", None, None],
                             [None, None, None, None],
                             ["co_location", "Co-location", "integration", "desk\non site"]])
    cb = import_codebook(path)
    assert cb.name == "hand"
    assert [c.id for c in cb.walk()] == ["integration", "co_location"]
    assert cb.get("co_location").include == ["desk", "on site"]
    assert cb.get("co_location").rules == []


@pytest.mark.parametrize(("rows", "row", "code", "words"), [
    ([["id", "name"], ["a", "A"], [None, "No id"]], 3, None, "no code id"),
    ([["id", "name", "parent"], ["a", "A", None], ["b", "B", "zzz"]], 3, "b",
     "parent 'zzz'"),
    ([["name", "parent"], ["A", None]], 1, None, "no 'id' column"),
    ([["id", "name", "rules"], ["a", "A", "- id: a.r\n  phrases: [x"]], 2, "a",
     "not valid YAML"),
    ([["id", "name", "rules"], ["a", "A", "- id: a.r\n  bogus: 1"]], 2, "a", "bogus"),
    ([["id", "name", "rules"], ["a", "A", "just text"]], 2, "a", "YAML list"),
])
def test_broken_xlsx_names_the_row(tmp_path: Path, rows: list[list[object]], row: int,
                                   code: str | None, words: str) -> None:
    path = _sheet(tmp_path, rows)
    with pytest.raises(InvalidCodebook) as info:
        import_codebook(path)
    err = info.value
    assert (err.row, err.code) == (row, code)
    assert err.file == str(path)
    assert words in str(err) and f"row {row}" in str(err)


def test_not_a_workbook_raises(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InvalidCodebook, match="not a readable .xlsx"):
        import_codebook(path)


# --- REFI-QDA .qdc -------------------------------------------------------------------------

def test_qdc_round_trip_is_exact(default_cb: Codebook, tmp_path: Path) -> None:
    path = export_codebook(default_cb, tmp_path / "book.qdc")
    again = import_codebook(path)
    assert again == default_cb
    assert (again.name, again.version, again.description) == (
        default_cb.name, default_cb.version, default_cb.description)


def test_qdc_structure_namespace_and_nesting(tiny: Codebook) -> None:
    root = etree.fromstring(codebook_to_qdc_bytes(tiny))
    assert root.tag == f"{{{QDC_NS}}}CodeBook"
    assert root.get("origin") == "qualcode 0.1"
    ns = {"q": QDC_NS}
    tops = root.xpath("q:Codes/q:Code", namespaces=ns)
    assert [t.get("name") for t in tops] == ["Integration", "Outcomes"]
    kids = tops[0].xpath("q:Code", namespaces=ns)
    assert [k.get("name") for k in kids] == ["Co-location", "Exclusion from team life"]
    assert all(el.get("isCodable") == "true" for el in root.iter(f"{{{QDC_NS}}}Code"))
    desc = kids[0].findtext(f"{{{QDC_NS}}}Description")
    assert desc.startswith("The ES works on site with the team.")
    assert "Include:\n- Days on site" in desc and MARK_START in desc
    # Description comes before the nested codes, as the schema's sequence requires
    assert [etree.QName(c).localname for c in tops[0]][0] == "Description"


def test_qdc_guids_are_stable_and_match_the_xsd_pattern(tiny: Codebook) -> None:
    pattern = _guid_pattern()
    first = etree.fromstring(codebook_to_qdc_bytes(tiny))
    second = etree.fromstring(codebook_to_qdc_bytes(load_codebook(FIXTURES / "tiny.yaml")))
    guids = [el.get("guid") for el in first.iter(f"{{{QDC_NS}}}Code")]
    assert guids == [el.get("guid") for el in second.iter(f"{{{QDC_NS}}}Code")]
    assert len(set(guids)) == len(guids)
    assert all(pattern.match(g) for g in guids)
    assert guids[0] == code_guid("integration")


def test_qdc_codes_validate_against_the_project_schema(default_cb: Codebook) -> None:
    """Move the exported codes into a <Project> and validate with the REFI-QDA XSD."""
    schema = etree.XMLSchema(etree.parse(str(PROJECT_XSD)))
    qdc = etree.fromstring(codebook_to_qdc_bytes(default_cb))
    for el in qdc.iter():
        if isinstance(el.tag, str):
            el.tag = f"{{{QDPX_NS}}}{etree.QName(el).localname}"
    project = etree.Element(f"{{{QDPX_NS}}}Project", nsmap={None: QDPX_NS}, name="p")
    codebook = etree.SubElement(project, f"{{{QDPX_NS}}}CodeBook")
    codebook.append(qdc.find(f"{{{QDPX_NS}}}Codes"))
    assert schema.validate(project), schema.error_log


def test_qdc_comment_metadata_survives_double_dashes(tmp_path: Path) -> None:
    cb = Codebook(name="a--b", description="x -- y --> z", codes=[Code(id="a", name="A")])
    again = import_codebook(export_codebook(cb, tmp_path / "d.qdc"))
    assert (again.name, again.description) == ("a--b", "x -- y --> z")


def test_foreign_qdc_imports_with_hierarchy_and_name_ids() -> None:
    cb = import_codebook(FIXTURES / "nvivo_like.qdc")
    assert [(c.id, c.parent) for c in cb.codes] == [
        ("integration", None), ("co_location", "integration"), ("barriers", "integration"),
        ("barriers_2", None), ("housing_homelessness", "barriers_2"),
        ("hostels_temporary", "housing_homelessness"), ("c_2nd_hand_stigma", "barriers_2"),
        ("stigma_employers", "barriers_2")]
    assert cb.get("housing_homelessness").name == "Housing & homelessness"
    assert cb.get("co_location").definition == "Working from the same building as the team."
    assert all(c.rules == [] and c.realist_role is None for c in cb.codes)
    assert cb.path("hostels_temporary") == "barriers_2/housing_homelessness/hostels_temporary"
    assert cb.name == "nvivo_like"
    assert validate(cb) == []


_FOREIGN_BODY = """
  <{p}Codes>
    <{p}Code guid="2f1d3c4e-0a1b-4c2d-8e3f-112233445566" name="Employer work" isCodable="true">
      <{p}Description>Working with employers.</{p}Description>
      <{p}Code guid="3a2b1c0d-1111-4222-8333-444455556666" name="Disclosure" isCodable="true"/>
    </{p}Code>
  </{p}Codes>"""


@pytest.mark.parametrize(("open_tag", "prefix"), [
    ('<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="ATLAS.ti">', ""),
    ('<qdc:CodeBook xmlns:qdc="urn:QDA-XML:codebook:1.0" origin="MAXQDA">', "qdc:"),
    ('<CodeBook origin="old tool">', ""),
])
def test_foreign_qdc_namespace_variants(tmp_path: Path, open_tag: str, prefix: str) -> None:
    close = f"</{prefix}CodeBook>"
    path = tmp_path / "foreign.qdc"
    path.write_text(f'<?xml version="1.0"?>\n{open_tag}{_FOREIGN_BODY.format(p=prefix)}\n'
                    f"{close}\n", encoding="utf-8")
    cb = import_codebook(path)
    assert [(c.id, c.parent, c.name) for c in cb.codes] == [
        ("employer_work", None, "Employer work"),
        ("disclosure", "employer_work", "Disclosure")]
    assert cb.get("employer_work").definition == "Working with employers."


def test_qualcode_and_foreign_codes_mix_with_unique_ids(tiny: Codebook) -> None:
    """A code added in another program next to qualcode's codes gets a fresh id."""
    root = etree.fromstring(codebook_to_qdc_bytes(tiny))
    first = root.find(f"{{{QDC_NS}}}Codes/{{{QDC_NS}}}Code")
    etree.SubElement(first, f"{{{QDC_NS}}}Code", guid=code_guid("x"), name="Co location",
                     isCodable="true")
    cb = codebook_from_qdc_bytes(etree.tostring(root), source="mixed.qdc")
    assert cb.get("co_location") == tiny.get("co_location")
    assert cb.get("co_location_2").parent == "integration"
    assert validate(cb) == []


def test_qdc_renamed_and_moved_codes_follow_the_xml(tiny: Codebook) -> None:
    root = etree.fromstring(codebook_to_qdc_bytes(tiny))
    ns = {"q": QDC_NS}
    (job_start,) = root.xpath("//q:Code[@name='Job start']", namespaces=ns)
    job_start.set("name", "Starting work")
    (integration,) = root.xpath("//q:Code[@name='Integration']", namespaces=ns)
    integration.append(job_start)  # moved under another parent
    cb = codebook_from_qdc_bytes(etree.tostring(root), source="edited.qdc")
    code = cb.get("job_start")
    assert (code.name, code.parent) == ("Starting work", "integration")
    assert code.rules == tiny.get("job_start").rules


@pytest.mark.parametrize(("text", "line", "words"), [
    (None, 7, "malformed XML"),
    ('<?xml version="1.0"?>\n<Project name="x"/>\n', 2, "expected a <CodeBook>"),
    ('<?xml version="1.0"?>\n<CodeBook>\n  <Other/>\n</CodeBook>\n', 2, "no <Codes>"),
    ('<?xml version="1.0"?>\n<CodeBook><Codes>\n<Code guid="x" isCodable="true"/>\n'
     "</Codes></CodeBook>\n", 3, "no name"),
    ('<?xml version="1.0"?>\n<CodeBook><Codes>\n<Code name="A" isCodable="true">'
     f"<Description>{MARK_START}\n{{broken\n[/qualcode-code-data]</Description></Code>\n"
     "</Codes></CodeBook>\n", 3, "damaged"),
])
def test_broken_qdc_names_file_and_line(tmp_path: Path, text: str | None, line: int,
                                        words: str) -> None:
    path = FIXTURES / "malformed.qdc"
    if text is not None:
        path = tmp_path / "broken.qdc"
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidCodebook) as info:
        import_codebook(path)
    assert info.value.line == line and info.value.file == str(path)
    assert words in str(info.value)


# --- REFI-QDA .qdpx ------------------------------------------------------------------------

_PROJECT = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="IPS borough study" origin="NVivo">
  <Users><User guid="0e1d2c3b-4a59-4687-a5b4-c3d2e1f00112" name="Coder A"/></Users>
  <CodeBook>
    <Codes>
      <Code guid="11111111-2222-4333-8444-555555555555" name="Fidelity" isCodable="true">
        <Description>Sticking to the model.</Description>
        <Code guid="21111111-2222-4333-8444-555555555555" name="Caseload size" isCodable="true"/>
        <Code guid="31111111-2222-4333-8444-555555555555" name="Time limits" isCodable="true"/>
      </Code>
      <Code guid="41111111-2222-4333-8444-555555555555" name="Outcomes" isCodable="true"/>
    </Codes>
  </CodeBook>
  <Sources>
    <TextSource guid="51111111-2222-4333-8444-555555555555" name="Interview 1"
                plainTextPath="internal://51111111-2222-4333-8444-555555555555.txt"/>
  </Sources>
</Project>
"""


def _qdpx(tmp_path: Path, member: str, text: str) -> Path:
    path = tmp_path / "study.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sources/51111111-2222-4333-8444-555555555555.txt", "Interview text")
        zf.writestr(member, text)
    return path


def test_qdpx_with_upper_case_member_imports_codebook(tmp_path: Path) -> None:
    cb = import_codebook(_qdpx(tmp_path, "project.QDE", _PROJECT))
    assert cb.name == "IPS borough study"
    assert [(c.id, c.parent) for c in cb.codes] == [
        ("fidelity", None), ("caseload_size", "fidelity"), ("time_limits", "fidelity"),
        ("outcomes", None)]
    assert cb.get("fidelity").definition == "Sticking to the model."
    assert validate(cb) == []


def test_qdpx_then_export_as_qdc_and_yaml(tmp_path: Path) -> None:
    src = _qdpx(tmp_path, "Project.qde", _PROJECT)
    for suffix in ("qdc", "yaml", "xlsx"):
        cb = convert_codebook(src, tmp_path / f"out.{suffix}")
        assert import_codebook(tmp_path / f"out.{suffix}") == cb


@pytest.mark.parametrize(("member", "text", "line", "words"), [
    ("notes.txt", "hello", None, "no .qde"),
    ("project.qde", _PROJECT.replace("</Codes>", "</Codez>"), 12, "malformed XML"),
    ("project.qde", '<?xml version="1.0"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
                    'name="x"/>\n', 2, "no <CodeBook>"),
    ("project.qde", '<?xml version="1.0"?>\n<CodeBook/>\n', 2, "expected a <Project>"),
])
def test_broken_qdpx(tmp_path: Path, member: str, text: str, line: int | None,
                     words: str) -> None:
    path = _qdpx(tmp_path, member, text)
    with pytest.raises(InvalidCodebook) as info:
        import_codebook(path)
    assert info.value.line == line
    assert str(path) in str(info.value) and words in str(info.value)


def test_qdpx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "bad.qdpx"
    path.write_bytes(b"PK but not really")
    with pytest.raises(InvalidCodebook, match="not a readable .qdpx"):
        import_codebook(path)


# --- formats and safe writing --------------------------------------------------------------

def test_format_detection() -> None:
    assert detect_format("a.YML") == "yaml"
    assert detect_format("a.txt", "xlsx") == "xlsx"
    assert detect_format("a.QDPX") == "qdpx"
    with pytest.raises(InvalidCodebook, match="suffix '.csv'"):
        detect_format("a.csv")
    with pytest.raises(InvalidCodebook, match="unknown codebook format"):
        detect_format("a.yaml", "json")


def test_export_refuses_qdpx_and_missing_import(tiny: Codebook, tmp_path: Path) -> None:
    with pytest.raises(InvalidCodebook, match="only as .qdc"):
        export_codebook(tiny, tmp_path / "x.qdpx")
    with pytest.raises(InvalidCodebook, match="no such codebook file"):
        import_codebook(tmp_path / "missing.qdc")


def test_failed_export_leaves_existing_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"previous contents")
    huge = Rule(id="a.huge", phrases=[f"phrase number {i}" for i in range(3000)])
    cb = Codebook(name="big", codes=[Code(id="a", name="A", rules=[huge])])
    with pytest.raises(InvalidCodebook, match="too long"):
        export_codebook(cb, target)
    assert target.read_bytes() == b"previous contents"
    assert _no_temp_files(tmp_path)


def test_export_of_invalid_tree_is_refused(tmp_path: Path) -> None:
    cb = load_codebook(FIXTURES / "cycle.yaml")
    with pytest.raises(InvalidCodebook, match="cycle") as info:
        export_codebook(cb, tmp_path / "cycle.qdc")
    assert info.value.code == "alpha"
    assert not (tmp_path / "cycle.qdc").exists() and _no_temp_files(tmp_path)


_ident = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True)
# printable text without XML-illegal or Excel-illegal characters, trimmed like a cell
_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                              blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                max_size=30).map(str.strip)


@st.composite
def _codebooks(draw) -> Codebook:
    ids = draw(st.lists(_ident, min_size=1, max_size=6, unique=True))
    codes = []
    for i, cid in enumerate(ids):
        rules = [Rule(id=f"{cid}.r", lemmas=draw(st.lists(_text.filter(bool), min_size=1,
                                                          max_size=2)),
                      negated_code=draw(st.sampled_from([None, ids[0]])))] \
            if draw(st.booleans()) else []
        codes.append(Code(id=cid, name=draw(_text.filter(bool)),
                          parent=draw(st.sampled_from([None, *ids[:i]])),
                          definition=draw(_text),
                          include=draw(st.lists(_text.filter(bool), max_size=2)),
                          exclude=draw(st.lists(_text.filter(bool), max_size=2)),
                          example=draw(_text), rules=rules, position=i,
                          realist_role=draw(st.sampled_from([None, "mechanism"]))))
    return Codebook(name=draw(_text.filter(bool)), version=draw(st.integers(1, 5)),
                    description=draw(_text), codes=codes)


@settings(max_examples=25, deadline=None)
@given(_codebooks())
def test_round_trip_property_all_formats(tmp_path_factory, cb: Codebook) -> None:
    folder = tmp_path_factory.mktemp("rt")
    for suffix in ("yaml", "xlsx", "qdc"):
        again = import_codebook(export_codebook(cb, folder / f"cb.{suffix}"))
        assert again == cb, suffix
