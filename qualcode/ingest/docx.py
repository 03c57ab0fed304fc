"""Word (.docx) transcripts: paragraphs, bold speaker labels and transcript tables.

Paragraphs go through the same line rules as plain text (:mod:`qualcode.ingest.text`),
plus Word's own convention of speaker labels in bold: a paragraph opening with short
bold run(s) ("**Luke Smith** I think...", "**Interviewer:** ...") starts a turn with that
label, and a short paragraph that is bold throughout labels the paragraphs after it.
Tables of two or three columns (speaker | text, time | speaker | text, or with a header
row naming the columns) give one turn per row, as Teams and transcription services write.

``Turn.line`` is the 1-based paragraph number, counting each table row as a paragraph.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import InvalidTranscript
from qualcode.ingest.model import ParsedTranscript
from qualcode.ingest.text import TURN, TurnCollector, classify, label_ok, parse_timestamp

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

# Header cells naming table columns (compared case-insensitively).
_SPEAKER_HEADERS = frozenset({"speaker", "label", "name", "role", "speaker name", "who", "participant"})
_TEXT_HEADERS = frozenset(
    {"text", "utterance", "transcript", "content", "transcription", "speech", "dialogue", "words", "message"}
)
_TIME_HEADERS = frozenset({"timestamp", "time", "start", "start time", "time stamp", "timecode", "begin"})


def parse_docx(path: str | Path, data: bytes | None = None) -> ParsedTranscript:
    """Parse a .docx transcript (from ``data`` if given, else from ``path``)."""
    from docx import Document
    from docx.opc.exceptions import OpcError
    from docx.table import Table
    from lxml.etree import LxmlError

    source: str | io.BytesIO = io.BytesIO(data) if data is not None else str(path)
    try:
        document = Document(source)
        blocks = list(document.iter_inner_content())
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, LxmlError, EOFError) as exc:
        raise InvalidTranscript(f"not a readable .docx file ({type(exc).__name__}: {exc})", file=path) from exc
    except OSError as exc:
        raise InvalidTranscript(f"cannot read the file: {exc.strerror or exc}", file=path) from exc

    collector = TurnCollector(path)
    number = 0
    for index, block in enumerate(blocks):
        if isinstance(block, Table):
            collector.add_blank(number)
            number = _feed_table(block, collector, number)
            collector.add_blank(number)
        else:
            number += 1
            _feed_paragraph(blocks, index, collector, number)
    turns, warnings = collector.finish()
    return ParsedTranscript(turns=turns, format="docx", encoding=None, warnings=warnings)


def _is_bold(run: object) -> bool:
    """Bold set on the run itself or by its character style ("Strong")."""
    bold = run.bold  # type: ignore[attr-defined]
    if bold is not None:
        return bool(bold)
    if run._r.style is None:  # type: ignore[attr-defined]  # no character style: skip the lookup
        return False
    style = run.style  # type: ignore[attr-defined]
    return bool(style is not None and style.font.bold)


def _bold_prefix(paragraph: Paragraph) -> str:
    """The text of the paragraph's leading bold runs ('' when it does not open in bold)."""
    from docx.text.run import Run

    parts: list[str] = []
    for item in paragraph.iter_inner_content():
        if not isinstance(item, Run):
            break
        text = item.text
        if not text:
            continue
        if _is_bold(item):
            parts.append(text)
        elif not text.strip() and not parts:
            continue
        else:
            break
    return "".join(parts)


def _feed_paragraph(blocks: list, index: int, collector: TurnCollector, number: int) -> None:
    paragraph = blocks[index]
    text = paragraph.text
    if not text.strip():
        collector.add_blank(number)
        return
    found = _paragraph_label(paragraph, text)
    if found is not None:
        label, rest, start, end = found
        if rest or _body_text_follows(blocks, index):
            collector.start_turn(label, rest, number, start, end)
            return
    for line in text.split("\n"):
        collector.feed(line, number)


def _paragraph_label(paragraph: Paragraph, text: str) -> tuple[str, str, int | None, int | None] | None:
    """(label, rest of the text, start, end) when the paragraph opens with a bold label."""
    prefix = _bold_prefix(paragraph) if paragraph.runs else ""
    if not prefix.strip():
        return None
    style = paragraph.style
    if style is not None and (style.name or "").startswith(("Heading", "Title", "Subtitle")):
        return None
    found = _bold_label(prefix)
    if found is None:
        return None
    label, start, end = found
    if text.startswith(prefix):
        rest = text[len(prefix):]
    else:  # hyperlinks or fields changed the text: drop the label's characters
        rest = text.strip()[len(prefix.strip()):]
    rest = rest.strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
    return label, rest, start, end


