"""The store's reads behind review and the web app: coding records, reviewed segments, and
codings of one document."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.coding.base import Suggestion
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.codings import (
    Decision, apply_decisions, coding_records, coding_rows, codings_frame, reviewed_segments, store_suggestions,
)
from qualcode.store.repo import Store


@pytest.fixture
def store(memory_store: Store, transcripts: Path) -> Store:
    ingest_paths(memory_store, [transcripts], manifest=transcripts / "manifest.csv")
    es, cafe, client = (s["segment_id"] for s in memory_store.segment_rows())
    store_suggestions(memory_store, [
        Suggestion(es, "co_location", "rule", 0.8, {"rule": "co_location.days_a_week"}),
        Suggestion(client, "wider_benefits", "rule", 0.6, {"rule": "wider_benefits.routine"}),
    ], "rule")
    store_suggestions(memory_store, [Suggestion(es, "job_start", "classifier", 0.7, {"score": 0.7})], "classifier")
    return memory_store


def ids(store: Store) -> tuple[int, int, int]:
    es, cafe, client = (s["segment_id"] for s in store.segment_rows())
    return es, cafe, client


def test_coding_rows_of_one_document(store: Store) -> None:
    docs = {d["name"]: d["id"] for d in store.documents()}
    everything = coding_rows(store, all_roles=True)
    assert {r["document"] for r in everything} == {"site_a_es.txt", "site_b_client.vtt"}
    es_rows = coding_rows(store, all_roles=True, document_id=docs["site_a_es.txt"])
    assert [r["code"] for r in es_rows] == ["co_location", "job_start"]
    assert {r["document"] for r in es_rows} == {"site_a_es.txt"}
    assert [r["code"] for r in coding_rows(store, document_id=docs["site_b_client.vtt"], source="rule")] == [
        "wider_benefits"]
    assert coding_rows(store, document_id=docs["site_b_client.vtt"], source="classifier") == []
    assert coding_rows(store, document_id=99999) == []
    assert list(codings_frame(store, document_id=docs["site_a_es.txt"])["code"]) == ["co_location", "job_start"]


def test_coding_records_filter_by_segment_and_coding(store: Store) -> None:
    es, cafe, client = ids(store)
    records = coding_records(store)
    assert [(r["segment_id"], r["code"], r["source"]) for r in records] == [
        (es, "co_location", "rule"), (es, "job_start", "classifier"), (client, "wider_benefits", "rule")]
    assert set(records[0]) == {"coding_id", "segment_id", "code", "source", "confidence", "provenance", "status",
                               "decided_by"}
    assert [r["code"] for r in coding_records(store, segment_ids=[client])] == ["wider_benefits"]
    assert coding_records(store, segment_ids=[cafe]) == []
    one = records[1]["coding_id"]
    assert [r["coding_id"] for r in coding_records(store, coding_ids=[one])] == [one]
    assert coding_records(store, segment_ids=[es], coding_ids=[records[2]["coding_id"]]) == []


def test_reviewed_segments_per_coder_and_among_segments(store: Store) -> None:
    es, cafe, client = ids(store)
    assert reviewed_segments(store) == set()
    apply_decisions(store, [], reviewed=[cafe], reviewer="alice")  # nothing to code here
    first = coding_records(store, segment_ids=[es])[0]["coding_id"]
    apply_decisions(store, [Decision("reject", "bob", coding_id=first)])
    assert reviewed_segments(store) == {cafe, es}
    assert reviewed_segments(store, "alice") == {cafe}
    assert reviewed_segments(store, "bob") == {es}
    assert reviewed_segments(store, "carol") == set()
    assert reviewed_segments(store, segment_ids=[es, client]) == {es}
    assert reviewed_segments(store, "alice", segment_ids=[es, client]) == set()
    assert reviewed_segments(store, segment_ids=[]) == set()
