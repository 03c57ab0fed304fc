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
from functools import lru_cache
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
# A well-formed cue block: optional identifier line, timing line (minutes and seconds in
# range), payload. Timestamps are kept as text and converted only where a turn needs them.
_GOOD_TS = r"(?:\d+:)?[0-5]?\d:[0-5]?\d\.\d{1,3}"
# The commonest shape of all (Teams): one "<v Name>text</v>" line per cue. Matched over
# the whole file at once; any cue of another shape sends the file to the general reader.
_TEAMS_CUE = re.compile(
    rf"\n\n+(?:[^\n>]*\n)?[ \t]*({_GOOD_TS})[ \t]*-->[ \t]*({_GOOD_TS})(?:[ \t][^\n]*)?\n"
    r"<v(?:\.[^\s>]*)?[ \t]([^>\n]*)>([^<&\n]*)(?:</v>)?(?=\n|$)"
)
_CUE_BLOCK = re.compile(
    rf"(?:([^\n]*)\n)?[ \t]*({_GOOD_TS})[ \t]*-->[ \t]*({_GOOD_TS})(?:[ \t][^\n]*)?(?:\n(.*))?", re.DOTALL
)
_TAG = re.compile(r"<[^<>]*>|\{\\[^{}]*\}")
_NON_CUE_BLOCKS = ("NOTE", "STYLE", "REGION")


class _Cue:
    """One cue: number, times (ms, or a checked VTT timestamp converted on demand), lines."""

    __slots__ = ("number", "_start", "_end", "lines")

    def __init__(self, number: int, start: int | str, end: int | str, lines: list[tuple[str | None, str]]) -> None:
        self.number = number
        self._start = start
        self._end = end
        self.lines = lines  # (voice or None, clean text) per line, from _cue_line

    @property
    def start_ms(self) -> int:
        return self._start if isinstance(self._start, int) else _vtt_ms(self._start)

    @property
    def end_ms(self) -> int:
        return self._end if isinstance(self._end, int) else _vtt_ms(self._end)


def _vtt_ms(stamp: str) -> int:
    """A timestamp already checked by _CUE_BLOCK ("01:02:03.5", "2:03.250") to ms."""
    clock, _, frac = stamp.partition(".")
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total * 1000 + int(frac.ljust(3, "0"))


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
    teams = _teams_turns(text)
    if teams:
        return ParsedTranscript(turns=teams, format="vtt", encoding=encoding, warnings=[])
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


def _teams_turns(text: str) -> list[Turn] | None:
    """Turns of a file whose every cue is one "<v Name>text</v>" line; None otherwise."""
    pos = text.find("\n\n")
    if pos < 0:
        return None
    turns: list[Turn] = []
    label: str | None = None
    parts: list[str] = []
    first = number = 0
    start = end = ""
    for m in _TEAMS_CUE.finditer(text, pos):
        if m.start() != pos:
            return None
        pos = m.end()
        number += 1
        cue_start, cue_end, voice, words = m.groups()
        voice = voice.strip()
        if not voice or "-->" in words:
            return None
        if voice != label:
            if parts:
                turns.append(Turn(label, " ".join(parts), first, _vtt_ms(start), _vtt_ms(end)))
            label, parts, first, start = voice, [], number, cue_start
        if "  " in words or "\t" in words or words[:1] == " " or words[-1:] == " ":
            words = " ".join(words.split())
        if words:
            parts.append(words)
            end = cue_end
    if parts:
        turns.append(Turn(label, " ".join(parts), first, _vtt_ms(start), _vtt_ms(end)))
    if text[pos:].strip():
        return None
    return turns


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
        ident, start, end, payload = m.groups()
        if (ident is not None and "-->" in ident) or (payload is not None and "-->" in payload):
            return None
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
    if line.startswith("<v") and line.endswith("</v>"):  # Teams: "<v Name>text</v>", fast path
        close = line.find(">")
        inner = line[close + 1:-4]
        voice = _voice_name(line[2:close])
        if voice and "<" not in inner and "&" not in inner:
            if "  " in inner or "\t" in inner or inner[:1] == " " or inner[-1:] == " ":
                inner = " ".join(inner.split())
            return voice, inner
    voice = None
    if "<" in line or "{" in line:
        m = _VOICE_LINE.fullmatch(line)
        if m is not None:
            voice, line = m.group(1), m.group(2)
        else:
            found = _VOICE.search(line)
            voice = found.group(1) if found is not None else None
            line = _TAG.sub("", line)
        voice = (voice.strip() or None) if voice is not None else None
    if "&" in line:
        line = html.unescape(line)
    return voice, " ".join(line.split())


@lru_cache(maxsize=1024)
def _voice_name(tag: str) -> str | None:
    """The name in a voice tag's inside: " Luke Smith" or ".loud Luke Smith"; None if not one."""
    if tag[:1] in (" ", "\t"):
        return tag.strip() or None
    if tag[:1] == ".":
        parts = tag.split(None, 1)
        return parts[1].strip() if len(parts) == 2 and ">" not in parts[1] else None
    return None


def _to_transcript(cues: list[_Cue], fmt: str, file: str | Path | None, encoding: str | None) -> ParsedTranscript:
    """Merge consecutive cues of one speaker into turns."""
    turns: list[Turn] = []
    label: str | None = None
    parts: list[str] = []
    first_cue = last_cue = cues[0] if cues else None
    named = False

    def close() -> None:
        if parts and first_cue is not None and last_cue is not None:
            turns.append(Turn(label, " ".join(parts), first_cue.number, first_cue.start_ms, last_cue.end_ms))

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
                label, parts, first_cue = speaker, [], cue
            if not words:
                continue
            if not parts and not turns and label is None:
                first_cue = cue
            parts.append(words)
            last_cue = cue
    close()
    if not turns:
        raise InvalidTranscript("no text in any cue", file=file)
    warnings = [] if named else ["no speaker names in the captions: the text is one turn without a label"]
    return ParsedTranscript(turns=turns, format=fmt, encoding=encoding, warnings=warnings)
