"""From parsed turns to the stored document text and its segments.

The stored text is built from the turns, one paragraph per turn, each opened by an
anonymised speaker tag ("IPS ES: ...", "IPS client 2: ..."), never the raw label, so a
name in a Teams caption never reaches an export. Segment offsets are code points into
that text: ``text[start:end] == segment text`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from qualcode.errors import InvalidTranscript
from qualcode.ingest.model import Turn

if TYPE_CHECKING:
    from spacy.language import Language

UNITS = ("turn", "sentence", "paragraph")
TURN_SEPARATOR = "\n\n"


@dataclass(slots=True)
class SegmentSpan:
    """One segment: its turn, speaker label and role, and where it sits in the text."""

    seq: int
    turn_index: int
    speaker_label: str
    role: str
    start: int
    end: int
    text: str
    start_ms: int | None
    end_ms: int | None


@dataclass(slots=True)
class BuiltDocument:
    text: str
    segments: list[SegmentSpan]
    speaker_tags: dict[str, str]  # raw label -> anonymised tag used in the text
    word_count: int


def _clock(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def speaker_tags(labels: Sequence[str], roles: Sequence[str], display: dict[str, str]) -> dict[str, str]:
    """Anonymised tags by role, numbered when a role has several speakers in one document."""
    order: dict[str, list[str]] = {}
    for label, role in zip(labels, roles):
        people = order.setdefault(role, [])
        if label not in people:
            people.append(label)
    tags: dict[str, str] = {}
    for role, people in order.items():
        base = display.get(role, role)
        for n, label in enumerate(people, start=1):
            tags[label] = base if len(people) == 1 else f"{base} {n}"
    return tags


@lru_cache(maxsize=1)
def sentence_pipeline() -> "Language":
    """Blank English with the rule-based sentencizer (no trained model needed)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + lead + len(stripped)))
        pos += len(line) + 1
    return spans


def _sentence_spans(texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    nlp = sentence_pipeline()
    out = []
    for doc in nlp.pipe(texts, batch_size=256):
        spans = []
        for sent in doc.sents:
            chunk = sent.text
            stripped = chunk.strip()
            if not stripped:
                continue
            lead = len(chunk) - len(chunk.lstrip())
            start = sent.start_char + lead
            spans.append((start, start + len(stripped)))
        out.append(spans)
    return out


def build_document(
    turns: Sequence[Turn],
    roles: Sequence[str],
    *,
    unit: str = "turn",
    display: dict[str, str],
    file: str | None = None,
) -> BuiltDocument:
    """Lay the turns out as one text and cut it into segments of the chosen unit."""
    if unit not in UNITS:
        raise InvalidTranscript(f"unknown segmentation unit {unit!r} (choose from {', '.join(UNITS)})", file=file)
    if not turns:
        raise InvalidTranscript("no speaker turns found", file=file)
    labels = [t.label or "(no label)" for t in turns]
    tags = speaker_tags(labels, roles, display)
    parts: list[str] = []
    turn_offsets: list[int] = []
    pos = 0
    for i, turn in enumerate(turns):
        if i:
            parts.append(TURN_SEPARATOR)
            pos += len(TURN_SEPARATOR)
        prefix = (f"[{_clock(turn.start_ms)}] " if turn.start_ms is not None else "") + tags[labels[i]] + ": "
        parts.append(prefix)
        pos += len(prefix)
        turn_offsets.append(pos)
        parts.append(turn.text)
        pos += len(turn.text)
    text = "".join(parts)

    if unit == "turn":
        local = [[(0, len(t.text))] for t in turns]
    elif unit == "paragraph":
        local = [_paragraph_spans(t.text) for t in turns]
    else:
        local = _sentence_spans([t.text for t in turns])

    segs: list[SegmentSpan] = []
    for i, (turn, spans) in enumerate(zip(turns, local)):
        base = turn_offsets[i]
        for a, b in spans:
            if b <= a:
                continue
            segs.append(
                SegmentSpan(
                    seq=len(segs),
                    turn_index=i,
                    speaker_label=labels[i],
                    role=roles[i],
                    start=base + a,
                    end=base + b,
                    text=text[base + a : base + b],
                    start_ms=turn.start_ms,
                    end_ms=turn.end_ms,
                )
            )
    words = sum(len(t.text.split()) for t in turns)
    return BuiltDocument(text=text, segments=segs, speaker_tags=tags, word_count=words)
