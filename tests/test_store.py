"""The project store: schema under migrations, backups before upgrades, transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from qualcode.errors import ProjectError
from qualcode.store import db
from qualcode.store.repo import Store
from qualcode.store.schema import documents, metadata, segments


def test_new_project_is_at_head_and_matches_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with Store.open(tmp_path / "p.db", create=True) as store:
        assert db.current_revision(store.engine) == db.head_revision()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_opening_a_missing_project_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="qualcode init"):
        Store.open(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_env_variable_names_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALCODE_PROJECT", str(tmp_path / "env.db"))
    assert db.project_url() == "sqlite:///" + str((tmp_path / "env.db").resolve())
    assert db.project_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_foreign_keys_are_enforced(memory_store: Store) -> None:
    with pytest.raises(IntegrityError):
        with memory_store.write() as conn:
            conn.execute(
                insert(segments).values(
                    document_id=999, seq=0, turn_index=0, role="es", start_char=0, end_char=1, text="x"
                )
            )


def _document(name: str = "a.txt") -> dict:
    return {
        "name": name, "source_path": name, "format": "txt", "encoding": "utf-8", "content_hash": "h" + name,
        "site": "S", "wave": "1", "date": None, "participant": None, "attributes": {"mode": "teams"},
        "unit": "turn", "text": "IPS ES: hello there", "word_count": 2,
    }


def test_add_document_is_one_transaction(memory_store: Store) -> None:
    good = {"seq": 0, "turn_index": 0, "speaker_label": "ES", "role": "es", "start_char": 8,
            "end_char": 19, "text": "hello there", "start_ms": None, "end_ms": None}
    bad = dict(good, seq=0)  # the same (document, seq) twice violates a unique constraint
    with pytest.raises(IntegrityError):
        memory_store.add_document(_document(), [{"label": "ES", "role": "es", "tag": "IPS ES", "n_turns": 1}], [good, bad])
    assert memory_store.counts()["documents"] == 0
    doc_id, _ = memory_store.add_document(
        _document(), [{"label": "ES", "role": "es", "tag": "IPS ES", "n_turns": 1}], [good]
    )
    rows = memory_store.segment_rows()
    assert [(r["document_id"], r["speaker"], r["text"]) for r in rows] == [(doc_id, "IPS ES", "hello there")]
    assert memory_store.document(doc_id)["attributes"] == {"mode": "teams"}


def test_upgrade_backs_up_an_older_sqlite_project_first(tmp_path: Path) -> None:
    from alembic import command

    path = tmp_path / "old.db"
    engine = db.make_engine(db.project_url(path))
    with engine.begin() as conn:
        command.upgrade(db._alembic_config(conn), "0001")
    with engine.begin() as conn:
        conn.execute(insert(documents).values(**_document("kept.txt"), ingested_at="2022-01-01T00:00:00"))
    engine.dispose()

    with Store.open(path) as store:
        assert db.current_revision(store.engine) == db.head_revision()
        assert store.document_by_name("kept.txt") is not None
    backups = list(tmp_path.glob("old.db.bak-0001-*"))
    assert len(backups) == 1
    con = sqlite3.connect(backups[0])
    try:
        assert con.execute("select name from documents").fetchall() == [("kept.txt",)]
        assert con.execute("select version_num from alembic_version").fetchall() == [("0001",)]
    finally:
        con.close()
    # a second open at head makes no further backup
    Store.open(path).close()
    assert len(list(tmp_path.glob("old.db.bak-*"))) == 1


def test_codebook_versions_keep_codes_and_retire_removed_ones(memory_store: Store, tiny_codebook) -> None:  # noqa: ANN001
    assert memory_store.codebook_version() == 1
    assert memory_store.save_codebook(tiny_codebook) == 1  # identical: no new version
    leaf = next(c for c in tiny_codebook.codes if not tiny_codebook.children(c.id))
    ids_before = memory_store.code_row_ids()
    smaller = type(tiny_codebook)(
        name=tiny_codebook.name, version=tiny_codebook.version + 1, description=tiny_codebook.description,
        codes=[c for c in tiny_codebook.codes if c.id != leaf.id], source=tiny_codebook.source,
    )
    assert memory_store.save_codebook(smaller) == 2
    ids_after = memory_store.code_row_ids()
    assert leaf.id not in ids_after
    assert memory_store.code_row_ids(include_retired=True)[leaf.id] == ids_before[leaf.id]
    assert {c.id for c in memory_store.codebook().codes} == {c.id for c in smaller.codes}
    assert {c.id for c in memory_store.codebook(version=1).codes} == {c.id for c in tiny_codebook.codes}


def test_a_directory_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="directory"):
        Store.open(tmp_path)


def test_settings_round_trip(project_file: Path) -> None:
    with Store.open(project_file) as store:
        store.set_setting("coder", "alice")
        store.set_setting("coder", "bob")
    with Store.open(project_file) as store:
        assert store.get_setting("coder") == "bob"
        assert store.get_setting("missing", "x") == "x"
        with store.read() as conn:
            assert conn.execute(select(documents)).all() == []


def test_only_the_store_speaks_sql() -> None:
    """The architecture's promise: no module outside qualcode/store imports SQLAlchemy or the
    schema, so SQLite and PostgreSQL share one code path in one place."""
    import re
    from pathlib import Path

    package = Path(__file__).parent.parent / "qualcode"
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "store" or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(from|import) sqlalchemy|qualcode\.store\.schema", text, re.M):
            offenders.append(str(path.relative_to(package)))
    assert offenders == []
