"""Initial schema: documents, speakers, segments, the versioned codebook and codings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("source_path", sa.Text, nullable=True),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("encoding", sa.String(20), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("site", sa.String(200), nullable=True),
        sa.Column("wave", sa.String(50), nullable=True),
        sa.Column("date", sa.String(30), nullable=True),
        sa.Column("participant", sa.String(200), nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("word_count", sa.Integer, nullable=False),
        sa.Column("ingested_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("name", name="uq_documents_name"),
    )
    op.create_table(
        "speakers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE", name="fk_speakers_document_id_documents"),
            nullable=False,
        ),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.Column("n_turns", sa.Integer, nullable=False),
        sa.UniqueConstraint("document_id", "label", name="uq_speakers_document_label"),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE", name="fk_segments_document_id_documents"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("turn_index", sa.Integer, nullable=False),
        sa.Column(
            "speaker_id",
            sa.Integer,
            sa.ForeignKey("speakers.id", ondelete="CASCADE", name="fk_segments_speaker_id_speakers"),
            nullable=True,
        ),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("start_char", sa.Integer, nullable=False),
        sa.Column("end_char", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start_ms", sa.Integer, nullable=True),
        sa.Column("end_ms", sa.Integer, nullable=True),
        sa.UniqueConstraint("document_id", "seq", name="uq_segments_document_seq"),
    )
    op.create_index("ix_segments_role", "segments", ["role"])
    op.create_table(
        "codebook_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("yaml", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("version", name="uq_codebook_versions_version"),
    )
    op.create_table(
        "codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("parent", sa.String(100), nullable=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=True),
        sa.Column("realist_role", sa.String(20), nullable=True),
        sa.Column("direction", sa.String(20), nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("version_added", sa.Integer, nullable=False),
        sa.Column("retired_in", sa.Integer, nullable=True),
        sa.UniqueConstraint("code", name="uq_codes_code"),
    )
    op.create_table(
        "codings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "segment_id",
            sa.Integer,
            sa.ForeignKey("segments.id", ondelete="CASCADE", name="fk_codings_segment_id_segments"),
            nullable=False,
        ),
        sa.Column(
            "code_id",
            sa.Integer,
            sa.ForeignKey("codes.id", name="fk_codings_code_id_codes"),
            nullable=False,
        ),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("coder", sa.String(100), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.Column("start_char", sa.Integer, nullable=True),
        sa.Column("end_char", sa.Integer, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=True),
    )
    op.create_index("ix_codings_segment", "codings", ["segment_id"])
    op.create_index("ix_codings_status_source", "codings", ["status", "source"])


def downgrade() -> None:
    for table in ("codings", "codes", "codebook_versions", "segments", "speakers", "documents", "settings"):
        op.drop_table(table)
