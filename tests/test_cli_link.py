"""`qualcode link` on a real project: joint display, honest caveat, chart."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from qualcode.cli import main

REPO = Path(__file__).parent.parent
EX = REPO / "transcripts_example"


def _project(project: Path):  # noqa: ANN202
    """A runner for commands on ``project``, after init and ingest of the example corpus."""

    def run(*args: str):  # noqa: ANN202
        result = CliRunner().invoke(main, ["--project", str(project), *args])
        assert result.exit_code == 0, result.output
        return result

    run("init")
    run("ingest", str(EX), "--manifest", str(EX / "manifest.csv"), "--roles", str(EX / "roles.yaml"))
    return run


def test_link_integration_to_job_entry_on_the_example_corpus(tmp_path: Path) -> None:
    project = tmp_path / "p.db"
    run = _project(project)
    run("import", "codings", str(EX / "codings_dev_coder_a.csv"))
    run("import", "codings", str(EX / "codings_heldout_gold.csv"))
    run("outcomes", "import", str(EX / "outcomes_sites.csv"), "--level", "site")
    chart, out = tmp_path / "link.png", tmp_path / "link.xlsx"
    result = run("link", "--theme", "integration", "--outcome", "job_entry_rate", "--chart", str(chart), "--out", str(out))
    assert "n = 6 sites" in result.output and "Caveat: Only 6 sites" in result.output
    assert chart.stat().st_size > 5000
    import openpyxl

    wb = openpyxl.load_workbook(out)
    header = [c.value for c in wb["joint_display"][1]]
    assert header[:3] == ["site", "integration_rating", "evidence_rating"]
    sites = [row[0].value for row in wb["joint_display"].iter_rows(min_row=2)]
    assert sites[0] == "Northamptonshire" and len(sites) == 6
    bad = CliRunner().invoke(main, ["--project", str(project), "link", "--theme", "nope", "--outcome", "job_entry_rate"])
    assert bad.exit_code == 1 and "unknown theme" in bad.output


def test_link_and_report_when_some_sites_are_not_coded_yet(tmp_path: Path) -> None:
    """Sites nobody has coded get 'insufficient evidence', not a crash."""
    project = tmp_path / "p.db"
    run = _project(project)
    run("import", "codings", str(EX / "codings_dev_coder_a.csv"))  # four of the six sites
    run("outcomes", "import", str(EX / "outcomes_sites.csv"), "--level", "site")
    out = tmp_path / "link.csv"
    result = run("link", "--theme", "integration", "--outcome", "job_entry_rate", "--out", str(out))
    assert "n = 6 sites" in result.output
    import pandas as pd

    display = pd.read_csv(out).set_index("site")
    assert display.loc["Lincolnshire", "evidence_rating"] == "insufficient evidence"
    assert display.loc["Northamptonshire", "evidence_rating"] in ("low", "medium", "high")
    run("report", "--out", str(tmp_path / "report.html"))
    assert "insufficient evidence" in (tmp_path / "report.html").read_text(encoding="utf-8")
