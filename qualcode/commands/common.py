"""What every command module shares: the project context, error handling, terminal checks."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import click

from qualcode.errors import QualcodeError


class Context:
    """The project named on the command line, opened on first use."""

    def __init__(self, project: str | None) -> None:
        self.project = project
        self._store = None

    def store(self, *, create: bool = False):  # noqa: ANN201
        from qualcode.store.repo import Store

        if self._store is None:
            self._store = Store.open(self.project, create=create)
        return self._store


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn qualcode's own errors into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QualcodeError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def interactive() -> bool:
    """True on a terminal: progress bars are shown there and kept out of logs."""
    return sys.stderr.isatty()
