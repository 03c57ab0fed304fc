"""Theme matrices of a project: read the store, call the pure functions of
:mod:`qualcode.analysis.matrix` and :mod:`qualcode.analysis.rating`, write the result.

``status`` chooses the codings that count: ``accepted`` (the default: what people
accepted or added), ``suggested`` (open machine suggestions only, to preview them) or
``all`` (both). Rejected codings never count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from qualcode.errors import InvalidInput
from qualcode.store.codings import coding_rows
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ("accepted", "suggested", "all")
CODING_COLUMNS = ["coding_id", "segment_id", "document", "site", "wave", "participant", "role", "code", "code_path",
                  "source", "coder", "decided_by", "confidence", "status", "start_char", "end_char"]
#: Segment columns never handed on: raw speaker labels may be people's names.
_PRIVATE = ("speaker_label", "speaker")


def codings_for(store: Store, status: str = "accepted") -> "pd.DataFrame":
    """The project's codings with the chosen status (see module doc), without their text."""
    import pandas as pd

    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    wanted = ("accepted", "suggested") if status == "all" else (status,)
    rows = [r for s in wanted for r in coding_rows(store, status=s)]
    return pd.DataFrame([{k: r.get(k) for k in CODING_COLUMNS} for r in rows], columns=CODING_COLUMNS)


def segments_for(store: Store) -> "pd.DataFrame":
    """Segments eligible for coding, without speaker labels or tags."""
    import pandas as pd

    frame = pd.DataFrame(store.segment_rows())
    if frame.empty:
        raise InvalidInput("the project has no segments: ingest transcripts first (`qualcode ingest`)")
    return frame.drop(columns=[c for c in _PRIVATE if c in frame.columns])


def documents_for(store: Store) -> "pd.DataFrame":
    """One row per document: document, site, wave, date, participant and its attributes
    (manifest columns) as columns; a standard field wins over an attribute of that name."""
    import pandas as pd

    rows = []
    for d in store.documents():
        row: dict[str, Any] = {k: v for k, v in (d.get("attributes") or {}).items()}
        row.update({"document": d["name"], "site": d["site"], "wave": d["wave"], "date": d["date"],
                    "participant": d["participant"]})
        rows.append(row)
    return pd.DataFrame(rows)


def _codebook(store: Store, codings: "pd.DataFrame") -> tuple["pd.DataFrame", dict[str, str | None]]:
    """The codebook table and parent map; a retired code still coded keeps the parent its
    stored path names, so old codings still count for their theme."""
    from qualcode.analysis.matrix import codebook_table

    info = codebook_table(store.codebook())
    parent_of: dict[str, str | None] = dict(zip(info["code"], info["parent"]))
    for code, path in zip(codings["code"], codings["code_path"]):
        if code not in parent_of and isinstance(path, str):
            parts = path.split("/")
            for i, part in enumerate(parts):
                parent_of.setdefault(part, parts[i - 1] if i else None)
    return info, parent_of


def _with_names(frame: "pd.DataFrame", info: "pd.DataFrame", level: str) -> "pd.DataFrame":
    """A ``name`` column beside ``code`` (indented by depth for level all)."""
    names = dict(zip(info["code"], info["name"]))
    depth = dict(zip(info["code"], info["depth"]))
    indent = (lambda c: "  " * int(depth.get(c, 0))) if level == "all" else (lambda c: "")
    out = frame.copy()
    out.insert(1, "name", [indent(c) + str(names.get(c, c)) for c in out["code"]])
    return out


def _inputs(store: Store, status: str) -> tuple["pd.DataFrame", "pd.DataFrame", "pd.DataFrame", dict[str, str | None]]:
    codings = codings_for(store, status)
    segments = segments_for(store)
    info, parent_of = _codebook(store, codings)
    return codings, segments, info, parent_of


def project_matrix(store: Store, cols: str = "site", measure: str = "documents", level: str = "top",
                   status: str = "accepted") -> "pd.DataFrame":
    """Codes (with names) by site, role, wave, document, participant or a manifest attribute."""
    from qualcode.analysis.matrix import theme_matrix

    codings, segments, info, parent_of = _inputs(store, status)
    frame = theme_matrix(codings, segments, parent_of, cols=cols, measure=measure, level=level,
                         code_order=list(info["code"]), documents=documents_for(store))
    return _with_names(frame, info, level)


def project_column_sizes(store: Store, cols: str = "site") -> "pd.Series":
    """Documents in each column of a matrix (the denominators of the share measure)."""
    from qualcode.analysis.matrix import column_sizes

    return column_sizes(segments_for(store), cols, documents_for(store))


