"""`qualcode report` on real projects: the example corpus (every section) and a small project
with a planted script and a speaker's name (escaping, anonymity, sections left out)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from qualcode.cli import main
from qualcode.errors import QualcodeError

REPO = Path(__file__).parent.parent
EX = REPO / "transcripts_example"
SHEETS = ["About", "Codebook", "Coded segments", "Theme by site", "Theme by role", "Framework matrix",
          "Co-occurrence", "CMO configurations", "Integration evidence", "Agreement", "Outcome linkage", "Model",
          "Client groups"]
#: Speakers named in the example captions (roles.yaml maps them to roles per document).
CAPTION_NAMES = ("Daniel", "Priya", "Mark", "Aisha", "Tom", "Grace")
HEADER_ROW = 4


def _runner(project: Path):  # noqa: ANN202
    def run(*args: str, ok: bool = True):  # noqa: ANN202
        result = CliRunner().invoke(main, ["--project", str(project), *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result
    return run


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example corpus with three human coders, rule suggestions and both outcome tables,
    and its report written as .xlsx and .html."""
    folder = tmp_path_factory.mktemp("report")
    run = _runner(folder / "p.db")
    run("init")
    run("ingest", str(EX), "--manifest", str(EX / "manifest.csv"), "--roles", str(EX / "roles.yaml"))
    for name in ("codings_dev_coder_a.csv", "codings_dev_coder_b.csv", "codings_heldout_gold.csv"):
        run("import", "codings", str(EX / name))
    run("outcomes", "import", str(EX / "outcomes_sites.csv"), "--level", "site")
    run("outcomes", "import", str(EX / "outcomes_clients.csv"), "--level", "client")
    run("suggest", "--method", "rules")
    out = {"project": folder / "p.db", "run": run, "xlsx": folder / "report.xlsx", "html": folder / "report.html"}
    out["xlsx_output"] = run("report", "--out", str(out["xlsx"])).output
    out["html_output"] = run("report", "--out", str(out["html"])).output
    return out


def _cells(ws) -> list[str]:  # noqa: ANN001
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def _column(ws, header: str) -> list:  # noqa: ANN001
    """The cells of the first table's column ``header`` (down to the first empty row)."""
    names = [c.value for c in ws[HEADER_ROW]]
    j = names.index(header)
    out = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        if all(c.value is None for c in row):
            break
        out.append(row[j])
    return out


