"""REFI-QDA project exchange (.qdpx): export validity, exact round trip, foreign projects, errors."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from qualcode.cli import main
from qualcode.codebook import Codebook
from qualcode.codebook_io import QDPX_NS, code_guid
from qualcode.coding.base import Suggestion
from qualcode.errors import InvalidInput
from qualcode.export.qdpx import export_qdpx, user_guid
from qualcode.ingest.pipeline import ingest_paths
from qualcode.ingest.qdpx import import_qdpx
from qualcode.store.codings import Decision, apply_decisions, coder_codings, coding_rows, store_suggestions
from qualcode.store.repo import Store

XSD = Path(__file__).parent / "fixtures" / "refi-qda" / "Project.xsd"  # REFI-QDA QDA-XML 1.0, MIT
FIXTURES = Path(__file__).parent / "fixtures" / "qdpx"
EXAMPLE = Path(__file__).parents[1] / "transcripts_example"
NS = {"q": QDPX_NS}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@pytest.fixture
def project(memory_store: Store, transcripts: Path) -> Store:
    """Two transcripts plus one whose client is named in the file; five codings of every kind."""
    (transcripts / "site_c_client.txt").write_text(
        "Interviewer: How did the job search go?\nPriya: I got the job at the garden centre, 😀 honestly.\n",
        encoding="utf-8")
    with (transcripts / "manifest.csv").open("a", encoding="utf-8") as fh:
        fh.write("site_c_client.txt,Site A,2,2022-03-01,A-P03,phone\n")
    roles = transcripts.parent / "roles.yaml"
    roles.write_text("documents:\n  site_c_client.txt:\n    Priya: client\n", encoding="utf-8")
    ingest_paths(memory_store, [transcripts], manifest=transcripts / "manifest.csv", roles=roles)
    segs = {(s["document"], s["role"]): s for s in reversed(memory_store.segment_rows())}  # first of each
    es = segs[("site_a_es.txt", "es")]
    at = es["text"].index("three days a week")
    priya = segs[("site_c_client.txt", "client")]
    emoji_at = priya["start"] + priya["text"].index("honestly")
    apply_decisions(memory_store, [
        Decision("add", "alice", segment_id=es["segment_id"], code="co_location",
                 start=es["start"] + at, end=es["start"] + at + len("three days a week")),
        Decision("add", "alice", segment_id=segs[("site_b_client.vtt", "client")]["segment_id"], code="job_start"),
        Decision("add", "alice", segment_id=priya["segment_id"], code="wider_benefits",
                 start=emoji_at, end=emoji_at + len("honestly")),
    ])
    store_suggestions(memory_store, [Suggestion(es["segment_id"], "team_exclusion", "rule", 0.7, {"rule": "r"}),
                                     Suggestion(priya["segment_id"], "job_start", "rule", 0.9, {"rule": "j"})], "rule")
    rows = {r["code"]: r["coding_id"] for r in coding_rows(memory_store, source="rule")}
    apply_decisions(memory_store, [Decision("accept", "bob", coding_id=rows["job_start"]),
                                   Decision("reject", "alice", coding_id=rows["team_exclusion"])])
    store_suggestions(memory_store, [Suggestion(es["segment_id"], "integration", "classifier", 0.55, {})],
                      "classifier")
    return memory_store


def _qde(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("project.qde"))


def _codings(store: Store, status: str | None = "accepted") -> list[tuple]:
    """(document, start, end, code, coder) for each coding, with whole-segment spans filled in."""
    spans = {s["segment_id"]: (s["start"], s["end"]) for s in store.segment_rows(all_roles=True)}
    out = []
    for r in coding_rows(store, status=status, all_roles=True):
        start, end = (r["start_char"], r["end_char"]) if r["start_char"] is not None else spans[r["segment_id"]]
        out.append((r["document"], start, end, r["code"], r["decided_by"] or r["coder"]))
    return sorted(out)


def _pack(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.name != ".gitattributes":
                zf.write(f, f.relative_to(folder).as_posix())
    return out


# --- export ------------------------------------------------------------------------------
def test_export_is_valid_exact_and_anonymous(project: Store, tmp_path: Path, schema: etree.XMLSchema) -> None:
    out = export_qdpx(project, tmp_path / "study.qdpx")
    root = _qde(out)
    assert schema.validate(root), schema.error_log
    docs = {d["name"]: d for d in project.documents(with_text=True)}
    with zipfile.ZipFile(out) as zf:
        members = zf.namelist()
        everything = b"".join(zf.read(m) for m in members)
        texts = {m: zf.read(m).decode("utf-8") for m in members if m.startswith("sources/")}
    assert b"Priya" not in everything  # the raw label never leaves the project
    assert len(texts) == 3

    users = {u.get("name"): u.get("guid") for u in root.iterfind("q:Users/q:User", NS)}
    assert users == {n: user_guid(n) for n in ("alice", "bob", "rules", "classifier")}
    integration = root.find(f"q:CodeBook/q:Codes/q:Code[@guid='{code_guid('integration')}']", NS)
    assert integration.find(f"q:Code[@guid='{code_guid('co_location')}']", NS).get("name") == "Co-location"
    assert "The ES works on site" in integration.find("q:Code/q:Description", NS).text

    found = []
    for src in root.iterfind("q:Sources/q:TextSource", NS):
        guid = src.get("guid")
        assert src.get("plainTextPath") == f"internal://{guid}.txt"
        text = texts[f"sources/{guid}.txt"]
        assert text == docs[src.get("name")]["text"]
        for sel in src.iterfind("q:PlainTextSelection", NS):
            coding = sel.find("q:Coding", NS)
            if coding is not None:
                by = {v: k for k, v in users.items()}[coding.get("creatingUser")]
                code = coding.find("q:CodeRef", NS).get("targetGUID")
                found.append((src.get("name"), text[int(sel.get("startPosition")):int(sel.get("endPosition"))],
                              code, by))
        values = {v.find("q:VariableRef", NS).get("targetGUID"): v.findtext("q:TextValue", namespaces=NS)
                  for v in src.iterfind("q:VariableValue", NS)}
        names = {v.get("guid"): v.get("name") for v in root.iterfind("q:Variables/q:Variable", NS)}
        assert {names[g]: val for g, val in values.items()}["site"] == docs[src.get("name")]["site"]
    client_b = next(s["text"] for s in project.segment_rows() if s["document"] == "site_b_client.vtt")
    assert sorted(found) == sorted([
        ("site_a_es.txt", "three days a week", code_guid("co_location"), "alice"),
        ("site_b_client.vtt", client_b, code_guid("job_start"), "alice"),
        ("site_c_client.txt", "honestly", code_guid("wider_benefits"), "alice"),  # code points: after an emoji
        ("site_c_client.txt", "I got the job at the garden centre, 😀 honestly.", code_guid("job_start"), "bob"),
    ])

    cases = {c.get("name"): c for c in root.iterfind("q:Cases/q:Case", NS)}
    assert {"Site: Site A", "Site: Site B", "Role: IPS ES", "Role: IPS client", "Role: Interviewer"} <= set(cases)
    site_a = {r.get("targetGUID") for r in cases["Site: Site A"].iterfind("q:SourceRef", NS)}
    assert site_a == {s.get("guid") for s in root.iterfind("q:Sources/q:TextSource", NS)
                      if s.get("name") in ("site_a_es.txt", "site_c_client.txt")}
    selections = {s.get("guid"): (texts[f"sources/{src.get('guid')}.txt"], s)
                  for src in root.iterfind("q:Sources/q:TextSource", NS)
                  for s in src.iterfind("q:PlainTextSelection", NS)}
    es_text = {s["text"] for s in project.segment_rows() if s["role"] == "es"}
    es_refs = [selections[r.get("targetGUID")] for r in cases["Role: IPS ES"].iterfind("q:SelectionRef", NS)]
    assert {t[int(s.get("startPosition")):int(s.get("endPosition"))] for t, s in es_refs} == es_text


def test_export_status_all_marks_what_is_not_accepted(project: Store, tmp_path: Path,
                                                      schema: etree.XMLSchema) -> None:
    root = _qde(export_qdpx(project, tmp_path / "all.qdpx", status="all"))
    assert schema.validate(root), schema.error_log
    notes = [d.text for d in root.iterfind(".//q:PlainTextSelection/q:Description", NS)]
    assert len(root.findall(".//q:Coding", NS)) == 6
    assert sorted(re.search(r"status=(\w+)", n).group(1) for n in notes) == ["accepted", "rejected", "suggested"]
    with pytest.raises(InvalidInput, match="unknown status"):
        export_qdpx(project, tmp_path / "x.qdpx", status="suggested")


def test_export_of_the_example_corpus_is_valid(tmp_path: Path, schema: etree.XMLSchema) -> None:
    from qualcode.codebook import load_and_validate
    from qualcode.coding.imports import import_codings

    store = Store.open(tmp_path / "corpus.db", create=True)
    store.save_codebook(load_and_validate())
    report = ingest_paths(store, [EXAMPLE], manifest=EXAMPLE / "manifest.csv", roles=EXAMPLE / "roles.yaml")
    assert report.ok and len(report.files) >= 21
    import_codings(store, EXAMPLE / "codings_dev_coder_a.csv")
    out = export_qdpx(store, tmp_path / "corpus.qdpx")
    root = _qde(out)
    assert schema.validate(root), schema.error_log
    assert len(root.findall("q:Sources/q:TextSource", NS)) == len(report.files)
    assert len(root.findall(".//q:Coding", NS)) == len(coding_rows(store, status="accepted", all_roles=True)) > 100
    names = re.findall(r"^\s{4}(\w+): \w+$", (EXAMPLE / "roles.yaml").read_text(encoding="utf-8"), re.M)
    assert len(names) >= 5
    with zipfile.ZipFile(out) as zf:
        for member in zf.namelist():
            text = zf.read(member).decode("utf-8")
            assert not any(re.search(rf"^{n}:", text, re.M) for n in names), member
    store.close()


# --- round trip ----------------------------------------------------------------------------
def test_round_trip_into_a_fresh_project_is_exact(project: Store, tmp_path: Path) -> None:
    out = export_qdpx(project, tmp_path / "rt.qdpx")
    fresh = Store.memory()
    report = import_qdpx(fresh, out)
    assert sorted(report.documents_added) == ["site_a_es.txt", "site_b_client.vtt", "site_c_client.txt"]
    assert report.notes == []
    assert {d["name"]: d["text"] for d in fresh.documents(with_text=True)} == \
           {d["name"]: d["text"] for d in project.documents(with_text=True)}
    for mine, theirs in zip(project.documents(), fresh.documents()):
        assert [mine[k] for k in ("site", "wave", "date", "participant", "attributes")] == \
               [theirs[k] for k in ("site", "wave", "date", "participant", "attributes")]
    assert fresh.codebook() == project.codebook()  # ids, names, hierarchy, definitions, rules
    assert [(c.id, c.parent, c.definition) for c in fresh.codebook().codes] == \
           [(c.id, c.parent, c.definition) for c in project.codebook().codes]
    assert _codings(fresh, None) == _codings(project)
    seg = ("document", "seq", "start", "end", "role", "speaker")
    assert [[s[k] for k in seg] for s in fresh.segment_rows(all_roles=True)] == \
           [[s[k] for k in seg] for s in project.segment_rows(all_roles=True)]
    assert {r["status"] for r in coding_rows(fresh, all_roles=True)} == {"accepted"}


def test_status_all_round_trip_brings_back_only_accepted_codings(project: Store, tmp_path: Path) -> None:
    fresh = Store.memory()
    report = import_qdpx(fresh, export_qdpx(project, tmp_path / "all.qdpx", status="all"))
    assert _codings(fresh, None) == _codings(project)
    assert any("status suggested" in n for n in report.notes)
    assert any("status rejected" in n for n in report.notes)


def test_reimport_into_the_same_project_adds_nothing_but_new_coders(project: Store, tmp_path: Path) -> None:
    out = export_qdpx(project, tmp_path / "same.qdpx")
    before = project.counts()
    report = import_qdpx(project, out)
    assert (report.documents_added, report.codings, report.codings_already_there) == ([], 0, 4)
    assert project.counts() == before

    # carol codes the export in another program, which saves the text with CRLF line ends
    with zipfile.ZipFile(out) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        texts = {m: zf.read(m).decode("utf-8") for m in zf.namelist() if m.startswith("sources/")}
    doc = project.document_by_name("site_a_es.txt")
    src = root.find("q:Sources/q:TextSource[@name='site_a_es.txt']", NS)
    for sel in src.findall("q:PlainTextSelection", NS):
        if sel.find("q:Coding", NS) is not None:  # its offsets were counted on the LF text
            src.remove(sel)
    crlf = doc["text"].replace("\n", "\r\n")
    start = crlf.index("café by café")
    etree.SubElement(root.find("q:Users", NS), f"{{{QDPX_NS}}}User", guid=user_guid("carol"), name="carol")
    sel = etree.Element(f"{{{QDPX_NS}}}PlainTextSelection", guid=user_guid("x"), startPosition=str(start),
                        endPosition=str(start + 12))
    coding = etree.SubElement(sel, f"{{{QDPX_NS}}}Coding", guid=user_guid("y"), creatingUser=user_guid("carol"))
    etree.SubElement(coding, f"{{{QDPX_NS}}}CodeRef", targetGUID=code_guid("job_start"))
    src.insert(0, sel)
    texts[f"sources/{src.get('guid')}.txt"] = crlf
    back = tmp_path / "back.qdpx"
    with zipfile.ZipFile(back, "w") as zf:
        zf.writestr("project.qde", etree.tostring(root))
        for m, t in texts.items():
            zf.writestr(m, t.encode("utf-8"))
    report = import_qdpx(project, back)
    assert (report.codings, report.coders, report.documents_matched[:1]) == (1, ["carol"], ["site_a_es.txt"])
    row = next(r for r in coding_rows(project) if r["decided_by"] == "carol")
    assert doc["text"][row["start_char"]:row["end_char"]] == "café by café"
    frame, coverage = coder_codings(project, ["alice", "carol"])
    assert coverage["carol"] == {s["segment_id"] for s in project.segment_rows() if s["document"] == "site_a_es.txt"}


def test_import_merges_into_an_existing_codebook(project: Store, tmp_path: Path, tiny_codebook: Codebook) -> None:
    out = export_qdpx(project, tmp_path / "merge.qdpx")
    other = Store.memory()
    codes = [c for c in tiny_codebook.codes if c.id != "wider_benefits"]
    codes[1].definition = "Our own wording."
    other.save_codebook(Codebook(name="Local", codes=codes))
    report = import_qdpx(other, out)
    assert report.codes_added == ["wider_benefits"] and report.codebook_version == 2
    merged = other.codebook()
    assert merged.name == "Local" and merged.get("co_location").definition == "Our own wording."
    assert merged.get("wider_benefits").parent == "outcomes"
    assert _codings(other, None) == _codings(project)


# --- foreign projects -------------------------------------------------------------------------
def test_nvivo_like_project(tmp_path: Path, memory_store: Store) -> None:
    before = {c.id for c in memory_store.codebook().codes}
    report = import_qdpx(memory_store, _pack(FIXTURES / "nvivo", tmp_path / "nvivo.qdpx"))
    assert report.documents_added == ["Interview ES 07", "Employer visit notes"]
    assert report.codes_added == ["employer_engagement", "job_carving", "benefits_worries"]
    assert any("PDF source 'Service leaflet'" in n for n in report.notes)
    assert any("1 codings of cases" in n for n in report.notes)
    cb = memory_store.codebook()
    assert {c.id for c in cb.codes} == before | set(report.codes_added)
    assert cb.get("job_carving").parent == "employer_engagement"
    assert cb.get("job_carving").definition == "Shaping a job around what the client can do."
    interview = memory_store.document_by_name("Interview ES 07")
    raw = (FIXTURES / "nvivo" / "Sources" / "0B3C6B55-2D6C-4E7F-9C61-4A3F1E0D2A11.txt").read_bytes().decode()
    assert interview["text"] == raw and "\r\n" in raw  # kept as is: NVivo counts CRLF as two
    assert (interview["site"], interview["attributes"]) == ("Luton", {"Interview mode": "Teams"})
    notes = memory_store.document_by_name("Employer visit notes")
    assert notes["attributes"] == {"Interview mode": "Visit"}
    got = {(r["document"], r["code"], r["decided_by"], memory_store.document_by_name(r["document"])["text"]
            [r["start_char"]:r["end_char"]], r["role"]) for r in coding_rows(memory_store, all_roles=True)}
    assert got == {
        ("Interview ES 07", "job_carving", "Sam Evaluator", "we carve a job around what the client can do", "es"),
        ("Interview ES 07", "benefits_worries", "Jo Analyst", "Clients worry a lot about losing their benefits", "es"),
        ("Interview ES 07", "employer_engagement", "Sam Evaluator",
         "Clients worry a lot about losing their benefits", "es"),
        ("Employer visit notes", "employer_engagement", "Jo Analyst", "they would take a trial placement", "unknown"),
    }
    roles = [(s["role"], s["text"][:11]) for s in memory_store.segment_rows(all_roles=True)
             if s["document"] == "Interview ES 07"]
    assert roles == [("interviewer", "How do you "), ("es", "I go and me"), ("interviewer", "And benefit"),
                     ("es", "Clients wor")]


def test_qualcoder_like_project_with_relative_paths(tmp_path: Path, tiny_codebook_path: Path) -> None:
    shutil.copytree(FIXTURES / "qualcoder_texts", tmp_path / "texts")
    (tmp_path / "roles.yaml").write_text("labels:\n  Grace: client\n", encoding="utf-8")
    store = Store.memory()
    report = import_qdpx(store, _pack(FIXTURES / "qualcoder", tmp_path / "qc.qdpx"), coder_default="unknown coder",
                         roles=tmp_path / "roles.yaml")
    assert report.coders == ["colin", "unknown coder"] and report.codings == 4
    assert any("outside the archive" in n for n in report.notes)
    assert any("Grace=client" in n for n in report.notes)  # a name stays in the text: the report says so
    cb = store.codebook()
    assert [(c.id, c.parent) for c in cb.codes] == [("support", None), ("persistence", "support"),
                                                    ("accompanying", "support"), ("wellbeing", None)]
    texts = {d["name"]: d["text"] for d in store.documents(with_text=True)}
    roles = {r["coding_id"]: r["role"] for r in coding_rows(store, all_roles=True)}
    assert sorted(roles.values()) == ["client", "client", "client", "unknown"]
    got = sorted((doc, code, coder, texts[doc][start:end]) for doc, start, end, code, coder in _codings(store))
    assert got == [
        ("client_b.txt", "accompanying", "colin",
         "My worker never gave up on me.\nShe came to the job centre with me, twice."),
        ("client_b.txt", "persistence", "colin", "never gave up on me"),
        ("client_b.txt", "wellbeing", "unknown coder", "she checked in"),  # after an emoji: code points
        ("manager_c", "persistence", "colin", "The ES now sits with the team on Tuesdays.\nReferrals have doubled"),
    ]
    segs = [(s["text"], s["start_ms"]) for s in store.segment_rows(all_roles=True) if s["document"] == "client_b.txt"]
    assert segs[1] == ("My worker never gave up on me.\nShe came to the job centre with me, twice.", 9000)
    paragraphs = [s["text"] for s in store.segment_rows() if s["document"] == "manager_c"]
    assert paragraphs == ["Team meeting notes, March.", "The ES now sits with the team on Tuesdays.",
                          "Referrals have doubled since then."]


def test_atlas_ti_counts_a_windows_line_end_as_one(tmp_path: Path) -> None:
    text = "Interviewer: Why?\r\nIPS ES: Because the team trusts us now.\r\n"
    start = text.replace("\r\n", "\n").index("the team trusts us")
    path = _write_qdpx(tmp_path / "atlas.qdpx", _project(start=start, end=start + 18, origin="ATLAS.ti 23"),
                       {f"sources/{SOURCE_GUID}.txt": text})
    store = Store.memory()
    import_qdpx(store, path)
    doc = store.document_by_name("one.txt")
    row = coding_rows(store)[0]
    assert "\r" not in doc["text"] and doc["text"][row["start_char"]:row["end_char"]] == "the team trusts us"


# --- broken projects -------------------------------------------------------------------------
TEXT = "Interviewer: What changed?\nIPS ES: We now go to every team meeting.\n"
SOURCE_GUID = "11111111-1111-4111-8111-111111111111"
CODE_GUID = "22222222-2222-4222-8222-222222222222"


def _project(start: int = 35, end: int = 50, code: str = CODE_GUID, path: str = f"internal://{SOURCE_GUID}.txt",
             origin: str = "test", extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="broken" origin="{origin}">
  <CodeBook>
    <Codes>
      <Code guid="{CODE_GUID}" name="Team meetings" isCodable="true"/>
    </Codes>
  </CodeBook>
  <Sources>
    <TextSource guid="{SOURCE_GUID}" name="one.txt" plainTextPath="{path}">
      <PlainTextSelection guid="33333333-3333-4333-8333-333333333333" startPosition="{start}" endPosition="{end}">
        <Coding guid="44444444-4444-4444-8444-444444444444"><CodeRef targetGUID="{code}"/></Coding>
      </PlainTextSelection>{extra}
    </TextSource>
  </Sources>
</Project>
"""


