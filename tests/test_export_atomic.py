"""Atomic writes: the finished file has the mode an ordinary file would, never mkstemp's 0600."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from qualcode.errors import QualcodeError
from qualcode.export.atomic import atomic_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@pytest.fixture
def umask():  # noqa: ANN201
    """Set the process umask for one test, and put the old one back."""
    old = os.umask(0o022)
    try:
        yield lambda value: os.umask(value)
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_a_new_file_gets_the_mode_a_normal_file_would(tmp_path: Path, umask, mask: int) -> None:  # noqa: ANN001
    umask(mask)
    out = tmp_path / "codings.csv"
    with atomic_path(out) as tmp:
        tmp.write_text("segment_id,code\n", encoding="utf-8")
    normal = tmp_path / "normal.csv"
    normal.write_text("x", encoding="utf-8")
    assert mode(out) == 0o666 & ~mask == mode(normal)
    assert out.read_text(encoding="utf-8") == "segment_id,code\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codings.csv", "normal.csv"]


@pytest.mark.parametrize("existing", [0o600, 0o640, 0o664, 0o444])
def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask, existing: int) -> None:  # noqa: ANN001
    umask(0o022)
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    out.chmod(existing)
    with atomic_path(out) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "new"
    assert mode(out) == existing


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path, umask) -> None:  # noqa: ANN001
    out = tmp_path / "segments.csv"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("writer failed")
    assert out.read_text(encoding="utf-8") == "old" and mode(out) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["segments.csv"]


def test_a_missing_folder_is_a_qualcode_error(tmp_path: Path) -> None:
    with pytest.raises(QualcodeError, match="does not exist"), atomic_path(tmp_path / "nope" / "x.csv"):
        pass
