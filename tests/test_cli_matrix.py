"""The matrix and configurations commands end to end on a small project whose caption
file names its speaker ("Luke"): counts, shares, attributes, quotes, files written, and no
name anywhere in the outputs."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qualcode.cli import main
from qualcode.coding.base import Suggestion
from qualcode.store.codings import Decision, apply_decisions, store_suggestions
from qualcode.store.repo import Store
from qualcode.workflows.matrix import project_integration_evidence, project_matrix

NAME = "Luke"


def _run(project: Path, *args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["--project", str(project), *args])


@pytest.fixture
def project(project_file: Path, tmp_path: Path) -> Path:
    """Berkshire: an ES caption file (speaker Luke) and a client; Bradford: a nurse and an
    uncoded client interview. Codings by alice and bob, imported by quote."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "berks_es.vtt").write_text(
        "WEBVTT\n\n"
        "1\n00:00:01.000 --> 00:00:03.000\n<v Interviewer>How do you work with the team?</v>\n\n"
        f"2\n00:00:03.500 --> 00:00:08.000\n<v {NAME}>I sit with the team three days a week in the hub.</v>\n\n"
        "3\n00:00:08.500 --> 00:00:10.000\n<v Interviewer>Any problems?</v>\n\n"
        f"4\n00:00:10.500 --> 00:00:14.000\n<v {NAME}>Sometimes I am not invited to the meetings.</v>\n",
        encoding="utf-8",
    )
    (folder / "berks_client.txt").write_text(
        "Interviewer: What happened?\nService user: I got a job at the bakery last week.\n", encoding="utf-8")
    (folder / "brad_nurse.txt").write_text(
        "Interviewer: Where is the worker based?\nCare co-ordinator: She is on site every day with us.\n"
        "Interviewer: Anything else?\nCare co-ordinator: Referrals are slow to come.\n", encoding="utf-8")
    (folder / "brad_client.txt").write_text(
        "Interviewer: How was it?\nService user: The support was fine.\n", encoding="utf-8")
    (folder / "manifest.csv").write_text(
        "file,site,wave,participant,interview_mode\n"
        "berks_es.vtt,Berkshire,1,BER-01,teams\n"
        "berks_client.txt,Berkshire,1,BER-02,zoom\n"
        "brad_nurse.txt,Bradford,1,BRA-01,teams\n"
        "brad_client.txt,Bradford,2,BRA-02,phone\n",
        encoding="utf-8",
    )
    (folder / "roles.yaml").write_text(f"documents:\n  berks_es.vtt:\n    {NAME}: es\n", encoding="utf-8")
    result = _run(project_file, "ingest", str(folder), "--manifest", str(folder / "manifest.csv"),
                  "--roles", str(folder / "roles.yaml"))
    assert result.exit_code == 0, result.output
    codings = tmp_path / "codings.csv"
    codings.write_text(
        "document,quote,code,coder\n"
        "berks_es.vtt,three days a week,co_location,alice\n"
        "berks_es.vtt,not invited,team_exclusion,alice\n"
        "berks_client.txt,got a job,job_start,alice\n"
        "brad_nurse.txt,on site every day,co_location,alice\n"
        "brad_nurse.txt,on site every day,co_location,bob\n",
        encoding="utf-8",
    )
    result = _run(project_file, "import", "codings", str(codings))
    assert result.exit_code == 0, result.output
    return project_file


def test_the_raw_label_is_a_name_in_the_store(project: Path) -> None:
    """The privacy checks below mean something: the project does hold the name as a label."""
    result = _run(project, "roles")
    assert NAME in result.output


