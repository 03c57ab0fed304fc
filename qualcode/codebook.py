"""The codebook: a hierarchy of codes with definitions and rule patterns.

A codebook is kept as YAML (a ``codebook:`` header and a flat ``codes:`` list in which
each code names its ``parent``), so every code and rule has a line number that errors can
point at. :func:`load_and_validate` is the strict entry point: it raises
:class:`~qualcode.errors.InvalidCodebook` naming the file, the code and the line.

spaCy is imported only when patterns are compiled, so loading a codebook stays fast.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from qualcode.errors import InvalidCodebook

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language
    from spacy.matcher import Matcher, PhraseMatcher

CANONICAL_ROLES: tuple[str, ...] = (
    "es", "ips_manager", "ad_staff", "client", "commissioner", "employer", "stakeholder",
)
REALIST_ROLES: tuple[str, ...] = ("context", "mechanism", "outcome")
DIRECTIONS: tuple[str, ...] = ("enabling", "hindering")

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")

_CODE_KEYS = {
    "id", "name", "parent", "definition", "include", "exclude", "example",
    "realist_role", "direction", "rules",
}
_RULE_KEYS = {"id", "phrases", "lemmas", "pattern", "patterns", "roles", "negatable",
              "negated_code"}
_HEADER_KEYS = {"name", "version", "description"}
# libyaml's loader is ten times faster and keeps the same node marks
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Rule:
    """One rule pattern: exactly one of phrases (LOWER), lemmas (LEMMA) or token patterns."""

    id: str
    phrases: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)
    patterns: list[list[dict[str, Any]]] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    negatable: bool = True
    negated_code: str | None = None
    line: int | None = field(default=None, compare=False)
    # line of each field ("phrases", "pattern.0", ...) so problems can point precisely
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def kinds(self) -> list[str]:
        """Which of phrases / lemmas / patterns this rule uses (should be exactly one)."""
        return [k for k in ("phrases", "lemmas", "patterns") if getattr(self, k)]


@dataclass
class Code:
    """A code in the hierarchy; ``position`` is its index in the codebook's list."""

    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    example: str = ""
    realist_role: str | None = None
    direction: str | None = None
    rules: list[Rule] = field(default_factory=list)
    line: int | None = field(default=None, compare=False)
    position: int = 0
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class CodebookProblem:
    """One thing wrong with a codebook: what, which code, which line (1-based)."""

    message: str
    code: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ", ".join(
            p for p in (f"line {self.line}" if self.line else "",
                        f"code {self.code!r}" if self.code else "") if p
        )
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Codebook:
    """A named, versioned list of codes with tree helpers (iteration is in tree order)."""

    name: str
    version: int = 1
    description: str = ""
    codes: list[Code] = field(default_factory=list)
    source: str | None = field(default=None, compare=False)

    # --- lookup -----------------------------------------------------------------------
    @property
    def by_id(self) -> dict[str, Code]:
        """Codes by id (the first one wins if ids are duplicated)."""
        out: dict[str, Code] = {}
        for c in self.codes:
            out.setdefault(c.id, c)
        return out

    def get(self, code_id: str) -> Code:
        """The code with this id, or KeyError naming it."""
        try:
            return self.by_id[code_id]
        except KeyError:
            raise KeyError(f"no code {code_id!r} in codebook {self.name!r}") from None

    def __contains__(self, code_id: object) -> bool:
        return any(c.id == code_id for c in self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    # --- tree -------------------------------------------------------------------------
    def roots(self) -> list[Code]:
        """Top-level codes in position order."""
        return sorted((c for c in self.codes if not c.parent), key=lambda c: c.position)

    def children(self, code_id: str) -> list[Code]:
        """Direct children of a code in position order."""
        self.get(code_id)
        return sorted((c for c in self.codes if c.parent == code_id),
                      key=lambda c: c.position)

    def ancestors(self, code_id: str) -> list[str]:
        """Ids of the parent, grandparent, ... (nearest first); stops at a cycle."""
        index = self.by_id
        out: list[str] = []
        seen = {code_id}
        parent = self.get(code_id).parent
        while parent and parent not in seen and parent in index:
            out.append(parent)
            seen.add(parent)
            parent = index[parent].parent
        return out

    def depth(self, code_id: str) -> int:
        """0 for a top-level code, 1 for its children, ..."""
        return len(self.ancestors(code_id))

    def top_level(self, code_id: str) -> str:
        """The id of the top-level code (pillar) this code sits under, or itself."""
        anc = self.ancestors(code_id)
        return anc[-1] if anc else code_id

    def path(self, code_id: str) -> str:
        """Slash-separated ids from the root, e.g. ``integration/co_location``."""
        return "/".join([*reversed(self.ancestors(code_id)), code_id])

    def descendants(self, code_id: str) -> list[Code]:
        """All codes below this one, depth-first in position order."""
        out: list[Code] = []
        seen = {code_id}

        def visit(cid: str) -> None:
            for child in self.children(cid):
                if child.id not in seen:
                    seen.add(child.id)
                    out.append(child)
                    visit(child.id)

        visit(code_id)
        return out

    def walk(self) -> Iterator[Code]:
        """Every reachable code, depth-first, siblings in position order."""
        for root in self.roots():
            yield root
            yield from self.descendants(root.id)

    def __iter__(self) -> Iterator[Code]:
        return self.walk()

    def rules(self) -> Iterator[tuple[Code, Rule]]:
        """Every (code, rule) pair in tree order."""
        for code in self.walk():
            for rule in code.rules:
                yield code, rule


# ======================================================================================
# dict conversion (shared by YAML, xlsx and qdc)
# ======================================================================================

def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """A rule as plain data, omitting defaults; one pattern is written as ``pattern:``."""
    d: dict[str, Any] = {"id": rule.id}
    if rule.phrases:
        d["phrases"] = list(rule.phrases)
    if rule.lemmas:
        d["lemmas"] = list(rule.lemmas)
    if len(rule.patterns) == 1:
        d["pattern"] = rule.patterns[0]
    elif rule.patterns:
        d["patterns"] = list(rule.patterns)
    if rule.roles:
        d["roles"] = list(rule.roles)
    if not rule.negatable:
        d["negatable"] = False
    if rule.negated_code:
        d["negated_code"] = rule.negated_code
    return d


def code_to_dict(code: Code) -> dict[str, Any]:
    """A code as plain data in the YAML field order (position and line are implicit)."""
    return {
        "id": code.id,
        "name": code.name,
        "parent": code.parent,
        "realist_role": code.realist_role,
        "direction": code.direction,
        "definition": code.definition,
        "include": list(code.include),
        "exclude": list(code.exclude),
        "example": code.example,
        "rules": [rule_to_dict(r) for r in code.rules],
    }


def _text(value: Any, what: str, fail: Callable[[str, str], InvalidCodebook],
          optional: bool = False) -> str | None:
    """A scalar field as text (None or "" when absent); anything else is an error."""
    if value is None:
        return None if optional else ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise fail(f"{what} must be text, not {type(value).__name__}", what)
    return str(value)


def _texts(value: Any, what: str, fail: Callable[[str, str], InvalidCodebook]) -> list[str]:
    """A list-of-text field; a single string is taken as a one-item list."""
    if value is None or isinstance(value, str):
        return [] if value is None else [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float))
                                       and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    raise fail(f"{what} must be a list of text items", what)