def _body_text_follows(blocks: list, index: int) -> bool:
    """Whether the next paragraph with text is plain words (so a bold line labels it).

    A bold title followed by "Site: Berkshire" or by another bold line is not a label.
    """
    from docx.text.paragraph import Paragraph

    for block in blocks[index + 1:]:
        if not isinstance(block, Paragraph):
            return False
        text = block.text
        if not text.strip():
            continue
        if _paragraph_label(block, text) is not None:
            return False
        return classify(text.split("\n", 1)[0])[0] != TURN
    return False


def _bold_label(prefix: str) -> tuple[str, int | None, int | None] | None:
    """A label from bold text: "Interviewer:", "Luke Smith", "Luke Smith 0:03"."""
    stripped = prefix.strip()
    if "\n" in stripped:
        return None
    item = classify(stripped)
    if item[0] == TURN and not item[2] and item[1]:
        return item[1], item[3], item[4]
    candidate = stripped.rstrip(":").strip()
    if label_ok(candidate):
        return candidate, None, None
    return None


def _cell_text(cell: object) -> str:
    return "\n".join(p.text for p in cell.paragraphs)  # type: ignore[attr-defined]


def _feed_table(table: Table, collector: TurnCollector, number: int) -> int:
    """Feed a table's rows; return the paragraph number after the table."""
    rows = [[_cell_text(cell) for cell in _unique_cells(row)] for row in table.rows]
    columns = _table_columns(rows)
    if columns is None:  # not a transcript table: read its cells as paragraphs
        for row in rows:
            number += 1
            for cell in row:
                for line in cell.split("\n"):
                    collector.feed(line, number)
        return number
    speaker_col, text_col, time_col, has_header = columns
    for index, row in enumerate(rows):
        number += 1
        if index == 0 and has_header:
            continue
        text = row[text_col].strip() if text_col < len(row) else ""
        if not text:
            continue
        label = " ".join(row[speaker_col].split()).strip("[]:").strip() if speaker_col < len(row) else ""
        start = end = None
        if time_col is not None and time_col < len(row) and row[time_col].strip():
            ts = parse_timestamp(row[time_col])
            if ts is None:
                collector.warnings.append(f"paragraph {number}: cannot read the time {row[time_col].strip()!r}")
            else:
                start, end = ts
        if label:
            collector.start_turn(label, text, number, start, end)
        else:  # a row without a speaker continues the turn above
            for line in text.split("\n"):
                collector.feed(line, number)
    return number


def _unique_cells(row: object) -> list[object]:
    """A row's cells with horizontally merged cells counted once."""
    cells: list[object] = []
    seen: set[int] = set()
    for cell in row.cells:  # type: ignore[attr-defined]
        key = id(cell._tc)
        if key not in seen:
            seen.add(key)
            cells.append(cell)
    return cells


def _table_columns(rows: list[list[str]]) -> tuple[int, int, int | None, bool] | None:
    """(speaker column, text column, time column or None, has header row) or None."""
    if not rows:
        return None
    header = [" ".join(c.casefold().replace("_", " ").split()) for c in rows[0]]
    speaker = next((i for i, h in enumerate(header) if h in _SPEAKER_HEADERS), None)
    text = next((i for i, h in enumerate(header) if h in _TEXT_HEADERS), None)
    if speaker is not None and text is not None:
        time = next((i for i, h in enumerate(header) if h in _TIME_HEADERS), None)
        return speaker, text, time, True
    width = max(len(r) for r in rows)
    if width == 2:
        return 0, 1, None, False
    if width == 3:
        times = [parse_timestamp(r[0]) is not None for r in rows if len(r) == 3 and r[0].strip()]
        if times and sum(times) * 2 >= len(times):
            return 1, 2, 0, False
        times = [parse_timestamp(r[2]) is not None for r in rows if len(r) == 3 and r[2].strip()]
        if times and sum(times) * 2 >= len(times):
            return 0, 1, 2, False
        times = [parse_timestamp(r[1]) is not None for r in rows if len(r) == 3 and r[1].strip()]
        if times and sum(times) * 2 >= len(times):
            return 0, 2, 1, False
    return None