def _write_qdpx(path: Path, qde: str | None, texts: dict[str, str], member: str = "project.qde") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        if qde is not None:
            zf.writestr(member, qde)
        for m, t in texts.items():
            zf.writestr(m, t.encode("utf-8"))
    return path


def _line(qde: str, marker: str) -> int:
    return qde[:qde.index(marker)].count("\n") + 1


def test_the_minimal_project_imports(tmp_path: Path, memory_store: Store) -> None:
    path = _write_qdpx(tmp_path / "ok.qdpx", _project(), {f"sources/{SOURCE_GUID}.txt": TEXT})
    report = import_qdpx(memory_store, path)
    assert report.codes_added == ["team_meetings"] and report.codings == 1
    row = coding_rows(memory_store)[0]
    assert TEXT[row["start_char"]:row["end_char"]] == TEXT[35:50] == "We now go to ev"


@pytest.mark.parametrize("case", ["malformed", "outside", "negative", "unknown_code", "missing_text",
                                  "not_a_number", "no_qde", "not_zip", "no_coderef", "escape"])
def test_broken_projects_name_file_and_line_and_import_nothing(tmp_path: Path, memory_store: Store,
                                                                 case: str) -> None:
    ok_text = {f"sources/{SOURCE_GUID}.txt": TEXT}
    qde, texts, message, marker = _project(), ok_text, "", None
    if case == "malformed":
        qde = qde.replace("</Codes>", "</Code>")
        message, marker = "malformed XML", "</Code>\n  </CodeBook>"
    elif case == "outside":
        qde = _project(start=40, end=len(TEXT) + 1)
        message, marker = "outside the text of 'one.txt'", "<PlainTextSelection"
    elif case == "negative":
        qde = _project(start=-1, end=5)
        message, marker = "outside the text", "<PlainTextSelection"
    elif case == "unknown_code":
        qde = _project(code="55555555-5555-4555-8555-555555555555")
        message, marker = "not in the codebook", "<Coding"
    elif case == "missing_text":
        texts = {}
        message, marker = "not in the archive", "<TextSource"
    elif case == "not_a_number":
        qde = _project().replace('endPosition="50"', 'endPosition="fifty"')
        message, marker = "whole-number", "<PlainTextSelection"
    elif case == "no_coderef":
        qde = re.sub(r"<CodeRef[^>]*/>", "", qde)
        message, marker = "no <CodeRef>", "<Coding"
    elif case == "escape":  # a relative path may not reach files outside the .qdpx's folder
        outside = tmp_path.parent / f"{tmp_path.name}_outside.txt"
        outside.write_text(TEXT, encoding="utf-8")
        qde, texts = _project(path=f"relative://../{outside.name}"), {}
        message, marker = "not in the archive", "<TextSource"
    elif case == "no_qde":
        qde, message = None, "no .qde project file"
    path = _write_qdpx(tmp_path / "broken.qdpx", qde, texts)
    if case == "not_zip":
        path.write_text("not a zip", encoding="utf-8")
        message = "not a readable"
    before, version = memory_store.counts(), memory_store.codebook_version()
    with pytest.raises(InvalidInput, match=re.escape(message)) as err:
        import_qdpx(memory_store, path)
    assert "broken.qdpx" in str(err.value)
    if marker is not None:
        assert err.value.line == _line(qde, marker) and f"line {err.value.line}" in str(err.value)
    assert memory_store.counts() == before and memory_store.codebook_version() == version