def _failer(source: str | None, code: str | None, line: int | None,
            lines: dict[str, int]) -> Callable[[str, str], InvalidCodebook]:
    """Make InvalidCodebook errors that point at a field's line when it is known."""
    return lambda msg, key: InvalidCodebook(msg, file=source, code=code,
                                            line=lines.get(key, line))


def rule_from_dict(d: Any, *, code: str | None = None, line: int | None = None,
                   lines: dict[str, int] | None = None, source: str | None = None) -> Rule:
    """Build a Rule from plain data; structural mistakes raise InvalidCodebook."""
    lines = dict(lines or {})
    fail = _failer(source, code, line, lines)
    if not isinstance(d, dict):
        raise fail("a rule must be a mapping with an id", "")
    unknown = sorted(set(map(str, d)) - _RULE_KEYS)
    if unknown:
        raise fail(f"rule has unknown field(s) {', '.join(unknown)}; allowed: "
                   f"{', '.join(sorted(_RULE_KEYS))}", unknown[0])
    if "pattern" in d and "patterns" in d:
        raise fail("a rule has either pattern: or patterns:, not both", "patterns")
    patterns = [d["pattern"]] if "pattern" in d else d.get("patterns") or []
    if not isinstance(patterns, list):
        raise fail("patterns: must be a list of token patterns", "patterns")
    key = "pattern" if "pattern" in d else "patterns"
    for i, pat in enumerate(patterns):
        lines.setdefault(f"pattern.{i}", lines.get(key, line or 0))
        if not isinstance(pat, list) or not all(isinstance(t, dict) for t in pat):
            raise fail("a token pattern must be a list of mappings like {LOWER: \"word\"}",
                       f"pattern.{i}")
    negatable = d.get("negatable", True)
    if not isinstance(negatable, bool):
        raise fail("negatable must be true or false", "negatable")
    return Rule(
        id=_text(d.get("id"), "id", fail) or "",
        phrases=_texts(d.get("phrases"), "phrases", fail),
        lemmas=_texts(d.get("lemmas"), "lemmas", fail),
        patterns=patterns, roles=_texts(d.get("roles"), "roles", fail), negatable=negatable,
        negated_code=_text(d.get("negated_code"), "negated_code", fail, True) or None,
        line=line, lines={k: v for k, v in lines.items() if v},
    )