def test_workbook_has_every_section_formatted(example: dict) -> None:
    assert f"wrote {example['xlsx']}" in example["xlsx_output"]
    assert "sections: " + ", ".join(SHEETS) in example["xlsx_output"]
    wb = openpyxl.load_workbook(example["xlsx"])
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert ws.freeze_panes and ws.freeze_panes.endswith(str(HEADER_ROW + 1)), ws.title
        assert ws.auto_filter.ref.startswith(f"A{HEADER_ROW}:"), ws.title
        assert ws[f"A{HEADER_ROW}"].font.b, ws.title

    about = wb["About"]
    links = {c.value: c.hyperlink.location for c in about["A"] if c.hyperlink is not None}
    assert links["Model"] == "'Model'!A1" and set(links) == set(SHEETS[1:])
    assert "Not included" not in _cells(about)

    by_site = wb["Theme by site"]
    assert by_site.freeze_panes == f"C{HEADER_ROW + 1}"  # code and name stay in view
    header = [c.value for c in by_site[HEADER_ROW]]
    assert header[:4] == ["Code", "Name", "Berkshire n", "Berkshire %"] and header[-1] == "Total %"
    rules = [(str(cf.sqref), rule.type) for cf in by_site.conditional_formatting for rule in cf.rules]
    assert len(rules) == 1 and rules[0][1] == "colorScale" and "D5:D" in rules[0][0] and "C5" not in rules[0][0]
    share = _column(by_site, "Berkshire %")
    assert all(c.number_format == "0%" for c in share)
    # the share is of Berkshire's interviews that mention the theme
    n_docs = sum(1 for line in (EX / "manifest.csv").read_text().splitlines() if ",Berkshire," in line)
    count = _column(by_site, "Berkshire n")
    assert 0 < share[0].value <= 1 and share[0].value == pytest.approx(count[0].value / n_docs)
    names = _column(by_site, "Name")
    assert names[0].alignment.indent == 0 and names[1].alignment.indent > 0  # sub-codes indented

    cooc = wb["Co-occurrence"]
    (cf,) = list(cooc.conditional_formatting)
    assert "C5" not in str(cf.sqref).split() and "D5" in str(cf.sqref).split()  # the diagonal is left out
    assert cooc["C5"].font.b

    model = wb["Model"]
    assert [c.number_format for c in _column(model, "Odds ratio")][:2] == ["0.00", "0.00"]
    assert {c.number_format for c in _column(model, "p")} == {"0.000"}
    (image,) = model._images
    assert image.anchor._from.col >= len([c for c in model[HEADER_ROW] if c.value])  # beside the table
    for title in ("Outcome linkage", "Client groups"):
        assert len(wb[title]._images) == 1, title
    assert any("Caveat: Only 6 sites" in v for v in _cells(wb["Outcome linkage"]))
    assert any(v.startswith("Spearman's rho (integration_rating vs job_entry_rate) = ") for v in
               _cells(wb["Outcome linkage"]))

    segments = wb["Coded segments"]
    header = [c.value for c in segments[HEADER_ROW] if c.value is not None]
    assert header == ["Document", "Site", "Role", "Code path", "Coder", "Source", "Text"]
    assert {c.value for c in _column(segments, "Role")} <= {"IPS ES", "IPS team manager", "Clinical staff",
                                                             "IPS client", "Commissioner", "Employer", "Stakeholder"}
    assert all(c.alignment.wrap_text for c in _column(segments, "Text")[:50])

    integration = wb["Integration evidence"]
    differs = _column(integration, "Differs")
    flagged = [c for c in differs if c.value == "yes"]
    assert flagged and all(c.fill.fgColor.rgb.endswith("FFE699") for c in flagged)
    assert all(c.fill.fill_type is None for c in differs if c.value == "no")

    agreement = _cells(wb["Agreement"])
    assert "Machine suggestions against each human coder" in agreement
    assert {"rules vs coder_a", "rules vs coder_b", "rules vs gold"} <= set(agreement)
    assert {"Kappa 95% from", "Kappa 95% to"} <= set(agreement)  # bootstrap intervals beside each kappa
    # and each comparison says what was resampled: gold covers 7 interviews, coder_b only 4
    assert any(v.startswith("rules vs gold: kappa 95% intervals: 1,000 resamples of the 7 interviews")
               for v in agreement)
    assert any(v.startswith("rules vs coder_b:") and "so segments were resampled" in v for v in agreement)


def test_no_speaker_name_reaches_either_format(example: dict) -> None:
    html = example["html"].read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(example["xlsx"])
    text = "\n".join(v for ws in wb.worksheets for v in _cells(ws))
    for name in CAPTION_NAMES:
        assert not re.search(rf"\b{name}\b", html), name
        assert not re.search(rf"\b{name}\b", text), name


