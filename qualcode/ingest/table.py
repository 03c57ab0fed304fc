"""Spreadsheet transcripts (.csv, .xlsx): one row per turn.

Columns are found by their header (row 1, case-insensitive, spaces and underscores
alike): a speaker column (``speaker``, ``label``, ``role``, ``name``, ...), a text column
(``text``, ``utterance``, ``transcript``, ``content``, ...) and optionally ``timestamp`` /
``time`` / ``start`` and ``end``. When several columns could be the speaker, the earlier
name in :data:`SPEAKER_NAMES` wins (a ``role`` column before a ``name`` column, so roles
rather than names become labels). Rows are never merged: a row is a turn. A row with no
text is skipped; a row with text but no speaker is an error naming the row.
``Turn.line`` is the spreadsheet row number (the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from qualcode.errors import InvalidTranscript
from qualcode.ingest.decode import decode_bytes
from qualcode.ingest.model import ParsedTranscript, Turn
from qualcode.ingest.text import parse_timestamp

SPEAKER_NAMES = ("speaker", "speaker label", "label", "role", "speaker role", "speaker name", "name", "who")
TEXT_NAMES = ("text", "utterance", "transcript", "content", "transcription", "speech", "dialogue", "words")
START_NAMES = ("timestamp", "time", "start", "start time", "time stamp", "timecode", "begin", "start ms")
END_NAMES = ("end", "end time", "stop", "finish", "end ms")


def parse_table(path: str | Path, data: bytes | None = None) -> ParsedTranscript:
    """Parse a .csv or .xlsx transcript (from ``data`` if given, else read ``path``)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        if data is None:
            data = _read(path)
        text, encoding = decode_bytes(data, path)
        return _parse_rows(_csv_rows(text, path), path, "csv", encoding)
    if suffix == ".xlsx":
        return _parse_rows(_xlsx_rows(path, data), path, "xlsx", None)
    raise InvalidTranscript(f"not a table format: {suffix or '(no suffix)'} (use .csv or .xlsx)", file=path)


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidTranscript(f"cannot read the file: {exc.strerror or exc}", file=path) from exc


def _csv_rows(text: str, path: str | Path) -> Iterator[tuple[int, list[object]]]:
    """(row number, cells) for each CSV record; the delimiter is guessed from row 1."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidTranscript(f"malformed CSV: {exc}", file=path, row=number + 1) from exc
        number += 1
        yield number, list(row)


def _xlsx_rows(path: str | Path, data: bytes | None) -> Iterator[tuple[int, list[object]]]:
    """(row number, cell values) for each row of the first worksheet."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    source: str | io.BytesIO = io.BytesIO(data) if data is not None else str(path)
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError) as exc:
        raise InvalidTranscript(f"not a readable .xlsx file ({type(exc).__name__}: {exc})", file=path) from exc
    except OSError as exc:
        raise InvalidTranscript(f"cannot read the file: {exc.strerror or exc}", file=path) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _key(value: object) -> str:
    return " ".join(str(value).casefold().replace("_", " ").replace("-", " ").split()) if value is not None else ""


def _pick(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _cell(row: list[object], index: int | None) -> object:
    return row[index] if index is not None and index < len(row) else None


def _as_text(value: object) -> str:
    """A cell as text: numbers without a spurious '.0', lines stripped, no empty lines."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    lines = (line.strip() for line in str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _as_ms(value: object) -> int | None:
    """A time cell to milliseconds: '00:01:23', a time of day, a duration, or seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds() * 1000)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(round(value * 1000)) if value >= 0 else None
    text = str(value).strip()
    ts = parse_timestamp(text)
    if ts is not None:
        return ts[0]
    try:
        seconds = float(text)
    except ValueError:
        return None
    return int(round(seconds * 1000)) if seconds >= 0 else None


def _parse_rows(
    rows: Iterable[tuple[int, list[object]]], path: str | Path, fmt: str, encoding: str | None
) -> ParsedTranscript:
    iterator = iter(rows)
    header: list[str] | None = None
    for number, row in iterator:
        if any(_as_text(cell) for cell in row):
            header = [_key(cell) for cell in row]
            header_row = number
            break
    if header is None:
        raise InvalidTranscript("the table is empty", file=path)
    speaker_col = _pick(header, SPEAKER_NAMES)
    text_col = _pick(header, TEXT_NAMES)
    missing = [
        f"a {what} column ({', '.join(names[:4])}, ...)"
        for what, col, names in (("speaker", speaker_col, SPEAKER_NAMES), ("text", text_col, TEXT_NAMES))
        if col is None
    ]
    if missing:
        raise InvalidTranscript(
            f"missing {' and '.join(missing)}; the header row has {', '.join(h for h in header if h) or 'no names'}",
            file=path, row=header_row,
        )
    start_col = _pick(header, START_NAMES)
    end_col = _pick(header, END_NAMES)
    turns: list[Turn] = []
    warnings: list[str] = []
    for number, row in iterator:
        text = _as_text(_cell(row, text_col))
        if not text:
            continue
        label = " ".join(_as_text(_cell(row, speaker_col)).split())
        if not label:
            raise InvalidTranscript("a row with text but no speaker", file=path, row=number)
        start = end = None
        for col, which in ((start_col, "start"), (end_col, "end")):
            raw = _cell(row, col)
            if raw is None or raw == "":
                continue
            ms = _as_ms(raw)
            if ms is None:
                warnings.append(f"row {number}: cannot read the {which} time {str(raw)[:40]!r}; left empty")
            elif which == "start":
                start = ms
            else:
                end = ms
        turns.append(Turn(label, text, number, start, end))
    if not turns:
        raise InvalidTranscript("no speaker turns found (no row has text)", file=path)
    return ParsedTranscript(turns=turns, format=fmt, encoding=encoding, warnings=warnings)