def test_share_matrix_printed_and_written_to_xlsx(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "share.xlsx"
    result = _run(project, "matrix", "--cols", "site", "--measure", "share", "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines() if line.strip()}
    # each site has two interviews, one mentioning integration (brad_client is uncoded)
    assert lines["integration"][-3:] == ["50%", "50%", "50%"]
    assert lines["outcomes"][-3:] == ["50%", "0%", "25%"]
    assert "documents per column: Berkshire 2, Bradford 2, Total 4" in result.output
    wb = load_workbook(out)
    ws = wb["matrix"]
    assert [c.value for c in ws[1]] == ["code", "name", "Berkshire", "Bradford", "Total"]
    assert ws.freeze_panes == "C2"
    assert ws["A2"].value == "integration" and ws["B2"].value == "Integration"
    assert ws["C2"].value == pytest.approx(0.5) and ws["C2"].number_format == "0%"
    assert ws["E3"].value == pytest.approx(0.25)
    assert [str(r.sqref) for r in ws.conditional_formatting] == ["C2:D3"]  # sites only, not Total
    assert {"documents", "about"} <= set(wb.sheetnames)


def test_counts_by_attribute_and_role_to_csv(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "modes.csv"
    result = _run(project, "matrix", "--cols", "interview_mode", "--measure", "documents", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert list(rows["integration"]) == ["code", "name", "phone", "teams", "zoom", "Total"]
    assert {k: rows["integration"][k] for k in ("phone", "teams", "zoom", "Total")} == {
        "phone": "0", "teams": "2", "zoom": "0", "Total": "2"}
    assert rows["outcomes"]["zoom"] == "1"
    out = tmp_path / "roles.csv"
    result = _run(project, "matrix", "--cols", "role", "--measure", "segments", "--level", "all", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    # alice and bob both coded the nurse's turn: one segment
    assert {k: rows["co_location"][k] for k in ("IPS ES", "Clinical staff", "Total")} == {
        "IPS ES": "1", "Clinical staff": "1", "Total": "2"}
    assert rows["integration"]["Total"] == "3" and rows["co_location"]["name"] == "  Co-location"


def test_framework_quotes_are_attributed_by_role_and_site_never_by_name(project: Path, tmp_path: Path) -> None:
    outputs = []
    for suffix in ("xlsx", "csv"):
        out = tmp_path / f"framework.{suffix}"
        result = _run(project, "matrix", "--cols", "site", "--quotes", "2", "--level", "all", "--out", str(out))
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert '"I sit with the team three days a week in the hub." (IPS ES, Berkshire)' in outputs[0]
    wb = load_workbook(tmp_path / "framework.xlsx")
    ws = wb["matrix"]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    header = [c.value for c in ws[1]]
    berks = ws.cell(row=2, column=header.index("Berkshire") + 1)
    assert berks.value.split("\n\n") == [
        '"I sit with the team three days a week in the hub." (IPS ES, Berkshire)',
        '"Sometimes I am not invited to the meetings." (IPS ES, Berkshire)',
    ]
    assert berks.alignment.wrap_text and ws.freeze_panes == "C2"
    cmo = tmp_path / "cmo.csv"
    result = _run(project, "configurations", "--out", str(cmo))
    assert result.exit_code == 0, result.output
    outputs.append(result.output)
    texts = [*outputs, (tmp_path / "framework.csv").read_text(encoding="utf-8"), cmo.read_text(encoding="utf-8"),
             *cells]
    assert not [t for t in texts if NAME.lower() in t.lower()]


def test_configurations_found_within_an_interview(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmo.xlsx"
    result = _run(project, "configurations", "--by", "site", "--out", str(out))
    assert result.exit_code == 0, result.output
    # only berks_es has a context (co_location) and a mechanism (team_exclusion), but no outcome
    assert "no interview holds" in result.output
    with Store.open(project) as store:
        seg = next(s for s in store.segment_rows() if s["document"] == "berks_es.vtt")
        apply_decisions(store, [Decision("add", "alice", segment_id=seg["segment_id"], code="job_start")])
    result = _run(project, "configurations", "--out", str(out))
    assert "Berkshire: 1 configuration" in result.output
    assert "co_location + team_exclusion -> job_start (1 interview)" in result.output
    ws = load_workbook(out)["configurations"]
    assert [c.value for c in ws[1]][:5] == ["site", "context", "mechanism", "outcome", "interviews"]
    assert ws["E2"].value == 1 and ws["F2"].value.endswith("(IPS ES, Berkshire)")


def test_cooccurrence_with_a_window(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "co.csv"
    result = _run(project, "matrix", "--cooccurrence", "--level", "all", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["co_location"]["team_exclusion"] == "0"  # different turns
    assert rows["integration"]["integration"] == "3"
    result = _run(project, "matrix", "--cooccurrence", "--level", "all", "--window", "1", "--out", str(out))
    rows = {r["code"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    # Luke's two turns are neighbours once the interviewer's question is set aside
    assert rows["co_location"]["team_exclusion"] == "2"


def test_suggestions_count_only_when_asked(project: Path) -> None:
    with Store.open(project) as store:
        seg = next(s for s in store.segment_rows() if s["document"] == "brad_client.txt")
        store_suggestions(store, [Suggestion(seg["segment_id"], "job_start", "rule", 0.8, {"rule": "r"})], "rule")
        outcomes = {s: project_matrix(store, measure="documents", status=s).set_index("code").loc["outcomes"]
                    for s in ("accepted", "suggested", "all")}
    assert (outcomes["accepted"]["Bradford"], outcomes["suggested"]["Bradford"], outcomes["all"]["Bradford"]) == (0, 1, 1)
    assert (outcomes["accepted"]["Total"], outcomes["suggested"]["Total"], outcomes["all"]["Total"]) == (1, 1, 2)


def test_integration_evidence_beside_entered_ratings(project: Path, tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("site,referrals,job_starts,integration_rating\nBerkshire,10,3,high\nBradford,8,2,low\n",
                     encoding="utf-8")
    assert _run(project, "outcomes", "import", str(sites), "--level", "site").exit_code == 0
    with Store.open(project) as store:
        stored = project_integration_evidence(store).set_index("site")
        given = project_integration_evidence(
            store, pd.DataFrame({"site": ["Berkshire"], "integration_rating": ["medium"]})).set_index("site")
    assert stored.loc["Berkshire", ["enabling", "hindering", "evidence"]].tolist() == [1, 1, 2]
    assert stored.loc["Bradford", ["enabling", "hindering"]].tolist() == [1, 0]
    assert stored["entered_rating"].tolist() == ["high", "low"]
    assert stored["differs"].isna().all()  # too little evidence to disagree with anyone
    assert given.loc["Berkshire", "entered_rating"] == "medium"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quotes", "2", "--cooccurrence"], "not both"),
        (["--window", "2"], "--cooccurrence only"),
        (["--cols", "team"], "no column 'team'"),
        (["--quotes", "2", "--measure", "share"], "--measure applies"),
        (["--out", "matrix.txt"], ".csv or .xlsx"),
    ],
)
def test_matrix_errors_are_one_line(project: Path, tmp_path: Path, args: list[str], message: str) -> None:
    fixed = [str(tmp_path / a) if a.endswith(".txt") else a for a in args]
    result = _run(project, "matrix", *fixed)
    assert result.exit_code == 1 and message in result.output


def test_help_has_examples() -> None:
    for command in ("matrix", "configurations"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
