"""Ingest end to end into a real SQLite project: offsets, roles, re-ingest, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import InvalidTranscript
from qualcode.ingest.pipeline import collect_files, ingest_paths
from qualcode.store.repo import Store


def _check_offsets(store: Store) -> None:
    texts = {d["id"]: d["text"] for d in store.documents(with_text=True)}
    rows = store.segment_rows(all_roles=True)
    assert rows
    for r in rows:
        assert texts[r["document_id"]][r["start"] : r["end"]] == r["text"]


def test_ingest_folder_with_manifest(project_file: Path, transcripts: Path) -> None:
    with Store.open(project_file) as store:
        report = ingest_paths(store, [transcripts], manifest=transcripts / "manifest.csv")
        assert report.ok, [f.error for f in report.files]
        assert [f.status for f in report.files] == ["ingested", "ingested"]
        docs = {d["name"]: d for d in store.documents()}
        assert docs["site_a_es.txt"]["site"] == "Site A"
        assert docs["site_b_client.vtt"]["wave"] == "2"
        assert docs["site_b_client.vtt"]["participant"] == "B-P02"
        assert docs["site_b_client.vtt"]["attributes"] == {"interview_mode": "zoom"}
        assert docs["site_a_es.txt"]["encoding"] == "utf-8"
        _check_offsets(store)
        rows = store.segment_rows()
        assert {r["role"] for r in rows} == {"es", "client"}  # interviewer turns left out
        client = [r for r in rows if r["role"] == "client"]
        # consecutive cues of one speaker merge into one turn, times in ms
        assert len(client) == 1 and client[0]["start_ms"] == 4500 and client[0]["end_ms"] == 12250
        es = [r for r in rows if r["role"] == "es"]
        assert "MDT meeting every Tuesday" in es[0]["text"]  # continuation line joined to its turn
        assert len(store.segment_rows(all_roles=True)) == len(rows) + 3


def test_reingest_is_a_noop_and_changes_need_replace(project_file: Path, transcripts: Path) -> None:
    with Store.open(project_file) as store:
        ingest_paths(store, [transcripts])
        before = store.counts()
        again = ingest_paths(store, [transcripts])
        assert [f.status for f in again.files] == ["unchanged", "unchanged"]
        assert store.counts() == before

        (transcripts / "site_a_es.txt").write_text("Interviewer: Hello?\nIPS ES: A new answer.\n", encoding="utf-8")
        refused = ingest_paths(store, [transcripts / "site_a_es.txt"])
        assert refused.files[0].status == "error" and "--replace" in refused.files[0].error
        assert store.counts() == before
        replaced = ingest_paths(store, [transcripts / "site_a_es.txt"], replace=True)
        assert replaced.files[0].status == "replaced"
        texts = [r["text"] for r in store.segment_rows() if r["document"] == "site_a_es.txt"]
        assert texts == ["A new answer."]


def test_bad_file_is_reported_and_the_rest_ingested(project_file: Path, transcripts: Path) -> None:
    (transcripts / "broken.vtt").write_text("WEBVTT\n\n1\n00:00:01.000 --> banana\n<v A>text</v>\n", encoding="utf-8")
    (transcripts / "empty.txt").write_text("", encoding="utf-8")
    with Store.open(project_file) as store:
        report = ingest_paths(store, [transcripts])
        errors = {Path(f.path).name: f.error for f in report.errors}
        assert set(errors) == {"broken.vtt", "empty.txt"}
        assert "broken.vtt" in errors["broken.vtt"] and "\n" not in errors["broken.vtt"]
        assert store.counts()["documents"] == 2


def test_strict_ingests_nothing_when_a_file_fails(project_file: Path, transcripts: Path) -> None:
    (transcripts / "empty.txt").write_text("   \n", encoding="utf-8")
    with Store.open(project_file) as store:
        report = ingest_paths(store, [transcripts], strict=True)
        assert report.strict_aborted
        assert store.counts()["documents"] == 0


def test_sentence_and_paragraph_units_slice_exactly(project_file: Path, transcripts: Path) -> None:
    with Store.open(project_file) as store:
        ingest_paths(store, [transcripts / "site_a_es.txt"], unit="sentence")
        ingest_paths(store, [transcripts / "site_b_client.vtt"], unit="paragraph")
        _check_offsets(store)
        es = [r["text"] for r in store.segment_rows() if r["role"] == "es"]
        assert es[:2] == [
            "I sit with the team three days a week, so referrals come easily.",
            "I go to the MDT meeting every Tuesday as well.",
        ]


def test_names_in_labels_never_reach_the_stored_text(project_file: Path, tmp_path: Path) -> None:
    vtt = tmp_path / "named.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Evaluator>How did it go?</v>\n\n"
        "00:00:02.000 --> 00:00:05.000\n<v Luke>I got the job at the garden centre.</v>\n",
        encoding="utf-8",
    )
    roles = tmp_path / "roles.yaml"
    roles.write_text("documents:\n  named.vtt:\n    Luke: client\n", encoding="utf-8")
    with Store.open(project_file) as store:
        report = ingest_paths(store, [vtt], roles=roles)
        assert report.ok and report.files[0].unknown_labels == []
        text = store.documents(with_text=True)[0]["text"]
        assert "Luke" not in text and "IPS client: I got the job" in text
        assert {r["label"]: r["role"] for r in store.speaker_roles()} == {"Evaluator": "interviewer", "Luke": "client"}


def test_unknown_labels_are_listed_not_guessed(project_file: Path, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("Interviewer: Tell me more.\nFrankie: Well, it was hard.\n", encoding="utf-8")
    with Store.open(project_file) as store:
        report = ingest_paths(store, [f])
        assert report.files[0].unknown_labels == ["Frankie"]
        assert [r["role"] for r in store.segment_rows()] == ["unknown"]


def test_unknown_unit_is_refused(memory_store: Store, transcripts: Path) -> None:
    with pytest.raises(InvalidTranscript, match="unit"):
        ingest_paths(memory_store, [transcripts], unit="word")


def test_collect_files_skips_sidecars(transcripts: Path) -> None:
    (transcripts / "roles.yaml").write_text("labels: {}\n", encoding="utf-8")
    (transcripts / "outcomes_sites.csv").write_text("site\nA\n", encoding="utf-8")
    names = [name for _p, name in collect_files([transcripts])]
    assert names == ["site_a_es.txt", "site_b_client.vtt"]
