"""The Excel review sheet: one row per segment, suggestions with drop-downs to accept or
reject them, drop-downs to add codes, and an instructions sheet. Read back by
``qualcode.coding.review.read_review_sheet``."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from qualcode.coding.review import (
    ADD_SLOTS, CODES_SHEET, IDS_COLUMNS, IDS_SHEET, INSTRUCTIONS_SHEET, REVIEW_SHEET, review_frame,
)
from qualcode.errors import InvalidInput
from qualcode.export.atomic import atomic_path
from qualcode.export.tables import format_sheet
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

WIDTHS = {"segment_id": 11, "document": 24, "site": 14, "role": 12, "context": 45, "text": 70,
          "suggestions": 42, "done": 8, "note": 36}
FILLS = {"suggested": "FFF2CC", "decision": "E2EFDA", "add": "DDEBF7", "done": "FCE4D6"}
CONTEXT_GREY = "7F7F7F"

INSTRUCTIONS = [
    ("segment_id, document, site, role", "Where the segment comes from. Don't change them."),
    ("context", "The turn before the segment (grey), usually the interviewer's question."),
    ("text", "The segment to code. Interviewer turns are never coded, so they have no rows."),
    ("suggestions", "What the machine suggested and why: a rule with its confidence and the words it "
                    "matched, or the classifier with its score."),
    ("suggested_N", "The code of the N-th suggestion. Don't change it."),
    ("decision_N", "Choose accept or reject for suggested_N; leave it blank to decide later."),
    (f"add_1 .. add_{ADD_SLOTS}", "Codes the machine missed: choose from the list (every code of the codebook, "
                                  "listed below)."),
    ("done", "Choose yes when you have coded the segment, even if you accepted and added nothing: "
             "a segment with no code is a result too. Any decision also counts as done."),
    ("note", "A note kept with your decisions on this row."),
]


def _codes(store: Store) -> list[tuple[str, str, str, str]]:
    active = store.code_row_ids()
    cb = store.codebook()
    return [(c.id, c.name, cb.path(c.id), c.definition) for c in cb.walk() if c.id in active]


def _style_review(ws: "Worksheet", visible: "pd.DataFrame", n_codes: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    format_sheet(ws, visible)
    last = ws.max_row
    lists = {
        "decision": DataValidation(type="list", formula1='"accept,reject"', allow_blank=True),
        "add": DataValidation(type="list", formula1=f"'{CODES_SHEET}'!$A$2:$A${n_codes + 1}", allow_blank=True),
        "done": DataValidation(type="list", formula1='"yes"', allow_blank=True),
    }
    for kind, dv in lists.items():
        dv.error, dv.errorTitle, dv.showErrorMessage = f"Choose a value from the {kind} list.", "qualcode", True
        ws.add_data_validation(dv)
    for i, col in enumerate(visible.columns, start=1):
        letter = get_column_letter(i)
        kind = col.split("_")[0] if col.split("_")[-1].isdigit() else col
        ws.column_dimensions[letter].width = WIDTHS.get(col, 14)
        if last < 2:
            continue
        if kind in lists:
            lists[kind].add(f"{letter}2:{letter}{last}")
        fill = PatternFill("solid", fgColor=FILLS[kind]) if kind in FILLS else None
        wrap = col in ("context", "text", "suggestions", "note", "document")
        for cell in ws[letter][1:]:
            cell.alignment = Alignment(wrap_text=wrap, vertical="top")
            if fill is not None:
                cell.fill = fill
            if col == "context":
                cell.font = Font(italic=True, color=CONTEXT_GREY)


def _instructions(ws: "Worksheet", codes: list[tuple[str, str, str, str]], about: str) -> None:
    from openpyxl.styles import Alignment, Font

    ws.append(["How to use this review sheet"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([about])
    ws.append([])
    ws.append(["column", "what to do"])
    for col, text in INSTRUCTIONS:
        ws.append([col, text])
    ws.append([])
    ws.append(["When you are done", "Save the file and run:  qualcode import review FILE.xlsx --coder YOUR_NAME. "
               "Every row is checked first; if one row has a problem, nothing is applied and the error names "
               "the row. Sorting and filtering are fine; keep the hidden sheets."])
    ws.append([])
    ws.append(["code", "name", "path", "definition"])
    header_rows = {4, ws.max_row}
    for row in codes:
        ws.append(list(row))
    for r in header_rows:
        for cell in ws[r]:
            cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (32, 90, 36, 80)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def build_workbook(frame: "pd.DataFrame", codes: list[tuple[str, str, str, str]], about: str) -> "Workbook":
    """The review workbook for a ``review_frame``: review, instructions, hidden codes and coding ids."""
    from openpyxl import Workbook

    id_cols = [c for c in frame.columns if c.startswith("coding_id_")]
    visible = frame.drop(columns=id_cols)
    wb = Workbook()
    ws = wb.active
    ws.title = REVIEW_SHEET
    ws.append(list(visible.columns))
    for values in visible.itertuples(index=False, name=None):
        ws.append(list(values))
    _style_review(ws, visible, len(codes))
    _instructions(wb.create_sheet(INSTRUCTIONS_SHEET), codes, about)

    code_ws = wb.create_sheet(CODES_SHEET)
    code_ws.append(["code", "name", "path", "definition"])
    for row in codes:
        code_ws.append(list(row))
    code_ws.sheet_state = "hidden"

    ids_ws = wb.create_sheet(IDS_SHEET)
    ids_ws.append(list(IDS_COLUMNS))
    for _, row in frame.iterrows():
        for col in id_cols:
            slot = int(col.rsplit("_", 1)[1])
            if row[col] is not None:
                ids_ws.append([int(row["segment_id"]), slot, int(row[col]), row[f"suggested_{slot}"]])
    ids_ws.sheet_state = "hidden"
    wb.active = 0
    return wb


def write_review_sheet(
    store: Store,
    out: str | os.PathLike[str],
    *,
    status: str = "suggested",
    documents: Sequence[str] | None = None,
    coder: str | None = None,
) -> int:
    """Write the review workbook atomically; returns the number of segments (rows)."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise InvalidInput("the review sheet must be an .xlsx file", file=out)
    frame = review_frame(store, status, documents, coder=coder)
    about = (f"Exported {date.today().isoformat()} for {coder or 'any coder'}: {len(frame)} segments "
             f"({status}{', ' + ', '.join(documents) if documents else ''}).")
    wb = build_workbook(frame, _codes(store), about)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return len(frame)
