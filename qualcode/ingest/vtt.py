"""Caption files from Teams and Zoom: WebVTT (.vtt) and SubRip (.srt).

Speakers come from WebVTT voice tags (``<v Luke Smith>``, ``<v.loud Luke>``) as Teams
writes them, or a ``Name:`` prefix in the cue text as Zoom writes it. Consecutive cues of
one speaker merge into one turn, their texts joined with spaces (line breaks inside a cue
become spaces too); a cue with no speaker continues the turn before it. ``start_ms`` and
``end_ms`` come from the first and last cue of the turn; ``Turn.line`` is the 1-based
number of the turn's first cue.

Both formats are parsed here in one pass rather than with webvtt-py: the installed
webvtt-py drops malformed cues silently (we must name the bad cue and line) and takes
about 45 ms per 1,000 cues, too slow for the ingest budget. The tests check that this
parser and webvtt-py agree on well-formed files.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InvalidTranscript
from qualcode.ingest.model import ParsedTranscript, Turn
from qualcode.ingest.text import TURN, classify

# webvtt-py's lenient timestamp: [h:]m:s.fff with short fields allowed.
_VTT_TS = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})\.(\d{1,3})"
_VTT_TIMING = re.compile(rf"\s*{_VTT_TS}\s*-->\s*{_VTT_TS}(?:\s|$)")
_SRT_TS = r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"\s*{_SRT_TS}\s*-->\s*{_SRT_TS}(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)*\s+([^>]*?)\s*>")
_VOICE_LINE = re.compile(r"<v(?:\.[^\s>]*)*\s+([^>]*?)\s*>([^<]*)(?:</v>)?")  # "<v Name>text</v>"
# A well-formed cue block: optional identifier line, timing line, payload.
_CUE_BLOCK = re.compile(
    rf"(?:([^\n]*)\n)?[ \t]*{_VTT_TS}[ \t]*-->[ \t]*{_VTT_TS}(?:[ \t][^\n]*)?(?:\n(.*))?", re.DOTALL
)
_TAG = re.compile(r"<[^<>]*>|\{\\[^{}]*\}")
_NON_CUE_BLOCKS = ("NOTE", "STYLE", "REGION")


@dataclass(slots=True)
class _Cue:
    number: int
    start_ms: int
    end_ms: int
    lines: list[tuple[str | None, str]]  # (voice or None, clean text) per line, from _cue_line


def _parts_ms(h: str | None, m: str, s: str, frac: str) -> int | None:
    minutes, seconds = int(m), int(s)
    if minutes > 59 or seconds > 59:
        return None
    return ((int(h or 0) * 60 + minutes) * 60 + seconds) * 1000 + int(frac.ljust(3, "0"))


def parse_vtt(text: str, file: str | Path | None, encoding: str | None = None) -> ParsedTranscript:
    """Parse a WebVTT transcript (already decoded) into speaker turns.

    Blocks are split as webvtt-py splits them: at empty lines, and at a "-->" line that
    cannot be the timing line of the block it is in. NOTE, STYLE and REGION blocks are
    skipped; any other block must be a cue with a valid timing line.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
        raise InvalidTranscript("not a WebVTT file: the first line must be 'WEBVTT'", file=file, line=1)
    fast = _fast_cues(text)
    if fast:
        return _to_transcript(fast, "vtt", file, encoding)
    cues: list[_Cue] = []
    block: list[str] = []
    first_line = 0
    in_header = True
    for number, line in enumerate(lines, start=1):
        if not line or (block and "-->" in line and (in_header or len(block) > 1 or "-->" in block[0])):
            if block:
                if not in_header:
                    _vtt_block(block, first_line, cues, file)
                block, in_header = [], False
        if line:
            if not block:
                first_line = number
            block.append(line)
    if block and not in_header:
        _vtt_block(block, first_line, cues, file)
    if not cues:
        raise InvalidTranscript("no cues found in the WebVTT file", file=file)
    return _to_transcript(cues, "vtt", file, encoding)


def _fast_cues(text: str) -> list[_Cue] | None:
    """Cues of a well-formed file, block by block with one regex each; None on any doubt.

    The line-by-line reader in :func:`parse_vtt` then handles the file and reports the
    exact cue and line of a problem; both agree on well-formed files.
    """
    cues: list[_Cue] = []
    blocks = text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n")
    for block in blocks[1:]:  # blocks[0] is the header
        if block.startswith("\n"):
            block = block.lstrip("\n")
        if not block:
            continue
        m = _CUE_BLOCK.fullmatch(block)
        if m is None:
            if block.startswith(_NON_CUE_BLOCKS) and "-->" not in block:
                continue
            return None
        ident, h1, m1, s1, f1, h2, m2, s2, f2, payload = m.groups()
        if (ident is not None and "-->" in ident) or (payload is not None and "-->" in payload):
            return None
        if int(m1) > 59 or int(s1) > 59 or int(m2) > 59 or int(s2) > 59:
            return None
        start = ((int(h1 or 0) * 60 + int(m1)) * 60 + int(s1)) * 1000 + int(f1.ljust(3, "0"))
        end = ((int(h2 or 0) * 60 + int(m2)) * 60 + int(s2)) * 1000 + int(f2.ljust(3, "0"))
        lines = [_cue_line(line) for line in payload.split("\n")] if payload else []
        cues.append(_Cue(len(cues) + 1, start, end, lines))
    return cues