def code_from_dict(d: Any, *, position: int, line: int | None = None,
                   lines: dict[str, int] | None = None,
                   rule_lines: list[tuple[int | None, dict[str, int]]] | None = None,
                   source: str | None = None) -> Code:
    """Build a Code from plain data; structural mistakes raise InvalidCodebook."""
    lines = lines or {}
    if not isinstance(d, dict):
        raise InvalidCodebook("each entry under codes: must be a mapping", file=source,
                              line=line)
    cid = d.get("id")
    cid = str(cid) if isinstance(cid, (str, int)) and not isinstance(cid, bool) else None
    fail = _failer(source, cid, line, lines)
    unknown = sorted(set(map(str, d)) - _CODE_KEYS)
    if unknown:
        hint = " (use a flat list with parent:)" if "children" in unknown else ""
        raise fail(f"unknown field(s) {', '.join(unknown)}{hint}", unknown[0])
    raw_rules = d.get("rules") or []
    if not isinstance(raw_rules, list):
        raise fail("rules: must be a list", "rules")
    rule_lines = rule_lines or []
    rules = [rule_from_dict(r, code=cid, source=source,
                            line=rule_lines[i][0] if i < len(rule_lines) else line,
                            lines=rule_lines[i][1] if i < len(rule_lines) else {})
             for i, r in enumerate(raw_rules)]
    t = {k: _text(d.get(k), k, fail, k in ("parent", "realist_role", "direction")) or None
         for k in ("id", "name", "parent", "definition", "example", "realist_role",
                   "direction")}
    return Code(
        id=t["id"] or "", name=t["name"] or "", parent=t["parent"],
        definition=t["definition"] or "", include=_texts(d.get("include"), "include", fail),
        exclude=_texts(d.get("exclude"), "exclude", fail), example=t["example"] or "",
        realist_role=t["realist_role"], direction=t["direction"], rules=rules, line=line,
        position=position, lines=dict(lines),
    )


# ======================================================================================
# YAML
# ======================================================================================

def _key_lines(node: yaml.Node, *, source: str | None, code: str | None = None
               ) -> dict[str, int]:
    """Line (1-based) of each scalar key of a mapping node; duplicate keys are an error."""
    out: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for knode, _ in node.value:
        if isinstance(knode, yaml.ScalarNode):
            ln = knode.start_mark.line + 1
            if knode.value in out and knode.value != "<<":
                raise InvalidCodebook(f"field {knode.value!r} given twice", file=source,
                                      line=ln, code=code)
            out[knode.value] = ln
    return out


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode) and knode.value == key:
                return vnode
    return None


