"""scripts/demo runs the main job on transcripts_example/ end to end, quietly, and keeps
speaker names out of the report."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parent.parent
DEMO = REPO / "scripts" / "demo"
ROLES = REPO / "transcripts_example" / "roles.yaml"

def speaker_names() -> list[str]:
    """The per-document speaker names of the example corpus, as roles.yaml maps them
    (one-letter labels such as "P" are initials, not names, and would match any "P")."""
    data = yaml.safe_load(ROLES.read_text(encoding="utf-8"))
    names = {str(name) for mapping in (data.get("documents") or {}).values() for name in mapping
             if len(str(name)) > 1}
    assert names, "roles.yaml names no speakers"
    return sorted(names)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("demo") / "out"
    env = {k: v for k, v in os.environ.items() if k != "QUALCODE_PROJECT"}
    env["QUALCODE_DEMO_OUT"] = str(out)
    proc = subprocess.run([str(DEMO)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return proc, out


def test_demo_exits_zero_quietly(demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr[-3000:]
    assert str(out / "report.html") in proc.stdout  # the closing list names every output


@pytest.mark.parametrize(
    "name",
    ["report.xlsx", "report.html", "project.qdpx", "codings.csv", "review.xlsx",
     "agreement_coder_a_coder_b.xlsx", "agreement_rules_gold.xlsx", "agreement_classifier_gold.xlsx", "agreement_coder_h1_gold.xlsx",
     "themes_by_site.xlsx", "themes_by_role.xlsx", "link_integration.xlsx", "model_job_start.xlsx",
     "clusters.xlsx"],
)
def test_demo_output_exists(demo: tuple[subprocess.CompletedProcess[str], Path], name: str) -> None:
    proc, out = demo
    assert proc.returncode == 0
    path = out / name
    assert path.is_file(), f"{name} missing"
    assert path.stat().st_size > 0, f"{name} is empty"


def test_demo_report_html_has_no_speaker_names(demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo
    assert proc.returncode == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    found = [n for n in speaker_names() if re.search(rf"\b{re.escape(n)}\b", html)]
    assert not found, f"speaker names in report.html: {found}"


def test_demo_second_person_agrees_with_gold_better_than_the_machine(
        demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """The README's reading of step 7: people agree with gold far better than the classifier."""
    import pandas as pd

    proc, out = demo
    assert proc.returncode == 0

    def mean_kappa(name: str) -> float:
        table = pd.read_excel(out / name, sheet_name="agreement")
        themes = table[table["code"] != "(overall)"]
        assert len(themes) == 7
        return float(themes["cohen_kappa"].mean())

    person, machine = mean_kappa("agreement_coder_h1_gold.xlsx"), mean_kappa("agreement_classifier_gold.xlsx")
    assert person >= 0.8 and machine < person, (person, machine)
    # --ci: the two 95% intervals of the pooled kappa do not even overlap
    pooled = {name: pd.read_excel(out / f"agreement_{name}_gold.xlsx", sheet_name="agreement")
              .set_index("code").loc["(overall)"] for name in ("coder_h1", "classifier")}
    assert pooled["classifier"]["kappa_high"] < pooled["coder_h1"]["kappa_low"], pooled
    assert "A second person against the held-out gold coding" in proc.stdout
