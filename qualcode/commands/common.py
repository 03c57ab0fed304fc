"""What every command module shares: the project context, error handling, terminal checks."""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

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


@contextmanager
def stage_bars() -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``progress(stage, done, total)`` callback that draws one bar per stage on a
    terminal (a new stage closes the bar before it); None in logs and pipes."""
    if not interactive():
        yield None
        return
    bars: dict[str, Any] = {}
    current: list[Any] = []

    def show(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            while current:
                current.pop().__exit__(None, None, None)
            bar = bars[stage] = click.progressbar(length=max(total, 1), label=stage.capitalize(),
                                                  file=sys.stderr)
            bar.__enter__()
            current.append(bar)
        bar.update(max(0, done - bar.pos))

    try:
        yield show
    finally:
        while current:
            current.pop().__exit__(None, None, None)
