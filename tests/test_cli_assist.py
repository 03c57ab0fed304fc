"""`qualcode train`, `suggest` and `next` on part of the example corpus, through the CLI."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qualcode.cli import main
from qualcode.store.repo import Store
from qualcode.workflows.assist import combine_policy, load_classifier

EX = Path(__file__).parent.parent / "transcripts_example"
SITES = ("berkshire_", "bradford_", "wiltshire_")
FIRST = 8  # interviews _01.._08 of each site: enough to train, few enough that some codes are short


def _run(project: Path, *args: str, ok: bool = True):  # noqa: ANN202
    result = CliRunner().invoke(main, ["--project", str(project), *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three sites of the example corpus, ingested, with coder_a's codings imported."""
    folder = tmp_path_factory.mktemp("assist")
    files = folder / "interviews"
    files.mkdir()
    with open(EX / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["file"].startswith(SITES)
                and int(Path(r["file"]).stem.rsplit("_", 1)[1]) <= FIRST]
    for r in rows:
        shutil.copy(EX / r["file"], files / r["file"])
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    shutil.copy(EX / "roles.yaml", folder / "roles.yaml")
    codings = pd.read_csv(EX / "codings_dev_coder_a.csv")
    # one interview is left uncoded, for `next` to choose from
    wanted = {r["file"] for r in rows[:-1]}
    keep = codings.document.isin(wanted)
    codings[keep].to_csv(folder / "codings.csv", index=False)
    project = folder / "p.db"
    _run(project, "init")
    _run(project, "ingest", str(files), "--manifest", str(folder / "manifest.csv"),
         "--roles", str(folder / "roles.yaml"))
    before = _run(project, "suggest", "--method", "classifier", ok=False)
    _run(project, "import", "codings", str(folder / "codings.csv"))
    trained = _run(project, "train").output
    return {"project": project, "folder": folder, "before": before, "trained": trained,
            "docs": len(rows) - 1, "uncoded": rows[-1]["file"]}


def test_classifier_needs_training_first(coded: dict) -> None:
    before = coded["before"]
    assert before.exit_code == 1
    assert "qualcode train" in before.output and "Traceback" not in before.output


def test_train_reports_cross_validation_and_learns_a_policy(coded: dict) -> None:
    out = coded["trained"]
    assert "Cross-validated on human codings" in out
    assert "codebook seed texts" in out
    assert "Left out for too few examples" in out or "seed texts only" in out
    assert "Rules and classifier together" in out
    with Store.open(coded["project"]) as store:
        model = load_classifier(store)
        assert model is not None
        policy = combine_policy(model)
    assert policy is not None and policy.folds == min(5, coded["docs"])
    assert 0.0 <= policy.lo <= policy.hi and 0.0 <= policy.cv_macro_f1 <= 1.0
    # cross-validation chose whether to learn from rule hits, and says what it chose
    assert policy.weak_weight in (0.0, 0.5)
    used = policy.weak_weight > 0
    assert ("rule hits on uncoded segments: used as weak labels" in out) == used
    assert ("rule hits on uncoded segments: left out" in out) == (not used)
    assert ("segments labelled by rule hits" in out) == used


def test_train_with_weak_labels_learns_from_rule_hits_on_uncoded_segments(coded: dict, tmp_path) -> None:  # noqa: ANN001
    project = tmp_path / "copy.db"
    shutil.copy(coded["project"], project)
    out = _run(project, "train", "--weak-labels").output
    assert "rule hits on uncoded segments:" not in out  # forced, not chosen
    with Store.open(project) as store:
        policy = combine_policy(load_classifier(store))  # type: ignore[arg-type]
        uncoded = [r for r in store.segment_rows() if r["document"] == coded["uncoded"]]
    # only the uncoded interview's segments can be labelled by rule hits
    n_weak = int(out.split(" segments labelled by rule hits")[0].rsplit(" ", 1)[1])
    assert 0 < n_weak <= len(uncoded)
    assert policy is not None and policy.weak_weight == 0.5


def _question_sensitivity(project: Path) -> tuple[dict, float]:
    """The model's metadata, and how far one answer's probabilities move between two questions."""
    with Store.open(project) as store:
        model = load_classifier(store)
    assert model is not None
    answer = ["It's been a big change for me, honestly, a really big change."] * 2
    questions = ["What difference has the job made at home?", "How does the team include the ES?"]
    moved = float(abs(model.predict_proba(answer, questions)[0] - model.predict_proba(answer, questions)[1]).max())
    return model.metadata, moved


