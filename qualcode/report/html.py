"""The report as one self-contained HTML page that works offline.

Inline CSS, charts as base64 PNG data URIs, every value escaped by Jinja2's autoescape,
matrix cells coloured by inline styles, a table of contents, and a tiny inline script that
sorts a table when its header is clicked (the page reads the same without it). Written to
a temporary file, then renamed into place.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from qualcode.export.atomic import atomic_path
from qualcode.report.model import SCALE_HIGH, SCALE_LOW, Report, Table

if TYPE_CHECKING:
    import pandas as pd

TEMPLATES = Path(__file__).parent / "templates"
#: Tables longer than this scroll inside a box with a sticky header.
SCROLL_ROWS = 30
#: Least width of a long-text column (quotes, transcript text), the width of an average
#: character of the table's sans-serif text and a cell's padding, in em; the characters a
#: short column shows on one line before it wraps.
MIN_TEXT_EM = 12.0
EM_PER_CHAR = 0.64
PAD_EM = 1.5
SHORT_CHARS = 14
_BREAKS = re.compile(r"\s+|(?<=[_/.])")
_AFTER = re.compile(r"[_/.]")


def _fmt_series(values: "pd.Series", kind: str | None) -> list[str]:
    """Display text of a column in the table's format (empty for missing values)."""
    import pandas as pd

    if kind in ("pct", "int", "2dp", "3dp", "p") or values.dtype.kind in "fiu":
        numbers = pd.to_numeric(values, errors="coerce")
        if kind is None and values.dtype.kind in "iu":
            kind = "int"
        spec = {"pct": "{:.0%}", "int": "{:.0f}", "3dp": "{:.3f}", "p": "{:.3f}"}.get(kind or "", "{:.2f}")
        out = []
        for raw, v in zip(values.tolist(), numbers.tolist()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out.append("" if raw is None or (isinstance(raw, float) and math.isnan(raw)) or raw is pd.NA
                           else str(raw))
            elif kind == "p" and v < 0.001:
                out.append("<0.001")
            else:
                out.append(spec.format(v))
        return out
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)
            for v in values.tolist()]


def _scale(value: float, low: float, high: float) -> str:
    """Background colour of a value on the red-white matrix scale."""
    t = 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    rgb = (round(a + (b - a) * t) for a, b in zip(SCALE_LOW, SCALE_HIGH))
    return "background:#{:02x}{:02x}{:02x}".format(*rgb)


def _colours(table: Table) -> dict[str, list[str]]:
    """Inline background styles for the colour-scaled columns (one scale per table)."""
    import numpy as np
    import pandas as pd

    frame = table.frame
    cols = [c for c in table.colour if c in frame.columns]
    if not cols or frame.empty:
        return {}
    block = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if table.skip_diagonal:
        keys = frame.iloc[:, 0].tolist()
        mask = np.array([[c == k for c in cols] for k in keys])
        values = block[~mask]
    else:
        mask = np.zeros(block.shape, dtype=bool)
        values = block.ravel()
    values = values[~np.isnan(values)]
    if not len(values):
        return {}
    low, high = float(values.min()), float(values.max())
    out = {}
    for j, col in enumerate(cols):
        out[col] = ["" if mask[i, j] or math.isnan(block[i, j]) else _scale(block[i, j], low, high)
                    for i in range(len(frame))]
    return out


def _parts(text: str) -> list[str]:
    """The pieces a line may break between: words, and the parts of identifiers cut after
    '_', '/' or '.' (where :func:`_breakable` lets the browser break)."""
    return [p for p in _BREAKS.split(text) if p]


def _breakable(values: list[str]) -> list[str | Markup]:
    """Escaped text with a line-break opportunity (<wbr>) after each '_', '/' and '.', for
    a column of identifiers and file names; a column without them is left as it is."""
    if not any(c in v for v in values for c in "_/."):
        return values
    return [Markup(_AFTER.sub("\\g<0><wbr>", str(escape(v)))) for v in values]


def _widths(table: Table, texts: list[list[str]]) -> tuple[list[str], float]:
    """Column widths of a table with long text, and the table's least width (in em).

    A short column is as wide as its content up to ``SHORT_CHARS`` characters (longer
    values wrap, at spaces and after '_', '/', '.'), and never narrower than its longest
    unbreakable piece or header word; the long-text columns share what is left, each at
    least ``MIN_TEXT_EM`` wide (the table scrolls sideways before they get narrower)."""
    widths, least = [], 0.0
    for name, values in zip(table.frame.columns, texts):
        if name in table.wrap:
            widths.append("")
            least += MIN_TEXT_EM
            continue
        sample = values[:500]
        longest = max((len(v) for v in sample), default=0)
        piece = max((len(p) for v in sample for p in _parts(v)), default=0)
        header = max((len(w) for w in str(name).split()), default=0)
        depth = 2 * max(table.depths or [0]) if name == table.indent else 0
        chars = max(piece, min(longest, SHORT_CHARS)) + depth
        width = round(EM_PER_CHAR * max(chars, header, 3) + PAD_EM, 1)
        widths.append(f"{width}em")
        least += width
    return widths, round(least, 1)


def table_view(table: Table) -> dict[str, Any]:
    """A table as the template draws it: headers, and rows of (text, style, class) cells."""
    frame = table.frame
    columns = list(frame.columns)
    texts = [_fmt_series(frame[c], table.formats.get(c)) for c in columns]
    colours = _colours(table)
    classes = []
    for c in columns:
        kind = table.formats.get(c)
        numeric = kind in ("pct", "int", "2dp", "3dp", "p") or frame[c].dtype.kind in "fiu"
        classes.append("quote" if c in table.wrap else ("num" if numeric else ""))
    widths, least = _widths(table, texts)
    shown: list[list[Any]] = [_breakable(t) if table.wrap and cls == "" else t for t, cls in zip(texts, classes)]
    indent_at = columns.index(table.indent) if table.indent in columns else None
    rows = []
    for i in range(len(frame)):
        cells = []
        for j, c in enumerate(columns):
            style = colours[c][i] if c in colours else ""
            cls = classes[j]
            if indent_at == j:
                cls += " label"
            if indent_at == j and table.depths:
                if table.depths[i]:
                    style = f"padding-left:{0.55 + 1.4 * table.depths[i]:.2f}em"
                elif any(table.depths):
                    cls += " top"
            if table.skip_diagonal and texts[0][i] == c:
                cls += " diag"
            cells.append((shown[j][i], style, cls.strip()))
        rows.append({"cells": cells, "flag": bool(table.flagged and table.flagged[i]), "link": table.links.get(i)})
    return {"title": table.title, "columns": columns, "rows": rows, "scroll": len(frame) > SCROLL_ROWS,
            "wide": bool(table.wrap), "widths": widths, "least": least,
            "keyed": table.key_columns > 0 and not table.wrap}


def render_html(report: Report) -> str:
    """The whole page as a string."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    sections = []
    for s in report.sections:
        charts = [{"title": c.title, "src": "data:image/png;base64," + base64.b64encode(c.png).decode("ascii")}
                  for c in s.charts]
        sections.append({"key": s.key, "title": s.title, "intro": s.intro, "notes": s.notes, "charts": charts,
                         "tables": [table_view(t) for t in s.tables]})
    return env.get_template("report.html.j2").render(report=report, sections=sections)


def write_html(report: Report, out: str | Path) -> Path:
    """Write the page to ``out`` atomically; returns the path."""
    path = Path(out)
    text = render_html(report)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
