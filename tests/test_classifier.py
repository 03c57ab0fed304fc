"""Tests for the classifier assistant (qualcode.coding.classifier)."""

from __future__ import annotations

import math
import pickle
import random
from datetime import datetime

import numpy as np
import pytest

from qualcode.codebook import Code
from qualcode.coding.base import SegmentInput, Suggestion
from qualcode.coding.classifier import (
    CodeClassifier,
    TfidfFeaturiser,
    TrainingExample,
    platt_scale,
    seed_examples_from_codebook,
    train,
    weak_examples_from_rules,
)
from qualcode.errors import InvalidInput, QualcodeError

PARENT_OF: dict[str, str | None] = {
    "integration": None, "colocation": "integration", "team_meetings": "integration",
    "fidelity": None, "fidelity_review": "fidelity", "outreach": "fidelity",
    "employer": None, "three_cups": "employer", "disclosure": "employer",
    "es_qualities": None, "context_noise": None,
}
LEAVES = ["colocation", "team_meetings", "fidelity_review", "outreach", "three_cups",
          "disclosure"]
PARENT_WORDS = {
    "integration": "clinical team keyworkers integrated treatment staff".split(),
    "fidelity": "ips model fidelity principles standard".split(),
    "employer": "employer employers business hiring vacancy".split(),
}
LEAF_WORDS = {
    "colocation": "office site desk building days week based co-located hot-desk".split(),
    "team_meetings": "meeting mdt multidisciplinary huddle allocation agenda minutes".split(),
    "fidelity_review": "review scale score items benchmark assessment reviewer rating".split(),
    "outreach": "disengaged chase letters missed appointment texts reengage dropped".split(),
    "three_cups": "tea cups visit manager shop coffee relationship face-to-face".split(),
    "disclosure": "disclose conviction criminal record stigma consent tell declare".split(),
}
FILLER = ("the and we they it is was so really just think about client people service "
          "work job know mean yeah like sort of things there what when have get more").split()


def leaf_text(rng: random.Random, leaf: str, confuse: bool = True) -> str:
    """A short 'utterance': words of a sub-code, of its parent, filler, and a confuser."""
    parent = PARENT_OF[leaf]
    words = rng.sample(LEAF_WORDS[leaf], 2) + rng.sample(PARENT_WORDS[parent], 1)
    words += rng.sample(FILLER, rng.randint(6, 10))
    if confuse and rng.random() < 0.5:  # a stray word from another code, not coded
        words += rng.sample(LEAF_WORDS[rng.choice(LEAVES)], 1)
    rng.shuffle(words)
    return " ".join(words)


def make_examples(seed: int = 7) -> list[TrainingExample]:
    """~130 examples: 6 sub-codes, some parent-only codings, overlaps, a random code and
    a code with only 3 examples."""
    rng = random.Random(seed)
    out: list[TrainingExample] = []
    sid = 0
    for i in range(120):
        leaf = LEAVES[i % 6]
        codes = {leaf}
        text = leaf_text(rng, leaf)
        if rng.random() < 0.15:  # a second, coded theme
            other = rng.choice([c for c in LEAVES if c != leaf])
            text += " " + " ".join(rng.sample(LEAF_WORDS[other], 3))
            codes.add(other)
        if rng.random() < 0.25:  # a code with no textual signal at all
            codes.add("context_noise")
        out.append(TrainingExample(text, frozenset(codes), role="es", segment_id=sid))
        sid += 1
    for parent in PARENT_WORDS:  # coded at the parent level only
        for _ in range(3):
            text = " ".join(rng.sample(PARENT_WORDS[parent], 3) + rng.sample(FILLER, 7))
            out.append(TrainingExample(text, frozenset({parent}), segment_id=sid))
            sid += 1
    for _ in range(3):
        text = "empathy trust non-judgemental " + " ".join(rng.sample(FILLER, 6))
        out.append(TrainingExample(text, frozenset({"es_qualities"}), segment_id=sid))
        sid += 1
    return out


@pytest.fixture(scope="module")
def examples() -> list[TrainingExample]:
    return make_examples()


@pytest.fixture(scope="module")
def trained(examples):
    return train(examples, PARENT_OF, codebook_version="3")


@pytest.fixture(scope="module")
def fresh_texts() -> list[str]:
    rng = random.Random(99)
    return [leaf_text(rng, LEAVES[i % 6]) for i in range(60)]


