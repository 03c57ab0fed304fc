"""The store's one code path on SQLite and PostgreSQL: the same operations, the same results,
and two coders writing at once lose nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from qualcode.coding.base import Suggestion
from qualcode.errors import ProjectError
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store import db
from qualcode.store.codings import Decision, apply_decisions, coding_rows, store_suggestions, undo_last
from qualcode.store.repo import Store


def _project(url: str, codebook, transcripts: Path) -> Store:  # noqa: ANN001
    store = Store.open(url, create=True)
    store.save_codebook(codebook)
    report = ingest_paths(store, [transcripts], manifest=transcripts / "manifest.csv")
    assert report.ok, [f.error for f in report.errors]
    return store


def test_ingest_code_and_read_back(backend_url: str, tiny_codebook, transcripts: Path) -> None:  # noqa: ANN001
    with _project(backend_url, tiny_codebook, transcripts) as store:
        assert db.current_revision(store.engine) == db.head_revision()
        docs = {d["name"]: d for d in store.documents(with_text=True)}
        assert docs["site_b_client.vtt"]["attributes"] == {"interview_mode": "zoom"}
        for r in store.segment_rows(all_roles=True):
            assert docs[r["document"]]["text"][r["start"] : r["end"]] == r["text"]
        seg = store.segment_rows()[0]["segment_id"]
        store_suggestions(store, [Suggestion(seg, "co_location", "rule", 0.8, {"rule": "r", "span": [0, 3]})], "rule")
        cid = coding_rows(store)[0]["coding_id"]
        apply_decisions(store, [Decision("accept", "alice", coding_id=cid)])
        assert coding_rows(store)[0]["provenance"] == {"rule": "r", "span": [0, 3]}
        assert undo_last(store, "alice")["status"] == "suggested"
        assert {c.id for c in store.codebook().codes} == {c.id for c in tiny_codebook.codes}
        again = ingest_paths(store, [transcripts])
        assert [f.status for f in again.files] == ["unchanged", "unchanged"]


def test_postgres_database_without_project_is_refused(pg_url: str) -> None:
    with pytest.raises(ProjectError, match="qualcode init"):
        Store.open(pg_url)


def _accept_all(url: str, coder: str, coding_ids: list[int], queue) -> None:  # noqa: ANN001
    store = Store.open(url)
    try:
        for cid in coding_ids:
            apply_decisions(store, [Decision("accept", coder, coding_id=cid)])
        queue.put("ok")
    finally:
        store.close()


def test_two_coders_writing_at_once_lose_nothing(backend_url: str, tiny_codebook, transcripts: Path) -> None:  # noqa: ANN001
    with _project(backend_url, tiny_codebook, transcripts) as store:
        segs = [s["segment_id"] for s in store.segment_rows()]
        suggestions = [Suggestion(s, code, "rule", 0.7, {"rule": code}) for s in segs
                       for code in ("co_location", "team_exclusion", "job_start", "wider_benefits")]
        store_suggestions(store, suggestions, "rule")
        ids = [r["coding_id"] for r in coding_rows(store)]
    half = len(ids) // 2
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_accept_all, args=(backend_url, "alice", ids[:half], queue)),
               ctx.Process(target=_accept_all, args=(backend_url, "bob", ids[half:], queue))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [queue.get(timeout=5) for _ in workers] == ["ok", "ok"]
    with Store.open(backend_url) as store:
        rows = coding_rows(store)
        assert len(rows) == len(ids)
        assert {r["coding_id"]: r["decided_by"] for r in rows} == {
            **{i: "alice" for i in ids[:half]}, **{i: "bob" for i in ids[half:]}
        }
        assert all(r["status"] == "accepted" for r in rows)