def codebook_from_yaml_text(text: str, source: str | None = None) -> Codebook:
    """Parse codebook YAML, recording the line of every code, rule and field."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidCodebook(f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                              file=source, line=mark.line + 1 if mark else None) from exc
    if not isinstance(data, dict) or "codes" not in data:
        raise InvalidCodebook("a codebook file needs a codes: list (and a codebook: "
                              "header)", file=source, line=1)
    top = _key_lines(node, source=source)
    header = data.get("codebook") or {}
    if not isinstance(header, dict):
        raise InvalidCodebook("codebook: must be a mapping with name, version, "
                              "description", file=source, line=top.get("codebook"))
    hlines = _key_lines(_child(node, "codebook"), source=source)
    unknown = sorted(set(map(str, header)) - _HEADER_KEYS)
    if unknown:
        raise InvalidCodebook(f"unknown codebook field(s) {', '.join(unknown)}",
                              file=source, line=hlines.get(unknown[0]))
    version = header.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidCodebook("codebook version must be a whole number >= 1",
                              file=source, line=hlines.get("version", top.get("codebook")))
    codes_node = _child(node, "codes")
    raw_codes = data["codes"] or []
    if not isinstance(raw_codes, list) or not isinstance(codes_node, yaml.SequenceNode):
        raise InvalidCodebook("codes: must be a list", file=source, line=top.get("codes"))
    codes = []
    for pos, (raw, cnode) in enumerate(zip(raw_codes, codes_node.value)):
        cid = raw.get("id") if isinstance(raw, dict) else None
        cid = str(cid) if cid is not None else None
        rnode = _child(cnode, "rules")
        rule_lines: list[tuple[int | None, dict[str, int]]] = []
        if isinstance(rnode, yaml.SequenceNode):
            for item in rnode.value:
                rl = _key_lines(item, source=source, code=cid)
                for key in ("patterns",):
                    pnode = _child(item, key)
                    if isinstance(pnode, yaml.SequenceNode):
                        for i, p in enumerate(pnode.value):
                            rl[f"pattern.{i}"] = p.start_mark.line + 1
                rule_lines.append((item.start_mark.line + 1, rl))
        codes.append(code_from_dict(
            raw, position=pos, line=cnode.start_mark.line + 1,
            lines=_key_lines(cnode, source=source, code=cid), rule_lines=rule_lines,
            source=source))
    fail = _failer(source, None, top.get("codebook"), hlines)
    return Codebook(name=_text(header.get("name"), "name", fail) or "", version=version,
                    description=_text(header.get("description"), "description", fail) or "",
                    codes=codes, source=source)


def load_codebook(path: str | Path) -> Codebook:
    """Read a YAML codebook (structure only; call :func:`validate` for the rest)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidCodebook(f"cannot read codebook: {exc}", file=p) from exc
    return codebook_from_yaml_text(text, source=str(p))


class _Flow(list):  # type: ignore[type-arg]
    """A list dumped in YAML flow style ([a, b])."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents block lists under their key and keeps _Flow lists inline."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _flowify_rule(d: dict[str, Any]) -> dict[str, Any]:
    out = dict(d)
    for key in ("phrases", "lemmas", "roles"):
        if key in out:
            out[key] = _Flow(out[key])
    if "pattern" in out:
        out["pattern"] = _Flow(out["pattern"])
    if "patterns" in out:
        out["patterns"] = [_Flow(p) for p in out["patterns"]]
    return out


def codebook_to_yaml(codebook: Codebook) -> str:
    """The codebook as YAML in the layout :func:`codebook_from_yaml_text` reads."""
    codes = []
    for code in codebook.codes:
        d = code_to_dict(code)
        d["rules"] = [_flowify_rule(r) for r in d["rules"]]
        codes.append(d)
    doc = {
        "codebook": {"name": codebook.name, "version": codebook.version,
                     "description": codebook.description},
        "codes": codes,
    }
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=92,
                     default_flow_style=False)


def codebook_hash(codebook: Codebook) -> str:
    """SHA-256 over the codebook's content (not its file, lines or source)."""
    doc = {"name": codebook.name, "version": codebook.version,
           "description": codebook.description,
           "codes": [{**code_to_dict(c), "position": c.position} for c in codebook.codes]}
    blob = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def default_codebook_path() -> Path:
    """The shipped IPS realist codebook: package data first, then the repository copy."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "data" / "ips_realist.yaml",
                      here.parent / "codebooks" / "ips_realist.yaml"):
        if candidate.is_file():
            return candidate
    raise InvalidCodebook("the default codebook ips_realist.yaml is not installed",
                          file=here / "data" / "ips_realist.yaml")


# ======================================================================================
# spaCy compilation
# ======================================================================================

@lru_cache(maxsize=1)
def make_nlp() -> Language:
    """A blank English pipeline with the lookup lemmatizer (nothing downloaded)."""
    import spacy  # lazy: keeps the CLI fast

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def lemmatize(text: str, nlp: Language | None = None) -> list[str]:
    """Lemmas of the lower-cased text, exactly as lemma rules compare them."""
    nlp = nlp or make_nlp()
    return [t.lemma_ for t in nlp(text.lower())]


@dataclass
class CompiledRules:
    """Matchers for a codebook's rules; match ids are rule ids (``nlp.vocab.strings``).

    Run all three matchers on ``nlp(text.lower())``: the lookup lemmatizer is
    case-sensitive, and lemma phrases were lemmatised from lower-cased text. Phrase rules
    are also added with curly apostrophes (don’t); lemma rules are not, so normalise
    ’ to ' in the text first (same length, so offsets do not move).
    """

    nlp: Any
    phrase_matcher: PhraseMatcher  # attr LOWER
    lemma_matcher: PhraseMatcher  # attr LEMMA, run on a doc of the lower-cased text
    matcher: Matcher  # token patterns
    rules: dict[str, tuple[str, Rule]]  # rule id -> (code id, rule)


_SPACY_DETAIL = re.compile(r"\[pattern -> (\d+)(?: -> ([^\]]*))?\] ([^\n]*)")


def _pattern_error_text(exc: Exception) -> str:
    """spaCy's pattern error as one short line: 'token 2 (LOWR): Extra inputs ...'."""
    text = str(exc)
    details = []
    for token, where, why in _SPACY_DETAIL.findall(text):
        attr = f" ({where})" if where else ""
        details.append(f"token {int(token) + 1}{attr}: {why.strip()}")
    return "; ".join(details) if details else " ".join(text.split())


