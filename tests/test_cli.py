"""The command line through click's CliRunner: output, files written and exit codes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, project: Path, *args: str):  # noqa: ANN201
    return runner.invoke(main, ["--project", str(project), *args], catch_exceptions=False)


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    def walk(group, prefix):  # noqa: ANN001, ANN202
        for name, cmd in group.commands.items():
            yield prefix + [name], cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, prefix + [name])

    for path, cmd in walk(main, []):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        if not hasattr(cmd, "commands"):
            assert "Example" in result.output, path


def test_init_ingest_roles_export(runner: CliRunner, tmp_path: Path, transcripts: Path) -> None:
    project = tmp_path / "p.db"
    result = run(runner, project, "init")
    assert result.exit_code == 0 and "codes" in result.output
    result = run(runner, project, "ingest", str(transcripts), "--manifest", str(transcripts / "manifest.csv"))
    assert result.exit_code == 0, result.output
    assert "2 files: 2 ingested" in result.output
    assert "utf-8" in result.output

    result = run(runner, project, "roles")
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert lines["IPS"][2] == "es" or "es" in lines["IPS"]
    assert "interviewer" in result.output and "client" in result.output

    out = tmp_path / "segments.csv"
    result = run(runner, project, "export", "segments", "--out", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["segment_id", "document", "site", "wave", "speaker", "role", "start", "end", "text"]
    assert {r["role"] for r in rows} == {"es", "client"}
    assert {r["site"] for r in rows} == {"Site A", "Site B"}
    all_rows = tmp_path / "all.csv"
    run(runner, project, "export", "segments", "--out", str(all_rows), "--all-roles")
    assert len(list(csv.DictReader(all_rows.open(encoding="utf-8")))) == len(rows) + 3

    again = run(runner, project, "ingest", str(transcripts))
    assert again.exit_code == 0 and "2 unchanged" in again.output


def test_bad_file_gives_one_line_error_and_nonzero_exit(runner: CliRunner, tmp_path: Path, transcripts: Path) -> None:
    project = tmp_path / "p.db"
    run(runner, project, "init")
    bad = transcripts / "bad.vtt"
    bad.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\n<v A>hi</v>\n", encoding="utf-8")
    result = runner.invoke(main, ["--project", str(project), "ingest", str(transcripts)])
    assert result.exit_code == 1
    error_lines = [line for line in result.output.splitlines() if "bad.vtt" in line]
    assert error_lines and error_lines[0].startswith("error: ")
    assert "2 ingested" in result.output

    strict = runner.invoke(main, ["--project", str(tmp_path / "q.db"), "init"])
    assert strict.exit_code == 0
    strict = runner.invoke(main, ["--project", str(tmp_path / "q.db"), "ingest", "--strict", str(transcripts)])
    assert strict.exit_code == 1 and "nothing was ingested" in strict.output


def test_commands_need_a_project(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--project", str(tmp_path / "none.db"), "roles"])
    assert result.exit_code == 1
    assert "qualcode init" in result.output
    assert not (tmp_path / "none.db").exists()


def test_codebook_validate_and_export(runner: CliRunner, tmp_path: Path, tiny_codebook_path: Path) -> None:
    result = runner.invoke(main, ["codebook", "validate", str(tiny_codebook_path)])
    assert result.exit_code == 0 and "valid" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(tiny_codebook_path.read_text(encoding="utf-8") + "\n  - id: orphan\n    name: Orphan\n    parent: nowhere\n", encoding="utf-8")
    result = runner.invoke(main, ["codebook", "validate", str(broken)])
    assert result.exit_code == 1 and "orphan" in result.output

    project = tmp_path / "p.db"
    run(runner, project, "init", "--codebook", str(tiny_codebook_path))
    for fmt in ("yaml", "xlsx", "qdc"):
        out = tmp_path / f"cb.{fmt}"
        result = run(runner, project, "codebook", "export", "--out", str(out))
        assert result.exit_code == 0 and out.exists()
        assert run(runner, project, "codebook", "import", str(out)).exit_code == 0
