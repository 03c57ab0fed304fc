"""Tests for rules and classifier together (qualcode.coding.combine)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from qualcode.coding.base import SegmentInput
from qualcode.coding.classifier import TrainingExample, train
from qualcode.coding.combine import (
    HI_GRID,
    LO_GRID,
    CombinedAssistant,
    CombinePolicy,
    choose_policy,
    decide,
    fit_policy,
    theme_probabilities,
)
from qualcode.coding.rules import RuleAssistant
from qualcode.errors import InvalidInput

INTEGRATION = ["We sit in the same office as the team and share the caseload discussions.",
               "I'm on site with the clinicians, the integration is really good now.",
               "Being based in the team means the nurses grab me in the corridor.",
               "The team invites me to every meeting, I feel part of the clinical team."]
OUTCOMES = ["She started work at the bakery and she's still there.",
            "He got a job in the warehouse after six weeks of searching.",
            "Three of my clients got jobs this month, two in retail.",
            "Her confidence went up once she had a routine and a wage."]
NEITHER = ["The weather was awful on the day, we met later.",
           "Sorry, can you repeat the question, the line is bad.",
           "I moved here from another trust about two years ago.",
           "We had a new manager start in the spring."]


def corpus(n_docs: int = 6, seed: int = 0) -> tuple[list[SegmentInput], list[TrainingExample]]:
    """Segments in ``n_docs`` documents, each coded by a person: some mention a theme in
    passing ("integration" in a turn about something else) and are not coded with it."""
    rng = random.Random(seed)
    segs, examples = [], []
    sid = 0
    for d in range(n_docs):
        for texts, code in ((INTEGRATION, "co_location"), (OUTCOMES, "job_start"),
                            (NEITHER, None)):
            for t in texts:
                sid += 1
                text = t + " " + rng.choice(["Yeah.", "Mm.", "So that's that.", "Honestly."])
                if code is None and rng.random() < 0.5:
                    text += " People talk about integration a lot."  # a mention, not a theme
                segs.append(SegmentInput(sid, text, "es", f"doc{d}.txt", "Site", 0, len(text)))
                examples.append(TrainingExample(text, frozenset({code} if code else ()),
                                                role="es", segment_id=sid))
    return segs, examples


def test_decide_applies_both_thresholds() -> None:
    p = np.array([[0.9, 0.05], [0.3, 0.3]])
    hit = np.array([[False, True], [True, False]])
    got = decide(p, hit, CombinePolicy(hi=0.8, lo=0.1))
    assert got.tolist() == [[True, False], [True, False]]


def test_choose_policy_finds_the_separating_thresholds() -> None:
    # theme present exactly when (rule hit and p >= 0.2) or p >= 0.7
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, size=(400, 3))
    hit = rng.uniform(0, 1, size=(400, 3)) < 0.5
    truth = (hit & (p >= 0.2)) | (p >= 0.7)
    policy = choose_policy(p, hit, truth, folds=4)
    assert (policy.hi, policy.lo) == (0.7, 0.2)
    assert policy.cv_macro_f1 == pytest.approx(1.0)
    assert policy.folds == 4


def test_choose_policy_can_turn_the_classifier_off_alone() -> None:
    # the classifier's scores are noise; only rule hits carry the theme
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 1, size=(300, 2))
    hit = rng.uniform(0, 1, size=(300, 2)) < 0.3
    policy = choose_policy(p, hit, hit.copy())
    assert policy.lo == 0.0 and policy.hi > 1.0
    assert HI_GRID[-1] > 1.0 and LO_GRID[0] == 0.0


def test_choose_policy_refuses_ragged_input() -> None:
    with pytest.raises(InvalidInput):
        choose_policy(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((2, 2)))


def test_policy_round_trips_and_checks_range() -> None:
    p = CombinePolicy(hi=0.8, lo=0.1, cv_macro_f1=0.77, folds=5)
    assert CombinePolicy.from_dict(p.to_dict()) == p
    blank = CombinePolicy.from_dict(CombinePolicy(0.5, 0.2).to_dict())
    assert blank is not None and math.isnan(blank.cv_macro_f1)
    assert CombinePolicy.from_dict(None) is None
    with pytest.raises(InvalidInput):
        CombinePolicy(hi=1.5, lo=0.1)


def test_theme_probability_is_the_best_of_the_subtree(tiny_codebook) -> None:  # noqa: ANN001
    segs, examples = corpus()
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    model = train(examples, parent_of, evaluate=False, min_examples=3).model
    texts = [s.text for s in segs[:5]]
    themes = ["integration", "outcomes"]
    p = theme_probabilities(model, texts, themes)
    full = model.predict_proba(texts)
    cols = [j for j, c in enumerate(model.codes) if c in ("integration", "co_location",
                                                          "team_exclusion")]
    assert np.allclose(p[:, 0], full[:, cols].max(axis=1))


def test_fit_policy_needs_three_documents(tiny_codebook) -> None:  # noqa: ANN001
    segs, examples = corpus(n_docs=2)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    assert fit_policy(examples, segs, RuleAssistant(tiny_codebook), parent_of,
                      min_examples=3) is None


def test_combined_drops_rule_hits_the_classifier_finds_implausible(tiny_codebook) -> None:  # noqa: ANN001
    segs, examples = corpus(n_docs=6)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    rules = RuleAssistant(tiny_codebook)
    policy = fit_policy(examples, segs, rules, parent_of, min_examples=3)
    assert policy is not None and policy.folds == 5
    model = train(examples, parent_of, evaluate=False, min_examples=3).model
    new = [SegmentInput(1001, "Everyone goes on about integration, but the trains were late "
                              "and the weather was awful.", "es", "new.txt"),
           SegmentInput(1002, "I'm based in the team now, same office as the nurses, and "
                              "the integration is lovely.", "es", "new.txt")]
    theme = {"integration", "co_location", "team_exclusion"}
    raw = rules.suggest(new)
    assert {s.segment_id for s in raw if s.code in theme} == {1001, 1002}
    both = CombinedAssistant(rules, model, CombinePolicy(hi=0.9, lo=0.3)).suggest(new)
    kept = {s.segment_id for s in both if s.source == "rule" and s.code in theme}
    assert kept == {1002}
    for s in both:
        if s.source == "rule":
            assert s.provenance["theme_score"] >= 0.3 and "rule" in s.provenance
        else:
            assert s.source == "classifier" and s.confidence >= 0.9


def test_fit_policy_leaves_out_weak_labels_that_teach_the_rules_mistakes(tiny_codebook) -> None:  # noqa: ANN001
    # the rule fires on every "integration", the coders code it only where the turn is
    # about working inside the team: as weak labels, its hits teach the passing mentions
    segs, examples = corpus(n_docs=6)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    rules = RuleAssistant(tiny_codebook)
    uncoded = [SegmentInput(5000 + i, f"{t} People talk about integration a lot. {i}", "es",
                            "new.txt") for i, t in enumerate(NEITHER * 15)]
    chosen = fit_policy(examples, segs, rules, parent_of, uncoded=uncoded,
                        weak_weights=(0.0, 0.5), min_examples=3)
    forced = fit_policy(examples, segs, rules, parent_of, uncoded=uncoded,
                        weak_weights=(0.5,), min_examples=3)
    assert chosen is not None and forced is not None
    assert forced.weak_weight == 0.5
    assert forced.cv_macro_f1 < chosen.cv_macro_f1
    assert chosen.weak_weight == 0.0
    again = CombinePolicy.from_dict(chosen.to_dict())
    assert again == chosen


def test_fit_policy_rejects_weights_outside_0_1(tiny_codebook) -> None:  # noqa: ANN001
    segs, examples = corpus(n_docs=3)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    with pytest.raises(InvalidInput, match="weak_weights"):
        fit_policy(examples, segs, RuleAssistant(tiny_codebook), parent_of,
                   weak_weights=(0.0, 2.0), min_examples=3)


def test_progress_follows_every_fold_model_and_every_code(tiny_codebook) -> None:  # noqa: ANN001
    """``progress(stage, done, total)`` counts up to its total, once per stage step."""
    from qualcode.coding import classifier as clf

    segs, examples = corpus(n_docs=4)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    calls: list[tuple[str, int, int]] = []
    policy = fit_policy(examples, segs, RuleAssistant(tiny_codebook), parent_of,
                        weak_weights=(0.0, 0.5), min_examples=3,
                        progress=lambda *a: calls.append(a))
    assert policy is not None
    fold_calls = [c for c in calls if c[0] == "choosing the policy"]
    total = policy.folds * 2
    assert [c[1] for c in fold_calls] == list(range(total + 1)) and {c[2] for c in fold_calls} == {total}
    calls.clear()
    result = clf.train(examples, parent_of, evaluate=False, min_examples=3,
                       progress=lambda *a: calls.append(a))
    n = len(result.report)
    assert calls == [("cross-validating codes", i, n) for i in range(n + 1)]


def test_worker_processes_choose_the_same_policy_as_one_process(tiny_codebook) -> None:  # noqa: ANN001
    """Fold models trained in two spawned processes score exactly as in this one."""
    from qualcode.coding.combine import _FoldTask, _run_tasks

    segs, examples = corpus(n_docs=6)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    rules = RuleAssistant(tiny_codebook)
    one = fit_policy(examples, segs, rules, parent_of, weak_weights=(0.0, 0.5), min_examples=3,
                     n_jobs=1)
    two = fit_policy(examples, segs, rules, parent_of, weak_weights=(0.0, 0.5), min_examples=3,
                     n_jobs=2)
    assert one is not None and one == two
    themes = [c for c in parent_of if parent_of[c] is None]
    tasks = [_FoldTask(examples[i::3], dict(parent_of), [], 0, 3, [e.text for e in examples[:9]],
                       [""] * 9, themes) for i in range(3)]
    serial, parallel = _run_tasks(tasks, 1, None), _run_tasks(tasks, 2, None)
    assert all(a is not None and a.shape == (9, len(themes)) for a in serial)
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel))
    assert not np.array_equal(serial[0], serial[1])  # different training folds, different models


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_fit_policy_rejects_a_bad_number_of_jobs(tiny_codebook, bad) -> None:  # noqa: ANN001
    segs, examples = corpus(n_docs=4)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    with pytest.raises(InvalidInput, match="n_jobs"):
        fit_policy(examples, segs, RuleAssistant(tiny_codebook), parent_of, n_jobs=bad)


class _KillsTheWorker:
    """Unpickled in a worker process, it ends that process at once."""

    def __reduce__(self):  # noqa: ANN204
        import os

        return (os._exit, (1,))


def test_a_worker_that_dies_is_a_clear_error(tiny_codebook) -> None:  # noqa: ANN001
    from qualcode.coding.combine import _FoldTask, _run_tasks
    from qualcode.errors import QualcodeError

    _, examples = corpus(n_docs=4)
    parent_of = {c.id: c.parent for c in tiny_codebook.codes}
    themes = [c for c in parent_of if parent_of[c] is None]
    tasks = [_FoldTask(examples, dict(parent_of), [], 0, 3, [_KillsTheWorker()], [""], themes)  # type: ignore[list-item]
             for _ in range(2)]
    with pytest.raises(QualcodeError, match="--jobs 1"):
        _run_tasks(tasks, 2, None)
