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
