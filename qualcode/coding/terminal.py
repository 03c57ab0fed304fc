"""Review in the terminal, one segment at a time.

:class:`TerminalReview` reads commands from an input function and writes to an output
function, so it runs the same under click and in tests. Every key that decides something
goes through ``apply_decisions`` at once, so quitting loses nothing.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Callable, Sequence

from qualcode.coding.review import (
    ReviewItem, SuggestionView, add_code, coder_codes, coding_records, describe_suggestion, review_items,
    segment_suggestions,
)
from qualcode.errors import InvalidInput
from qualcode.store.codings import Decision, apply_decisions, undo_last
from qualcode.store.repo import Store

KEYS = "a/a N accept · r/r N reject · + CODE add · d done · s skip · u undo · q quit · ? help"
HELP = """\
  a          accept every open suggestion, then go to the next segment
  a N [M..]  accept suggestion N (and M ...), stay on this segment
  r, r N     reject: the same, rejecting
  + CODE     add a code the machine missed; + co_ lists the codes starting with co_
  d          done: record this segment as coded by you (even with no code) and go on
  s          skip: leave this segment for later
  u          undo your latest decision (recorded as a new event; nothing is deleted)
  q          quit (every decision is already saved)
  ?          this help"""
WIDTH = 88


@dataclass(slots=True)
class SessionStats:
    accepted: int = 0
    rejected: int = 0
    added: int = 0
    undone: int = 0
    skipped: int = 0
    reviewed: set[int] = field(default_factory=set)

    def line(self) -> str:
        return (f"accepted {self.accepted}, rejected {self.rejected}, added {self.added}, undone {self.undone}, "
                f"skipped {self.skipped}; {len(self.reviewed)} segments coded")


class TerminalReview:
    """The review loop: ``run()`` shows each item and handles commands until the end or ``q``.

    ``read(prompt)`` returns one line (EOFError counts as ``q``); ``write(text)`` prints.
    """

    def __init__(self, store: Store, coder: str, items: Sequence[ReviewItem], *,
                 read: Callable[[str], str], write: Callable[[str], None]) -> None:
        if not coder or not coder.strip():
            raise InvalidInput("a coder name is needed: decisions are never anonymous")
        self.store, self.coder, self.items = store, coder.strip(), list(items)
        self.read, self.write = read, write
        active = store.code_row_ids()
        self.codes = {c.id: c.name for c in store.codebook().walk() if c.id in active}
        self.stats = SessionStats()
        self.pos = 0

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> SessionStats:
        if not self.items:
            self.write("nothing to review")
            return self.stats
        while self.pos < len(self.items):
            self.show(self.items[self.pos])
            while True:
                try:
                    line = self.read("review>")
                except EOFError:
                    line = "q"
                outcome = self.handle(line.strip(), self.items[self.pos])
                if outcome == "quit":
                    self.write(f"saved. {self.stats.line()}")
                    return self.stats
                if outcome == "next":
                    self.pos += 1
                if outcome != "stay":
                    break
        self.write(f"end of the list. {self.stats.line()}")
        return self.stats

    def handle(self, line: str, item: ReviewItem) -> str:
        """Carry out one command; returns 'stay', 'next', 'moved' or 'quit'."""
        if not line:
            self.write(KEYS)
            return "stay"
        head, rest = line[0].lower(), line[1:].strip()
        if line.startswith("+"):
            return self._add(item, rest)
        if head in ("a", "r") and (not rest or rest[0].isdigit()):
            return self._decide(item, "accept" if head == "a" else "reject", rest)
        if line.lower() in ("?", "h", "help"):
            self.write(HELP)
        elif line.lower() == "q":
            return "quit"
        elif line.lower() == "s":
            self.stats.skipped += 1
            return "next"
        elif line.lower() == "d":
            apply_decisions(self.store, [], reviewed=[item.segment_id], reviewer=self.coder)
            self.stats.reviewed.add(item.segment_id)
            return "next"
        elif line.lower() == "u":
            return self._undo(item)
        else:
            self.write(f"unknown command {line!r}; ? for help")
        return "stay"

    # -- showing ---------------------------------------------------------------------------
    def _wrap(self, label: str, text: str) -> str:
        return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=f"  {label:<8}",
                             subsequent_indent=" " * 10)

    def show(self, item: ReviewItem) -> None:
        where = " · ".join(x for x in (item.document, item.site, item.role) if x)
        self.write(f"\n── {self.pos + 1}/{len(self.items)}  segment {item.segment_id}  {where} " + "─" * 8)
        if item.context:
            self.write(self._wrap("before", item.context))
        self.write(self._wrap("text", item.text))
        self.show_codes(item)
        self.write(KEYS)

    def show_codes(self, item: ReviewItem) -> None:
        """The numbered suggestions with their status for this coder, and the coder's codes."""
        item.suggestions = self._suggestions(item)
        if not item.suggestions:
            self.write("  no suggestions")
        for n, s in enumerate(item.suggestions, start=1):
            mark = "open" if s.open else s.status
            self.write(f"  {n}. {describe_suggestion(s, rule_id=True)}  [{mark}]")
        mine = coder_codes(coding_records(self.store, segment_ids=[item.segment_id]), self.coder)
        if mine.get(item.segment_id):
            self.write(f"  your codes: {', '.join(sorted(mine[item.segment_id]))}")

    def _suggestions(self, item: ReviewItem) -> list[SuggestionView]:
        return segment_suggestions(self.store, self.coder, segment_ids=[item.segment_id]).get(item.segment_id, [])

    # -- commands --------------------------------------------------------------------------
    def _decide(self, item: ReviewItem, action: str, rest: str) -> str:
        current = self._suggestions(item)
        if not rest:
            targets = [s for s in current if s.open]
            if not targets:
                self.write("no open suggestions here: d = done, + CODE = add, s = skip")
                return "stay"
        else:
            try:
                numbers = [int(x) for x in rest.replace(",", " ").split()]
            except ValueError:
                self.write(f"not a suggestion number: {rest!r}")
                return "stay"
            bad = [n for n in numbers if not 1 <= n <= len(current)]
            if bad:
                self.write(f"no suggestion {bad[0]} (there are {len(current)})")
                return "stay"
            targets = [current[n - 1] for n in dict.fromkeys(numbers)]
        apply_decisions(self.store, [Decision(action, self.coder, coding_id=s.coding_id) for s in targets])
        if action == "accept":
            self.stats.accepted += len(targets)
        else:
            self.stats.rejected += len(targets)
        self.stats.reviewed.add(item.segment_id)
        self.write(f"{action}ed: {', '.join(s.code for s in targets)}")
        if not rest:
            return "next"
        self.show_codes(item)
        return "stay"

    def _add(self, item: ReviewItem, query: str) -> str:
        if query in self.codes:
            mine = coder_codes(coding_records(self.store, segment_ids=[item.segment_id]), self.coder)
            decisions = add_code(self._suggestions(item), self.coder, item.segment_id, query)
            if query in mine.get(item.segment_id, set()) or not decisions:
                self.write(f"you have already coded this segment {query}")
                return "stay"
            apply_decisions(self.store, decisions)
            if decisions[0].action == "add":
                self.stats.added += 1
                self.write(f"added: {query}")
            else:
                self.stats.accepted += len(decisions)
                self.write(f"accepted the suggestion of {query}")
            self.stats.reviewed.add(item.segment_id)
            self.show_codes(item)
            return "stay"
        q = query.lower()
        matches = [c for c in self.codes if c.lower().startswith(q)]
        if not matches:
            matches = [c for c, name in self.codes.items() if q in name.lower()]
        if not matches:
            self.write(f"no code starts with {query!r} or has it in its name")
            return "stay"
        self.write(f"codes matching {query!r}:" if query else "codes:")
        for c in matches:
            self.write(f"  {c:<28} {self.codes[c]}")
        self.write("add one with + CODE (the full id)")
        return "stay"

    def _undo(self, item: ReviewItem) -> str:
        undone = undo_last(self.store, self.coder)
        if undone is None:
            self.write("nothing of yours to undo")
            return "stay"
        self.stats.undone += 1
        rec = coding_records(self.store, coding_ids=[undone["coding_id"]])[0]
        self.write(f"undone: {undone['undid']} of {rec['code']} on segment {rec['segment_id']} "
                   f"(now {undone['status']})")
        if rec["segment_id"] != item.segment_id:
            for i, other in enumerate(self.items):
                if other.segment_id == rec["segment_id"]:
                    self.pos = i
                    return "moved"
        self.show_codes(item)
        return "stay"


def review_session(
    store: Store,
    coder: str,
    *,
    read: Callable[[str], str],
    write: Callable[[str], None],
    status: str = "suggested",
    documents: Sequence[str] | None = None,
) -> SessionStats:
    """Review the segments ``status`` selects (see ``review_items``) as ``coder``."""
    if not coder or not coder.strip():
        raise InvalidInput("a coder name is needed: decisions are never anonymous")
    items = review_items(store, status=status, documents=documents, coder=coder.strip())
    return TerminalReview(store, coder, items, read=read, write=write).run()