def compile_rules(codebook: Codebook, nlp: Language | None = None
                  ) -> tuple[CompiledRules, list[CodebookProblem]]:
    """Compile every rule into spaCy matchers; patterns that fail become problems.

    Lemma phrases are lemmatised with the same pipeline over their lower-cased text, so a
    lemma rule matches any inflection whose lookup lemmas equal the phrase's lemmas.
    """
    from spacy.matcher import Matcher, PhraseMatcher  # lazy

    nlp = nlp or make_nlp()
    compiled = CompiledRules(
        nlp=nlp, phrase_matcher=PhraseMatcher(nlp.vocab, attr="LOWER"),
        lemma_matcher=PhraseMatcher(nlp.vocab, attr="LEMMA"),
        matcher=Matcher(nlp.vocab, validate=True), rules={})
    problems: list[CodebookProblem] = []
    for code in codebook.codes:
        for rule in code.rules:
            if not rule.id or rule.id in compiled.rules:
                continue  # reported by validate()
            compiled.rules[rule.id] = (code.id, rule)
            if rule.phrases:
                texts = list(dict.fromkeys(
                    v for p in rule.phrases for v in (p, p.replace("'", "\u2019"))))
                compiled.phrase_matcher.add(rule.id, [nlp.make_doc(t) for t in texts])
            if rule.lemmas:
                compiled.lemma_matcher.add(rule.id, [nlp(p.lower()) for p in rule.lemmas])
            for i, pat in enumerate(rule.patterns):
                try:
                    compiled.matcher.add(rule.id, [pat])
                except (ValueError, TypeError, KeyError, re.error) as exc:
                    msg = _pattern_error_text(exc)
                    problems.append(CodebookProblem(
                        f"rule {rule.id!r} pattern {i + 1} does not compile: {msg}",
                        code.id, rule.lines.get(f"pattern.{i}", rule.line)))
    return compiled, problems


# ======================================================================================
# validation
# ======================================================================================

def _validate_code(code: Code, index: dict[str, Code],
                   seen: dict[str, Code]) -> list[CodebookProblem]:
    out: list[CodebookProblem] = []
    ln = code.lines.get
    cid = code.id or None
    if not code.id:
        out.append(CodebookProblem("code has no id", None, code.line))
    elif not ID_RE.match(code.id):
        out.append(CodebookProblem(
            f"code id {code.id!r} must be snake_case (a-z, 0-9, _; starting with a letter)",
            cid, ln("id", code.line)))
    elif code.id in seen:
        first = seen[code.id]
        out.append(CodebookProblem(
            f"duplicate code id {code.id!r} (first defined at line {first.line})",
            cid, ln("id", code.line)))
    if not code.name.strip():
        out.append(CodebookProblem("code has no name", cid, ln("name", code.line)))
    if code.parent is not None and code.parent not in index:
        out.append(CodebookProblem(f"parent {code.parent!r} is not a code in this codebook",
                                   cid, ln("parent", code.line)))
    if code.realist_role is not None and code.realist_role not in REALIST_ROLES:
        out.append(CodebookProblem(
            f"realist_role {code.realist_role!r} must be one of {', '.join(REALIST_ROLES)}"
            " or null", cid, ln("realist_role", code.line)))
    if code.direction is not None and code.direction not in DIRECTIONS:
        out.append(CodebookProblem(
            f"direction {code.direction!r} must be one of {', '.join(DIRECTIONS)} or null",
            cid, ln("direction", code.line)))
    return out


