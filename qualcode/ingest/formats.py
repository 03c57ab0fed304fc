"""Pick the parser for a transcript file by its suffix and run it.

The file is read once; text formats are decoded with :func:`decode_bytes` (UTF-8, BOM,
UTF-16, cp1252) and the encoding used is recorded on the result. Every failure, from a
missing file to a corrupt .docx, is an :class:`InvalidTranscript` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import InvalidTranscript
from qualcode.ingest.decode import decode_bytes
from qualcode.ingest.model import ParsedTranscript

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".vtt", ".srt", ".csv", ".xlsx")
_HINTS = {
    ".doc": "save it as .docx",
    ".rtf": "save it as .docx or plain text",
    ".pdf": "export the text as .txt or .docx",
    ".xls": "save it as .xlsx",
    ".odt": "save it as .docx",
}


def parse_file(path: str | Path) -> ParsedTranscript:
    """Parse one transcript file, dispatching on its (case-insensitive) suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = f"; {_HINTS[suffix]}" if suffix in _HINTS else ""
        raise InvalidTranscript(
            f"unsupported file type {suffix or '(no suffix)'}{hint} (supported: {', '.join(SUPPORTED_SUFFIXES)})",
            file=path,
        )
    data = _read_bytes(path)
    if suffix == ".docx":
        from qualcode.ingest.docx import parse_docx

        return parse_docx(path, data=data)
    if suffix in (".csv", ".xlsx"):
        from qualcode.ingest.table import parse_table

        return parse_table(path, data=data)
    text, encoding = decode_bytes(data, path)
    if suffix in (".vtt", ".srt"):
        from qualcode.ingest.vtt import parse_srt, parse_vtt

        parser = parse_vtt if suffix == ".vtt" else parse_srt
        return parser(text, path, encoding=encoding)
    from qualcode.ingest.text import parse_text

    return parse_text(text, path, fmt=suffix[1:], encoding=encoding)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidTranscript("file not found", file=path) from exc
    except IsADirectoryError as exc:
        raise InvalidTranscript("is a directory, not a file", file=path) from exc
    except PermissionError as exc:
        raise InvalidTranscript("permission denied: cannot read the file", file=path) from exc
    except OSError as exc:
        raise InvalidTranscript(f"cannot read the file: {exc.strerror or exc}", file=path) from exc