def _vtt_block(block: list[str], first_line: int, cues: list[_Cue], file: str | Path | None) -> None:
    """Check one block after the header and add it to ``cues`` when it is a cue."""
    head = block[0]
    where = 0 if "-->" in head else 1
    if where and head.startswith(_NON_CUE_BLOCKS) and not any("-->" in b for b in block):
        return
    number = len(cues) + 1
    if where >= len(block) or "-->" not in block[where]:
        raise InvalidTranscript(
            f"cue has no timing line ('00:00:01.000 --> 00:00:04.000'), found {head[:60]!r}",
            file=file, line=first_line, cue=number,
        )
    timing = block[where]
    m = _VTT_TIMING.match(timing)
    start = end = None
    if m is not None:
        g = m.groups()
        start, end = _parts_ms(*g[:4]), _parts_ms(*g[4:])
    if start is None or end is None:
        raise InvalidTranscript(f"bad cue timing line {timing[:80]!r}", file=file, line=first_line + where, cue=number)
    cues.append(_Cue(number, start, end, [_cue_line(line) for line in block[where + 1:]]))


def parse_srt(text: str, file: str | Path | None, encoding: str | None = None) -> ParsedTranscript:
    """Parse a SubRip transcript (already decoded) into speaker turns."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[_Cue] = []
    current: _Cue | None = None
    index_line: tuple[int, str] | None = None  # a number alone after a blank line: a cue index?
    after_blank = True
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            if index_line is not None and current is not None:
                current.lines.append(_cue_line(index_line[1]))
            index_line = None
            after_blank = True
            continue
        if "-->" in stripped:
            m = _SRT_TIMING.match(stripped)
            times = None
            if m is not None:
                times = (_parts_ms(*m.groups()[:4]), _parts_ms(*m.groups()[4:]))
            if m is None or times is None or None in times:
                raise InvalidTranscript(
                    f"bad cue timing line {stripped[:80]!r} (expected '00:00:01,000 --> 00:00:04,000')",
                    file=file, line=number, cue=len(cues) + 1,
                )
            current = _Cue(len(cues) + 1, times[0], times[1], [])  # type: ignore[arg-type]
            cues.append(current)
            index_line = None
            after_blank = False
            continue
        if after_blank and stripped.isdigit() and index_line is None:
            index_line = (number, stripped)
            continue
        if current is None:
            raise InvalidTranscript(
                f"not an SRT file: expected a cue number and timing line, found {stripped[:60]!r}",
                file=file, line=number, cue=1,
            )
        if index_line is not None:  # the number was caption text after all ("2019")
            current.lines.append(_cue_line(index_line[1]))
            index_line = None
        current.lines.append(_cue_line(stripped))
        after_blank = False
    if index_line is not None and current is not None:
        current.lines.append(_cue_line(index_line[1]))
    if not cues:
        raise InvalidTranscript("no cues found (not an SRT file?)", file=file)
    return _to_transcript(cues, "srt", file, encoding)


def _cue_line(line: str) -> tuple[str | None, str]:
    """(voice name or None, text without tags and entities, spaces collapsed) for a cue line."""
    voice: str | None = None
    if "<" in line or "{" in line:
        m = _VOICE_LINE.fullmatch(line)
        if m is not None:
            voice, line = m.group(1), m.group(2)
        else:
            found = _VOICE.search(line)
            voice = found.group(1) if found is not None else None
            line = _TAG.sub("", line)
        voice = voice.strip() or None if voice is not None else None
    if "&" in line:
        line = html.unescape(line)
    return voice, " ".join(line.split())


def _to_transcript(cues: list[_Cue], fmt: str, file: str | Path | None, encoding: str | None) -> ParsedTranscript:
    """Merge consecutive cues of one speaker into turns."""
    turns: list[Turn] = []
    label: str | None = None
    parts: list[str] = []
    first = start = end = 0
    named = False

    def close() -> None:
        if parts:
            turns.append(Turn(label, " ".join(parts), first, start, end))

    for cue in cues:
        for voice, words in cue.lines:
            speaker = voice
            if speaker is None and words and ":" in words:
                item = classify(words)
                if item[0] == TURN and item[1]:
                    speaker, words = item[1], item[2]
            if speaker is not None and speaker != label:
                named = True
                close()
                label, parts, first, start = speaker, [], cue.number, cue.start_ms
            if not words:
                continue
            if not parts and not turns and label is None:
                first, start = cue.number, cue.start_ms
            parts.append(words)
            end = cue.end_ms
    close()
    if not turns:
        raise InvalidTranscript("no text in any cue", file=file)
    warnings = [] if named else ["no speaker names in the captions: the text is one turn without a label"]
    return ParsedTranscript(turns=turns, format=fmt, encoding=encoding, warnings=warnings)