def test_train_reads_the_turn_before_each_segment_unless_told_not_to(coded: dict, tmp_path) -> None:  # noqa: ANN001
    meta, moved = _question_sensitivity(coded["project"])
    assert meta["params"]["featuriser"]["context_weight"] == 0.5
    assert moved > 0.01  # the same answer to another question scores differently
    assert "without the turn before" not in coded["trained"]
    project = tmp_path / "blind.db"
    shutil.copy(coded["project"], project)
    out = _run(project, "train", "--no-context").output
    assert "(without the turn before each segment)" in out
    meta, moved = _question_sensitivity(project)
    assert meta["params"]["featuriser"]["context_weight"] == 0.0
    assert moved == 0.0


def test_suggest_all_keeps_only_rule_hits_the_classifier_finds_plausible(coded: dict) -> None:
    project, folder = coded["project"], coded["folder"]
    rules_only = _run(project, "suggest", "--method", "rules").output
    n_rules = int(rules_only.split("rule: ")[1].split()[0])
    out = _run(project, "suggest", "--method", "all").output
    assert "rules kept where the classifier gives their theme p >=" in out
    n_kept = int(out.split("rule: ")[1].split()[0])
    assert 0 < n_kept <= n_rules
    _run(project, "export", "codings", "--out", str(folder / "rule.csv"), "--status", "suggested",
         "--source", "rule")
    rule = pd.read_csv(folder / "rule.csv")
    assert len(rule) == n_kept
    with Store.open(project) as store:
        policy = combine_policy(load_classifier(store))  # type: ignore[arg-type]
    scores = [json.loads(p)["theme_score"] for p in rule.provenance]
    assert min(scores) >= policy.lo  # type: ignore[union-attr]
    spans = [json.loads(p)["span"] for p in rule.provenance]
    assert all(a < b for a, b in spans)
    # the classifier's suggestions name the words behind their scores, located in the text
    _run(project, "export", "codings", "--out", str(folder / "classifier.csv"), "--status", "suggested",
         "--source", "classifier")
    cls = pd.read_csv(folder / "classifier.csv")
    assert len(cls) > 0
    for prov, text in zip(cls.provenance, cls.text):
        evidence = json.loads(prov)["evidence"]
        assert any("matched" in e for e in evidence)
        assert all(e["matched"] in text for e in evidence if "matched" in e)


def test_next_lists_segments_nobody_coded(coded: dict) -> None:
    project, folder = coded["project"], coded["folder"]
    out = _run(project, "next", "--n", "4", "--out", str(folder / "next.csv")).output
    frame = pd.read_csv(folder / "next.csv")
    assert len(frame) == 4
    assert set(frame.document) == {coded["uncoded"]}
    _run(project, "export", "codings", "--out", str(folder / "human.csv"), "--source", "human",
         "--status", "accepted")
    human = set(pd.read_csv(folder / "human.csv").segment_id)
    assert not human & set(frame.segment_id)
    assert str(frame.segment_id.iloc[0]) in out


def test_next_says_so_when_nothing_is_left(tmp_path: Path) -> None:
    project = tmp_path / "one.db"
    _run(project, "init")
    doc = tmp_path / "one.txt"
    doc.write_text("Interviewer: And the team?\nIPS ES: I sit with them three days a week.\n",
                   encoding="utf-8")
    _run(project, "ingest", str(doc))
    pd.DataFrame({"document": ["one.txt"], "quote": ["I sit with them three days a week."],
                  "code": ["co_location"], "coder": ["ann"]}).to_csv(tmp_path / "c.csv", index=False)
    _run(project, "import", "codings", str(tmp_path / "c.csv"))
    out = _run(project, "next", "--n", "3").output
    assert "nothing left to code" in out


def test_train_in_one_process_saves_the_same_model(coded: dict, tmp_path) -> None:  # noqa: ANN001
    """`--jobs 1` trains the fold models here instead of in worker processes: same result."""
    project = tmp_path / "serial.db"
    shutil.copy(coded["project"], project)
    _run(project, "train", "--jobs", "1")
    texts = ["The ES comes to our team meeting every week.", "I started my new job on Monday."]
    with Store.open(coded["project"]) as store:
        default = load_classifier(store)
    with Store.open(project) as store:
        serial = load_classifier(store)
    assert default is not None and serial is not None
    assert combine_policy(serial) == combine_policy(default)
    assert (serial.predict_proba(texts) == default.predict_proba(texts)).all()
    bad = _run(project, "train", "--jobs", "0", ok=False)
    assert bad.exit_code != 0 and "--jobs" in bad.output