def project_framework(store: Store, cols: str = "site", level: str = "top", status: str = "accepted",
                      quotes: int = 3, max_chars: int = 300) -> "pd.DataFrame":
    """Codes by column with up to ``quotes`` attributed quotes in each cell."""
    from qualcode.analysis.matrix import framework_matrix

    codings, segments, info, parent_of = _inputs(store, status)
    frame = framework_matrix(codings, segments, parent_of, cols=cols, level=level, quotes=quotes,
                             max_chars=max_chars, code_order=list(info["code"]), documents=documents_for(store))
    return _with_names(frame, info, level)


def project_cooccurrence(store: Store, level: str = "top", window: int = 0, status: str = "accepted") -> "pd.DataFrame":
    """Code x code co-occurrence in segments (window 0) or within ``window`` turns."""
    from qualcode.analysis.matrix import cooccurrence

    codings, segments, info, parent_of = _inputs(store, status)
    frame = cooccurrence(codings, segments, parent_of, level=level, window=window, code_order=list(info["code"]))
    return _with_names(frame, info, level)


def project_cmo(store: Store, by: str = "site", status: str = "accepted", quotes: int = 2,
                max_chars: int = 300, min_interviews: int = 1) -> "pd.DataFrame":
    """Candidate context-mechanism-outcome configurations per site (a heuristic aid)."""
    from qualcode.analysis.matrix import cmo_configurations

    codings, segments, info, _ = _inputs(store, status)
    return cmo_configurations(codings, segments, info, by=by, quotes=quotes, max_chars=max_chars,
                              min_interviews=min_interviews, documents=documents_for(store))


def project_integration_evidence(store: Store, entered: "pd.DataFrame | None" = None, status: str = "accepted",
                                 quotes: int = 2) -> "pd.DataFrame":
    """Enabling and hindering integration evidence and a derived rating per site, beside
    the entered rating: ``entered`` (site, integration_rating), else the imported site
    outcomes when they hold an integration_rating column."""
    from qualcode.analysis.rating import compare_ratings, integration_evidence
    from qualcode.store.outcomes import outcomes_frame

    codings, segments, info, _ = _inputs(store, status)
    evidence = integration_evidence(codings, segments, info, quotes=quotes)
    if entered is None:
        stored = outcomes_frame(store, "site")
        entered = stored if "integration_rating" in stored.columns and "site" in stored.columns else None
    return evidence if entered is None else compare_ratings(evidence, entered)


# --- writing ---------------------------------------------------------------------------------
def write_matrix(out: str | Path, frame: "pd.DataFrame", *, kind: str = "counts", sheet: str = "matrix",
                 extra: Mapping[str, "pd.DataFrame"] | None = None) -> Path:
    """Write a matrix to .csv (the matrix only) or a formatted .xlsx.

    ``kind``: ``counts`` and ``share`` get a colour scale over the value columns (not
    ``Total``; shares shown as percentages), ``quotes`` wrapped text, ``table`` neither.
    In the workbook the code and name columns and the header stay frozen; ``extra``
    frames become further sheets.
    """
    from qualcode.export.tables import write_frames

    if kind not in ("counts", "share", "quotes", "table"):
        raise InvalidInput(f"unknown matrix kind {kind!r}")
    frames = {sheet: frame, **dict(extra or {})}
    coloured = {sheet} if kind in ("counts", "share") else set()
    path = write_frames(out, frames, colour_scale=coloured)
    if path.suffix.lower() == ".xlsx":
        _tune_workbook(path, sheet, frame, kind)
    return path


def _tune_workbook(path: Path, sheet: str, frame: "pd.DataFrame", kind: str) -> None:
    """Freeze code and name, colour only the value columns, percentages, wrapped quotes."""
    from openpyxl import load_workbook
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    from qualcode.analysis.matrix import TOTAL
    from qualcode.export.atomic import atomic_path

    wb = load_workbook(path)
    ws = wb[sheet[:31]]
    columns = list(frame.columns)
    first = 1 + sum(1 for c in columns[:2] if c in ("code", "name"))
    ws.freeze_panes = f"{get_column_letter(first)}2" if kind != "table" else "A2"
    last = len(columns) - (1 if columns and columns[-1] == TOTAL else 0)
    if kind in ("counts", "share"):
        ws.conditional_formatting = ConditionalFormattingList()
        if ws.max_row > 1 and last >= first:
            rng = f"{get_column_letter(first)}2:{get_column_letter(last)}{ws.max_row}"
            ws.conditional_formatting.add(
                rng, ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="F8696B"))
    for i in range(first, len(columns) + 1):
        letter = get_column_letter(i)
        for cell in ws[letter][1:]:
            if kind == "share":
                cell.number_format = "0%"
            elif kind == "quotes":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if kind == "quotes":
            ws.column_dimensions[letter].width = 60
    with atomic_path(path) as tmp:
        wb.save(tmp)
