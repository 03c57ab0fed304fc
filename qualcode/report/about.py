"""The About section: what the report covers, a table of contents, what was left out and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qualcode.report.model import Section, Table
from qualcode.store.repo import Store

if TYPE_CHECKING:
    from qualcode.report.build import Inputs


def project_name(store: Store) -> str:
    """The project's file name (not its folder, which may name a person), or its URL
    without the password."""
    from pathlib import Path

    url = store.display_url
    return url if "://" in url else Path(url).name


def _first_sentence(text: str) -> str:
    """The text up to its first full stop (the contents line of a section)."""
    cut = text.find(". ")
    return text if cut < 0 else text[: cut + 1]


def about_section(d: "Inputs", project: str, created: str, sections: list[Section],
                  omitted: list[tuple[str, str]]) -> Section:
    """Project facts, contents (linked to each section) and the sections not included."""
    import pandas as pd

    from qualcode.report.build import STATUS_WORDS

    o = d.options
    docs = d.documents
    sites = sorted({str(s) for s in docs["site"].dropna()}) if "site" in docs.columns else []
    c = d.codings
    people = sorted(set(c["decided_by"].where(c["decided_by"].notna(), c["coder"]).dropna()))
    facts = [
        ("Project", project),
        ("Report created", created),
        ("Codings counted", STATUS_WORDS[o.status]),
        ("Codebook", f"{d.codebook.name}, project codebook version {d.store.codebook_version()}, "
                     f"{len(d.codebook.codes)} codes"),
        ("Interviews", str(len(docs))),
        ("Sites", f"{len(sites)}: {', '.join(sites)}" if sites else "none recorded"),
        ("Segments eligible for coding", str(0 if d.segments is None else len(d.segments))),
        ("Codings", str(len(c))),
        ("Coded segments", str(c["segment_id"].nunique())),
        ("Coders whose codings count", ", ".join(people) or "none"),
        ("Site outcomes", f"{len(d.site_outcomes)} rows" if len(d.site_outcomes) else "none imported"),
        ("Client outcomes", f"{len(d.client_outcomes)} clients" if len(d.client_outcomes) else "none imported"),
        ("Quotes per cell", f"up to {o.quotes}, cut at {o.max_chars} characters"),
        ("Anonymity", "quotes and segments are attributed by speaker role and site, never by name"),
    ]
    contents = pd.DataFrame({"Section": [s.title for s in sections],
                             "What it shows": [_first_sentence(s.intro) for s in sections]})
    tables = [
        Table(pd.DataFrame(facts, columns=["Item", "Value"]), title="Project", wrap=["Value"]),
        Table(contents, title="Contents", wrap=["What it shows"], links=dict(enumerate(s.key for s in sections))),
    ]
    if omitted:
        tables.append(Table(pd.DataFrame([(t, f"not included: {r}") for t, r in omitted],
                                         columns=["Section", "Why"]), title="Not included", wrap=["Why"]))
    intro = (f"qualcode report on {project}, made {created}: coded interview themes set beside the "
             "services' numbers. Each section below is one sheet of the workbook.")
    return Section("about", "About", intro, tables)
