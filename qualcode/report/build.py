"""Gather the report: read the project once, compute every section's tables and charts.

Each section comes from the same calls as the commands (``matrix``, ``configurations``,
``link``, ``agreement``, ``model``, ``clusters``), but the codings, segments, documents
and codebook are read once and handed to the pure analysis functions, so a large project
is not read again for every table. A section whose data are missing is not an error: it is
listed in the About section with the reason. An option the user gave explicitly that
names something absent (a theme, a factor, a measure) is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from qualcode.errors import InvalidInput
from qualcode.report.model import Report, ReportOptions, Section, Table
from qualcode.store.repo import Store

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.codebook import Codebook

#: The codings a report counts, and what the status means in words.
STATUS_WORDS = {"accepted": "accepted codings", "suggested": "open machine suggestions",
                "all": "accepted codings and open suggestions"}


class NotIncluded(Exception):
    """A section's data are missing; the message says what is missing."""


@dataclass
class Inputs:
    """The project read once: codings (with their text), segments, documents, codebook."""

    store: Store
    options: ReportOptions
    codings: "pd.DataFrame"
    segments: "pd.DataFrame | None"
    documents: "pd.DataFrame"
    info: "pd.DataFrame"
    parent_of: dict[str, str | None]
    codebook: "Codebook"
    site_outcomes: "pd.DataFrame"
    client_outcomes: "pd.DataFrame"


def read_inputs(store: Store, options: ReportOptions) -> Inputs:
    """Everything the sections share, each read once."""
    import pandas as pd

    from qualcode.store.codings import coding_rows
    from qualcode.store.outcomes import outcomes_frame
    from qualcode.workflows.matrix import CODING_COLUMNS, STATUSES, _codebook, documents_for, segments_for

    if options.status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {options.status!r}")
    if options.quotes < 1:
        raise InvalidInput(f"quotes must be at least 1, not {options.quotes}")
    wanted = ("accepted", "suggested") if options.status == "all" else (options.status,)
    rows = [r for s in wanted for r in coding_rows(store, status=s)]
    codings = pd.DataFrame(rows, columns=[*CODING_COLUMNS, "text"]) if rows else pd.DataFrame(
        columns=[*CODING_COLUMNS, "text"])
    try:
        segments = segments_for(store)
        segments = segments.drop(columns=[c for c in ("document_id", "end", "start_ms", "end_ms") if c in segments])
    except InvalidInput:
        segments = None
    info, parent_of = _codebook(store, codings)
    return Inputs(store, options, codings, segments, documents_for(store), info, parent_of, store.codebook(),
                  outcomes_frame(store, "site"), outcomes_frame(store, "client"))


