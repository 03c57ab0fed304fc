"""The report as one Excel workbook, formatted as an evaluator would by hand.

One sheet per section, About first with a linked table of contents. On each sheet: the
title and a line on what it shows, then the tables (the first one's header row frozen,
with an autofilter; the code and name columns stay in view on matrices), column widths to
fit, long text wrapped, numbers formatted (shares as %, odds ratios 2 dp, p-values 3 dp),
a colour scale on matrices, flagged rows filled, charts beside the tables and notes below
them. Written to a temporary file, then renamed into place.
"""

from __future__ import annotations

import math
from copy import copy
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.export.atomic import atomic_path
from qualcode.report.model import FLAG_FILL, SCALE_HIGH, SCALE_LOW, Report, Section, Table

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = "DCE6F1"
NUMBER_FORMATS = {"pct": "0%", "int": "0", "2dp": "0.00", "3dp": "0.000", "p": "0.000"}
FIRST_HEADER_ROW = 4  # title, intro, table title, then the header
CHART_WIDTH_PX = 620
ROW_PX = 20
MAX_CELL = 32_000  # Excel holds at most 32,767 characters in a cell
WIDTH_CAP, WRAP_WIDTH = 45, 60


def _hex(rgb: tuple[int, int, int]) -> str:
    """An RGB triple as Excel's hex colour ('F8696B')."""
    return "".join(f"{v:02X}" for v in rgb)


def _is_text(column: "pd.Series") -> bool:
    """Object or string columns (pandas may infer either for text)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    return is_object_dtype(column.dtype) or is_string_dtype(column.dtype)


def _clean(frame: "pd.DataFrame") -> list[list[Any]]:
    """Rows of plain Python values: NaN as empty, text without characters Excel refuses."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            text = out[col].astype(object)
            text = text.where(text.isna(), text.astype(str))
            out[col] = text.str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True).str.slice(0, MAX_CELL)
    values = out.astype(object).where(out.notna(), None)
    return values.to_numpy().tolist()


def _widths(table: Table) -> list[float]:
    """Width of each column: its longest value (first 500 rows) or header, capped."""
    widths = []
    for col in table.frame.columns:
        head = table.frame[col].head(500)
        kind = table.formats.get(col)
        if kind == "pct" or head.dtype.kind == "f":
            longest = 7
        else:
            lines = head.dropna().astype(str).str.split("\n").explode().str.len()
            longest = int(lines.max()) if len(lines) and not math.isnan(lines.max()) else 0
        header = max((len(w) for w in str(col).split()), default=4)
        cap = WRAP_WIDTH + (20 if col == "Text" else 0) if col in table.wrap else WIDTH_CAP
        extra = 2 * max(table.depths or [0]) if col == table.indent else 0
        widths.append(min(max(longest + extra + 2, header + 2, 7), cap))
    return widths


def _text_row(ws: "Worksheet", row: int, text: str, span: int, widths: dict[int, float], *, bold: bool = False,
              italic: bool = False, size: float = 11, colour: str = "000000") -> None:
    """A line of prose across ``span`` columns, wrapped, with a row height that fits it."""
    from openpyxl.styles import Alignment, Font

    cell = ws.cell(row=row, column=1, value=text)
    cell.font = Font(bold=bold, italic=italic, size=size, color=colour)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if span > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
    room = sum(widths.get(c, 10) for c in range(1, span + 1)) * 1.1 * 11 / size
    lines = max(1, math.ceil(len(text) / max(room, 10)))
    ws.row_dimensions[row].height = max(15, size * 1.4) * lines


def _colour_ranges(table: Table, top: int) -> str:
    """The cells of the colour scale as Excel ranges (skipping the diagonal when asked)."""
    from openpyxl.utils import get_column_letter

    columns = list(table.frame.columns)
    idx = [columns.index(c) + 1 for c in table.colour]
    bottom = top + len(table.frame) - 1
    if not table.skip_diagonal:
        return " ".join(f"{get_column_letter(i)}{top}:{get_column_letter(i)}{bottom}" for i in idx)
    ranges = []
    first = table.frame.iloc[:, 0].tolist()
    for r, key in enumerate(first):
        row = top + r
        ranges += [f"{get_column_letter(i)}{row}" for i in idx if columns[i - 1] != key]
    return " ".join(ranges)


