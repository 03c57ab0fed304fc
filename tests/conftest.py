"""Shared fixtures: an in-memory store, a temporary project file, a tiny codebook, and a
small transcript folder written fresh for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture
def tiny_codebook_path() -> Path:
    return FIXTURES / "codebooks" / "tiny.yaml"


@pytest.fixture
def tiny_codebook(tiny_codebook_path: Path):  # noqa: ANN201
    from qualcode.codebook import load_and_validate

    return load_and_validate(tiny_codebook_path)


@pytest.fixture
def memory_store(tiny_codebook):  # noqa: ANN001, ANN201
    """An in-memory project holding the tiny codebook."""
    from qualcode.store.repo import Store

    store = Store.memory()
    store.save_codebook(tiny_codebook)
    yield store
    store.close()


@pytest.fixture
def project_file(tmp_path: Path, tiny_codebook) -> Path:  # noqa: ANN001
    """A temporary SQLite project file holding the tiny codebook (closed again)."""
    from qualcode.store.repo import Store

    path = tmp_path / "project.db"
    with Store.open(path, create=True) as store:
        store.save_codebook(tiny_codebook)
    return path


@pytest.fixture
def transcripts(tmp_path: Path) -> Path:
    """A folder with two small transcripts in different formats and a manifest."""
    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "site_a_es.txt").write_text(
        "Interviewer: How is the team working with you?\n"
        "IPS ES: I sit with the team three days a week, so referrals come easily.\n"
        "I go to the MDT meeting every Tuesday as well.\n"
        "Interviewer: And employers?\n"
        "IPS ES: I visit them in person, café by café.\n",
        encoding="utf-8",
    )
    (folder / "site_b_client.vtt").write_text(
        "WEBVTT\n\n"
        "1\n00:00:01.000 --> 00:00:04.000\n<v Int>What helped you most?</v>\n\n"
        "2\n00:00:04.500 --> 00:00:09.000\n<v Service user>She texted me every week.</v>\n\n"
        "3\n00:00:09.000 --> 00:00:12.250\n<v Service user>Never any pressure, just encouragement.</v>\n",
        encoding="utf-8",
    )
    (folder / "manifest.csv").write_text(
        "file,site,wave,date,participant,interview_mode\n"
        "site_a_es.txt,Site A,1,2022-01-10,A-P01,teams\n"
        "site_b_client.vtt,Site B,2,2022-02-11,B-P02,zoom\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of a PostgreSQL server: $QUALCODE_TEST_PG_URL, or a throwaway one started here."""
    import os
    import subprocess

    url = os.environ.get("QUALCODE_TEST_PG_URL")
    if url:
        yield url
        return
    started = subprocess.run(
        [str(REPO / "scripts" / "pg-test-server"), "start"], check=True, capture_output=True, text=True
    ).stdout.split()
    try:
        yield started[0]
    finally:
        subprocess.run([str(REPO / "scripts" / "pg-test-server"), "stop", started[1]], check=False)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import uuid

    import psycopg

    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    name = "qc_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "project.db")
    return request.getfixturevalue("pg_url")