# --- helpers shared by the sections ------------------------------------------------------------
def split_indent(frame: "pd.DataFrame", column: str = "name") -> tuple["pd.DataFrame", list[int]]:
    """Names indented with two spaces per level (as the matrix workflows give them) -> plain
    names and the depth of each row, so each format can indent in its own way."""
    names = frame[column].astype(str)
    depths = ((names.str.len() - names.str.lstrip(" ").str.len()) // 2).astype(int).tolist()
    return frame.assign(**{column: names.str.lstrip(" ")}), depths


def headers(frame: "pd.DataFrame", names: dict[str, str] | None = None) -> "pd.DataFrame":
    """Column names as readers see them: explicit ``names`` first, else 'job_entry_rate' ->
    'Job entry rate' (headers that already have capitals or spaces are kept)."""
    from qualcode.analysis.charts import humanise

    names = names or {}
    return frame.rename(columns=lambda c: names.get(c, humanise(c) if str(c).islower() and " " not in str(c) else c))


def rate_like(frame: "pd.DataFrame", column: str) -> bool:
    """A column of shares: named like a rate or share and every value between 0 and 1."""
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").dropna()
    return any(w in column.lower() for w in ("rate", "share", "%")) and len(values) > 0 and values.between(0, 1).all()


def chart_bytes(draw: Callable[[Path], object]) -> bytes:
    """Draw a chart into a temporary PNG and return its bytes."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qualcode-report-") as folder:
        path = Path(folder) / "chart.png"
        draw(path)
        return path.read_bytes()


def require_codings(d: Inputs) -> None:
    """Leave a section out when there are no transcripts or no codings with the status."""
    if d.segments is None:
        raise NotIncluded("no transcripts ingested")
    if d.codings.empty:
        raise NotIncluded(f"no {STATUS_WORDS[d.options.status]}")


# --- sections from the codings -----------------------------------------------------------------
def codebook_section(d: Inputs) -> Section:
    """One row per code in codebook order, names indented by depth."""
    import pandas as pd

    codes = list(d.codebook.walk())
    frame = pd.DataFrame({
        "Code": [c.id for c in codes], "Name": [c.name for c in codes],
        "Definition": [c.definition for c in codes], "Realist role": [c.realist_role or "" for c in codes],
        "Direction": [c.direction or "" for c in codes],
    })
    depths = [d.codebook.depth(c.id) for c in codes]
    version = d.store.codebook_version()
    return Section("codebook", "Codebook", f"{d.codebook.name}, project codebook version {version}: "
                   f"{len(codes)} codes, sub-codes indented under their theme.",
                   [Table(frame, indent="Name", depths=depths, wrap=["Definition"], key_columns=2)])


def segments_section(d: Inputs) -> Section:
    """Every counted coding with its text, attributed by role display and site."""
    from qualcode.analysis.matrix import role_label

    require_codings(d)
    c = d.codings
    frame = c[["document", "site", "role", "code_path", "coder", "source", "text"]].assign(
        role=c["role"].map(role_label), coder=c["decided_by"].where(c["decided_by"].notna(), c["coder"]))
    frame = headers(frame, {"code_path": "Code path"})
    return Section("segments", "Coded segments", f"One row per coding ({STATUS_WORDS[d.options.status]}), "
                   "attributed by speaker role and site, never by name.",
                   [Table(frame, wrap=["Text"], key_columns=1)])


def _matrix(d: Inputs, cols: str, measure: str) -> "pd.DataFrame":
    """A theme matrix of every code (level all) with indented names, as ``qualcode matrix``."""
    from qualcode.analysis.matrix import theme_matrix
    from qualcode.workflows.matrix import _with_names

    frame = theme_matrix(d.codings, d.segments, d.parent_of, cols=cols, measure=measure, level="all",
                         code_order=list(d.info["code"]), documents=d.documents)
    return _with_names(frame, d.info, "all")


def theme_section(d: Inputs, cols: str, cache: dict[str, "pd.DataFrame"]) -> Section:
    """Interviews mentioning each code and their share of the column's interviews."""
    import pandas as pd

    from qualcode.analysis.matrix import TOTAL, column_sizes

    require_codings(d)
    counts, share = _matrix(d, cols, "documents"), _matrix(d, cols, "share")
    cache[f"{cols}_documents"], cache[f"{cols}_share"] = counts, share
    labels = [c for c in counts.columns if c not in ("code", "name")]
    frame, depths = split_indent(counts[["code", "name"]])
    parts = {"Code": frame["code"], "Name": frame["name"]}
    formats, colour = {}, []
    for label in labels:
        parts[f"{label} n"], parts[f"{label} %"] = counts[label], share[label]
        formats[f"{label} n"], formats[f"{label} %"] = "int", "pct"
        if label != TOTAL:
            colour.append(f"{label} %")
    sizes = column_sizes(d.segments, cols, d.documents)
    what = "site" if cols == "site" else "speaker role"
    intro = (f"Interviews in which each code was coded (n) and their share of the {what}'s interviews (%), "
             f"from {STATUS_WORDS[d.options.status]}; a sub-code also counts for the codes above it.")
    if cols == "role":
        intro += " An interview counts for a role when someone in that role speaks in it."
    note = f"Interviews per {what}: " + ", ".join(f"{k} {v}" for k, v in sizes.items())
    title = "Theme by site" if cols == "site" else "Theme by role"
    return Section(f"by_{cols}", title, intro,
                   [Table(pd.DataFrame(parts), formats=formats, colour=colour, indent="Name", depths=depths,
                          key_columns=2)], notes=[note])


def framework_section(d: Inputs) -> Section:
    """Codes by site with their best quotes in each cell (codes never coded left out)."""
    from qualcode.analysis.matrix import TOTAL, framework_matrix
    from qualcode.workflows.matrix import _with_names

    require_codings(d)
    o = d.options
    frame = framework_matrix(d.codings, d.segments, d.parent_of, cols="site", level="all", quotes=o.quotes,
                             max_chars=o.max_chars, code_order=list(d.info["code"]), documents=d.documents)
    frame = _with_names(frame.drop(columns=TOTAL), d.info, "all")
    sites = [c for c in frame.columns if c not in ("code", "name")]
    frame = frame[(frame[sites] != "").any(axis=1)].reset_index(drop=True)
    frame, depths = split_indent(frame)
    return Section("framework", "Framework matrix",
                   f"Up to {o.quotes} quotes per code and site: a person's codings before a machine's, one quote "
                   "per interview before a second. Codes with no coded segment are left out.",
                   [Table(frame.rename(columns={"code": "Code", "name": "Name"}), indent="Name", depths=depths,
                          wrap=sites, key_columns=2)])


def cooccurrence_section(d: Inputs) -> Section:
    """Top-level themes by themes: segments coded with both."""
    from qualcode.analysis.matrix import cooccurrence
    from qualcode.workflows.matrix import _with_names

    require_codings(d)
    frame = cooccurrence(d.codings, d.segments, d.parent_of, level="top", code_order=list(d.info["code"]))
    frame = _with_names(frame, d.info, "top")
    codes = [c for c in frame.columns if c not in ("code", "name")]
    frame = frame.rename(columns={"code": "Code", "name": "Name"})
    return Section("cooccurrence", "Co-occurrence",
                   "Segments coded with both themes (a sub-code counts for its theme); the diagonal, in bold, "
                   "is the number of segments with the theme and is left out of the colour scale.",
                   [Table(frame, formats={c: "int" for c in codes}, colour=codes, skip_diagonal=True, key_columns=2)])


def cmo_section(d: Inputs) -> Section:
    """The most frequent candidate CMO configurations of each site, one quote per part."""
    from qualcode.analysis.matrix import cmo_configurations

    require_codings(d)
    o = d.options
    frame = cmo_configurations(d.codings, d.segments, d.info, by="site", top=o.cmo_top, quotes=1,
                               max_chars=o.max_chars, documents=d.documents)
    if frame.empty:
        raise NotIncluded("no interview holds a context, a mechanism and an outcome code together")
    quotes = ["Context quote", "Mechanism quote", "Outcome quote"]
    return Section("cmo", "CMO configurations",
                   f"The {o.cmo_top} candidate context-mechanism-outcome configurations found in most interviews at "
                   "each site: a context, a mechanism and an outcome code coded in the same interview, with the best "
                   "quote for each part. A heuristic aid, not a finding: nothing says the context triggered the "
                   "mechanism. `qualcode configurations` lists them all.",
                   [Table(headers(frame), formats={"Interviews": "int"}, wrap=quotes, key_columns=1)])


def integration_section(d: Inputs, cache: dict[str, "pd.DataFrame"]) -> Section:
    """Integration evidence and derived rating per site beside the entered rating, rows
    where they differ flagged."""
    import pandas as pd

    from qualcode.analysis.rating import DIRECTIONS, PILLAR, compare_ratings, integration_evidence

    require_codings(d)
    if not ((d.info["top"] == PILLAR) & d.info["direction"].isin(DIRECTIONS)).any():
        raise NotIncluded(f"the codebook has no {PILLAR!r} codes marked enabling or hindering")
    evidence = integration_evidence(d.codings, d.segments, d.info, quotes=min(d.options.quotes, 2),
                                    max_chars=d.options.max_chars)
    cache["evidence"] = evidence
    notes = []
    if "integration_rating" in d.site_outcomes.columns and "site" in d.site_outcomes.columns:
        table = compare_ratings(evidence, d.site_outcomes)
        flagged = table["differs"].fillna(False).astype(bool).tolist()
        table["differs"] = table["differs"].map(lambda v: "" if v is pd.NA else ("yes" if v else "no"))
        n = sum(flagged)
        notes.append(f"{n} site{'s' if n != 1 else ''} where the entered rating differs from the evidence "
                     "(highlighted)." if n else "The entered ratings agree with the evidence where both exist.")
        first = ["site", "entered_rating", "rating", "differs"]
    else:
        table, flagged = evidence, None
        notes.append("No entered ratings: import site outcomes with an integration_rating column to compare.")
        first = ["site", "rating"]
    table = table[first + [c for c in table.columns if c not in first and c != "evidence"]]  # evidence = sum
    names = {"rating": "Evidence rating", "entered_rating": "Entered rating", "differs": "Differs"}
    return Section("integration", "Integration evidence",
                   "Enabling and hindering integration codings per site, the rating they suggest "
                   "(balance = (enabling - hindering) / all; at least 3 codings; below 0 low, from 0.5 high) "
                   "beside the rating the evaluator entered. The derived rating prompts judgement, it does not "
                   "replace it.",
                   [Table(headers(table, names), formats={"Balance": "2dp"}, flagged=flagged, key_columns=1,
                          wrap=["Enabling quotes", "Hindering quotes"])], notes=notes)


# --- the whole report -----------------------------------------------------------------------------
def build_report(store: Store, options: ReportOptions | None = None) -> Report:
    """Every section whose data exist, in reading order, and the About section first."""
    from qualcode.report import about, outcomes_sections

    options = options or ReportOptions()
    d = read_inputs(store, options)
    outcomes_sections.check_options(d)
    cache: dict[str, "pd.DataFrame"] = {}
    builders: list[tuple[str, Callable[[], Section]]] = [
        ("Codebook", lambda: codebook_section(d)),
        ("Coded segments", lambda: segments_section(d)),
        ("Theme by site", lambda: theme_section(d, "site", cache)),
        ("Theme by role", lambda: theme_section(d, "role", cache)),
        ("Framework matrix", lambda: framework_section(d)),
        ("Co-occurrence", lambda: cooccurrence_section(d)),
        ("CMO configurations", lambda: cmo_section(d)),
        ("Integration evidence", lambda: integration_section(d, cache)),
        ("Agreement", lambda: outcomes_sections.agreement_section(d)),
        ("Outcome linkage", lambda: outcomes_sections.linkage_section(d, cache)),
        ("Model", lambda: outcomes_sections.model_section(d)),
        ("Client groups", lambda: outcomes_sections.groups_section(d)),
    ]
    sections: list[Section] = []
    omitted: list[tuple[str, str]] = []
    for title, build in builders:
        try:
            sections.append(build())
        except NotIncluded as missing:
            omitted.append((title, str(missing)))
    created = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    project = about.project_name(store)
    sections.insert(0, about.about_section(d, project, created, sections, omitted))
    return Report(project, created, sections, omitted)