def _write_table(ws: "Worksheet", table: Table, header_row: int, sheets: dict[str, str]) -> int:
    """One table with its header at ``header_row``; returns the last row written."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.hyperlink import Hyperlink

    frame = table.frame
    columns = list(frame.columns)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    under = Border(bottom=Side(style="thin", color="8EA9C1"))
    head_align = Alignment(wrap_text=True, vertical="top")
    for c, name in enumerate(columns, start=1):
        cell = ws.cell(row=header_row, column=c, value=str(name))
        cell.font, cell.fill, cell.alignment, cell.border = bold, fill, head_align, under
    top = header_row + 1
    wrapped = {columns.index(w) + 1 for w in table.wrap if w in columns}
    wrapped |= {c for c, name in enumerate(columns, start=1)  # any other long text wraps too
                if _is_text(frame[name]) and frame[name].head(500).astype(str).str.len().max() > WIDTH_CAP}
    # one style per column, set once and copied (openpyxl re-hashes a style on every assignment)
    protos = []
    for c, name in enumerate(columns, start=1):
        proto = ws.cell(row=top, column=c)
        proto.alignment = Alignment(wrap_text=c in wrapped, vertical="top")
        fmt = NUMBER_FORMATS.get(table.formats.get(name, ""), "0.00" if frame[name].dtype.kind == "f" else None)
        if fmt:
            proto.number_format = fmt
        protos.append(proto._style)
    for r, values in enumerate(_clean(frame)):
        row = top + r
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=c, value=value)
            cell._style = copy(protos[c - 1])
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # transcript text is never a formula
    indent_col = columns.index(table.indent) + 1 if table.indent in columns else None
    flag = PatternFill("solid", fgColor=FLAG_FILL)
    keys = frame.iloc[:, 0].tolist() if len(columns) else []
    for r in range(len(frame)):
        row = top + r
        if table.flagged and table.flagged[r]:
            for c in range(1, len(columns) + 1):
                ws.cell(row=row, column=c).fill = flag
        if indent_col and table.depths and table.depths[r]:
            ws.cell(row=row, column=indent_col).alignment = Alignment(indent=2 * table.depths[r], vertical="top")
        if table.skip_diagonal and keys[r] in columns:
            ws.cell(row=row, column=columns.index(keys[r]) + 1).font = bold
        if r in table.links and table.links[r] in sheets:
            cell = ws.cell(row=row, column=1)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheets[table.links[r]]}'!A1")
            cell.font = Font(color="0563C1", underline="single")
    bottom = top + len(frame) - 1
    if table.colour and len(frame):
        ws.conditional_formatting.add(_colour_ranges(table, top), ColorScaleRule(
            start_type="min", start_color=_hex(SCALE_LOW), end_type="max", end_color=_hex(SCALE_HIGH)))
    if wrapped and len(frame):
        _row_heights(ws, table, top, [columns[c - 1] for c in sorted(wrapped)])
    return max(bottom, header_row)


def _row_heights(ws: "Worksheet", table: Table, top: int, wrapped: list[str]) -> None:
    """Heights that show wrapped text whole (Excel does not grow rows written by a program)."""
    import numpy as np

    widths = dict(zip(table.frame.columns, _widths(table)))
    lines = np.ones(len(table.frame))
    for col in wrapped:
        if col in table.frame.columns:
            text = table.frame[col].fillna("").astype(str)
            per_line = max(widths[col] * 1.15, 10)
            est = (text.str.len() / per_line).apply(math.ceil) + text.str.count("\n")
            lines = np.maximum(lines, est.to_numpy())
    for r, n in enumerate(lines):
        if n > 1:
            ws.row_dimensions[top + r].height = min(409, 15 * float(n))


def _write_section(ws: "Worksheet", section: Section, sheets: dict[str, str]) -> None:
    """Title, intro, the tables stacked (the first frozen and filtered), notes, charts."""
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    widths: dict[int, float] = {}
    for table in section.tables:
        for i, w in enumerate(_widths(table), start=1):
            widths[i] = max(widths.get(i, 0), w)
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = w
    span = max(8, len(widths))
    _text_row(ws, 1, section.title, span, widths, bold=True, size=14)
    _text_row(ws, 2, section.intro, span, widths, italic=True, colour="404040")
    header_row, last = FIRST_HEADER_ROW, FIRST_HEADER_ROW
    for n, table in enumerate(section.tables):
        if table.title:
            ws.cell(row=header_row - 1, column=1, value=table.title).font = Font(bold=True, size=12)
        last = _write_table(ws, table, header_row, sheets)
        if n == 0:
            first_col = get_column_letter(1 + table.key_columns)
            ws.freeze_panes = f"{first_col}{header_row + 1}"
            end = get_column_letter(max(1, len(table.frame.columns)))
            ws.auto_filter.ref = f"A{header_row}:{end}{max(last, header_row)}"
            ws.print_title_rows = f"{header_row}:{header_row}"
        header_row = last + 4
    row = last + 2
    for note in section.notes:
        _text_row(ws, row, note, span, widths, italic=note.startswith("Note"), bold=note.startswith("Caveat"))
        row += 1
    chart_col = get_column_letter(len(widths) + 2)
    chart_row = FIRST_HEADER_ROW
    for chart in section.charts:
        img = Image(BytesIO(chart.png))
        scale = CHART_WIDTH_PX / img.width
        img.width, img.height = CHART_WIDTH_PX, int(img.height * scale)
        ws.add_image(img, f"{chart_col}{chart_row}")
        chart_row += math.ceil(img.height / ROW_PX) + 2
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def sheet_names(report: Report) -> dict[str, str]:
    """Section key -> sheet name: the title, cut to Excel's 31 characters, unique."""
    names: dict[str, str] = {}
    for section in report.sections:
        base = "".join(ch for ch in section.title if ch not in "[]:*?/\\")[:31] or section.key
        name, n = base, 2
        while name in names.values():
            name = f"{base[:28]} {n}"
            n += 1
        names[section.key] = name
    return names


def write_xlsx(report: Report, out: str | Path) -> Path:
    """Write the workbook to ``out`` atomically; returns the path."""
    from openpyxl import Workbook

    path = Path(out)
    wb = Workbook()
    wb.remove(wb.active)
    sheets = sheet_names(report)
    for section in report.sections:
        ws = wb.create_sheet(sheets[section.key])
        _write_section(ws, section, sheets)
    wb.properties.title = f"qualcode report: {report.project}"
    wb.properties.creator = "qualcode"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
