"""The evaluation report: every section as one Excel workbook or one self-contained HTML page.

:func:`qualcode.report.build.build_report` gathers the sections (DataFrames and PNG charts)
once; :func:`write_report` lays them out as .xlsx (:mod:`qualcode.report.xlsx`) or .html
(:mod:`qualcode.report.html`), chosen by the file's suffix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import QualcodeError

if TYPE_CHECKING:
    from qualcode.report.model import Report

SUFFIXES = (".xlsx", ".html")


def write_report(report: "Report", out: str | Path) -> Path:
    """Write the report to ``out`` (.xlsx or .html) via a temporary file and a rename."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from qualcode.report.xlsx import write_xlsx

        return write_xlsx(report, path)
    if suffix in (".html", ".htm"):
        from qualcode.report.html import write_html

        return write_html(report, path)
    raise QualcodeError(f"the report must be a {' or '.join(SUFFIXES)} file", file=path)
