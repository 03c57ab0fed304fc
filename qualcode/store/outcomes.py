"""Outcome tables in the store: a whole level (site or client) is replaced at once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from qualcode.store.repo import Store, now
from qualcode.store.schema import outcomes

if TYPE_CHECKING:
    import pandas as pd

LEVELS = ("site", "client")


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def save_outcomes(store: Store, level: str, frame: "pd.DataFrame", key: str, source: str | None) -> int:
    """Replace the level's outcome rows with ``frame`` (one transaction); returns the count."""
    rows = []
    stamp = now()
    for record in frame.to_dict(orient="records"):
        data = {str(k): _plain(v) for k, v in record.items()}
        rows.append({"level": level, "key": str(data[key]), "data": data, "source": source, "imported_at": stamp})
    with store.write() as conn:
        conn.execute(delete(outcomes).where(outcomes.c.level == level))
        if rows:
            conn.execute(insert(outcomes), rows)
    return len(rows)


def outcomes_frame(store: Store, level: str) -> "pd.DataFrame":
    """The stored outcome rows of a level as a DataFrame (empty when none were imported)."""
    import pandas as pd

    with store.read() as conn:
        data = [r.data for r in conn.execute(select(outcomes.c.data).where(outcomes.c.level == level).order_by(outcomes.c.id))]
    return pd.DataFrame(data)
