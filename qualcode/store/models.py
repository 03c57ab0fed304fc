"""Saved classifier models: bytes plus metadata, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from qualcode.store.repo import Store, now
from qualcode.store.schema import models


def save_model(store: Store, name: str, info: dict[str, Any], blob: bytes) -> int:
    """Store a trained model; returns its id."""
    with store.write() as conn:
        return conn.execute(
            insert(models).values(name=name, created_at=now(), info=info, blob=blob)
        ).inserted_primary_key[0]


def latest_model(store: Store, name: str | None = None) -> tuple[dict[str, Any], bytes] | None:
    """The newest saved model (of a name), as (row without blob, blob), or None."""
    stmt = select(models).order_by(models.c.id.desc())
    if name:
        stmt = stmt.where(models.c.name == name)
    with store.read() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    meta = {k: v for k, v in row.items() if k != "blob"}
    return meta, row["blob"]
