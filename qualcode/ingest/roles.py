"""Speaker labels to canonical roles ("IPS ES", "Int", "Luke" -> es, interviewer, ...).

Quotes are attributed by role, never by name, so every raw label a parser returns is
mapped to one of :data:`CANONICAL_ROLES`. The defaults live in ``default_roles.yaml``
(labels matched exactly, regex patterns matched in full, both after
:func:`normalise_label`). A project can add a roles file that extends or overrides them::

    labels:            # global: label -> role
      "Speaker 1": interviewer
      "Resp": client
    patterns:          # optional: regex, full match on the normalised label -> role
      "peer (mentor|supporter)": client
    documents:         # per document (file name, e.g. "berks_es.vtt", or its stem)
      berks_es.vtt:
        Luke: es
        "Speaker 2": interviewer

Roles are canonical names (``es``, ``ips_manager``, ...; case, spaces and hyphens do not
matter) or their display names ("IPS ES", "Clinical staff"). Per-document entries win
over global user labels and patterns, which win over the defaults. User labels match
case-insensitively; one without a trailing number ("Resp") also matches numbered forms
("Resp 2"), while "Speaker 1" matches only "Speaker 1". Labels the map does not know
resolve to ``unknown``; "A", "R" and "Respondent" are never guessed. A malformed file, an
unknown role or a bad regex raises :class:`InvalidManifest` naming the file and line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from qualcode.errors import InvalidManifest

CANONICAL_ROLES: tuple[str, ...] = (
    "es", "ips_manager", "ad_staff", "client", "commissioner", "employer", "stakeholder", "interviewer", "unknown",
)
ROLE_DISPLAY: dict[str, str] = {
    "es": "IPS ES",
    "ips_manager": "IPS team manager",
    "ad_staff": "Clinical staff",
    "client": "IPS client",
    "commissioner": "Commissioner",
    "employer": "Employer",
    "stakeholder": "Stakeholder",
    "interviewer": "Interviewer",
    "unknown": "Unknown role",
}
UNKNOWN = "unknown"
DEFAULT_ROLES_FILE = "default_roles.yaml"

_EDGE = " \t\n[](){}<>:;,.!?*\"'`|#-_"
_SEPARATORS = str.maketrans({c: " " for c in "-_.–—()[]{}"})
_TRAILING_NUMBER = re.compile(r"\s*(?:#\s*|\bno\s+|\bnumber\s+)?\d+$")
_PARENS = re.compile(r"\(([^()]*)\)")
_ROLE_ALIASES: dict[str, str] = {
    **{r.replace("_", " "): r for r in CANONICAL_ROLES},
    **{" ".join(v.casefold().split()): k for k, v in ROLE_DISPLAY.items()},
}


def exact_key(label: str) -> str:
    """Case-insensitive form of a label: casefolded, trimmed of brackets and colons."""
    text = unicodedata.normalize("NFKC", label).casefold()
    return " ".join(text.split()).strip(_EDGE).strip()


def normalise_label(label: str) -> str:
    """Loose form used for matching: also "-", "_", ".", brackets as spaces, no trailing number.

    ``"IPS-ES 2:"`` -> ``"ips es"``, ``"Client #3"`` -> ``"client"``, ``"O.T."`` -> ``"o t"``.
    """
    text = exact_key(label).translate(_SEPARATORS)
    text = " ".join(text.split()).strip(_EDGE)
    while (m := _TRAILING_NUMBER.search(text)) is not None and m.start() > 0:
        text = text[: m.start()].rstrip(_EDGE)
    return " ".join(text.split()).strip(_EDGE).strip()


def _candidates(label: str) -> list[str]:
    """Loose forms to try against the defaults: whole, without "(...)", inside "(...)"."""
    out = [normalise_label(label)]
    if "(" in label:
        out.append(normalise_label(_PARENS.sub(" ", label)))
        out.extend(normalise_label(inner) for inner in _PARENS.findall(label))
    return [c for c in dict.fromkeys(out) if c]


@dataclass(slots=True)
class _Labels:
    """User label entries: exact keys, plus loose keys for labels without a number."""

    exact: dict[str, str] = field(default_factory=dict)
    loose: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, role: str) -> None:
        key = exact_key(label)
        self.exact[key] = role
        if not _TRAILING_NUMBER.search(key):
            self.loose.setdefault(normalise_label(label), role)

    def get(self, label: str) -> str | None:
        role = self.exact.get(exact_key(label))
        if role is None and self.loose:
            role = self.loose.get(normalise_label(label))
        return role


class RoleMap:
    """The default label map merged with an optional user roles file."""

    def __init__(
        self,
        default_labels: dict[str, str],
        default_patterns: list[tuple[re.Pattern[str], str]],
        user_labels: _Labels | None = None,
        user_patterns: list[tuple[re.Pattern[str], str]] | None = None,
        documents: dict[str, _Labels] | None = None,
        source: Path | None = None,
    ) -> None:
        self.default_labels = default_labels
        self.default_patterns = default_patterns
        self.user_labels = user_labels or _Labels()
        self.user_patterns = user_patterns or []
        self.documents = documents or {}
        self.source = source
        self._cache: dict[tuple[str, str | None], str] = {}

    @classmethod
    def load(cls, extra: Path | str | None = None) -> RoleMap:
        """Read the default map and merge the user roles file ``extra`` over it."""
        labels, patterns = _defaults()
        if extra is None:
            return cls(dict(labels), list(patterns))
        path = Path(extra)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InvalidManifest(f"cannot read the roles file: {reason}", file=path) from exc
        user_labels, user_patterns, documents = _parse_user_file(text, path)
        return cls(dict(labels), list(patterns), user_labels, user_patterns, documents, path)

    def resolve(self, label: str | None, document: str | None = None) -> str:
        """The canonical role of ``label`` (in ``document``, if given), else ``"unknown"``."""
        if label is None or not label.strip():
            return UNKNOWN
        key = (label, document)
        role = self._cache.get(key)
        if role is None:
            role = self._resolve(label, document)
            self._cache[key] = role
        return role

    def _resolve(self, label: str, document: str | None) -> str:
        if document is not None and self.documents:
            entries = self._document_entries(document)
            if entries is not None:
                role = entries.get(label)
                if role is not None:
                    return role
        role = self.user_labels.get(label)
        if role is not None:
            return role
        candidates = _candidates(label)
        for pattern, role in self.user_patterns:
            if any(pattern.fullmatch(c) for c in candidates):
                return role
        for candidate in candidates:
            role = self.default_labels.get(candidate)
            if role is not None:
                return role
        for candidate in candidates:
            for pattern, role in self.default_patterns:
                if pattern.fullmatch(candidate):
                    return role
        return UNKNOWN

    def _document_entries(self, document: str) -> _Labels | None:
        name = Path(document).name.casefold()
        return self.documents.get(name) or self.documents.get(Path(name).stem)


def _role_value(node: yaml.Node, path: Path | str) -> str:
    """A role named in a roles file: canonical name or display name, checked."""
    if not isinstance(node, yaml.ScalarNode):
        raise InvalidManifest("a role must be a single name", file=path, line=node.start_mark.line + 1)
    key = " ".join(node.value.casefold().replace("_", " ").replace("-", " ").split())
    role = _ROLE_ALIASES.get(key)
    if role is None:
        raise InvalidManifest(
            f"unknown role {node.value!r} (roles: {', '.join(CANONICAL_ROLES)})",
            file=path, line=node.start_mark.line + 1,
        )
    return role


def _compose(text: str, path: Path | str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidManifest(
            f"malformed YAML: {problem}", file=path, line=mark.line + 1 if mark is not None else None
        ) from exc


def _mapping(node: yaml.Node | None, what: str, path: Path | str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    """The (key, value) pairs of a mapping node, with scalar keys and no duplicates."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise InvalidManifest(f"{what} must be a mapping", file=path, line=node.start_mark.line + 1)
    pairs: list[tuple[yaml.ScalarNode, yaml.Node]] = []
    seen: dict[str, int] = {}
    for key, value in node.value:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or not key.value.strip():
            raise InvalidManifest(f"{what}: every key must be a non-empty name", file=path, line=line)
        folded = exact_key(key.value) or key.value
        if folded in seen:
            raise InvalidManifest(
                f"{what}: {key.value!r} is given twice (also line {seen[folded]})", file=path, line=line
            )
        seen[folded] = line
        pairs.append((key, value))
    return pairs


