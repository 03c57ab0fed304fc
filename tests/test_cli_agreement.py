"""`qualcode agreement` on the example corpus, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qualcode.cli import main

EX = Path(__file__).parent.parent / "transcripts_example"


def _run(project: Path, *args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["--project", str(project), *args])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example corpus with both development coders' codings imported."""
    db = tmp_path_factory.mktemp("agreement") / "p.db"
    for args in (["init"], ["ingest", str(EX), "--manifest", str(EX / "manifest.csv"),
                            "--roles", str(EX / "roles.yaml")],
                 ["import", "codings", str(EX / "codings_dev_coder_a.csv")],
                 ["import", "codings", str(EX / "codings_dev_coder_b.csv")]):
        result = _run(db, *args)
        assert result.exit_code == 0, result.output
    return db


def test_agreement_prints_and_writes_each_theme(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "agreement.xlsx"
    result = _run(project, "agreement", "--coders", "coder_a,coder_b", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "cohen_kappa" in result.output and "kappa_low" not in result.output
    table = pd.read_excel(out, sheet_name="agreement")
    assert len(table) == 8 and table["code"].iloc[-1] == "(overall)"


def test_agreement_with_intervals(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "agreement.csv"
    result = _run(project, "agreement", "--coders", "coder_a,coder_b", "--ci", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "kappa_low" in result.output and "kappa_high" in result.output
    table = pd.read_csv(out)
    overall = table[table["code"] == "(overall)"].iloc[0]
    assert overall["kappa_low"] <= overall["cohen_kappa"] <= overall["kappa_high"]
    assert overall["kappa_high"] - overall["kappa_low"] > 0.01  # 52 segments: not a point


def test_intervals_need_two_coders(project: Path) -> None:
    result = _run(project, "agreement", "--coders", "coder_a,coder_b,rules", "--ci")
    assert result.exit_code != 0
    assert "kappa intervals need exactly two coders" in result.output
    assert "Traceback" not in result.output


def test_intervals_fall_back_to_segments_with_few_interviews(project: Path) -> None:
    # coder_b coded parts of 4 interviews: too few to resample interviews, and it says so
    result = _run(project, "agreement", "--coders", "coder_a,coder_b", "--ci", "--show-disagreements", "0")
    assert result.exit_code == 0, result.output
    assert "only 4 interviews in common, fewer than 5, so segments were resampled" in result.output


def test_intervals_resample_interviews_or_segments(project: Path, tmp_path: Path) -> None:
    width, notes = {}, {}
    for by in ("interview", "segment"):
        out = tmp_path / f"{by}.csv"
        result = _run(project, "agreement", "--coders", "rules,coder_a", "--ci", "--ci-by", by,
                      "--show-disagreements", "0", "--out", str(out))
        assert result.exit_code == 0, result.output
        notes[by] = next(line for line in result.output.splitlines() if line.startswith("kappa 95%"))
        overall = pd.read_csv(out).set_index("code").loc["(overall)"]
        width[by] = overall["kappa_high"] - overall["kappa_low"]
    assert "resamples of the 102 interviews both coders covered" in notes["interview"]
    assert "resamples of the 1455 segments both coders covered" in notes["segment"]
    assert width["interview"] > width["segment"]  # an interview's segments are alike