class _Page(HTMLParser):
    """Every tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_page_is_self_contained(example: dict) -> None:
    html = example["html"].read_text(encoding="utf-8")
    page = _parse(html)
    refs = [v for _, attrs in page.tags for k, v in attrs.items() if k in ("src", "href", "action") and v]
    assert refs and not [r for r in refs if not (r.startswith("#") or r.startswith("data:image/png;base64,"))]
    assert "url(" not in html and "@import" not in html and not re.search(r"https?://", html)
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,iVBOR") for src in images)
    ids = {attrs["id"] for _, attrs in page.tags if "id" in attrs}
    toc = [attrs["href"][1:] for tag, attrs in page.tags if tag == "a" and attrs.get("href", "").startswith("#")]
    assert {"about", "framework", "linkage", "model", "groups"} <= ids and set(toc) <= ids
    coloured = [a["style"] for tag, a in page.tags if tag == "td" and "background" in (a.get("style") or "")]
    assert len(coloured) > 100  # matrix cells on the colour scale
    assert "Caveat: Only 6 sites" in html


@pytest.fixture
def planted(tmp_path: Path, tiny_codebook_path: Path) -> Path:
    """A small project whose transcript carries a <script> and a speaker's full name."""
    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "site_a_client.txt").write_text(
        "Interviewer: How did the team help?\n"
        "Zebedee Quinlan: The ES sits in the same office, <script>alert('x')</script> & it helps.\n"
        "Interviewer: Anything else?\n"
        "Zebedee Quinlan: I felt like an outsider at first, not invited to anything.\n",
        encoding="utf-8")
    (folder / "manifest.csv").write_text("file,site\nsite_a_client.txt,Site A\n", encoding="utf-8")
    roles = tmp_path / "roles.yaml"
    roles.write_text("documents:\n  site_a_client.txt:\n    Zebedee Quinlan: client\n", encoding="utf-8")
    codings = tmp_path / "codings.csv"
    codings.write_text("document,quote,code,coder\n"
                       "site_a_client.txt,same office,co_location,alice\n"
                       "site_a_client.txt,outsider,team_exclusion,alice\n", encoding="utf-8")
    project = tmp_path / "small.db"
    run = _runner(project)
    run("init", "--codebook", str(tiny_codebook_path))
    run("ingest", str(folder), "--manifest", str(folder / "manifest.csv"), "--roles", str(roles))
    run("import", "codings", str(codings))
    return project


def test_planted_script_is_escaped_and_missing_sections_are_listed(planted: Path, tmp_path: Path) -> None:
    run = _runner(planted)
    out = tmp_path / "small.html"
    result = run("report", "--out", str(out))
    assert "not included: Model (no client outcomes imported)" in result.output
    html = out.read_text(encoding="utf-8")
    page = _parse(html)
    assert len(page.scripts) == 1 and "alert" not in page.scripts[0]  # only the table-sorting script
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; it helps" in html
    assert "Zebedee" not in html and "Quinlan" not in html
    assert "not included: no client outcomes imported" in html
    assert "Agreement: only one human coder (alice) and no machine suggestions to compare" in html

    book = tmp_path / "small.xlsx"
    run("report", "--out", str(book))
    wb = openpyxl.load_workbook(book)
    assert "Model" not in wb.sheetnames and "Coded segments" in wb.sheetnames
    about = _cells(wb["About"])
    assert "not included: no client outcomes imported" in about and "not included: no site outcomes imported" in about
    texts = [c.value for c in _column(wb["Coded segments"], "Text")]
    assert any("<script>alert('x')</script>" in t for t in texts)  # kept as text in the workbook
    assert not any("Zebedee" in v for ws in wb.worksheets for v in _cells(ws))


def test_explicit_options_that_name_nothing_fail(example: dict, tmp_path: Path) -> None:
    run = example["run"]
    out = str(tmp_path / "r.xlsx")
    for args, message in ((["--theme", "nope"], "unknown theme 'nope'"),
                          (["--model-factors", "site,shoe_size"], "no column 'shoe_size'"),
                          (["--cluster-measures", "height"], "no height_base"),
                          (["--coders", "coder_a"], "at least two coders")):
        result = run("report", "--out", out, *args, ok=False)
        assert result.exit_code == 1 and message in result.output, result.output
    assert not Path(out).exists()
    bad = run("report", "--out", str(tmp_path / "r.pdf"), ok=False)
    assert bad.exit_code == 1 and ".xlsx or .html" in bad.output


