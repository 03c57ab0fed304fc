"""DataFrames to CSV or to an Excel workbook formatted as an evaluator would by hand:
bold frozen header, filters, sensible widths, wrapped long text, optional colour scale."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from qualcode.errors import QualcodeError
from qualcode.export.atomic import atomic_path

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = "DCE6F1"


def format_sheet(ws: "Worksheet", frame: "pd.DataFrame", *, colour_scale: bool = False, wrap_over: int = 60) -> None:
    """Bold frozen header, autofilter, column widths, wrapping, numbers to 3 decimals."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    if ws.max_row < 1:
        return
    for row in ws.iter_rows(min_row=2):
        for cell in row:  # transcript text that opens with "=" is text, never a formula
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    ws.freeze_panes = "B2" if colour_scale else "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        values = [str(col)] + [str(v) for v in frame[col].head(500).tolist()]
        longest = max((len(v) for v in values), default=8)
        ws.column_dimensions[letter].width = min(max(10, longest + 2), wrap_over)
        if longest > wrap_over:
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if frame[col].dtype.kind == "f":
            for cell in ws[letter][1:]:
                cell.number_format = "0.000"
    if colour_scale and ws.max_row > 1 and ws.max_column > 1:
        rng = f"B2:{get_column_letter(ws.max_column)}{ws.max_row}"
        ws.conditional_formatting.add(
            rng, ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="F8696B")
        )


def write_frames(
    out: str | os.PathLike[str],
    frames: Mapping[str, "pd.DataFrame"],
    *,
    colour_scale: set[str] | frozenset[str] = frozenset(),
) -> Path:
    """Write one CSV (the first frame) or an .xlsx with one formatted sheet per frame."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise QualcodeError("output must be a .csv or .xlsx file", file=out)
    with atomic_path(out) as tmp:
        if suffix == ".csv":
            next(iter(frames.values())).to_csv(tmp, index=False, encoding="utf-8")
        else:
            import pandas as pd

            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                for name, frame in frames.items():
                    sheet = name[:31]
                    frame.to_excel(writer, sheet_name=sheet, index=False)
                    format_sheet(writer.sheets[sheet], frame, colour_scale=name in colour_scale)
    return out
