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
    ``context`` is the text of the turn before the segment's turn (usually the question it
    answers); rules ignore it, the classifier reads it.
    """

    id: int
    text: str
    role: str
    document: str = ""
    site: str | None = None
    start: int = 0
    end: int = 0
    context: str = ""


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


def previous_turns(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """For each segment row, the rows of the turn before its turn in the same document.

    ``rows`` are segment rows of every role (``document_id``, ``turn_index``,
    ``segment_id``) in document and turn order; the first turn of a document gets []."""
    turns: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in rows:
        turns.setdefault((r["document_id"], r["turn_index"]), []).append(r)
    out: dict[int, list[dict[str, Any]]] = {}
    last: dict[int, tuple[int, int]] = {}
    for key, members in turns.items():  # insertion order is document and turn order
        before = turns[last[key[0]]] if key[0] in last else []
        for r in members:
            out[r["segment_id"]] = before
        last[key[0]] = key
    return out


def turn_text(turn: Sequence[dict[str, Any]]) -> str:
    """The text of a turn's segments, joined with single spaces."""
    return " ".join(" ".join(r["text"] for r in turn).split())


def by_segment(suggestions: Sequence[Suggestion]) -> dict[int, list[Suggestion]]:
    """Group suggestions by segment id, keeping their order."""
    out: dict[int, list[Suggestion]] = {}
    for s in suggestions:
        out.setdefault(s.segment_id, []).append(s)
    return out
