"""The rule-based coding assistant: codebook rules propose codes; every proposal says why.

Rules are data in the codebook (``phrases`` on LOWER, ``lemmas`` on LEMMA, token
``pattern(s)``, ``roles``, ``negatable``, ``negated_code``; see :mod:`qualcode.codebook`).
Text: curly apostrophes become straight and the text is lower-cased keeping every offset
('İ', whose lower case is longer, becomes its first code point). Spans are document offsets
(``segment.start`` + offset); ``matched`` is the original text.

Context of a match, within its segment (sentences end at . ! ? ... or a line break; clauses
also at , ; : quotes, dashes, brackets and and/but/because/so/which/...):

* negation: a cue (not, n't, no, never, without, hardly, nobody, nothing, lack of, ...) in
  the same clause, at most four words before the match (fillers such as "really", "been"
  not counted; "not only", "not sure", "doesn't matter" are no negation). A ``negatable``
  rule's match then does not count, or counts for its ``negated_code`` ("not invited to
  the MDT" -> team_exclusion).
* wish ("I wish", "if only", "would be nice", "I'd love", "ideally") or counterfactual
  ("if we had", "if you were", ...) up to ten tokens before, same sentence, not across
  "but": neither asserts its object. For an *asserted* code (direction enabling, or an
  outcome) the match does not count or counts for ``negated_code`` ("I wish we had a desk"
  -> team_exclusion). For a *hindering* code a wish presupposes the problem (counts,
  hedged) and a counterfactual denies it (like a negation). Neutral codes: counts, hedged.
  An open conditional ("if I get a job") denies asserted codes only, without redirect.
* question: the match is in the last clause before "?" (not "you know?", "isn't it?"). A
  reported question asserts nothing: asserted codes do not count; others count, hedged.
* hedge ("I suppose", "I guess", "maybe", "might", "sort of", "kind of" but not "what kind
  of", "not sure", "hopefully", ...) up to six tokens before or three after, same
  sentence: counts, hedged. Everything but negation applies whatever ``negatable`` says.

Confidence: one suggestion per (segment, code), from the strongest counting match. Base:
token pattern 0.8, multi-word (or hyphenated) phrase 0.8, multi-word lemma phrase 0.7,
one-word match 0.6; x0.7 when hedged; +0.1 per further distinct rule counting for the code
in the segment; at most 0.95. Provenance: rule, span, matched, kind, rules, hedged (+
``hedge``: the cue, "question" or the wish) and, after a redirect, negated_from and
negation. A rule suggests its own code, never its ancestors; when a code and one of its
descendants are both suggested for a segment only the descendant is kept. Interviewer
turns are never coded.

Speed (about 12 s for 2M words on two cores): only the tokenizer runs, in one process;
lemmas come from the lookup table in one vectorised look-up per doc (what the lookup
lemmatizer computes); token patterns run on small windows (:class:`_TokenPatterns`); the
context cues are looked for only in segments where a rule matched.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qualcode.codebook import Codebook, compile_rules, raise_first, validate
from qualcode.coding.base import SegmentInput, Suggestion

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.tokens import Doc

BATCH_SIZE = 256
BASE = {"pattern": 0.8, "phrase": 0.8, "lemma": 0.7}
ONE_WORD = 0.6
EXTRA_RULE = 0.1
CAP = 0.95
HEDGE_FACTOR = 0.7
NEG_WORDS = 4  # words allowed between a negation cue and the match
NEG_REACH = 8  # tokens looked back for a cue (fillers included)
WISH_REACH = 10
HEDGE_BEFORE, HEDGE_AFTER = 6, 3
NOT_CODED = frozenset({"interviewer"})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
_KINDS = {"phrases": "phrase", "lemmas": "lemma", "patterns": "pattern"}

CUES: dict[str, tuple[str, ...]] = {
    "NEG": ("not", "n't", "nt", "no", "never", "without", "hardly", "barely", "scarcely",
            "nobody", "none", "nothing", "nowhere", "neither", "nor", "dont", "didnt",
            "wasnt", "isnt", "cannot", "lack of"),
    "NEG_X": ("not only", "not just", "not least", "no doubt", "no matter", "nothing but",
              "not to mention", "no wonder", "never mind", "not sure", "n't know if",
              "n't know whether", "whether or not", "if not", "n't matter", "n't mind",
              "not mind", "no problem", "not a problem"),
    "HEDGE": ("i suppose", "suppose", "i guess", "maybe", "perhaps", "might", "possibly",
              "sort of", "kind of", "kinda", "sorta", "not sure", "n't know if",
              "n't know whether", "hopefully", "apparently", "supposedly", "in theory"),
    "HEDGE_X": ("what sort of", "what kind of", "the sort of", "the kind of", "that sort of",
                "that kind of", "this sort of", "this kind of", "any sort of", "any kind of",
                "some sort of", "some kind of", "same sort of", "same kind of", "these kind of",
                "those kind of", "a kind of", "a sort of", "every kind of", "which kind of"),
    "WISH": ("if only", "i wish", "wish we", "wish they", "wish there", "wish i", "wish she",
             "wish he", "wished", "would be nice", "would be good if", "would be great",
             "would be better if", "would be lovely", "'d be nice", "'d be good if", "'d be great",
             "'d be lovely", "would love", "'d love", "would like to see", "'d like to see",
             "ideally", "in an ideal world", "in a perfect world"),
    "IRREALIS": ("if we had", "if we could", "if i had", "if i could", "if they had",
                 "if they could", "if she could", "if he could", "if you could", "if you had",
                 "if there was", "if there were", "if we were", "if you were", "if i was",
                 "if i were", "if she was", "if he was", "if it were", "even if"),
    "CONDITIONAL": ("if i get", "if they get", "if he gets", "if she gets", "when i get",
                    "once i get", "if i find", "if they find", "if he finds", "if she finds",
                    "when they get", "when he gets", "when she gets", "if you get", "if you find",
                    "if i start", "if i started", "if they start", "if he starts", "if she starts",
                    "if i went back", "if i go back", "if i took", "if i take"),
    "SENT": (".", "!", "?", "...", "…", "\n", "\n\n", "\n\n\n"),
    "CONTRAST": ("but", "although", "though", "however", "whereas", "yet"),
    "QUOTE": ('"', "\u201c", "\u201d", ":", ","),
    "CLAUSE": (";", "-", "--", "—", "–", "(", ")", "and", "because", "cos",
               "'cause", "so", "while", "then", "until", "unless", "which", "who", "when"),
}
FILLERS = frozenset({"really", "actually", "always", "even", "ever", "just", "usually", "often",
                     "necessarily", "particularly", "quite", "very", "much", "all", "that",
                     "too", "as", "been", "be", "get", "got", "have", "had"})
QUESTION_TAGS = frozenset({"know", "right", "yeah", "eh", "innit", "ok", "okay"})
_TAG_PRONOUNS = frozenset({"it", "they", "you", "she", "he", "we", "i", "there"})


@dataclass(slots=True)
class _RuleInfo:
    """What the hot loop needs to know about a rule."""

    id: str
    code: str
    kind: str
    roles: frozenset[str] | None
    negatable: bool
    negated_code: str | None
    asserted: bool  # enabling or outcome: wishes, counterfactuals and questions deny it
    hindering: bool


@dataclass(slots=True)
class _Match:
    """One rule match in one segment and what its context did to it."""

    rule: _RuleInfo
    start: int  # tokens
    end: int
    char_start: int  # offsets in the segment text
    char_end: int
    matched: str
    base: float
    filtered: bool = False  # the speaker's role is not in the rule's roles
    negation: str | None = None  # the cue, when the match is negated
    hedge: str | None = None  # the hedging cue, "question" or the wish
    wish: str | None = None  # the wish or hypothetical cue before the match
    dropped: str | None = None  # why the match counts for nothing ("negated", ...)
    code: str | None = None  # the code the match counts for

    @property
    def confidence(self) -> float:
        return self.base * (HEDGE_FACTOR if self.hedge else 1.0)


class _Context:
    """Cue positions in one doc, by kind, for the context checks of its matches."""

    def __init__(self, doc: Doc, cue_matcher: Any, labels: dict[int, str]) -> None:
        found: dict[str, list[tuple[int, int]]] = {k: [] for k in CUES}
        for key, start, end in cue_matcher(doc):
            found[labels[key]].append((start, end))
        self.doc = doc
        neg_x = {i for s, e in found["NEG_X"] for i in range(s, e)}
        hedge_x = {i for s, e in found["HEDGE_X"] for i in range(s, e)}
        self.neg_at = sorted(s for s, _ in found["NEG"] if s not in neg_x)
        self.hedge_at = sorted((s, e) for s, e in found["HEDGE"]
                            if not hedge_x.intersection(range(s, e)))
        self.wish_at = sorted((s, e, kind.lower()) for kind in ("WISH", "IRREALIS", "CONDITIONAL")
                              for s, e in found[kind])
        self.sent = sorted(s for s, _ in found["SENT"])
        self.contrast = sorted({*self.sent, *(s for s, _ in found["CONTRAST"])})
        self.quote = sorted({*self.sent, *(s for s, _ in found["QUOTE"])})
        self.clause = sorted({*self.contrast, *self.quote, *(s for s, _ in found["CLAUSE"])})

    @staticmethod
    def _last_before(positions: list[int], i: int) -> int:
        k = bisect_left(positions, i)
        return positions[k - 1] if k else -1

    @staticmethod
    def _first_from(positions: list[int], i: int, default: int) -> int:
        k = bisect_left(positions, i)
        return positions[k] if k < len(positions) else default

    def negation(self, start: int) -> str | None:
        """The negation cue governing a match starting at token ``start``, if any."""
        floor = max(self._last_before(self.clause, start), start - NEG_REACH - 1)
        cues = self.neg_at[bisect_left(self.neg_at, floor + 1):bisect_left(self.neg_at, start)]
        for p in reversed(cues):
            between = sum(1 for t in self.doc[p + 1:start] if t.lower_ not in FILLERS)
            if between <= NEG_WORDS:
                return self.doc[p].text
        return None

    def wish(self, start: int) -> tuple[str, str] | None:
        """(cue, "wish", "irrealis" or "conditional") before the match in its sentence."""
        floor = max(self._last_before(self.contrast, start), start - WISH_REACH - 1)
        for s, e, kind in self.wish_at:
            if floor < s < start:
                return self.doc[s:e].text, kind
        return None

    def question(self, end: int) -> bool:
        """Whether the match is in the last clause before a '?' (not a tag question)."""
        n = len(self.doc)
        stop = self._first_from(self.quote, end, n)
        if stop >= n or self.doc[stop].text != "?":
            return False
        last = self.doc[stop - 1].lower_ if stop > 0 else ""
        before = self.doc[stop - 2].lower_ if stop > 1 else ""
        return not (last in QUESTION_TAGS or (last in _TAG_PRONOUNS and before in ("n't", "nt")))

    def hedged(self, start: int, end: int) -> str | None:
        """The hedging cue near the match in its sentence, if any."""
        lo = max(self._last_before(self.sent, start) + 1, start - HEDGE_BEFORE)
        hi = min(self._first_from(self.sent, end, len(self.doc)), end + HEDGE_AFTER)
        for s, e in self.hedge_at:
            if lo <= s < start or end <= s < hi:
                return self.doc[s:e].text
        return None


_ANCHOR_ATTRS = ("LOWER", "LEMMA")
_STOP_COST, _COMMON_COST = 100, 10  # cost of a stop word / a common word as an anchor; others 1
_SPOKEN_COMMON = frozenset({  # frequent in interviews though not stop words
    "like", "want", "wanted", "know", "think", "get", "got", "go", "going", "work", "working",
    "job", "jobs", "years", "year", "months", "month", "weeks", "week", "people", "time", "team",
    "yeah", "um", "say", "said", "see", "good", "care", "mental", "health", "support", "client",
    "clients", "new", "day", "days", "lot", "bit", "thing", "things", "really", "just"})


def _token_span(token: dict[str, Any]) -> int | None:
    """Most tokens one pattern token can cover (None: unbounded)."""
    op = str(token.get("OP", "") or "")
    if op in ("", "!", "?"):
        return 1
    high = op[1:-1].split(",")[-1].strip() if op.startswith("{") else ""
    return int(high) if high.isdigit() else None


def _anchor_values(token: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(attr, values) when a required pattern token must have one of these LOWER/LEMMA values."""
    if token.get("OP") is not None:
        return None
    for key, value in token.items():
        attr = str(key).upper()
        if attr not in _ANCHOR_ATTRS:
            continue
        if isinstance(value, str):
            return attr, [value]
        if isinstance(value, dict) and list(value) == ["IN"] and value["IN"] \
                and all(isinstance(v, str) for v in value["IN"]):
            return attr, list(value["IN"])
    return None


