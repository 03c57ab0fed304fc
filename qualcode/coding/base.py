"""The one interface shared by every coding assistant: ``suggest(segments) -> suggestions``.

Assistants (rules, classifier) are pure: they read segments and return suggestions with
provenance; the store persists them. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence


@dataclass(frozen=True, slots=True)
class SegmentInput:
    """What an assistant sees of a segment.

    ``start``/``end`` are code-point offsets of the segment in its document's text, so a
    span found at ``i:j`` inside ``text`` is ``start + i : start + j`` in the document.
    """

    id: int
    text: str
    role: str
    document: str = ""
    site: str | None = None
    start: int = 0
    end: int = 0


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A proposed coding: code id, confidence in [0, 1], and why (provenance).

    Provenance for a rule: ``{"rule": id, "span": [start, end], "matched": text}`` with the
    span in document offsets; for a classifier: ``{"model": name, "model_id": ..., "score": p}``.
    """

    segment_id: int
    code: str
    source: str  # "rule" | "classifier"
    confidence: float
    provenance: dict[str, Any] = field(default_factory=dict)


class Assistant(Protocol):
    """Anything that proposes codes for segments."""

    source: str

    def suggest(self, segments: Iterable[SegmentInput]) -> list[Suggestion]:
        ...


def by_segment(suggestions: Sequence[Suggestion]) -> dict[int, list[Suggestion]]:
    """Group suggestions by segment id, keeping their order."""
    out: dict[int, list[Suggestion]] = {}
    for s in suggestions:
        out.setdefault(s.segment_id, []).append(s)
    return out
