"""What a report is made of, independent of its format: sections of display-ready tables,
PNG charts and notes. :mod:`qualcode.report.build` fills these in once; the writers
(:mod:`qualcode.report.xlsx`, :mod:`qualcode.report.html`) only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Column formats a table may ask for; other float columns get two decimals.
FORMATS = ("pct", "int", "2dp", "3dp", "p", "text")
#: Colours of the matrix colour scale (low -> high), as Excel's red-white scale.
SCALE_LOW = (255, 255, 255)
SCALE_HIGH = (248, 105, 107)
#: Fill of a flagged row (an entered rating that differs from the evidence).
FLAG_FILL = "FFE699"


@dataclass
class Table:
    """One display-ready table: headers as readers should see them, values unformatted.

    ``formats`` maps a column to one of :data:`FORMATS`; ``colour`` lists the columns that
    share one colour scale (``skip_diagonal`` leaves out the cells where the row's first
    column names the column, as in a co-occurrence matrix); ``indent`` is a column shown
    indented by ``depths`` (one per row); ``wrap`` columns hold long text; ``flagged`` rows
    are highlighted; the first ``key_columns`` columns stay in view when scrolling.
    """

    frame: "pd.DataFrame"
    title: str | None = None
    formats: dict[str, str] = field(default_factory=dict)
    colour: list[str] = field(default_factory=list)
    skip_diagonal: bool = False
    indent: str | None = None
    depths: list[int] | None = None
    wrap: list[str] = field(default_factory=list)
    flagged: list[bool] | None = None
    key_columns: int = 0
    links: dict[int, str] = field(default_factory=dict)  # row index -> section key (contents table)


@dataclass
class Chart:
    """A PNG chart, held in memory so each writer embeds the same bytes."""

    title: str
    png: bytes


@dataclass
class Section:
    """One sheet of the workbook and one part of the page."""

    key: str  # anchor in the page; stable, lower case
    title: str  # heading and sheet name (at most 31 characters)
    intro: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportOptions:
    """What to include; ``None`` means: choose from the data (see the command's help)."""

    status: str = "accepted"
    coders: list[str] | None = None
    quotes: int = 3
    max_chars: int = 300
    theme: str | None = None
    outcome: str | None = None
    model_factors: list[str] | None = None
    model_outcome: str | None = None
    cluster_measures: list[str] | None = None
    cmo_top: int = 5


@dataclass
class Report:
    """Everything both formats show: the About section first, then the included sections."""

    project: str
    created: str
    sections: list[Section]
    omitted: list[tuple[str, str]]  # (section title, why it is not included)

    @property
    def included(self) -> list[str]:
        """Titles of the sections in the report, About first."""
        return [s.title for s in self.sections]