def tiny_codebook() -> list[Code]:
    return [
        Code(id="integration", name="Integration", definition="IPS sits in the clinical team"),
        Code(id="colocation", name="Physical co-location", parent="integration",
             definition="The employment specialist is based on site in the team office",
             include=["days a week at the team base", "desk in the building"],
             example="I'm in the office three days a week so they see me"),
        Code(id="employer", name="Employer engagement",
             definition="Employment specialist meets employers",
             include=["visits to employers in person"],
             example="I went for a cup of tea with the shop manager"),
        Code(id="disclosure", name="Disclosure", parent="employer",
             definition="Telling an employer about a criminal record or health condition",
             include=["disclosure only with client consent", "employer stigma"],
             example="we talked about whether to disclose his conviction"),
        Code(id="fidelity", name="Fidelity", definition="Following the IPS fidelity scale",
             include=["fidelity review score"], example="our fidelity review went well"),
    ]


# --- training and the report -----------------------------------------------------------
def test_report_has_sensible_cross_validated_scores(trained) -> None:
    report = trained.report.set_index("code")
    assert list(trained.report.columns[:6]) == ["code", "support", "precision", "recall",
                                                "f1", "avg_precision"]
    for code in LEAVES + list(PARENT_WORDS):
        assert report.loc[code, "f1"] > 0.7, (code, report.loc[code].to_dict())
        assert report.loc[code, "avg_precision"] > 0.8
        assert report.loc[code, "basis"] == "human"
        assert 0.0 <= report.loc[code, "precision"] <= 1.0


def test_cross_validation_is_not_optimistic_on_a_code_without_signal(trained, examples
                                                                      ) -> None:
    # context_noise was assigned at random: an honest CV cannot find it, although the
    # final model (high-dimensional) fits its own training texts well
    row = trained.report.set_index("code").loc["context_noise"]
    prevalence = row["support"] / sum(1 for e in examples)
    assert row["avg_precision"] < prevalence + 0.2
    assert row["f1"] < 0.45
    from sklearn.metrics import average_precision_score

    model = trained.model
    col = model.codes.index("context_noise")
    raw = model.vectorise([e.text for e in examples]) @ model.coef[:, col] + model.intercept[col]
    y = np.array(["context_noise" in e.codes for e in examples])
    assert average_precision_score(y, raw) > 0.9  # what a leaky evaluation would report


def test_code_with_three_examples_is_skipped(trained) -> None:
    skipped = trained.skipped.set_index("code")
    assert list(trained.skipped.columns[:3]) == ["code", "positives", "needed"]
    assert skipped.loc["es_qualities", "positives"] == 3
    assert skipped.loc["es_qualities", "needed"] == 2
    assert "es_qualities" not in trained.model.codes
    assert "es_qualities" not in set(trained.report["code"])
    assert set(trained.skipped["code"]) == {"es_qualities"}


def test_sub_codes_teach_their_parent(examples) -> None:
    # no example is coded with 'employer' itself, yet it is learned from its sub-codes
    only_leaves = [e for e in examples if "employer" not in e.codes or e.codes & {
        "three_cups", "disclosure"}]
    assert not any(e.codes == {"employer"} for e in only_leaves)
    result = train(only_leaves, PARENT_OF, evaluate=False)
    model = result.model
    assert "employer" in model.codes
    support = result.report.set_index("code").loc["employer", "support"]
    assert support == sum(1 for e in only_leaves if e.codes & {"three_cups", "disclosure"})
    rng = random.Random(3)
    texts = [leaf_text(rng, "disclosure", confuse=False) for _ in range(10)]
    p = model.predict_proba(texts)
    assert (p[:, model.codes.index("employer")] > 0.5).mean() >= 0.8
    assert (p[:, model.codes.index("integration")] < 0.5).mean() >= 0.8


def test_seeds_are_used_for_fitting_but_never_evaluated(examples, trained) -> None:
    seeds = seed_examples_from_codebook(tiny_codebook())
    with_seeds = train(examples, PARENT_OF, seeds=seeds)
    a = trained.report.set_index("code")["support"]
    b = with_seeds.report.set_index("code")["support"]
    assert (a == b.loc[a.index]).all()
    assert with_seeds.model.metadata["n_seed_examples"] == len(seeds)
    assert with_seeds.model.metadata["n_examples"] == len(examples)
    assert with_seeds.model.metadata["model_id"] != trained.model.metadata["model_id"]