def _sum(spans: list[int | None]) -> int | None:
    return None if None in spans else sum(x or 0 for x in spans)


@dataclass(slots=True)
class _Anchored:
    """One token pattern, its own Matcher, and how far a match reaches around its anchor."""

    matcher: Any
    before: int | None  # most tokens before the anchor token (None: unbounded)
    after: int | None  # most tokens after it
    stop_before: bool  # no token before the anchor can be a sentence break
    stop_after: bool
    required: tuple[tuple[int, frozenset[int]], ...]  # (column, values) every match needs


class _TokenPatterns:
    """Token patterns run only on windows around a rare required token (the anchor).

    spaCy's Matcher costs about a microsecond per token it walks. Each pattern gets its
    own Matcher and an anchor: the required token with the rarest LOWER/LEMMA values (few
    values, stop words counted as common). It runs only on the window around an anchor
    occurrence that can hold a whole match (bounded by the pattern's length or, when no
    token on that side can match . ! ? or a line break, by the sentence), and only when
    every required word and number of the pattern occurs there. Every match contains its
    anchor and uses token attributes only, so the matches are exactly spaCy's.
    """

    def __init__(self, nlp: Any, codebook: Codebook) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS  # lazy
        from spacy.matcher import Matcher

        strings = nlp.vocab.strings
        self.breaks = frozenset(strings.add(b) for b in CUES["SENT"])
        break_docs = [nlp.make_doc(b) for b in CUES["SENT"]]
        self.patterns: list[_Anchored] = []
        self.by_col: tuple[dict[int, list[int]], ...] = ({}, {})
        self.unanchored: list[int] = []

        def can_break(token: dict[str, Any]) -> bool:
            spec = {k: v for k, v in token.items() if k != "OP"}
            if not spec or token.get("OP") == "!":
                return True
            probe = Matcher(nlp.vocab)
            probe.add("probe", [[spec]])
            return any(probe(d, allow_missing=True) for d in break_docs)

        for rule, pattern in ((r, p) for _c, r in codebook.rules() for p in r.patterns):
            matcher = Matcher(nlp.vocab)
            matcher.add(rule.id, [pattern])
            best: tuple[int, int, int, list[str]] | None = None
            required: list[tuple[int, frozenset[int]]] = []
            for k, token in enumerate(pattern):
                if token.get("LIKE_NUM") is True and token.get("OP") is None:
                    required.append((2, frozenset({1})))
                if (found := _anchor_values(token)) is not None:
                    col = _ANCHOR_ATTRS.index(found[0])
                    required.append((col, frozenset(strings.add(v) for v in found[1])))
                    cost = sum(_STOP_COST if v.lower() in STOP_WORDS else _COMMON_COST
                               if v.lower() in _SPOKEN_COMMON else 1 for v in found[1])
                    if best is None or cost < best[0]:
                        best = (cost, k, col, found[1])
            index = len(self.patterns)
            if best is None:
                self.patterns.append(_Anchored(matcher, None, None, False, False, ()))
                self.unanchored.append(index)
                continue
            _cost, k, col, values = best
            spans = [_token_span(t) for t in pattern]
            self.patterns.append(_Anchored(
                matcher, _sum(spans[:k]), _sum(spans[k + 1:]), not any(map(can_break, pattern[:k])),
                not any(map(can_break, pattern[k + 1:])), tuple(required)))
            for v in dict.fromkeys(values):
                self.by_col[col].setdefault(strings.add(v), []).append(index)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        """Every match of every token pattern in the doc, as (rule key, start, end)."""
        from spacy.attrs import LEMMA, LIKE_NUM, LOWER  # lazy

        n = len(doc)
        if not n:
            return []
        arr = doc.to_array([LOWER, LEMMA, LIKE_NUM])
        cols = [arr[:, 0].tolist(), arr[:, 1].tolist(), arr[:, 2].tolist()]
        hits: dict[int, list[int]] = {}
        for col, table in enumerate(self.by_col):
            for i, v in enumerate(cols[col]):
                if v in table:
                    for index in table[v]:
                        hits.setdefault(index, []).append(i)
        out: list[tuple[int, int, int]] = []
        for index in self.unanchored:
            out.extend(self.patterns[index].matcher(doc))
        if not hits:
            return out
        breaks = [i for i, v in enumerate(cols[0]) if v in self.breaks]
        for index, positions in hits.items():
            pat = self.patterns[index]
            windows: list[list[int]] = []
            for i in positions:
                k = bisect_left(breaks, i)
                lo = (max(0, i - pat.before) if pat.before is not None
                      else (breaks[k - 1] + 1 if k else 0) if pat.stop_before else 0)
                k = bisect_left(breaks, i + 1)
                hi = (min(n, i + pat.after + 1) if pat.after is not None
                      else (breaks[k] if k < len(breaks) else n) if pat.stop_after else n)
                if windows and lo <= windows[-1][1]:
                    windows[-1][1] = max(windows[-1][1], hi)
                else:
                    windows.append([lo, hi])
            for lo, hi in windows:
                if not all(any(v in values for v in cols[col][lo:hi])
                           for col, values in pat.required):
                    continue
                target = doc if (lo, hi) == (0, n) else doc[lo:hi]
                out.extend((key, lo + s, lo + e) for key, s, e in pat.matcher(target))
        return out