def test_a_document_name_clash_with_another_text_imports_nothing(tmp_path: Path, memory_store: Store) -> None:
    path = _write_qdpx(tmp_path / "one.qdpx", _project(), {f"sources/{SOURCE_GUID}.txt": TEXT})
    import_qdpx(memory_store, path)
    before = memory_store.counts()
    other = _write_qdpx(tmp_path / "two.qdpx", _project(), {f"sources/{SOURCE_GUID}.txt": TEXT + "More words.\n"})
    with pytest.raises(InvalidInput, match="already has a document named 'one.txt'"):
        import_qdpx(memory_store, other)
    assert memory_store.counts() == before


# --- command line ------------------------------------------------------------------------------
def test_cli_export_then_import(project: Store, tmp_path: Path, transcripts: Path) -> None:
    runner = CliRunner()
    source = tmp_path / "source.db"
    assert runner.invoke(main, ["--project", str(source), "init", "--codebook",
                                str(Path(__file__).parent / "fixtures" / "codebooks" / "tiny.yaml")]).exit_code == 0
    assert runner.invoke(main, ["--project", str(source), "ingest", str(transcripts)]).exit_code == 0
    out = tmp_path / "cli.qdpx"
    result = runner.invoke(main, ["--project", str(source), "export", "qdpx", "--out", str(out)])
    assert result.exit_code == 0 and f"wrote {out}" in result.output
    target = tmp_path / "target.db"
    runner.invoke(main, ["--project", str(target), "init", "--codebook",
                         str(Path(__file__).parent / "fixtures" / "codebooks" / "tiny.yaml")])
    result = runner.invoke(main, ["--project", str(target), "import", "qdpx", str(out)])
    assert result.exit_code == 0, result.output
    assert "documents: 3 added" in result.output and "codings: 0 imported" in result.output
    bad = _write_qdpx(tmp_path / "bad.qdpx", _project(end=999), {f"sources/{SOURCE_GUID}.txt": TEXT})
    result = runner.invoke(main, ["--project", str(target), "import", "qdpx", str(bad)])
    assert result.exit_code == 1 and "bad.qdpx!project.qde, line 10: selection 35-999" in result.output
