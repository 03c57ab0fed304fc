"""Write outputs to a temporary file beside the target, then rename: never a half-written file.

The finished file has the permissions an ordinary ``open(out, "w")`` would give it: a new
file gets ``0o666 & ~umask`` (the temporary file is created with mode 0o666, so the kernel
applies the umask, rather than ``mkstemp``'s private 0o600), and a file that is replaced
keeps its own mode.
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from qualcode.errors import QualcodeError

NEW_FILE_MODE = 0o666  # as open() asks for; the process umask takes its bits away
_ATTEMPTS = 100


def _create_temp(folder: Path, target: Path) -> Path:
    """Create an empty, uniquely named file in ``folder`` with mode 0o666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_ATTEMPTS):
        tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}"
        try:
            fd = os.open(tmp, flags, NEW_FILE_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise QualcodeError(f"cannot write in folder {folder}: {exc.strerror or exc}", file=target) from exc
        os.close(fd)
        return tmp
    raise QualcodeError(f"cannot make a temporary file in folder {folder}", file=target)


def _existing_mode(target: Path) -> int | None:
    """The permission bits of the file ``target`` names, or None when there is none."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


@contextmanager
def atomic_path(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``out``."""
    target = Path(out)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise QualcodeError(f"folder {folder} does not exist", file=target)
    tmp_path = _create_temp(folder, target)
    try:
        yield tmp_path
        mode = _existing_mode(target)
        if mode is not None:
            os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
