"""Plain data passed from the format parsers to segmentation and the store."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Turn:
    """One speaker turn as a parser found it.

    ``label`` is the raw speaker label (``None`` when the file gives none), ``text`` the
    turn's words with continuation lines joined by ``\\n``, ``line`` the 1-based line (or
    paragraph, row, cue) where the turn starts, for error messages.
    """

    label: str | None
    text: str
    line: int
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(slots=True)
class ParsedTranscript:
    """What a parser returns: the turns plus how the file was read."""

    turns: list[Turn]
    format: str  # txt | md | docx | vtt | srt | csv | xlsx
    encoding: str | None = None  # utf-8 | utf-8-sig | cp1252 | None for binary formats
    warnings: list[str] = field(default_factory=list)