def test_evaluate_false_gives_the_same_model(examples, trained, fresh_texts) -> None:
    quick = train(examples, PARENT_OF, codebook_version="3", evaluate=False)
    assert quick.report["f1"].isna().all()
    assert (quick.report["folds"] > 0).all()
    np.testing.assert_allclose(quick.model.predict_proba(fresh_texts),
                               trained.model.predict_proba(fresh_texts), atol=1e-12)
    assert quick.model.metadata["model_id"] == trained.model.metadata["model_id"]


def test_metadata(trained, examples) -> None:
    md = trained.model.metadata
    assert md["name"] == "tfidf-logreg"
    assert md["n_examples"] == len(examples) and md["n_seed_examples"] == 0
    assert md["codebook_version"] == "3"
    assert datetime.fromisoformat(md["created"]).tzinfo is not None
    assert md["params"]["C"] == 4.0 and md["params"]["featuriser"]["char_ngrams"] == [2, 5]
    assert md["sklearn_version"].count(".") >= 1
    assert md["code_info"]["colocation"]["calibrated"] is True
    assert trained.model.codes == tuple(c for c in PARENT_OF if c != "es_qualities")


# --- the fold featuriser is an exact refit -----------------------------------------------
def test_fold_features_equal_a_tfidf_vectoriser_fitted_on_the_fold(examples) -> None:
    texts = [e.text for e in examples]
    rows = np.array([i for i in range(len(texts)) if i % 4 != 1])
    fold = TfidfFeaturiser().cross_fit(texts)(rows)
    reference = TfidfFeaturiser()
    reference.fit_transform([texts[i] for i in rows])
    expected = reference.transform(texts)
    # the fold matrix has a column for every term of every text; those of terms the
    # training rows lack are all zero, the others equal the fold-fitted vectoriser's
    seen = np.flatnonzero(np.asarray(abs(fold[rows]).sum(axis=0)).ravel() > 0)
    assert len(seen) == expected.shape[1] < fold.shape[1]
    assert abs(fold[:, seen] - expected).max() < 1e-12
    assert fold.nnz == expected.nnz  # nothing outside the seen columns, even in test rows
    assert fold.shape[1] == TfidfFeaturiser().fit_transform(texts).shape[1]


# --- the fast scoring path ---------------------------------------------------------------
def test_predict_proba_matches_the_per_code_path(trained, fresh_texts) -> None:
    model = trained.model
    fast = model.predict_proba(fresh_texts)
    slow = model.predict_proba_reference(fresh_texts)
    assert fast.shape == (len(fresh_texts), len(model.codes))
    assert np.abs(fast - slow).max() < 1e-9
    assert np.array_equal(model.scores_from_matrix(model.vectorise(fresh_texts)), fast)
    assert ((fast >= 0) & (fast <= 1)).all()
    assert model.predict_proba([]).shape == (0, len(model.codes))
    with pytest.raises(InvalidInput):
        model.predict_proba("a single string")


def test_probabilities_rank_the_right_code_first(trained, fresh_texts) -> None:
    model = trained.model
    p = model.predict_proba(fresh_texts)
    leaf_cols = [model.codes.index(c) for c in LEAVES]
    hits = sum(LEAVES[int(np.argmax(p[i, leaf_cols]))] == LEAVES[i % 6]
               for i in range(len(fresh_texts)))
    assert hits / len(fresh_texts) > 0.85


# --- suggest -----------------------------------------------------------------------------
def segments_for(texts: list[str]) -> list[SegmentInput]:
    return [SegmentInput(id=100 + i, text=t, role="es", document=f"doc{i % 3}")
            for i, t in enumerate(texts)]


def test_suggest_returns_suggestions_with_provenance(trained, fresh_texts) -> None:
    model = trained.model
    segs = segments_for(fresh_texts) + [SegmentInput(id=999, text="   ", role="es")]
    sugs = model.suggest(segs)
    assert sugs and all(isinstance(s, Suggestion) for s in sugs)
    assert model.source == "classifier"
    ids = {s.id for s in segs}
    for s in sugs:
        assert s.source == "classifier" and s.segment_id in ids and s.segment_id != 999
        assert 0.5 <= s.confidence <= 1.0
        base = {k: v for k, v in s.provenance.items() if k not in ("evidence", "context_evidence")}
        assert base == {"model": "tfidf-logreg", "model_id": model.metadata["model_id"],
                        "score": round(s.confidence, 4), "threshold": 0.5}
        assert s.provenance["evidence"]  # every suggestion names the words behind it
    # the expected sub-code is suggested for most segments
    by_seg = {}
    for s in sugs:
        by_seg.setdefault(s.segment_id, []).append(s.code)
    right = sum(LEAVES[i % 6] in by_seg.get(100 + i, []) for i in range(len(fresh_texts)))
    assert right / len(fresh_texts) > 0.8


