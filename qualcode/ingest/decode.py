"""Bytes to text for the text-based transcript formats (txt, md, vtt, srt, csv).

Transcripts come from Word, Notepad, Teams and Zoom on Windows machines, so besides
UTF-8 we meet UTF-8 with a BOM, UTF-16 with a BOM ("Unicode text" from Notepad/Word) and
cp1252 ("ANSI"). The text returned always has ``\\n`` line endings and is in Unicode NFC,
so the same words written on two machines compare equal.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from qualcode.errors import InvalidTranscript

# C0 controls other than tab, newline, carriage return; DEL; C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")
# Share of control characters above which a "text" file is taken to be binary.
_MAX_CONTROL_SHARE = 0.02
# Binary signatures worth a clearer message than "not text".
_SIGNATURES = {
    b"PK\x03\x04": "a zip archive (a .docx or .xlsx saved under the wrong name?)",
    b"%PDF": "a PDF file",
    b"\xd0\xcf\x11\xe0": "an old Office file (.doc/.xls); save it as .docx or .xlsx",
    b"{\\rtf": "an RTF file; save it as .docx or plain text",
}


def decode_bytes(data: bytes, file: str | Path | None) -> tuple[str, str]:
    """Decode a text file's bytes; return ``(text, encoding)``.

    Tries UTF-8 with BOM (``utf-8-sig``), UTF-16 with BOM (``utf-16``), UTF-8, then
    cp1252. Refuses empty or whitespace-only files and binary files (NUL bytes outside
    UTF-16, a known binary signature, or many control characters) with
    :class:`InvalidTranscript` naming ``file``. Line endings become ``\\n``, the text is
    NFC-normalised and stray control characters are dropped (they break XML exports).
    """
    for magic, what in _SIGNATURES.items():
        if data.startswith(magic):
            raise InvalidTranscript(f"not a text file: this looks like {what}", file=file)
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _decode(data, "utf-8-sig", file), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _decode(data, "utf-16", file), "utf-16"
    else:
        if b"\x00" in data:
            raise InvalidTranscript("not a text file: it contains NUL bytes (binary data?)", file=file)
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _decode(data, "cp1252", file), "cp1252"
    if not text.strip():
        raise InvalidTranscript("the file is empty", file=file)
    if _CONTROL.search(text) is not None:
        controls = len(_CONTROL.findall(text))
        if "\x00" in text or controls > _MAX_CONTROL_SHARE * len(text):
            raise InvalidTranscript(
                f"not a text file: {controls} control characters in {len(text)} (binary data?)", file=file
            )
        text = _CONTROL.sub("", text)
        if not text.strip():
            raise InvalidTranscript("the file is empty", file=file)
    if "\r" in text or "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = _LINE_BREAKS.sub("\n", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text, encoding


def _decode(data: bytes, encoding: str, file: str | Path | None) -> str:
    """Strict decode, turning failure into InvalidTranscript with the byte offset."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidTranscript(
            f"cannot decode the file as {encoding} (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
            "save it as UTF-8",
            file=file,
        ) from exc
