"""The classifier reads a segment's context (the turn before it): features, training,
scoring, and the context the workflow hands it from the store."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from qualcode.coding.base import SegmentInput
from qualcode.coding.classifier import (
    CONTEXT_SEP, TfidfFeaturiser, TrainingExample, context_part, joined, text_part, train,
)
from qualcode.errors import InvalidInput
from qualcode.ingest.pipeline import ingest_paths
from qualcode.store.repo import Store
from qualcode.workflows.assist import segment_inputs

PARENT_OF: dict[str, str | None] = {"outcomes": None, "es_qualities": None}
QUESTIONS = {
    "outcomes": ["What difference has the job made for you?", "Where are you now with work?",
                 "How has working changed things at home?"],
    "es_qualities": ["What is your employment specialist like?", "How does she get on with you?",
                     "What sort of person is your worker?"],
}
# the same answers follow either kind of question: only the question tells them apart
ANSWERS = ["It has been good, really good.", "Honestly, better than I expected.",
           "I would say it is fine most days.", "Yeah, it's been alright on the whole.",
           "Lots better than before, to be fair.", "Good. I can't complain about it."]


def examples(n: int = 96, seed: int = 3) -> list[TrainingExample]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        code = ("outcomes", "es_qualities")[i % 2]
        out.append(TrainingExample(rng.choice(ANSWERS), frozenset({code}), segment_id=i,
                                   context=rng.choice(QUESTIONS[code])))
    return out


def test_joined_inputs_split_back_and_strip_the_separator() -> None:
    item = joined(f"an answer{CONTEXT_SEP}with a stray separator", "the question")
    assert text_part(item) == "an answer with a stray separator"
    assert context_part(item) == "the question"
    assert joined("alone") == "alone" and context_part("alone") == ""


def test_context_weight_outside_0_1_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="context_weight"):
        TfidfFeaturiser(context_weight=1.5)


def test_fold_features_with_context_equal_a_featuriser_fitted_on_the_fold() -> None:
    ex = examples()
    texts = [joined(e.text, e.context if i % 5 else "") for i, e in enumerate(ex)]
    rows = np.array([i for i in range(len(texts)) if i % 3 != 0])
    fold = TfidfFeaturiser().cross_fit(texts)(rows)
    reference = TfidfFeaturiser()
    reference.fit_transform([texts[i] for i in rows])
    expected = reference.transform(texts)
    seen = np.flatnonzero(np.asarray(abs(fold[rows]).sum(axis=0)).ravel() > 0)
    assert len(seen) == expected.shape[1]
    assert abs(fold[:, seen] - expected).max() < 1e-12
    # the context block is there and scaled by its weight: each row's context part has norm 0.5
    n_context = len(reference._union.transformer_list[2][1].vocabulary_)
    ctx_cols = slice(expected.shape[1] - n_context, expected.shape[1])
    norms = np.sqrt(np.asarray(expected[:, ctx_cols].multiply(expected[:, ctx_cols]).sum(axis=1)))
    assert np.allclose(norms[[i for i in range(len(texts)) if i % 5]], 0.5)
    assert np.allclose(norms[[i for i in range(len(texts)) if not i % 5]], 0.0)


def test_without_any_context_the_features_are_the_context_free_ones() -> None:
    texts = [e.text for e in examples()]
    with_block = TfidfFeaturiser().fit_transform(texts)
    without = TfidfFeaturiser(context_weight=0).fit_transform(texts)
    assert with_block.shape == without.shape and abs(with_block - without).max() == 0
    fold = TfidfFeaturiser().cross_fit(texts)(np.arange(len(texts)))
    assert abs(fold - without).max() < 1e-12


def test_the_question_tells_apart_answers_that_read_the_same() -> None:
    ex = examples()
    model = train(ex, PARENT_OF, evaluate=False).model
    blind = train(ex, PARENT_OF, evaluate=False,
                  featuriser=TfidfFeaturiser(context_weight=0)).model
    answers = ["It has been good, really good."] * 2
    questions = [QUESTIONS["outcomes"][0], QUESTIONS["es_qualities"][0]]
    col = model.codes.index("outcomes")
    p = model.predict_proba(answers, questions)[:, col]
    assert p[0] > 0.8 and p[1] < 0.2
    q = blind.predict_proba(answers, questions)[:, col]
    assert abs(q[0] - q[1]) < 1e-12 and 0.2 < q[0] < 0.8  # blind: a coin toss
    segs = [SegmentInput(1, answers[0], "client", context=questions[0]),
            SegmentInput(2, answers[1], "client", context=questions[1])]
    assert [(s.segment_id, s.code) for s in model.suggest(segs)] == [
        (1, "outcomes"), (2, "es_qualities")]
    # the report cross-validates with the context too
    report = train(ex, PARENT_OF).report.set_index("code")
    assert report.loc["outcomes", "f1"] > 0.9


def test_mismatched_contexts_are_rejected() -> None:
    model = train(examples(), PARENT_OF, evaluate=False).model
    with pytest.raises(InvalidInput, match="2 texts but 1 contexts"):
        model.predict_proba(["a", "b"], ["q"])


def test_saved_model_keeps_reading_the_context() -> None:
    from qualcode.coding.classifier import CodeClassifier

    model = train(examples(), PARENT_OF, evaluate=False).model
    again = CodeClassifier.from_bytes(model.to_bytes())
    args = (["Good. I can't complain about it."] * 2, [QUESTIONS["outcomes"][1],
                                                       QUESTIONS["es_qualities"][1]])
    assert np.array_equal(again.predict_proba(*args), model.predict_proba(*args))
    assert again.metadata["params"]["featuriser"]["context_weight"] == 0.5


def test_segment_inputs_carry_the_turn_before(memory_store: Store, transcripts: Path) -> None:
    ingest_paths(memory_store, [transcripts], manifest=transcripts / "manifest.csv")
    rows = memory_store.segment_rows(all_roles=True)
    segs = segment_inputs(memory_store)
    assert segs and all(s.role != "interviewer" for s in segs)
    position = {r["segment_id"]: i for i, r in enumerate(rows)}
    for s in segs:
        i = position[s.id]
        mine = rows[i]
        before = [r for r in rows[:i] if r["document_id"] == mine["document_id"]
                  and r["turn_index"] < mine["turn_index"]]
        if not before:
            assert s.context == ""
            continue
        last = max(r["turn_index"] for r in before)
        expected = " ".join(" ".join(r["text"] for r in before if r["turn_index"] == last).split())
        assert s.context == expected and s.context
    assert any(s.context.endswith("?") for s in segs)  # the interviewer's questions
