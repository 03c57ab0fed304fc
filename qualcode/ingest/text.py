"""Plain-text and markdown transcripts: speaker turns from labelled lines.

Conventions recognised on each line (all in one pass, with precompiled patterns):

* ``Label: text``; ``[Label]: text`` and ``[Label] text``; ``**Label:** text`` and
  ``**Label**: text`` (markdown bold), or such a label alone on its line;
* a leading timestamp before the label: ``[00:01:23] Label: text``, ``00:01:23``,
  ``(00:01:23)``, ``[01:23]``, ranges ``00:01:23 - 00:01:40`` (``-->``, ``to`` too);
* a timestamp after the label: ``Label 00:01:23`` alone on its line with the words on the
  following lines (Otter, Teams), ``Label (00:01:23): text``, ``Label: [00:01:23] text``;
* a timestamp line, then a name line, then text (older Teams exports);
* lines without a label continue the turn above them.

A label is short (at most 40 characters and 5 words), has no sentence punctuation, and
is not a time ("10:30") or an opening like "I think:" or "So:". Lines before the first
turn (a title, a header block of ``Site:``/``Date:``/``Interviewee:`` lines) are skipped
and reported in the warnings. :class:`TurnCollector` holds the line logic so the docx
parser feeds its paragraphs through the very same rules.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from qualcode.errors import InvalidTranscript
from qualcode.ingest.model import ParsedTranscript, Turn

MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 5

_TS = r"\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?"
_ONE_TS = rf"[\[(]?[ \t]*{_TS}[ \t]*[\])]?"
_TS_SPAN = rf"{_ONE_TS}(?:[ \t]*(?:-->|-|–|—|to)[ \t]*{_ONE_TS})?"
_TS_FIND = re.compile(_TS)
_TS_PARTS = re.compile(r"(\d{1,2})(?::(\d{1,2}))(?::(\d{1,2}))?(?:[.,](\d{1,3}))?")
_LEAD_TS = re.compile(rf"{_TS_SPAN}(?:(?<=[\])])|(?=\s|$))")
_WHOLE_TS = re.compile(rf"\s*{_TS_SPAN}\s*")
_COLON_LABEL = re.compile(r"([^:\[\]*\n]{1,40}?)\s*:(?=\s|$)")
_LABEL_TS = re.compile(rf"([^:\[\]()*\n\d][^:\[\]()*\n]{{0,39}}?)\s+({_TS_SPAN})\s*(:)?(?=\s|$)")
_BRACKET_LABEL = re.compile(r"\[([^\[\]\n]{1,40})\](\s*:)?(?=\s|$)")
_BOLD_LABEL = re.compile(r"(\*\*|__)([^*_\n]{1,40}?)(?:(:)\s*\1|\s*\1\s*(:)?)(?=\s|$)")
_LABEL_CHARS = re.compile(r"[\w .'’/&#()+-]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_DOT = re.compile(r"(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bMrs)(?<!\bProf)(?<!\bSt)\.\s")
_CLOCK_END = re.compile(r"(?:\d{1,2}[.:]\d{2}|\d{1,2}\s*(?:am|pm))$", re.IGNORECASE)
_OTTER_FOOTER = re.compile(r"transcribed by\s+\S*otter\.ai\S*$", re.IGNORECASE)
_ANNOTATION = re.compile(r"x+|.*(?:redact|inaudib|unclear|anonymi[sz]|indistinct).*", re.IGNORECASE)

# Words that open sentences, not labels: "I think:", "So:", "We said:".
_OPENERS = frozenset(
    "i we you he she they it so and but or then the a an well because like that this these "
    "those there here what when where why how if my our your his her their its one as in on "
    "at for to of with also just um erm er uh yeah yes no ok okay right actually basically "
    "obviously anyway now sometimes maybe perhaps".split()
)
_SINGLE_STOP = frozenset(
    "so and but or yes no well um erm er uh ok okay yeah because then also like e.g eg i.e ie "
    "ps nb re http https www etc".split()
)
_TRAILING_PREPOSITIONS = frozenset("at by from until till around about before after since to on for in".split())
# Bracketed transcriber annotations that are not speakers: "[Laughs] yes".
_ANNOTATIONS = frozenset(
    "inaudible laughs laughter laughing laugh pause pauses crosstalk overlapping overtalking "
    "silence coughs cough sighs sigh noise music name names place location organisation "
    "organization org company town city area interruption interrupts sic unclear".split()
) | {
    "long pause", "cross talk", "overlapping speech", "talking over", "background noise",
    "phone rings", "recording paused", "recording resumed", "recording stopped", "end of recording",
    "end of interview", "start of recording", "audio cuts out", "technical difficulties",
    "employer name", "company name", "name of employer", "name of service",
}
# Keys of a header block ("Site: Berkshire") skipped before the first turn. Weak keys are
# also speaker labels: see _is_header_block for when they count as header lines.
HEADER_KEYS = frozenset(
    "site date interviewee transcript wave duration location time title project file filename "
    "recording length borough area service team organisation organization role mode format "
    "job title interview".split()
) | {
    "interviewer name", "interviewee name", "participant id", "participant name", "interview date",
    "date of interview", "interview type", "interview mode", "interview length", "audio file",
    "file name", "transcribed by", "transcriber", "transcription", "recording date", "site name",
    "job role", "start time", "end time", "no of participants", "number of participants",
}
# A label with one of these words is a title or header ("Interview transcript: ES").
_HEADER_WORDS = frozenset({"transcript", "transcription", "interview", "recording"})
WEAK_HEADER_KEYS = frozenset({"participant", "participants", "interviewer", "respondent", "interviewee"})

BLANK, TEXT, TS_ONLY, TURN = 0, 1, 2, 3
# A classified line: (kind, label, text, start_ms, end_ms)
Line = tuple[int, str | None, str, int | None, int | None]
_BLANK_LINE: Line = (BLANK, None, "", None, None)


def ts_to_ms(value: str) -> int | None:
    """``"01:23"`` (m:ss), ``"1:02:03"``, ``"00:01:23.5"`` to milliseconds; None if invalid."""
    m = _TS_PARTS.fullmatch(value.strip())
    if m is None:
        return None
    a, b, c, frac = m.groups()
    if c is None:
        hours, minutes, seconds = 0, int(a), int(b)
    else:
        hours, minutes, seconds = int(a), int(b), int(c)
        if minutes > 59:
            return None
    if seconds > 59:
        return None
    ms = int(frac.ljust(3, "0")) if frac else 0
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms


def parse_timestamp(value: str) -> tuple[int, int | None] | None:
    """A timestamp or range (``"[00:01:23]"``, ``"00:01:23 - 00:01:40"``) to ``(start, end)``."""
    if _WHOLE_TS.fullmatch(value) is None:
        return None
    return _span_ms(value)


def _span_ms(span: str) -> tuple[int, int | None] | None:
    times = _TS_FIND.findall(span)
    start = ts_to_ms(times[0]) if times else None
    if start is None:
        return None
    end = ts_to_ms(times[1]) if len(times) > 1 else None
    return start, end


def _norm_key(label: str) -> str:
    return " ".join(label.casefold().replace("_", " ").split())


@lru_cache(maxsize=8192)
def label_ok(label: str, bare: bool = False) -> bool:
    """Whether ``label`` (already stripped) can be a speaker label.

    ``bare`` is for labels with no colon or brackets (a name line after a timestamp, a
    ``Label 0:15`` line): they must also start with a capital letter or digit.
    """
    if not label or len(label) > MAX_LABEL_CHARS or not label[0].isalnum():
        return False
    if _LABEL_CHARS.fullmatch(label) is None:
        return False
    if _HAS_LETTER.search(label) is None:
        return False
    words = label.split()
    if len(words) > MAX_LABEL_WORDS:
        return False
    first = words[0].casefold()
    if len(words) == 1:
        if first.rstrip(".") in _SINGLE_STOP:
            return False
    else:
        if first in _OPENERS or label.endswith("."):
            return False
        if _SENTENCE_DOT.search(label) is not None:
            return False
    if _CLOCK_END.search(label) is not None:
        return False
    if bare:
        if not (label[0].isupper() or label[0].isdigit()):
            return False
        if len(words) > 1 and words[-1].casefold() in _TRAILING_PREPOSITIONS:
            return False
    return True


def _bracket_label_ok(label: str, has_colon: bool) -> bool:
    key = _norm_key(label)
    if key in _ANNOTATIONS or _ANNOTATION.fullmatch(key) is not None:
        return False
    if not has_colon and not (label[0].isupper() or label[0].isdigit()):
        return False
    return label_ok(label)


def _match_label(rest: str) -> tuple[str, str, tuple[int, int | None] | None] | None:
    """Split ``rest`` into (label, text after it, timestamp in the label) or None."""
    first = rest[0]
    if first == "[":
        m = _BRACKET_LABEL.match(rest)
        if m is not None:
            label = m.group(1).strip()
            if label and _bracket_label_ok(label, m.group(2) is not None):
                return label, rest[m.end():], None
        return None
    if first == "*" or first == "_":
        m = _BOLD_LABEL.match(rest)
        if m is not None:
            label = m.group(2).strip()
            after = rest[m.end():]
            has_colon = m.group(3) is not None or m.group(4) is not None
            if label_ok(label) and (has_colon or not after.strip()):
                return label, after, None
        return None
    if ":" not in rest:
        return None
    m = _COLON_LABEL.match(rest)
    if m is not None:
        label = m.group(1).strip()
        if label_ok(label):
            return label, rest[m.end():], None
    m = _LABEL_TS.match(rest)
    if m is not None:
        label = m.group(1).strip()
        span = m.group(2)
        after = rest[m.end():]
        bracketed = span.lstrip()[:1] in "[("
        if m.group(3) is None and after.strip() and not bracketed:
            return None  # "Meeting at 10:30 was good"
        if label_ok(label, bare=m.group(3) is None and not bracketed):
            ts = _span_ms(span)
            if ts is not None:
                return label, after, ts
    return None


def classify(line: str) -> Line:
    """Classify one line: blank, plain text, a timestamp alone, or the start of a turn."""
    s = line.strip()
    if not s:
        return _BLANK_LINE
    rest = s
    lead: tuple[int, int | None] | None = None
    first = s[0]
    if first.isdigit() or first == "[" or first == "(":
        m = _LEAD_TS.match(s)
        if m is not None:
            lead = _span_ms(m.group())
            if lead is not None:
                rest = s[m.end():].lstrip()
                if not rest:
                    return (TS_ONLY, None, "", lead[0], lead[1])
    found = _match_label(rest)
    if found is None:
        return (TEXT, None, s, None, None)
    label, after, ts = found
    if ts is None:
        ts = lead
    after = after.strip()
    if ts is None and after and (after[0].isdigit() or after[0] in "[("):
        m = _LEAD_TS.match(after)
        if m is not None:
            ts = _span_ms(m.group())
            if ts is not None:
                after = after[m.end():].lstrip()
    if ts is None:
        return (TURN, label, after, None, None)
    return (TURN, label, after, ts[0], ts[1])


def bare_label(line: str) -> str | None:
    """A line holding only a name ("Luke Smith"), as after a Teams timestamp line."""
    s = line.strip().rstrip(":").strip()
    return s if label_ok(s, bare=True) else None


def header_key_kind(label: str) -> str | None:
    """``"strong"`` for a header key (Site, Date, ...), ``"weak"`` for Participant etc."""
    key = _norm_key(label)
    if key in HEADER_KEYS or not _HEADER_WORDS.isdisjoint(key.split()):
        return "strong"
    if key in WEAK_HEADER_KEYS:
        return "weak"
    return None


def _is_header_block(lines: list[tuple[Line, int]], ended_by_turn: bool) -> bool:
    """Lines from a block's first labelled line: a header block, or the first turns?

    Any strong key (Site, Date) makes a header. Weak keys alone (Participant, Interviewer)
    make one only in a block of two or more such lines with short values and no sentence
    punctuation, ended by a blank line rather than by a speaker turn.
    """
    kinds = [header_key_kind(it[1] or "") if it[0] == TURN else None for it, _ in lines]
    if "strong" in kinds:
        return True
    if ended_by_turn or len(lines) < 2:
        return False
    for (it, _), kind in zip(lines, kinds, strict=True):
        value = it[2]
        if kind is None or not value or len(value.split()) > 6 or value[-1] in ".?!…":
            return False
    return True


def _header_line(item: Line) -> bool:
    """A labelled line that reads as header metadata ("Site: Berkshire", "Participant: P03"),
    not as speech ("Interviewer: Thanks for making the time today.")."""
    kind = header_key_kind(item[1] or "")
    if kind == "strong":
        return True
    value = item[2]
    return kind == "weak" and bool(value) and len(value.split()) <= 6 and value[-1] not in ".?!…"


class TurnCollector:
    """Builds turns from classified lines; shared by the text and docx parsers."""

    def __init__(self, file: str | Path | None) -> None:
        self.file = file
        self.turns: list[Turn] = []
        self.warnings: list[str] = []
        self._label: str | None = None
        self._lines: list[str] = []
        self._line_no = 0
        self._start: int | None = None
        self._end: int | None = None
        self._open = False
        self._pending: tuple[int | None, int | None] | None = None
        self._pending_line = 0
        self._in_preamble = True
        self._block: list[tuple[Line, int]] = []
        self._header_keys: list[str] = []
        self._skipped: list[int] = []

    # -- feeding ---------------------------------------------------------------------
    def feed(self, line: str, line_no: int) -> None:
        """Classify and take one line of text."""
        if line.lstrip()[:1] in ("T", "t") and _OTTER_FOOTER.match(line.strip()) is not None:
            self.warnings.append(f"line {line_no}: skipped the transcription service footer")
            return
        self.add(classify(line), line_no)

    def start_turn(
        self, label: str, text: str, line_no: int, start_ms: int | None = None, end_ms: int | None = None
    ) -> None:
        """Start a turn whose label is known from formatting (bold, a table cell)."""
        lines = [part.strip() for part in text.split("\n")]
        lines = [part for part in lines if part]
        first = lines[0] if lines else ""
        if start_ms is None and first and (first[0].isdigit() or first[0] in "[("):
            m = _LEAD_TS.match(first)
            ts = _span_ms(m.group()) if m is not None else None
            if m is not None and ts is not None:
                start_ms, end_ms = ts
                first = first[m.end():].strip()
        self.add((TURN, label, first, start_ms, end_ms), line_no)
        for extra in lines[1:]:
            self.add((TEXT, None, extra, None, None), line_no)

    def add_blank(self, line_no: int) -> None:
        """Take an empty line (an empty paragraph, the edge of a table)."""
        self.add(_BLANK_LINE, line_no)

    def add(self, item: Line, line_no: int) -> None:
        """Take one classified line."""
        if self._in_preamble:
            self._preamble(item, line_no)
        else:
            self._body(item, line_no)

    def finish(self) -> tuple[list[Turn], list[str]]:
        """Close the last turn; raise InvalidTranscript when no turn was found."""
        if self._in_preamble:
            self._resolve_block(None)
        if self._in_preamble:
            raise InvalidTranscript("no speaker turns found (no line starts with a speaker label)", file=self.file)
        self._flush()
        if not self.turns:
            raise InvalidTranscript("no speaker turns found (every speaker label has no text)", file=self.file)
        return self.turns, self.warnings

    # -- internals -------------------------------------------------------------------
    def _body(self, item: Line, line_no: int) -> None:
        kind = item[0]
        if kind == TEXT:
            if self._pending is not None:
                name = bare_label(item[2])
                start, end = self._pending
                self._pending = None
                if name is not None:
                    self._flush()
                    self._begin(name, "", line_no, start, end)
                    return
            self._lines.append(item[2])
        elif kind == TURN:
            start, end = item[3], item[4]
            if start is None and self._pending is not None:
                start, end = self._pending
            self._pending = None
            self._flush()
            self._begin(item[1], item[2], line_no, start, end)
        elif kind == TS_ONLY:
            self._pending = (item[3], item[4])

    def _begin(self, label: str | None, text: str, line_no: int, start: int | None, end: int | None) -> None:
        self._label, self._line_no, self._start, self._end = label, line_no, start, end
        self._lines = [text] if text else []
        self._open = True

    def _flush(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._lines:
            self.turns.append(Turn(self._label, "\n".join(self._lines), self._line_no, self._start, self._end))
        else:
            self.warnings.append(f"line {self._line_no}: speaker label {self._label!r} has no text; skipped")

    def _preamble(self, item: Line, line_no: int) -> None:
        kind = item[0]
        if kind == BLANK:
            self._resolve_block(None)
            return
        if kind == TS_ONLY:
            self._drop_pending()
            self._pending, self._pending_line = (item[3], item[4]), line_no
            return
        if kind == TEXT and self._pending is not None:
            name = bare_label(item[2])
            if name is not None:
                self._resolve_block(((TURN, name, "", None, None), line_no))
                return
            self._drop_pending()
        if kind == TURN and item[1] is not None and header_key_kind(item[1]) is None:
            self._resolve_block((item, line_no))
            return
        self._block.append((item, line_no))

    def _drop_pending(self) -> None:
        """A timestamp line before the first turn that led to no turn: report it skipped."""
        if self._pending is not None:
            self._skipped.append(self._pending_line)
            self._pending = None

    def _resolve_block(self, ending: tuple[Line, int] | None) -> None:
        """Settle the buffered lines of a block before the first turn.

        A block with a strong header key (Site, Date) is skipped whole; a block of only
        weak keys with short values ("Participant: P03") too. Otherwise the block's first
        labelled line ("Participant: Yes, I ...") starts the turns.
        """
        block, self._block = self._block, []
        replay: list[tuple[Line, int]] = []
        first = next((i for i, (it, _) in enumerate(block) if it[0] == TURN), None)
        if first is not None and not _is_header_block(block[first:], ending is not None):
            block, replay = block[:first], block[first:]
        elif first is not None:
            # a header block runs up to the first labelled line that reads as speech
            speech = next((i for i in range(first, len(block))
                           if block[i][0][0] == TURN and not _header_line(block[i][0])), None)
            if speech is not None:
                block, replay = block[:speech], block[speech:]
        for it, n in block:
            if it[0] == TURN:
                self._header_keys.append(it[1] or "")
            else:
                self._skipped.append(n)
        if ending is None and not replay:
            return
        self._in_preamble = False
        self._report_preamble()
        pending, self._pending = self._pending, None
        for it, n in replay:
            self._body(it, n)
        self._pending = pending
        if ending is not None:
            self._body(*ending)

    def _report_preamble(self) -> None:
        if self._header_keys:
            keys = ", ".join(dict.fromkeys(self._header_keys))
            self.warnings.append(f"skipped a header block before the first speaker turn ({keys})")
        if self._skipped:
            lines = sorted(self._skipped)
            where = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"
            self.warnings.append(
                f"skipped {len(lines)} line(s) without a speaker label before the first turn ({where})"
            )


def parse_text(
    text: str, file: str | Path | None, fmt: str = "txt", encoding: str | None = None
) -> ParsedTranscript:
    """Parse a .txt/.md transcript (already decoded) into turns; see the module docstring."""
    if text.startswith("\ufeff"):
        text = text[1:]
    collector = TurnCollector(file)
    feed = collector.feed
    for number, line in enumerate(text.split("\n"), start=1):
        feed(line, number)
    turns, warnings = collector.finish()
    return ParsedTranscript(turns=turns, format=fmt, encoding=encoding, warnings=warnings)