def test_options_choose_what_is_shown(example: dict, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    example["run"]("report", "--out", str(out), "--coders", "coder_a,coder_b", "--quotes", "1",
                   "--model-factors", "meetings_band", "--cluster-measures", "wemwbs")
    wb = openpyxl.load_workbook(out)
    assert "Agreement between coder_a, coder_b (per theme)" in _cells(wb["Agreement"])
    assert {c.value for c in _column(wb["Model"], "Factor")} == {"meetings_band"}
    assert [c.value for c in wb["Client groups"][HEADER_ROW]][4] == "Mean change in wemwbs"
    framework = _column(wb["Framework matrix"], "Berkshire")
    assert all("\n\n" not in (c.value or "") for c in framework)  # one quote per cell


def test_report_quotes_and_configurations_come_from_the_library(example: dict) -> None:
    """The report's framework matrix and top CMO configurations are those of
    :mod:`qualcode.analysis.matrix` (its per-site head of the full listing)."""
    from qualcode.analysis.matrix import TOTAL, cmo_configurations, framework_matrix
    from qualcode.report.build import build_report, read_inputs
    from qualcode.report.model import ReportOptions
    from qualcode.store.repo import Store

    with Store.open(example["project"]) as store:
        d = read_inputs(store, ReportOptions(status="all", quotes=2))
        report = build_report(store, ReportOptions(status="all", quotes=2))
    sections = {s.key: s for s in report.sections}
    shown = sections["framework"].tables[0].frame
    ref = framework_matrix(d.codings, d.segments, d.parent_of, cols="site", level="all", quotes=2,
                           max_chars=d.options.max_chars, code_order=list(d.info["code"]), documents=d.documents)
    ref = ref.set_index("code").loc[list(shown["Code"])].drop(columns=TOTAL)
    assert (ref.to_numpy() == shown.drop(columns=["Code", "Name"]).to_numpy()).all()
    assert (ref != "").sum().sum() > 20
    top = d.options.cmo_top
    full = cmo_configurations(d.codings, d.segments, d.info, quotes=1, max_chars=d.options.max_chars,
                              documents=d.documents)
    head = full.groupby("site", sort=False).head(top).reset_index(drop=True)
    cmo = sections["cmo"].tables[0].frame
    assert len(cmo) == len(head) and len(full) > len(head)
    assert (cmo.to_numpy() == head.to_numpy()).all()
    assert list(cmo.columns) == ["Site", "Context", "Mechanism", "Outcome", "Interviews", "Context quote",
                                 "Mechanism quote", "Outcome quote"]


def test_linkage_matches_the_link_command(example: dict) -> None:
    from qualcode.report.build import build_report
    from qualcode.store.repo import Store
    from qualcode.workflows.link import link_theme

    with Store.open(example["project"]) as store:
        report = build_report(store)
        expected = link_theme(store, "integration", "job_entry_rate").display
    (section,) = [s for s in report.sections if s.key == "linkage"]
    shown = section.tables[0].frame
    assert list(shown["Site"]) == list(expected["site"])
    assert list(shown["Job entry rate"]) == list(expected["job_entry_rate"])
    assert list(shown["Integration interviews"]) == list(expected["integration_interviews"])


def test_workbook_takes_any_text(tmp_path: Path) -> None:
    """Text Excel cannot hold (control characters, formulas, over 32,767 characters) is
    written as safe text, and a failed write leaves nothing behind."""
    from qualcode.report.model import Report, Section, Table
    from qualcode.report.xlsx import write_xlsx

    frame = pd.DataFrame({"Text": ["bell\x07 here", "=HYPERLINK(\"x\")", "y" * 40_000], "n": [1, 2, 3]})
    report = Report("p.db", "today", [Section("about", "About", "intro", [Table(frame, wrap=["Text"])])], [])
    out = write_xlsx(report, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(out)["About"]
    texts = [c.value for c in _column(ws, "Text")]
    assert texts[0] == "bell here" and texts[1] == '=HYPERLINK("x")' and len(texts[2]) < 32_767
    assert _column(ws, "Text")[1].data_type == "s"
    with pytest.raises(QualcodeError):
        write_xlsx(report, tmp_path / "no such folder" / "r.xlsx")
