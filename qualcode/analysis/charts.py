"""Shared helpers for the analysis charts: headless set-up, one house style, atomic PNG save.

matplotlib is imported lazily (inside these helpers) so the CLI starts fast. Figures are
built with the object-oriented API (``matplotlib.figure.Figure``) rather than pyplot, so
drawing a chart never opens a window, never leaks figures into pyplot's registry and never
changes the backend of a notebook that already uses pyplot.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from qualcode.export.atomic import atomic_path

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: One palette for every chart (colour-blind friendly, Okabe-Ito order).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Muted grey for reference lines and reference-level markers.
GREY = "#777777"
DPI = 150

_STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.frameon": False,
}


def _matplotlib() -> Any:
    """Import matplotlib; select the headless Agg backend unless pyplot is already in use."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return matplotlib


@contextmanager
def figure(width: float = 6.4, height: float = 4.2) -> Iterator[tuple[Figure, Axes]]:
    """A new figure and single axes, drawn in the house style for the whole ``with`` block.

    Draw and call :func:`save_png` inside the block so every text picks up the style.
    """
    mpl = _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, height), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        yield fig, ax


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Show fractions 0..1 on ``axis`` as percentages (0.31 -> 31%)."""
    from matplotlib.ticker import PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def humanise(name: str) -> str:
    """Turn a column name into an axis label: 'job_entry_rate' -> 'Job entry rate'."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def footnote(fig: Figure, text: str) -> None:
    """A small grey note under the plot (sample size, caveats)."""
    fig.text(0.01, 0.01, text, fontsize=7, color=GREY, ha="left", va="bottom", wrap=True)


def save_png(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a PNG to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    return target
