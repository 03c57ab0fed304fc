"""The project store: one object over the database, used by the CLI, the web app and notebooks.

Reads return plain dicts (or DataFrames from the ``*_frame`` methods); every write runs in
one transaction, so a failure leaves the project as it was.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from qualcode.errors import ProjectError
from qualcode.store import db
from qualcode.store.schema import codebook_versions, codes, codings, documents, segments, settings, speakers

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.codebook import Codebook


def now() -> str:
    """The current UTC time as ISO 8601, as stored in every timestamp column."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """A qualcode project: a SQLite file or a PostgreSQL database."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, project: str | os.PathLike[str] | None = None, *, create: bool = False) -> "Store":
        """Open the project at a path or URL (default: $QUALCODE_PROJECT, then ./qualcode.db)."""
        engine, url = db.open_engine(project, create=create)
        return cls(engine, url)

    @classmethod
    def memory(cls) -> "Store":
        """A throwaway in-memory project (tests, notebooks)."""
        return cls.open("sqlite://", create=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        path = db.sqlite_path(self.url)
        if path is not None:
            return str(path)
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite, so writers queue, not fail)."""
        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("write", None)

    # -- settings ------------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
        return default if value is None else value

    def set_setting(self, key: str, value: str, conn: Connection | None = None) -> None:
        if conn is None:
            with self.write() as c:
                return self.set_setting(key, value, c)
        found = conn.execute(select(settings.c.key).where(settings.c.key == key)).first()
        if found:
            conn.execute(update(settings).where(settings.c.key == key).values(value=value))
        else:
            conn.execute(insert(settings).values(key=key, value=value))

    # -- documents -----------------------------------------------------------------------
    def document_by_name(self, name: str) -> dict[str, Any] | None:
        with self.read() as conn:
            row = conn.execute(select(documents).where(documents.c.name == name)).mappings().first()
        return dict(row) if row else None

    def document_by_hash(self, content_hash: str) -> dict[str, Any] | None:
        with self.read() as conn:
            row = (
                conn.execute(select(documents.c.id, documents.c.name).where(documents.c.content_hash == content_hash))
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def documents(self, *, with_text: bool = False) -> list[dict[str, Any]]:
        cols = [c for c in documents.c if with_text or c.name != "text"]
        with self.read() as conn:
            rows = conn.execute(select(*cols).order_by(documents.c.name)).mappings().all()
        return [dict(r) for r in rows]

    def document(self, document_id: int) -> dict[str, Any]:
        with self.read() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document_id)).mappings().first()
        if row is None:
            raise ProjectError(f"no document with id {document_id}")
        return dict(row)

    def add_document(
        self,
        document: dict[str, Any],
        speaker_rows: Sequence[dict[str, Any]],
        segment_rows: Sequence[dict[str, Any]],
        *,
        replace_id: int | None = None,
    ) -> tuple[int, int]:
        """Insert a document with its speakers and segments in one transaction.

        ``segment_rows`` name their speaker by ``speaker_label``. With ``replace_id`` the old
        document (and its codings) is removed in the same transaction. Returns the new
        document id and the number of codings removed with the old version.
        """
        with self.write() as conn:
            removed = 0
            if replace_id is not None:
                removed = conn.execute(
                    select(func.count())
                    .select_from(codings.join(segments, codings.c.segment_id == segments.c.id))
                    .where(segments.c.document_id == replace_id)
                ).scalar_one()
                conn.execute(
                    delete(codings).where(
                        codings.c.segment_id.in_(select(segments.c.id).where(segments.c.document_id == replace_id))
                    )
                )
                conn.execute(delete(segments).where(segments.c.document_id == replace_id))
                conn.execute(delete(speakers).where(speakers.c.document_id == replace_id))
                conn.execute(delete(documents).where(documents.c.id == replace_id))
            doc_id = conn.execute(insert(documents).values(**document, ingested_at=now())).inserted_primary_key[0]
            speaker_ids: dict[str, int] = {}
            for row in speaker_rows:
                speaker_ids[row["label"]] = conn.execute(
                    insert(speakers).values(document_id=doc_id, **row)
                ).inserted_primary_key[0]
            if segment_rows:
                payload = []
                for seg in segment_rows:
                    item = {k: v for k, v in seg.items() if k != "speaker_label"}
                    item["document_id"] = doc_id
                    item["speaker_id"] = speaker_ids.get(seg.get("speaker_label"))
                    payload.append(item)
                conn.execute(insert(segments), payload)
        return doc_id, removed

    # -- speakers and segments -------------------------------------------------------------
    def speaker_roles(self) -> list[dict[str, Any]]:
        """Every raw speaker label with its role, turn count and the number of documents."""
        stmt = (
            select(
                speakers.c.label,
                speakers.c.role,
                func.sum(speakers.c.n_turns).label("turns"),
                func.count(speakers.c.document_id).label("documents"),
            )
            .group_by(speakers.c.label, speakers.c.role)
            .order_by(speakers.c.role, speakers.c.label)
        )
        with self.read() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def segment_rows(
        self,
        *,
        all_roles: bool = False,
        document_ids: Iterable[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Segments with their document's metadata, in document and turn order.

        Interviewer turns are left out unless ``all_roles``: they are questions, not evidence.
        """
        stmt = (
            select(
                segments.c.id.label("segment_id"),
                segments.c.document_id,
                documents.c.name.label("document"),
                documents.c.site,
                documents.c.wave,
                documents.c.participant,
                segments.c.seq,
                segments.c.turn_index,
                speakers.c.label.label("speaker_label"),
                speakers.c.tag.label("speaker"),
                segments.c.role,
                segments.c.start_char.label("start"),
                segments.c.end_char.label("end"),
                segments.c.text,
                segments.c.start_ms,
                segments.c.end_ms,
            )
            .select_from(
                segments.join(documents, segments.c.document_id == documents.c.id).outerjoin(
                    speakers, segments.c.speaker_id == speakers.c.id
                )
            )
            .order_by(documents.c.name, segments.c.seq)
        )
        if not all_roles:
            stmt = stmt.where(segments.c.role != "interviewer")
        if document_ids is not None:
            stmt = stmt.where(segments.c.document_id.in_(list(document_ids)))
        with self.read() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def segments_frame(self, *, all_roles: bool = False) -> "pd.DataFrame":
        """Segments as a DataFrame (one row per segment eligible for coding)."""
        import pandas as pd

        return pd.DataFrame(self.segment_rows(all_roles=all_roles))

    def counts(self) -> dict[str, int]:
        """How many documents, segments, codes and codings the project holds."""
        with self.read() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in (
                    ("documents", documents),
                    ("segments", segments),
                    ("codes", codes),
                    ("codings", codings),
                )
            }

    # -- codebook ------------------------------------------------------------------------
    def save_codebook(self, codebook: "Codebook") -> int:
        """Store a codebook as the project's new version; returns the version number.

        Codes keep their row (and codings) across versions; a code missing from the new
        version is marked retired rather than deleted, so nothing coded is lost. Storing a
        codebook identical to the current one is a no-op.
        """
        from qualcode.codebook import codebook_hash, codebook_to_yaml

        digest = codebook_hash(codebook)
        with self.write() as conn:
            latest = conn.execute(
                select(codebook_versions.c.version, codebook_versions.c.content_hash).order_by(
                    codebook_versions.c.version.desc()
                )
            ).first()
            if latest is not None and latest.content_hash == digest:
                return latest.version
            version = 1 if latest is None else latest.version + 1
            conn.execute(
                insert(codebook_versions).values(
                    version=version,
                    name=codebook.name,
                    content_hash=digest,
                    source=codebook.source,
                    yaml=codebook_to_yaml(codebook),
                    created_at=now(),
                )
            )
            existing = {r.code: r.id for r in conn.execute(select(codes.c.code, codes.c.id))}
            seen = set()
            for position, code in enumerate(codebook.walk()):
                seen.add(code.id)
                values = {
                    "name": code.name,
                    "parent": code.parent,
                    "path": codebook.path(code.id),
                    "definition": code.definition,
                    "realist_role": code.realist_role,
                    "direction": code.direction,
                    "position": position,
                    "data": {"include": list(code.include), "exclude": list(code.exclude), "example": code.example},
                    "retired_in": None,
                }
                if code.id in existing:
                    conn.execute(update(codes).where(codes.c.id == existing[code.id]).values(**values))
                else:
                    conn.execute(insert(codes).values(code=code.id, version_added=version, **values))
            for code_id, row_id in existing.items():
                if code_id not in seen:
                    conn.execute(
                        update(codes).where(codes.c.id == row_id, codes.c.retired_in.is_(None)).values(retired_in=version)
                    )
            self.set_setting("codebook_version", str(version), conn)
        return version

    def codebook(self, version: int | None = None) -> "Codebook":
        """The project's codebook (the newest version unless one is named)."""
        from qualcode.codebook import codebook_from_yaml_text

        stmt = select(codebook_versions.c.yaml, codebook_versions.c.version, codebook_versions.c.source)
        stmt = (
            stmt.where(codebook_versions.c.version == version)
            if version is not None
            else stmt.order_by(codebook_versions.c.version.desc())
        )
        with self.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            raise ProjectError("the project has no codebook: run `qualcode init` or `qualcode codebook import FILE`")
        return codebook_from_yaml_text(row.yaml, source=row.source or f"project codebook v{row.version}")

    def codebook_version(self) -> int | None:
        with self.read() as conn:
            return conn.execute(select(func.max(codebook_versions.c.version))).scalar()

    def code_row_ids(self, *, include_retired: bool = False) -> dict[str, int]:
        """Code id (string) -> row id, for writing codings."""
        stmt = select(codes.c.code, codes.c.id)
        if not include_retired:
            stmt = stmt.where(codes.c.retired_in.is_(None))
        with self.read() as conn:
            return {r.code: r.id for r in conn.execute(stmt)}
