"""The ingest manifest: one row per transcript file with its site, wave, date, participant.

Columns ``file, site, wave, date, participant`` are stored on the document; any other
column is kept as a document attribute (interview mode, team, ...).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InvalidManifest, InvalidTranscript

STANDARD = ("site", "wave", "date", "participant")


@dataclass(slots=True)
class ManifestEntry:
    file: str
    row: int
    site: str | None = None
    wave: str | None = None
    date: str | None = None
    participant: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


class Manifest:
    """Manifest rows looked up by file name, relative path or stem."""

    def __init__(self, entries: list[ManifestEntry], path: Path) -> None:
        self.entries = entries
        self.path = path
        self._by_key: dict[str, ManifestEntry] = {}
        for entry in entries:
            for key in {entry.file.lower(), Path(entry.file).name.lower(), Path(entry.file).stem.lower()}:
                self._by_key.setdefault(key, entry)

    def lookup(self, name: str) -> ManifestEntry | None:
        p = Path(name)
        for key in (name.lower(), p.name.lower(), p.stem.lower()):
            if key in self._by_key:
                return self._by_key[key]
        return None


def read_manifest(path: str | Path) -> Manifest:
    """Read a manifest CSV (UTF-8, BOM or cp1252); errors name the file and the row."""
    from qualcode.ingest.decode import decode_bytes

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidManifest(f"cannot read manifest: {exc.strerror or exc}", file=path) from exc
    try:
        text, _ = decode_bytes(data, path)
    except InvalidTranscript as exc:
        raise InvalidManifest(exc.message, file=path) from exc
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidManifest("the manifest is empty", file=path) from None
    columns = [h.strip().lower().replace(" ", "_") for h in header]
    if "file" not in columns:
        raise InvalidManifest("the manifest has no 'file' column", file=path, row=1)
    entries: list[ManifestEntry] = []
    seen: dict[str, int] = {}
    for row_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            raise InvalidManifest(f"{len(row)} cells but {len(columns)} columns", file=path, row=row_no)
        values = {col: (row[i].strip() if i < len(row) else "") for i, col in enumerate(columns)}
        name = values.pop("file")
        if not name:
            raise InvalidManifest("empty 'file' cell", file=path, row=row_no)
        if name.lower() in seen:
            raise InvalidManifest(f"{name} is listed twice (also row {seen[name.lower()]})", file=path, row=row_no)
        seen[name.lower()] = row_no
        entry = ManifestEntry(file=name, row=row_no)
        for col in STANDARD:
            setattr(entry, col, values.pop(col, "") or None)
        entry.attributes = {k: v for k, v in values.items() if k and v != ""}
        entries.append(entry)
    return Manifest(entries, path)
