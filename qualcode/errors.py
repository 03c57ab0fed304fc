"""qualcode's own exceptions.

Every error a user can cause is a :class:`QualcodeError` whose message names the file and,
where it applies, the line, row or cue, so the CLI can print it on one line.
"""

from __future__ import annotations

from pathlib import Path


class QualcodeError(Exception):
    """Base class for every error qualcode raises on bad input or state."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        row: int | None = None,
        cue: int | str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.row = row
        self.cue = cue
        self.code = code

    def location(self) -> str:
        """The 'file, line N' part of the message, or '' when nothing is known."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.cue is not None:
            parts.append(f"cue {self.cue}")
        if self.code is not None:
            parts.append(f"code {self.code!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        text = " ".join(self.message.split())  # always one line
        return f"{loc}: {text}" if loc else text


class InvalidTranscript(QualcodeError):
    """A transcript file that cannot be read or parsed."""


class InvalidCodebook(QualcodeError):
    """A codebook that is malformed: duplicate ids, missing parents, cycles, bad patterns."""


class InvalidManifest(QualcodeError):
    """A manifest or roles file that is malformed."""


class InvalidInput(QualcodeError):
    """Any other bad input file (codings, review sheets, outcome data, exchange files)."""


class ProjectError(QualcodeError):
    """The project store cannot be opened, upgraded or written as asked."""


class DuplicateDocument(QualcodeError):
    """A changed file under a name already in the project, ingested without --replace."""
