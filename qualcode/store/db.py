"""Opening a project: the database URL, the engine, and schema upgrades with a backup first.

A project is a database. A plain path means a SQLite file; a ``postgresql+psycopg://`` URL
means a shared server. Either way the schema is brought to the newest migration on open,
and a SQLite file is copied aside (``NAME.bak-<revision>-<time>``) before any upgrade.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from qualcode.errors import ProjectError

DEFAULT_PROJECT = "qualcode.db"
ENV_VAR = "QUALCODE_PROJECT"
MIGRATIONS = Path(__file__).parent / "migrations"


def project_url(project: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL for a project given as a path, a URL, or nothing (env, then default)."""
    value = str(project) if project is not None else os.environ.get(ENV_VAR) or DEFAULT_PROJECT
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    """An engine with foreign keys on (SQLite) and sensible pooling."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ProjectError(f"not a database URL or path: {url}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            from sqlalchemy.pool import StaticPool

            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if parsed.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        # pysqlite defers BEGIN on its own; take it over so that a write transaction (see
        # Store.write) starts with BEGIN IMMEDIATE and concurrent writers queue instead of failing.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record) -> None:  # noqa: ANN001
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ProjectError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from exc


def _alembic_config(connection):  # noqa: ANN001, ANN202
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration in this version of qualcode."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration a database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def backup_sqlite(path: Path, revision: str | None) -> Path:
    """Copy a SQLite project aside with sqlite's online backup (consistent even in WAL mode)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = path.with_name(f"{path.name}.bak-{revision or 'none'}-{stamp}")
    src = sqlite3.connect(str(path))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def upgrade(engine: Engine, url: str) -> Path | None:
    """Bring the schema to head; back up a SQLite file first. Returns the backup path, if any."""
    from alembic import command

    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return None
    backup = None
    path = sqlite_path(url)
    if current is not None and path is not None and path.exists():
        backup = backup_sqlite(path, current)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
    except SQLAlchemyError as exc:
        raise ProjectError(
            f"could not upgrade the project schema from {current} to {head}: {exc}"
            + (f"; the project was backed up to {backup}" if backup else "")
        ) from exc
    return backup


def open_engine(project: str | os.PathLike[str] | None = None, *, create: bool = False) -> tuple[Engine, str]:
    """Open (or, with ``create``, create) a project database and upgrade its schema."""
    url = project_url(project)
    path = sqlite_path(url)
    if path is not None:
        if not path.exists() and not create:
            raise ProjectError(f"no project at {path}: run `qualcode init` first (or pass --project)")
        if path.exists() and path.is_dir():
            raise ProjectError(f"{path} is a directory, not a project file")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        if not create and path is None and not inspect(engine).has_table("alembic_version"):
            raise ProjectError(f"no qualcode project in {make_url(url).render_as_string(hide_password=True)}: run `qualcode init` first")
        upgrade(engine, url)
    except OperationalError as exc:
        raise ProjectError(f"cannot open project {make_url(url).render_as_string(hide_password=True)}: {exc.orig}") from exc
    return engine, url
