"""Suggestions, decisions, undo and imports in a real store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from qualcode.coding.base import Suggestion
from qualcode.coding.imports import import_codings
from qualcode.errors import InvalidInput
from qualcode.export.codings import export_codings
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import Decision, apply_decisions, coder_codings, coding_rows, store_suggestions, undo_last
from qualcode.store.repo import Store


@pytest.fixture
def store(memory_store: Store, transcripts: Path) -> Store:
    ingest_paths(memory_store, [transcripts], manifest=transcripts / "manifest.csv")
    return memory_store


def _segs(store: Store) -> list[dict]:
    return store.segment_rows()


def test_suggestions_replace_open_ones_but_never_decisions(store: Store) -> None:
    a, b = _segs(store)[0]["segment_id"], _segs(store)[1]["segment_id"]
    first = store_suggestions(store, [Suggestion(a, "co_location", "rule", 0.9, {"rule": "r1", "span": [10, 20]}),
                                      Suggestion(b, "job_start", "rule", 0.8, {"rule": "r2"})], "rule")
    assert first.added == 2
    row = next(r for r in coding_rows(store) if r["code"] == "co_location")
    assert (row["start_char"], row["end_char"]) == (10, 20)
    apply_decisions(store, [Decision("accept", "alice", coding_id=row["coding_id"])])
    second = store_suggestions(store, [Suggestion(a, "co_location", "rule", 0.9, {"rule": "r1"}),
                                       Suggestion(a, "team_exclusion", "rule", 0.7, {"rule": "r3"})], "rule")
    assert (second.added, second.replaced, second.kept) == (1, 1, 1)
    rows = {(r["code"], r["status"]) for r in coding_rows(store)}
    assert rows == {("co_location", "accepted"), ("team_exclusion", "suggested")}
    with pytest.raises(InvalidInput):
        store_suggestions(store, [Suggestion(a, "nope", "rule", 1.0)], "rule")


def test_second_coder_gets_own_copy_and_undo_is_an_event(store: Store) -> None:
    seg = _segs(store)[0]["segment_id"]
    store_suggestions(store, [Suggestion(seg, "co_location", "classifier", 0.6, {"model": "m"})], "classifier")
    cid = coding_rows(store)[0]["coding_id"]
    apply_decisions(store, [Decision("accept", "alice", coding_id=cid)])
    apply_decisions(store, [Decision("reject", "bob", coding_id=cid)])
    by_coder = {r["decided_by"]: r["status"] for r in coding_rows(store)}
    assert by_coder == {"alice": "accepted", "bob": "rejected"}
    undone = undo_last(store, "bob")
    assert undone["undid"] == "reject" and undone["status"] == "suggested"
    assert {r["decided_by"]: r["status"] for r in coding_rows(store)} == {"alice": "accepted", "bob": "suggested"}
    # a second undo has nothing left of bob's to undo but his earlier ones; none remain
    assert undo_last(store, "bob") is None
    from sqlalchemy import func, select

    from qualcode.store.schema import coding_events

    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(coding_events)).scalar_one() == 3


def test_failed_batch_applies_nothing(store: Store) -> None:
    seg = _segs(store)[0]["segment_id"]
    with pytest.raises(InvalidInput, match="decision 2"):
        apply_decisions(store, [Decision("add", "alice", segment_id=seg, code="job_start"),
                                Decision("add", "alice", segment_id=seg, code="unknown_code")])
    assert coding_rows(store) == []


def test_import_codings_by_quote_and_id_then_agreement_inputs(store: Store, tmp_path: Path) -> None:
    segs = _segs(store)
    f = tmp_path / "codings.csv"
    f.write_text(
        "document,quote,code,coder\n"
        "site_a_es.txt,three days a week,co_location,gold\n"
        f"site_b_client.vtt,texted me every week,job_start,gold\n",
        encoding="utf-8",
    )
    result = import_codings(store, f)
    assert result.applied == 2 and result.coders == ["gold"]
    g = tmp_path / "ids.csv"
    g.write_text(f"segment_id,code\n{segs[0]['segment_id']},co_location\n", encoding="utf-8")
    import_codings(store, g, coder="bob")
    frame, coverage = coder_codings(store, ["gold", "bob", "rules"])
    assert set(frame[frame.coder == "gold"].code) == {"co_location", "job_start"}
    assert coverage["gold"] == {s["segment_id"] for s in segs}
    assert coverage["bob"] == {s["segment_id"] for s in segs if s["document"] == "site_a_es.txt"}

    out = tmp_path / "out.csv"
    assert export_codings(store, out, status="accepted", source="human") == 3
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["code_path"] in ("integration/co_location", "outcomes/job_start")
    assert {r["coder"] for r in rows} == {"gold", "bob"}


@pytest.mark.parametrize(
    "body, message",
    [
        ("document,quote,code\nsite_a_es.txt,three days a week,not_a_code\n", "row 2"),
        ("document,quote,code\nsite_a_es.txt,three days a week,co_location\nsite_a_es.txt,no such words,co_location\n", "row 3"),
        ("segment_id,code\n99999,co_location\n", "unknown segment"),
        ("text,code\nx,co_location\n", "row 1"),
    ],
)
def test_import_errors_name_the_row_and_apply_nothing(store: Store, tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message) as err:
        import_codings(store, f, coder="alice")
    assert "bad.csv" in str(err.value)
    assert coding_rows(store) == []