def _compile(node: yaml.ScalarNode, path: Path | str) -> re.Pattern[str]:
    try:
        return re.compile(node.value)
    except re.error as exc:
        raise InvalidManifest(
            f"bad regular expression {node.value!r}: {exc}", file=path, line=node.start_mark.line + 1
        ) from exc


def _parse_user_file(
    text: str, path: Path
) -> tuple[_Labels, list[tuple[re.Pattern[str], str]], dict[str, _Labels]]:
    root = _compose(text, path)
    labels = _Labels()
    patterns: list[tuple[re.Pattern[str], str]] = []
    documents: dict[str, _Labels] = {}
    for key, value in _mapping(root, "the roles file", path):
        section = key.value.strip().casefold()
        if section == "labels":
            for label, role in _mapping(value, "labels", path):
                labels.add(label.value, _role_value(role, path))
        elif section == "patterns":
            for pattern, role in _mapping(value, "patterns", path):
                patterns.append((_compile(pattern, path), _role_value(role, path)))
        elif section == "documents":
            for doc, entries in _mapping(value, "documents", path):
                doc_labels = _Labels()
                for label, role in _mapping(entries, f"documents: {doc.value}", path):
                    doc_labels.add(label.value, _role_value(role, path))
                name = Path(doc.value.strip()).name.casefold()
                documents[name] = doc_labels
        else:
            raise InvalidManifest(
                f"unknown section {key.value!r} (expected labels, patterns, documents)",
                file=path, line=key.start_mark.line + 1,
            )
    return labels, patterns, documents


@lru_cache(maxsize=1)
def _defaults() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    """The packaged default map: normalised label -> role, and (pattern, role) in order."""
    resource = resources.files("qualcode.ingest").joinpath(DEFAULT_ROLES_FILE)
    where = f"qualcode/ingest/{DEFAULT_ROLES_FILE}"
    root = _compose(resource.read_text(encoding="utf-8"), where)
    labels: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for role_node, body in _mapping(root, "the default roles", where):
        role = role_node.value
        if role not in CANONICAL_ROLES:
            raise InvalidManifest(f"unknown role {role!r}", file=where, line=role_node.start_mark.line + 1)
        for section, items in _mapping(body, role, where):
            if section.value not in ("labels", "patterns") or not isinstance(items, yaml.SequenceNode):
                raise InvalidManifest(f"{role}: expected lists 'labels' and 'patterns'", file=where,
                                      line=section.start_mark.line + 1)
            for item in items.value:
                if not isinstance(item, yaml.ScalarNode):
                    raise InvalidManifest(f"{role}: list items must be text", file=where, line=item.start_mark.line + 1)
                if section.value == "patterns":
                    patterns.append((_compile(item, where), role))
                    continue
                key = normalise_label(item.value)
                if labels.get(key, role) != role:
                    raise InvalidManifest(f"label {item.value!r} is under {labels[key]} and {role}", file=where,
                                          line=item.start_mark.line + 1)
                labels[key] = role
    return labels, tuple(patterns)