def _cycle_problems(codebook: Codebook) -> list[CodebookProblem]:
    index = codebook.by_id
    reported: set[str] = set()
    out: list[CodebookProblem] = []
    for code in codebook.codes:
        chain = [code.id]
        parent = code.parent
        while parent in index and parent not in chain:
            chain.append(parent)
            parent = index[parent].parent
        if parent is None or parent not in index or parent != code.id:
            continue
        if reported & set(chain):
            continue
        reported.update(chain)
        loop = " -> ".join([*chain, code.id])
        out.append(CodebookProblem(f"parent cycle: {loop}", code.id,
                                   code.lines.get("parent", code.line)))
    return out


def _validate_rule(code: Code, rule: Rule, index: dict[str, Code],
                   rule_seen: dict[str, int | None]) -> list[CodebookProblem]:
    out: list[CodebookProblem] = []
    cid = code.id or None
    ln = rule.lines.get
    if not rule.id:
        out.append(CodebookProblem("rule has no id", cid, rule.line))
    elif not RULE_ID_RE.match(rule.id):
        out.append(CodebookProblem(
            f"rule id {rule.id!r} must be lower-case words joined by _ or .", cid,
            ln("id", rule.line)))
    elif rule.id in rule_seen:
        out.append(CodebookProblem(
            f"duplicate rule id {rule.id!r} (first at line {rule_seen[rule.id]})", cid,
            ln("id", rule.line)))
    else:
        rule_seen[rule.id] = rule.line
    kinds = rule.kinds()
    if len(kinds) != 1:
        what = ", ".join(kinds) if kinds else "none"
        out.append(CodebookProblem(
            f"rule {rule.id!r} needs exactly one of phrases, lemmas, pattern(s) "
            f"(has {what})", cid, rule.line))
    for key in ("phrases", "lemmas"):
        if any(not p.strip() for p in getattr(rule, key)):
            out.append(CodebookProblem(f"rule {rule.id!r} has an empty {key} entry", cid,
                                       ln(key, rule.line)))
    for i, pat in enumerate(rule.patterns):
        if not pat:
            out.append(CodebookProblem(f"rule {rule.id!r} pattern {i + 1} is empty", cid,
                                       ln(f"pattern.{i}", rule.line)))
    bad_roles = [r for r in rule.roles if r not in CANONICAL_ROLES]
    if bad_roles:
        out.append(CodebookProblem(
            f"rule {rule.id!r} role filter {', '.join(map(repr, bad_roles))} is not a "
            f"canonical role ({', '.join(CANONICAL_ROLES)})", cid, ln("roles", rule.line)))
    if rule.negated_code is not None and rule.negated_code not in index:
        out.append(CodebookProblem(
            f"rule {rule.id!r} negated_code {rule.negated_code!r} is not a code", cid,
            ln("negated_code", rule.line)))
    return out


def validate(codebook: Codebook, compile_patterns: bool = True) -> list[CodebookProblem]:
    """Every problem in the codebook, in file order (empty when it is valid)."""
    problems: list[CodebookProblem] = []
    if not codebook.name.strip():
        problems.append(CodebookProblem("the codebook has no name (codebook: name:)"))
    if not codebook.codes:
        problems.append(CodebookProblem("the codebook has no codes"))
    index = codebook.by_id
    seen: dict[str, Code] = {}
    rule_seen: dict[str, int | None] = {}
    for code in codebook.codes:
        problems.extend(_validate_code(code, index, seen))
        if code.id:
            seen.setdefault(code.id, code)
        for rule in code.rules:
            problems.extend(_validate_rule(code, rule, index, rule_seen))
    problems.extend(_cycle_problems(codebook))
    if compile_patterns:
        problems.extend(compile_rules(codebook)[1])
    return sorted(problems, key=lambda p: p.line or 0)


def raise_first(problems: list[CodebookProblem], source: str | Path | None) -> None:
    """Raise InvalidCodebook for the first problem, mentioning how many more there are."""
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    raise InvalidCodebook(first.message + more, file=source, line=first.line,
                          code=first.code)


def load_and_validate(path: str | Path | None = None) -> Codebook:
    """Load a YAML codebook (the default one if no path) and raise on any problem."""
    p = Path(path) if path is not None else default_codebook_path()
    cb = load_codebook(p)
    raise_first(validate(cb), p)
    return cb
