"""Outcome data: one row per site or per client, its values as JSON.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("imported_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("level", "key", name="uq_outcomes_level_key"),
    )


def downgrade() -> None:
    op.drop_table("outcomes")
