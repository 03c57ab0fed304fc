"""The Excel review sheet: the rows, the workbook, reading it back all-or-nothing, and the commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from qualcode.cli import main
from qualcode.coding.base import Suggestion
from qualcode.coding.review import (
    STATUSES, SuggestionView, describe_suggestion, import_review_sheet, read_review_sheet, review_frame,
)
from qualcode.errors import InvalidInput, QualcodeError
from qualcode.export.review_sheet import write_review_sheet
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import Decision, apply_decisions, coding_rows, store_suggestions
from qualcode.store.repo import Store
from qualcode.store.schema import coding_events, segment_reviews

SHEET_CODES = ["integration", "co_location", "team_exclusion", "outcomes", "job_start", "wider_benefits"]


@pytest.fixture
def store(memory_store: Store, transcripts: Path) -> Store:
    """The two small transcripts: three segments eligible for coding, with suggestions on two."""
    ingest_paths(memory_store, [transcripts], manifest=transcripts / "manifest.csv")
    es, cafe, client = (s["segment_id"] for s in memory_store.segment_rows())
    store_suggestions(memory_store, [
        Suggestion(es, "co_location", "rule", 0.8, {"rule": "co_location.days_a_week", "matched": "three days a week"}),
        Suggestion(client, "wider_benefits", "rule", 0.6, {"rule": "wider_benefits.routine", "matched": "every week",
                                                          "hedged": True}),
    ], "rule")
    store_suggestions(memory_store, [
        Suggestion(es, "job_start", "classifier", 0.71, {"model": "classifier", "score": 0.71}),
        Suggestion(client, "job_start", "classifier", 0.55, {"model": "classifier", "score": 0.55}),
    ], "classifier")
    return memory_store


def seg_ids(store: Store) -> tuple[int, int, int]:
    es, cafe, client = (s["segment_id"] for s in store.segment_rows())
    return es, cafe, client


def count(store: Store, table) -> int:  # noqa: ANN001
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def reviews(store: Store) -> set[tuple[int, str]]:
    with store.read() as conn:
        return {(r.segment_id, r.coder) for r in conn.execute(select(segment_reviews))}


def fill(path: Path, edits: dict[int, dict[str, object]], *, sheet: str = "review") -> None:
    """Set cells of a saved sheet by data row (1 = first segment) and column name."""
    wb = load_workbook(path)
    ws = wb[sheet]
    cols = {c.value: c.column for c in ws[1]}
    for row, values in edits.items():
        for name, value in values.items():
            ws.cell(row=row + 1, column=cols[name], value=value)
    wb.save(path)


# -- the rows --------------------------------------------------------------------------------
def test_review_frame_rows_context_and_readable_suggestions(store: Store) -> None:
    es, cafe, client = seg_ids(store)
    frame = review_frame(store, status="all")
    assert list(frame.columns[:7]) == ["segment_id", "document", "site", "role", "context", "text", "suggestions"]
    assert list(frame.columns[7:13]) == ["suggested_1", "decision_1", "suggested_2", "decision_2",
                                         "suggested_3", "decision_3"]
    assert [c for c in frame.columns if c.startswith(("add_", "done", "note"))] == ["add_1", "add_2", "add_3",
                                                                                   "done", "note"]
    assert list(frame["segment_id"]) == [es, cafe, client]  # interviewer turns left out, turn order kept
    first = frame.iloc[0]
    assert first["context"] == "Interviewer: How is the team working with you?"
    assert first["suggestions"] == "co_location (rule 0.80: 'three days a week'); job_start (classifier 0.71)"
    assert (first["suggested_1"], first["suggested_2"], first["suggested_3"]) == ("co_location", "job_start", None)
    by_id = {r["code"]: r["coding_id"] for r in coding_rows(store) if r["segment_id"] == es}
    assert (first["coding_id_1"], first["coding_id_2"]) == (by_id["co_location"], by_id["job_start"])
    assert frame.iloc[1]["context"] == "Interviewer: And employers?" and frame.iloc[1]["suggestions"] == ""
    assert frame.iloc[2]["context"] == "Interviewer: What helped you most?"
    assert frame.iloc[2]["suggestions"] == "job_start (classifier 0.55); wider_benefits (rule 0.60, hedged: 'every week')"
    # 'suggested' (the default) keeps segments with an open suggestion; documents filter
    assert list(review_frame(store)["segment_id"]) == [es, client]
    assert list(review_frame(store, "all", ["site_b_client.vtt"])["segment_id"]) == [client]
    with pytest.raises(InvalidInput, match="unknown document 'nope.txt'"):
        review_frame(store, "all", ["nope.txt"])
    with pytest.raises(InvalidInput, match="unknown status"):
        review_frame(store, "open")


def test_slots_grow_with_the_most_suggested_segment(store: Store) -> None:
    es = seg_ids(store)[0]
    store_suggestions(store, [Suggestion(es, c, "rule", 0.6, {"rule": f"{c}.r"}) for c in
                              ("co_location", "team_exclusion", "job_start", "wider_benefits")], "rule")
    frame = review_frame(store, "all")
    assert "suggested_5" in frame.columns and "decision_5" in frame.columns and "suggested_6" not in frame.columns
    assert frame.iloc[0]["suggested_5"] == "wider_benefits"


def test_describe_suggestion_shows_provenance() -> None:
    s = SuggestionView(1, 1, "team_exclusion", "rule", 0.56, {"rule": "co_location.on_site", "matched": "not  on site",
                                                              "negated_from": "co_location"}, "suggested")
    assert describe_suggestion(s) == "team_exclusion (rule 0.56, negated co_location: 'not on site')"
    assert describe_suggestion(s, rule_id=True).startswith("team_exclusion (rule co_location.on_site 0.56")
    c = SuggestionView(2, 1, "job_start", "classifier", 0.714, {"score": 0.714}, "accepted")
    assert describe_suggestion(c, rule_id=True) == "job_start (classifier 0.71)"


def test_coder_sees_own_decisions_and_others_stay_open(store: Store) -> None:
    es, _, client = seg_ids(store)
    rows = {(r["segment_id"], r["code"]): r["coding_id"] for r in coding_rows(store)}
    apply_decisions(store, [Decision("accept", "alice", coding_id=rows[(es, "co_location")]),
                            Decision("reject", "alice", coding_id=rows[(es, "job_start")])])
    alice = review_frame(store, "all", coder="alice")
    assert (alice.iloc[0]["decision_1"], alice.iloc[0]["decision_2"]) == ("accept", "reject")
    assert list(review_frame(store, coder="alice")["segment_id"]) == [client]  # nothing open for her at es
    assert list(review_frame(store, coder="bob")["segment_id"]) == [es, client]
    assert review_frame(store, coder="bob").iloc[0]["decision_1"] is None
    assert list(review_frame(store, "unreviewed", coder="alice")["segment_id"]) == [seg_ids(store)[1], client]


# -- the workbook ----------------------------------------------------------------------------
def test_workbook_layout_dropdowns_and_hidden_sheets(store: Store, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "review.xlsx"
    assert write_review_sheet(store, out, status="all", coder="alice") == 3
    assert [p.name for p in out.parent.iterdir()] == ["review.xlsx"]  # no temporary file left
    wb = load_workbook(out)
    assert wb.sheetnames == ["review", "instructions", "codes", "coding_ids"]
    assert [wb[s].sheet_state for s in wb.sheetnames] == ["visible", "visible", "hidden", "hidden"]
    ws = wb["review"]
    header = [c.value for c in ws[1]]
    assert header[:7] == ["segment_id", "document", "site", "role", "context", "text", "suggestions"]
    assert not any(h.startswith("coding_id") for h in header)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref and all(c.font.b for c in ws[1])
    col = {h: i + 1 for i, h in enumerate(header)}
    context = ws.cell(row=2, column=col["context"])
    assert context.font.i and context.font.color.rgb.endswith("7F7F7F")
    assert ws.cell(row=2, column=col["text"]).alignment.wrap_text
    assert ws.column_dimensions["F"].width >= 60
    assert ws.cell(row=2, column=col["decision_1"]).fill.fgColor.rgb.endswith("E2EFDA")
    rules = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert set(rules) == {'"accept,reject"', "'codes'!$A$2:$A$7", '"yes"'}
    assert "I2:I4" in rules['"accept,reject"'] and "X2:X4" not in rules['"accept,reject"']
    assert [r[0] for r in wb["codes"].iter_rows(min_row=2, values_only=True)] == SHEET_CODES
    ids = list(wb["coding_ids"].iter_rows(values_only=True))
    es = seg_ids(store)[0]
    by_code = {r["code"]: r["coding_id"] for r in coding_rows(store) if r["segment_id"] == es}
    assert ids[0] == ("segment_id", "slot", "coding_id", "code")
    assert ids[1:3] == [(es, 1, by_code["co_location"], "co_location"), (es, 2, by_code["job_start"], "job_start")]
    text = " ".join(str(c) for row in wb["instructions"].iter_rows(values_only=True) for c in row if c)
    assert "decision_N" in text and "qualcode import review" in text and "Exported" in text and "alice" in text


def test_write_refuses_other_suffixes_and_missing_folders(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="xlsx"):
        write_review_sheet(store, tmp_path / "review.csv")
    with pytest.raises(QualcodeError, match="does not exist"):
        write_review_sheet(store, tmp_path / "missing" / "review.xlsx")


# -- reading it back -------------------------------------------------------------------------
def test_round_trip_applies_decisions_adds_and_done(store: Store, tmp_path: Path) -> None:
    es, cafe, client = seg_ids(store)
    out = tmp_path / "review.xlsx"
    write_review_sheet(store, out, status="all")
    fill(out, {
        1: {"decision_1": "accept", "decision_2": "Reject ", "add_1": "team_exclusion", "note": "clear case"},
        2: {"done": "yes"},
        3: {"add_1": "job_start", "add_2": "integration"},  # job_start is suggested there: accepted, not added
    })
    decisions, reviewed, summary = read_review_sheet(out, store, coder="alice")
    assert reviewed == {es, cafe, client}
    assert (summary.accepted, summary.rejected, summary.added, summary.reviewed) == (2, 1, 2, 3)
    assert count(store, coding_events) == 0  # reading writes nothing

    summary = import_review_sheet(store, out, coder="alice")
    mine = {(r["segment_id"], r["code"], r["source"]): r["status"] for r in coding_rows(store) if r["decided_by"] == "alice"}
    assert mine == {
        (es, "co_location", "rule"): "accepted", (es, "job_start", "classifier"): "rejected",
        (es, "team_exclusion", "human"): "accepted", (client, "job_start", "classifier"): "accepted",
        (client, "integration", "human"): "accepted",
    }
    with store.read() as conn:
        notes = [r.note for r in conn.execute(select(coding_events.c.note))]
    assert notes.count("clear case") == 3  # on each decision of that row
    assert reviews(store) == {(es, "alice"), (cafe, "alice"), (client, "alice")}
    events = count(store, coding_events)
    assert events == 5

    again = import_review_sheet(store, out, coder="alice")  # the same sheet twice changes nothing
    assert (again.accepted, again.rejected, again.added, again.unchanged) == (0, 0, 0, 5)
    assert count(store, coding_events) == events


def test_second_coder_importing_gets_own_copies(store: Store, tmp_path: Path) -> None:
    es = seg_ids(store)[0]
    out = tmp_path / "review.xlsx"
    write_review_sheet(store, out)
    fill(out, {1: {"decision_1": "accept"}})
    import_review_sheet(store, out, coder="alice")
    fill(out, {1: {"decision_1": "reject"}})
    import_review_sheet(store, out, coder="bob")
    got = {r["decided_by"]: r["status"] for r in coding_rows(store) if r["segment_id"] == es and r["code"] == "co_location"}
    assert got == {"alice": "accepted", "bob": "rejected"}


BAD_CASES = [
    ({"add_2": "not_a_code"}, "row 3: add_2: unknown code 'not_a_code'"),
    ({"segment_id": 99999}, "row 3: unknown segment id 99999"),
    ({"decision_1": "maybe"}, "row 3: decision_1 is 'maybe'"),
    ({"decision_3": "accept"}, "row 3: decision_3 has no suggestion"),
    ({"suggested_1": "co_location", "decision_1": "accept"}, "row 3: suggested_1 reads 'co_location'"),
    ({"done": "nearly"}, "row 3: done is 'nearly'"),
    ({"decision_2": "reject", "add_1": "wider_benefits"}, "row 3: add_1: wider_benefits is both added and rejected"),
]


@pytest.mark.parametrize("edit, message", BAD_CASES)
def test_one_bad_row_names_file_and_row_and_applies_nothing(store: Store, tmp_path: Path, edit: dict,
                                                           message: str) -> None:
    out = tmp_path / "review.xlsx"
    write_review_sheet(store, out)  # rows: es (row 2), client (row 3)
    fill(out, {1: {"decision_1": "accept", "done": "yes", "add_1": "integration"}, 2: edit})
    with pytest.raises(InvalidInput) as err:
        import_review_sheet(store, out, coder="alice")
    assert str(err.value).startswith(f"{out}, {message}")
    assert all(r["decided_by"] is None and r["status"] == "suggested" for r in coding_rows(store))
    assert count(store, coding_events) == 0 and reviews(store) == set()


@pytest.mark.parametrize("target, message", [("unknown", "unknown coding id 424242"),
                                             ("other", "belongs to segment")])
def test_coding_ids_are_checked_against_the_segment(store: Store, tmp_path: Path, target: str, message: str) -> None:
    es, _, client = seg_ids(store)
    out = tmp_path / "review.xlsx"
    write_review_sheet(store, out)
    other = next(r["coding_id"] for r in coding_rows(store) if r["segment_id"] == es and r["code"] == "job_start")
    wb = load_workbook(out)
    ids = wb["coding_ids"]
    row = next(r for r in ids.iter_rows(min_row=2) if r[0].value == client and r[1].value == 2)
    row[2].value = 424242 if target == "unknown" else other
    wb.save(out)
    fill(out, {1: {"decision_1": "accept"}, 2: {"decision_2": "accept"}})
    with pytest.raises(InvalidInput, match=message) as err:
        import_review_sheet(store, out, coder="alice")
    assert "row 3" in str(err.value) and "review.xlsx" in str(err.value)
    assert count(store, coding_events) == 0


def test_duplicate_rows_and_files_that_are_not_review_sheets(store: Store, tmp_path: Path) -> None:
    es = seg_ids(store)[0]
    out = tmp_path / "review.xlsx"
    write_review_sheet(store, out)
    fill(out, {2: {"segment_id": es}})
    with pytest.raises(InvalidInput, match=f"row 3: segment {es} is also on row 2"):
        read_review_sheet(out, store, coder="alice")
    with pytest.raises(InvalidInput, match="coder name"):
        read_review_sheet(out, store, coder=" ")
    fill(out, {2: {"segment_id": seg_ids(store)[2], "decision_1": "accept"}})
    wb = load_workbook(out)
    del wb["coding_ids"]
    wb.save(out)
    with pytest.raises(InvalidInput, match="row 3: decision_1 cannot be read: the hidden sheet 'coding_ids' is missing"):
        read_review_sheet(out, store, coder="alice")
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InvalidInput, match="junk.xlsx: not an .xlsx workbook"):
        read_review_sheet(junk, store, coder="alice")
    from openpyxl import Workbook

    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    with pytest.raises(InvalidInput, match="no sheet 'review'"):
        read_review_sheet(other, store, coder="alice")
    with pytest.raises(InvalidInput, match="cannot read file"):
        read_review_sheet(tmp_path / "absent.xlsx", store, coder="alice")


def test_note_without_a_decision_is_reported(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "review.xlsx"
    write_review_sheet(store, out)
    fill(out, {1: {"note": "come back to this"}, 2: {"done": "yes", "note": "nothing here"}})
    _, reviewed, summary = read_review_sheet(out, store, coder="alice")
    assert summary.notes_unsaved == 2 and reviewed == {seg_ids(store)[2]}


# -- the commands ----------------------------------------------------------------------------
def test_export_and_import_review_commands(project_file: Path, transcripts: Path, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str):  # noqa: ANN202
        return runner.invoke(main, ["--project", str(project_file), *args], catch_exceptions=False)

    assert run("ingest", str(transcripts), "--manifest", str(transcripts / "manifest.csv")).exit_code == 0
    with Store.open(project_file) as s:
        es = seg_ids(s)[0]
        store_suggestions(s, [Suggestion(es, "co_location", "rule", 0.8, {"rule": "r", "matched": "three days"})], "rule")
    out = tmp_path / "sheet.xlsx"
    result = run("export", "review", "--out", str(out), "--coder", "alice")
    assert result.exit_code == 0 and "1 segments" in result.output
    fill(out, {1: {"decision_1": "accept", "add_1": "job_start"}})
    result = run("import", "review", str(out), "--coder", "alice")
    assert result.exit_code == 0, result.output
    assert "accepted 1, rejected 0, added 1, segments reviewed 1" in result.output
    result = run("export", "review", "--out", str(tmp_path / "all.xlsx"), "--status", "all",
                 "--documents", "site_b_client.vtt")
    assert result.exit_code == 0 and "(1 segments" in result.output
    fill(out, {1: {"add_2": "bogus"}})
    result = run("import", "review", str(out), "--coder", "bob")
    assert result.exit_code == 1 and "sheet.xlsx, row 2: add_2: unknown code 'bogus'" in result.output
    with Store.open(project_file) as s:
        assert {r["decided_by"] for r in coding_rows(s)} == {"alice"}
    assert run("import", "review", str(out)).exit_code == 2  # --coder is required


def test_command_statuses_match_the_library() -> None:
    from qualcode.commands.review import STATUSES as COMMAND_STATUSES

    assert COMMAND_STATUSES == STATUSES


def test_review_runs_no_sql_of_its_own() -> None:
    """The store owns the SQL: review.py asks qualcode.store for what it needs."""
    import ast

    import qualcode.coding.review as review

    tree = ast.parse(Path(review.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and (m.startswith("sqlalchemy") or m == "qualcode.store.schema")}
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert not calls & {"execute", "read", "write", "connect"}