def test_suggest_never_gives_a_code_and_its_ancestor(trained, fresh_texts) -> None:
    model = trained.model
    for threshold in (0.0, 0.2, 0.5):
        by_seg: dict[int, set[str]] = {}
        for s in model.suggest(segments_for(fresh_texts), threshold=threshold):
            by_seg.setdefault(s.segment_id, set()).add(s.code)
        assert by_seg
        for codes in by_seg.values():
            for c in codes:
                assert PARENT_OF.get(c) not in codes
    # with threshold 0 every code is proposed, so exactly the codes with no trained
    # descendant remain
    at_zero = {s.code for s in model.suggest(segments_for(fresh_texts[:1]), threshold=0.0)}
    assert at_zero == {c for c in model.codes if c not in set(PARENT_OF[x] for x in model.codes)}


def test_threshold(trained, fresh_texts) -> None:
    model = trained.model
    segs = segments_for(fresh_texts)
    high = model.suggest(segs, threshold=0.9)
    low = model.suggest(segs, threshold=0.5)
    assert all(s.confidence >= 0.9 for s in high)
    assert all(s.provenance["threshold"] == 0.9 for s in high)
    between = [s for s in low if s.confidence < 0.9]
    assert between
    high_pairs = {(s.segment_id, s.code) for s in high}
    assert not any((s.segment_id, s.code) in high_pairs for s in between)
    # whatever 0.9 proposes, 0.5 proposes too, or else a sub-code of it
    low_codes: dict[int, set[str]] = {}
    for s in low:
        low_codes.setdefault(s.segment_id, set()).add(s.code)
    for s in high:
        here = low_codes[s.segment_id]
        assert s.code in here or any(PARENT_OF[c] == s.code for c in here)
    assert model.suggest(segs, threshold=1.0) == [] or all(
        s.confidence == 1.0 for s in model.suggest(segs, threshold=1.0))
    for bad in (-0.1, 1.5):
        with pytest.raises(InvalidInput):
            model.suggest(segs, threshold=bad)


# --- persistence -------------------------------------------------------------------------
def test_to_bytes_round_trip(trained, fresh_texts) -> None:
    model = trained.model
    loaded = CodeClassifier.from_bytes(model.to_bytes())
    assert np.array_equal(loaded.predict_proba(fresh_texts), model.predict_proba(fresh_texts))
    assert loaded.codes == model.codes and loaded.metadata == model.metadata
    assert loaded.suggest(segments_for(fresh_texts)) == model.suggest(segments_for(fresh_texts))
    with pytest.raises(QualcodeError):
        loaded.predict_proba_reference(fresh_texts)


def test_from_bytes_refuses_other_formats_and_versions(trained) -> None:
    header, inner = pickle.loads(trained.model.to_bytes())
    newer = pickle.dumps(({**header, "version": 99}, inner))
    with pytest.raises(QualcodeError, match="format version 99"):
        CodeClassifier.from_bytes(newer)
    other_sklearn = pickle.dumps(({**header, "sklearn": "0.1.0"}, inner))
    with pytest.raises(QualcodeError, match="scikit-learn 0.1.0"):
        CodeClassifier.from_bytes(other_sklearn)
    with pytest.raises(QualcodeError, match="not a saved"):
        CodeClassifier.from_bytes(b"definitely not a pickle")
    with pytest.raises(QualcodeError, match="not a saved"):
        CodeClassifier.from_bytes(pickle.dumps({"a": 1}))


# --- cold start --------------------------------------------------------------------------
def test_codebook_seeds() -> None:
    seeds = seed_examples_from_codebook(tiny_codebook(), weight=0.5)
    coloc = [s for s in seeds if s.codes == {"colocation"}]
    assert len(coloc) == 4  # name + definition, two include criteria, the example
    assert coloc[0].text.startswith("Physical co-location. The employment specialist")
    assert all(s.origin == "codebook" and s.weight == 0.5 for s in seeds)
    with pytest.raises(InvalidInput):
        seed_examples_from_codebook([object()])


