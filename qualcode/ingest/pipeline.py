"""Ingest: transcript files -> parsed turns -> roles -> segments -> the project store.

Each file is one transaction. A bad file is reported (file and line or cue) and skipped; the
others are still ingested, unless ``strict``, in which case nothing is written when any file
fails. Re-ingesting an unchanged file is a no-op; a changed file under a known name is
refused unless ``replace``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from qualcode.errors import DuplicateDocument, InvalidTranscript, QualcodeError
from qualcode.ingest.formats import SUPPORTED_SUFFIXES, parse_file
from qualcode.ingest.manifest import Manifest, read_manifest
from qualcode.ingest.roles import ROLE_DISPLAY, RoleMap
from qualcode.ingest.segment import BuiltDocument, build_document
from qualcode.store.repo import Store


@dataclass(slots=True)
class FileReport:
    """What happened to one file."""

    path: str
    name: str
    status: str = "pending"  # ingested | replaced | unchanged | error | checked
    format: str | None = None
    encoding: str | None = None
    turns: int = 0
    segments: int = 0
    words: int = 0
    unknown_labels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    document_id: int | None = None
    codings_removed: int = 0


@dataclass(slots=True)
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    strict_aborted: bool = False

    @property
    def errors(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


def collect_files(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Expand files and directories into (path, document name) pairs.

    A file inside a directory argument is named by its path relative to that directory; a
    file given directly by its file name. Manifests, role files and outcome tables found in
    a directory (manifest*.csv, roles*.yaml, outcomes*.csv) are not transcripts.
    """
    found: list[tuple[Path, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and not _is_sidecar(f):
                    found.append((f, f.relative_to(p).as_posix()))
        else:
            found.append((p, p.name))
    return found


def _is_sidecar(path: Path) -> bool:
    stem = path.stem.lower()
    return stem.startswith(("manifest", "outcomes", "roles", "codings", "human_codings")) or path.name.startswith(".")


def file_hash(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass(slots=True)
class _Prepared:
    report: FileReport
    document: dict
    built: BuiltDocument
    roles: dict[str, str]
    counts: dict[str, int]
    replace_id: int | None


def _prepare(
    store: Store,
    path: Path,
    name: str,
    *,
    roles: RoleMap,
    manifest: Manifest | None,
    site: str | None,
    wave: str | None,
    unit: str,
    replace: bool,
) -> _Prepared | FileReport:
    """Parse and segment one file; return a FileReport alone when there is nothing to write."""
    report = FileReport(path=str(path), name=name)
    try:
        digest = file_hash(path)
    except OSError as exc:
        raise InvalidTranscript(f"cannot read file: {exc.strerror or exc}", file=path) from exc
    existing = store.document_by_name(name)
    if existing is not None and existing["content_hash"] == digest:
        report.status = "unchanged"
        report.document_id = existing["id"]
        return report
    if existing is not None and not replace:
        raise DuplicateDocument(
            f"a different version of {name} is already in the project; use --replace to replace it "
            "(its codings are removed)",
            file=path,
        )
    if existing is None:
        twin = store.document_by_hash(digest)
        if twin is not None:
            report.status = "unchanged"
            report.document_id = twin["id"]
            report.warnings.append(f"same content as {twin['name']}, already in the project")
            return report

    parsed = parse_file(path)
    report.format, report.encoding, report.warnings = parsed.format, parsed.encoding, list(parsed.warnings)
    role_list = [roles.resolve(t.label, document=name) for t in parsed.turns]
    built = build_document(parsed.turns, role_list, unit=unit, display=ROLE_DISPLAY, file=str(path))
    label_roles: dict[str, str] = {}
    counts: dict[str, int] = {}
    for turn, role in zip(parsed.turns, role_list):
        label = turn.label or "(no label)"
        label_roles[label] = role
        counts[label] = counts.get(label, 0) + 1
    report.unknown_labels = [label for label, role in label_roles.items() if role == "unknown"]
    report.turns, report.segments, report.words = len(parsed.turns), len(built.segments), built.word_count

    entry = manifest.lookup(name) if manifest else None
    document = {
        "name": name,
        "source_path": str(path),
        "format": parsed.format,
        "encoding": parsed.encoding,
        "content_hash": digest,
        "site": (entry.site if entry and entry.site else site),
        "wave": (entry.wave if entry and entry.wave else wave),
        "date": entry.date if entry else None,
        "participant": entry.participant if entry else None,
        "attributes": dict(entry.attributes) if entry else {},
        "unit": unit,
        "text": built.text,
        "word_count": built.word_count,
    }
    if manifest is not None and entry is None:
        report.warnings.append(f"not in the manifest {manifest.path.name}")
    return _Prepared(report, document, built, label_roles, counts, existing["id"] if existing else None)


def _write(store: Store, prep: _Prepared) -> None:
    speaker_rows = [
        {"label": label, "role": role, "tag": prep.built.speaker_tags[label], "n_turns": prep.counts[label]} for label, role in prep.roles.items()
    ]
    segment_rows = [
        {
            "seq": s.seq,
            "turn_index": s.turn_index,
            "speaker_label": s.speaker_label,
            "role": s.role,
            "start_char": s.start,
            "end_char": s.end,
            "text": s.text,
            "start_ms": s.start_ms,
            "end_ms": s.end_ms,
        }
        for s in prep.built.segments
    ]
    doc_id, removed = store.add_document(prep.document, speaker_rows, segment_rows, replace_id=prep.replace_id)
    prep.report.document_id = doc_id
    prep.report.codings_removed = removed
    prep.report.status = "replaced" if prep.replace_id is not None else "ingested"


def ingest_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    site: str | None = None,
    wave: str | None = None,
    manifest: str | Path | None = None,
    roles: str | Path | None = None,
    unit: str = "turn",
    replace: bool = False,
    strict: bool = False,
    progress: Callable[[FileReport], None] | None = None,
) -> IngestReport:
    """Ingest transcript files and directories into the project; returns a per-file report.

    Raises only for problems with the whole command (a bad manifest or roles file, an
    unknown unit); a bad transcript is recorded in the report instead.
    """
    from qualcode.ingest.segment import UNITS

    if unit not in UNITS:
        raise InvalidTranscript(f"unknown segmentation unit {unit!r} (choose from {', '.join(UNITS)})")
    role_map = RoleMap.load(Path(roles) if roles else None)
    manifest_obj = read_manifest(manifest) if manifest else None
    report = IngestReport()
    files = collect_files(paths)
    names: dict[str, str] = {}
    prepared: list[_Prepared] = []
    for path, name in files:
        if name in names:
            fr = FileReport(path=str(path), name=name, status="error")
            fr.error = str(DuplicateDocument(f"same document name as {names[name]}", file=path))
            report.files.append(fr)
            if progress:
                progress(fr)
            continue
        names[name] = str(path)
        try:
            result = _prepare(
                store, path, name, roles=role_map, manifest=manifest_obj, site=site, wave=wave, unit=unit, replace=replace
            )
        except QualcodeError as exc:
            fr = FileReport(path=str(path), name=name, status="error", error=str(exc))
            report.files.append(fr)
            if progress:
                progress(fr)
            continue
        if isinstance(result, FileReport):
            report.files.append(result)
        else:
            report.files.append(result.report)
            if strict:
                result.report.status = "checked"
                prepared.append(result)
            else:
                _write(store, result)
        if progress:
            progress(report.files[-1])
    if strict:
        if report.errors:
            report.strict_aborted = True
            for prep in prepared:
                prep.report.status = "not written"
        else:
            for prep in prepared:
                _write(store, prep)
    return report