def _lower_keep_length(text: str) -> str:
    """Normalise apostrophes and lower-case without changing the length."""
    text = text.translate(_APOSTROPHES)
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower()[0] for c in text)


class RuleAssistant:
    """Suggest codes from the codebook's rules (see the module docstring for the scheme)."""

    source = "rule"

    def __init__(self, codebook: Codebook) -> None:
        problems = validate(codebook, compile_patterns=False)
        compiled, compile_problems = compile_rules(codebook)
        raise_first(problems + compile_problems, codebook.source)
        self.codebook = codebook
        self._compiled = compiled
        nlp = self._nlp = compiled.nlp
        strings = nlp.vocab.strings
        by_id = codebook.by_id
        self._rules: dict[int, _RuleInfo] = {}
        for rule_id, (code_id, rule) in compiled.rules.items():
            self._rules[strings.add(rule_id)] = _RuleInfo(
                id=rule_id, code=code_id, kind=_KINDS[rule.kinds()[0]],
                roles=frozenset(rule.roles) or None, negatable=rule.negatable,
                negated_code=rule.negated_code,
                asserted=(by_id[code_id].direction == "enabling"
                          or by_id[code_id].realist_role == "outcome"),
                hindering=by_id[code_id].direction == "hindering")
        self._ancestors = {c.id: frozenset(codebook.ancestors(c.id)) for c in codebook.codes}
        self._position = {c.id: c.position for c in codebook.codes}
        self._matcher = _TokenPatterns(nlp, codebook)
        self._cue_matcher, self._cue_labels = self._make_cue_matcher()
        self._lemma_keys, self._lemma_values = self._lemma_table()

    def _make_cue_matcher(self) -> tuple[Any, dict[int, str]]:
        from spacy.matcher import PhraseMatcher  # lazy

        nlp = self._nlp
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        labels: dict[int, str] = {}
        for label, phrases in CUES.items():
            key = "qualcode.cue." + label
            labels[nlp.vocab.strings.add(key)] = label
            matcher.add(key, [nlp.make_doc(p) for p in phrases])
        return matcher, labels

    def _lemma_table(self) -> tuple[Any, Any]:
        """The lookup lemmatizer's table as sorted (orth id, lemma id) arrays."""
        import numpy as np

        strings = self._nlp.vocab.strings
        table = self._nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})
        pairs = sorted((int(orth), strings.add(lemma if isinstance(lemma, str) else lemma[0]))
                       for orth, lemma in table.items())
        return (np.array([o for o, _ in pairs], dtype=np.uint64),
                np.array([lem for _, lem in pairs], dtype=np.uint64))

    def _docs(self, texts: list[str]) -> Iterable[Doc]:
        """Tokenised, lemmatised docs of the normalised texts, in order."""
        import numpy as np
        from spacy.attrs import LEMMA, ORTH

        keys, values = self._lemma_keys, self._lemma_values
        top = len(keys) - 1
        for doc in self._nlp.tokenizer.pipe(texts, batch_size=BATCH_SIZE):
            if len(doc) and top >= 0:
                orths = doc.to_array(ORTH)
                idx = np.minimum(np.searchsorted(keys, orths), top)
                lemmas = np.where(keys[idx] == orths, values[idx], orths)
                doc.from_array([LEMMA], lemmas.reshape(-1, 1))
            yield doc

    def _matches(self, doc: Doc, text: str, role: str) -> list[_Match]:
        """Every rule match in one doc, with its context decided."""
        c = self._compiled
        raw = c.phrase_matcher(doc) + c.lemma_matcher(doc) + self._matcher(doc)
        if not raw:
            return []
        ctx = _Context(doc, self._cue_matcher, self._cue_labels)
        out: list[_Match] = []
        seen: set[tuple[int, int, int]] = set()
        for key, start, end in sorted(raw, key=lambda m: (m[1], -m[2])):
            if (key, start, end) in seen:
                continue
            seen.add((key, start, end))
            info = self._rules[key]
            cs = doc[start].idx
            last = doc[end - 1]
            ce = last.idx + len(last)
            matched = text[cs:ce]
            one_word = not any(ch.isspace() or ch == "-" for ch in matched)
            m = _Match(info, start, end, cs, ce, matched, ONE_WORD if one_word else BASE[info.kind])
            if info.roles is not None and role not in info.roles:
                m.filtered, m.dropped = True, "role"
            else:
                self._decide(m, ctx)
            out.append(m)
        return out

    @staticmethod
    def _decide(m: _Match, ctx: _Context) -> None:
        """Apply negation, wishes, questions and hedges to one match (see module docstring)."""
        info = m.rule
        code: str | None = info.code
        if info.negatable:
            m.negation = ctx.negation(m.start)
        if m.negation:
            code = info.negated_code
            if code is None:
                m.dropped = "negated"
        else:
            found = ctx.wish(m.start)
            if found:
                m.wish, kind = found
                if kind == "conditional":
                    if info.asserted:
                        code, m.dropped = None, "hypothetical"
                elif info.asserted or (info.hindering and kind == "irrealis"):
                    code = info.negated_code
                    if code is None:
                        m.dropped = "hypothetical"
                else:
                    m.hedge = m.wish
        if code is not None and ctx.question(m.end):
            if code == info.code and info.asserted:
                code, m.dropped = None, "question"
            else:
                m.hedge = m.hedge or "question"
        if code is not None and not m.hedge:
            m.hedge = ctx.hedged(m.start, m.end)
        m.code = code

    def suggest(self, segments: Iterable[SegmentInput]) -> list[Suggestion]:
        """One suggestion per (segment, code) that a rule found evidence for."""
        segs = [s for s in segments if s.role not in NOT_CODED and s.text.strip()]
        texts = [_lower_keep_length(s.text) for s in segs]
        out: list[Suggestion] = []
        for seg, doc in zip(segs, self._docs(texts)):
            matches = self._matches(doc, seg.text, seg.role)
            if matches:
                out.extend(self._suggestions(seg, matches))
        return out

    def _suggestions(self, seg: SegmentInput, matches: list[_Match]) -> list[Suggestion]:
        """Fold the counting matches of one segment into one suggestion per code."""
        by_code: dict[str, list[_Match]] = {}
        for m in matches:
            if m.code is not None and m.dropped is None:
                by_code.setdefault(m.code, []).append(m)
        if not by_code:
            return []
        shadowed = set().union(*(self._ancestors.get(code, ()) for code in by_code))
        out = []
        for code in sorted(by_code, key=lambda k: self._position.get(k, 0)):
            if code in shadowed:
                continue
            ms = by_code[code]
            best = max(ms, key=lambda m: (m.confidence, -m.start, m.end))
            rules = sorted({m.rule.id for m in ms})
            conf = min(CAP, best.confidence + EXTRA_RULE * (len(rules) - 1))
            prov: dict[str, Any] = {
                "rule": best.rule.id, "span": [seg.start + best.char_start,
                                               seg.start + best.char_end],
                "matched": best.matched, "kind": best.rule.kind, "rules": rules,
                "hedged": best.hedge is not None}
            if best.hedge:
                prov["hedge"] = best.hedge
            if best.code != best.rule.code:
                prov["negated_from"] = best.rule.code
                prov["negation"] = best.negation or best.wish
            out.append(Suggestion(seg.id, code, self.source, round(conf, 3), prov))
        return out

    def explain(self, text: str, role: str = "es") -> list[dict[str, Any]]:
        """Every match in ``text`` with its rule, span, and what role, negation, wishes,
        questions and hedges did to it (for debugging and the web app)."""
        doc = next(iter(self._docs([_lower_keep_length(text)])))
        out = []
        for m in self._matches(doc, text, role):
            out.append({
                "rule": m.rule.id, "code": m.rule.code, "kind": m.rule.kind,
                "span": [m.char_start, m.char_end], "matched": m.matched,
                "filtered": m.filtered, "negated": m.negation is not None,
                "negation": m.negation, "hypothetical": m.wish,
                "hedged": m.hedge is not None, "hedge": m.hedge,
                "dropped": m.dropped, "counts_for": None if m.dropped else m.code,
                "confidence": None if m.dropped else round(m.confidence, 3),
            })
        return out
