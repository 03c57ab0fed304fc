"""Outcome commands end to end on a real project: import checks, model, client groups."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from qualcode.cli import main
from qualcode.store.outcomes import outcomes_frame
from qualcode.store.repo import Store

REPO = Path(__file__).parent.parent


def _run(project: Path, *args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["--project", str(project), *args])


def test_site_import_refuses_bad_rows_and_keeps_the_old_table(project_file: Path, tmp_path: Path) -> None:
    good = REPO / "transcripts_example" / "outcomes_sites.csv"
    assert _run(project_file, "outcomes", "import", str(good), "--level", "site").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("site,referrals,job_starts\nA,10,2\nB,lots,3\n", encoding="utf-8")
    result = _run(project_file, "outcomes", "import", str(bad), "--level", "site")
    assert result.exit_code == 1 and "bad.csv, row 3" in result.output
    dup = tmp_path / "dup.csv"
    dup.write_text("site,referrals,job_starts\nA,10,2\nA,11,3\n", encoding="utf-8")
    assert _run(project_file, "outcomes", "import", str(dup), "--level", "site").exit_code == 1
    with Store.open(project_file) as store:
        frame = outcomes_frame(store, "site")
    assert len(frame) == 6
    assert abs(frame.set_index("site").loc["Northamptonshire", "job_entry_rate"] - 0.19) < 1e-9


def test_model_and_clusters_on_the_example_clients(project_file: Path, tmp_path: Path) -> None:
    clients = REPO / "transcripts_example" / "outcomes_clients.csv"
    assert _run(project_file, "outcomes", "import", str(clients), "--level", "client").exit_code == 0
    out, plot = tmp_path / "odds.csv", tmp_path / "forest.png"
    result = _run(project_file, "model", "--outcome", "job_start", "--factors", "referral_source,meetings_band",
                  "--reference", "meetings_band=1-4", "--out", str(out), "--plot", str(plot))
    assert result.exit_code == 0, result.output
    rows = {(r["factor"], r["level"]): r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert list(next(iter(rows.values()))) == ["factor", "level", "odds_ratio", "ci_low", "ci_high", "p_value", "n"]
    # the synthetic data were drawn with odds ratios rising with meetings: the model must see that
    assert float(rows[("meetings_band", "13+")]["odds_ratio"]) > float(rows[("meetings_band", "5-8")]["odds_ratio"]) > 1
    assert plot.stat().st_size > 1000
    result = _run(project_file, "clusters", "--measures", "wemwbs,confidence", "--k", "3")
    assert result.exit_code == 0, result.output
    assert "left out for missing scores" in result.output and "of concern" in result.output


def test_model_without_client_outcomes_says_what_to_do(project_file: Path) -> None:
    result = _run(project_file, "model", "--outcome", "job_start", "--factors", "site")
    assert result.exit_code == 1 and "outcomes import" in result.output
