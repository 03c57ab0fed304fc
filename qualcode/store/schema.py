"""The project schema as SQLAlchemy Core tables (one code path for SQLite and PostgreSQL).

The tables here describe the *current* schema; ``store/migrations/`` builds it step by step.
``tests/test_store.py`` checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=True),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(500), nullable=False, unique=True),
    Column("source_path", Text, nullable=True),
    Column("format", String(10), nullable=False),
    Column("encoding", String(20), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("site", String(200), nullable=True),
    Column("wave", String(50), nullable=True),
    Column("date", String(30), nullable=True),
    Column("participant", String(200), nullable=True),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("unit", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("word_count", Integer, nullable=False, default=0),
    Column("ingested_at", String(40), nullable=False),
)

speakers = Table(
    "speakers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("role", String(30), nullable=False),
    Column("tag", String(100), nullable=False),
    Column("n_turns", Integer, nullable=False, default=0),
    UniqueConstraint("document_id", "label", name="uq_speakers_document_label"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("turn_index", Integer, nullable=False),
    Column("speaker_id", Integer, ForeignKey("speakers.id", ondelete="CASCADE"), nullable=True),
    Column("role", String(30), nullable=False),
    Column("start_char", Integer, nullable=False),
    Column("end_char", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("start_ms", Integer, nullable=True),
    Column("end_ms", Integer, nullable=True),
    UniqueConstraint("document_id", "seq", name="uq_segments_document_seq"),
)
Index("ix_segments_role", segments.c.role)

codebook_versions = Table(
    "codebook_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("source", Text, nullable=True),
    Column("yaml", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(100), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("parent", String(100), nullable=True),
    Column("path", Text, nullable=False),
    Column("definition", Text, nullable=True),
    Column("realist_role", String(20), nullable=True),
    Column("direction", String(20), nullable=True),
    Column("position", Integer, nullable=False, default=0),
    Column("data", JSON, nullable=False, default=dict),
    Column("version_added", Integer, nullable=False),
    Column("retired_in", Integer, nullable=True),
)

codings = Table(
    "codings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("segment_id", Integer, ForeignKey("segments.id", ondelete="CASCADE"), nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id"), nullable=False),
    Column("source", String(20), nullable=False),
    Column("coder", String(100), nullable=False),
    Column("confidence", Float, nullable=True),
    Column("status", String(20), nullable=False),
    Column("provenance", JSON, nullable=False, default=dict),
    Column("start_char", Integer, nullable=True),
    Column("end_char", Integer, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=True),
)
Index("ix_codings_segment", codings.c.segment_id)
Index("ix_codings_status_source", codings.c.status, codings.c.source)


# -- added in migration 0002 -----------------------------------------------------------------
coding_events = Table(
    "coding_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coding_id", Integer, ForeignKey("codings.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(20), nullable=False),  # suggest | accept | reject | add | undo | supersede | import
    Column("status_before", String(20), nullable=True),
    Column("status_after", String(20), nullable=False),
    Column("coder", String(100), nullable=False),
    Column("at", String(40), nullable=False),
    Column("note", Text, nullable=True),
)
Index("ix_coding_events_coding", coding_events.c.coding_id)

segment_reviews = Table(
    "segment_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("segment_id", Integer, ForeignKey("segments.id", ondelete="CASCADE"), nullable=False),
    Column("coder", String(100), nullable=False),
    Column("at", String(40), nullable=False),
    UniqueConstraint("segment_id", "coder", name="uq_segment_reviews_segment_coder"),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("info", JSON, nullable=False, default=dict),
    Column("blob", LargeBinary, nullable=False),
)

# -- added in migration 0003 -----------------------------------------------------------------
outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("level", String(10), nullable=False),  # site | client
    Column("key", String(200), nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Column("source", Text, nullable=True),
    Column("imported_at", String(40), nullable=False),
    UniqueConstraint("level", "key", name="uq_outcomes_level_key"),
)

STATUSES = ("suggested", "accepted", "rejected")
SOURCES = ("rule", "classifier", "human")