def test_codebook_seeds_predict_with_no_human_examples() -> None:
    seeds = seed_examples_from_codebook(tiny_codebook())
    parent_of = {c.id: c.parent for c in tiny_codebook()}
    result = train([], parent_of, seeds=seeds)
    model = result.model
    assert set(model.codes) == set(parent_of)
    assert (result.report["basis"] == "seed").all() and result.report["f1"].isna().all()
    assert model.metadata["n_examples"] == 0
    probes = {
        "disclosure": "should I disclose my criminal conviction to the employer",
        "colocation": "I am in the team office at the base two days a week",
        "fidelity": "the fidelity review gave us a good score",
    }
    p = model.predict_proba(list(probes.values()))
    for row, code in enumerate(probes):
        j = model.codes.index(code)
        others = [k for k, c in enumerate(model.codes)
                  if c != code and c != parent_of[code]]
        assert p[row, j] > p[row, others].max(), (code, dict(zip(model.codes, p[row])))
    assert any(s.code == "disclosure" for s in model.suggest(
        [SegmentInput(1, probes["disclosure"], "es")], threshold=0.3))


def test_weak_examples_from_rules(examples) -> None:
    segs = [SegmentInput(501, "we disclosed with consent", "es"),
            SegmentInput(502, "the mdt meeting on monday", "es"),
            SegmentInput(503, "nothing matched here", "es")]
    sugs = [Suggestion(501, "disclosure", "rule", 0.9, {"rule": "disclosure.consent"}),
            Suggestion(502, "team_meetings", "rule", 0.9, {}),
            Suggestion(502, "colocation", "rule", 0.6, {}),
            Suggestion(503, "outreach", "classifier", 0.8, {}),
            Suggestion(42, "outreach", "rule", 0.8, {})]
    weak = weak_examples_from_rules(segs, sugs)
    assert [(w.segment_id, w.codes) for w in weak] == [
        (501, frozenset({"disclosure"})), (502, frozenset({"team_meetings", "colocation"}))]
    assert all(w.origin == "rule" and w.weight == 0.5 and w.role == "es" for w in weak)
    # a rule label on a segment a person has coded is dropped: the human coding wins
    human = [TrainingExample(e.text, e.codes, segment_id=e.segment_id) for e in examples]
    clash = TrainingExample("overlapping text", frozenset({"outreach"}), segment_id=0,
                            origin="rule", weight=0.5)
    result = train(human, PARENT_OF, seeds=weak + [clash], evaluate=False)
    assert result.model.metadata["n_seed_examples"] == len(weak)


# --- calibration -------------------------------------------------------------------------
def test_platt_scale_recovers_a_known_sigmoid() -> None:
    rng = np.random.default_rng(0)
    s = rng.normal(size=20000)
    y = rng.random(20000) < 1 / (1 + np.exp(-(2.0 * s - 1.0)))
    a, b = platt_scale(s, y)
    assert abs(a - 2.0) < 0.1 and abs(b + 1.0) < 0.1
    # scores ranking the wrong way give a constant (prevalence) probability
    a, b = platt_scale(-s, y)
    assert a == 0.0
    assert abs(1 / (1 + math.exp(-b)) - y.mean()) < 0.01
    with pytest.raises(InvalidInput):
        platt_scale(np.array([0.1, 0.2]), np.array([True, True]))


# --- bad input -----------------------------------------------------------------------------
def test_bad_input_is_refused(examples) -> None:
    with pytest.raises(InvalidInput, match="not in the codebook"):
        train([TrainingExample("x", frozenset({"nope"}))] + examples, PARENT_OF)
    with pytest.raises(InvalidInput, match="cycle"):
        train(examples, {**PARENT_OF, "integration": "colocation"})
    with pytest.raises(InvalidInput, match="coded twice"):
        train(examples + [examples[0]], PARENT_OF)
    with pytest.raises(InvalidInput, match="seeds="):
        train([TrainingExample("x", frozenset(), origin="codebook")] + examples, PARENT_OF)
    with pytest.raises(InvalidInput, match="nothing to train on"):
        train([], PARENT_OF)
    with pytest.raises(InvalidInput, match="no code has enough"):
        train(examples[:3], PARENT_OF)
    with pytest.raises(InvalidInput, match="weight"):
        train([TrainingExample("x", frozenset(), weight=0.0)], PARENT_OF)
    with pytest.raises(InvalidInput, match="min_examples"):
        train(examples, PARENT_OF, min_examples=1)
