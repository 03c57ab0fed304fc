"""Coding events (the audit trail), segments each coder has reviewed, saved classifier models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coding_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "coding_id",
            sa.Integer,
            sa.ForeignKey("codings.id", ondelete="CASCADE", name="fk_coding_events_coding_id_codings"),
            nullable=False,
        ),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status_before", sa.String(20), nullable=True),
        sa.Column("status_after", sa.String(20), nullable=False),
        sa.Column("coder", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_coding_events_coding", "coding_events", ["coding_id"])
    op.create_table(
        "segment_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "segment_id",
            sa.Integer,
            sa.ForeignKey("segments.id", ondelete="CASCADE", name="fk_segment_reviews_segment_id_segments"),
            nullable=False,
        ),
        sa.Column("coder", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.UniqueConstraint("segment_id", "coder", name="uq_segment_reviews_segment_coder"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("info", sa.JSON, nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("models")
    op.drop_table("segment_reviews")
    op.drop_table("coding_events")
