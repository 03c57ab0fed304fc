"""The words behind a classifier suggestion (qualcode.coding.evidence and
CodeClassifier.suggest's evidence)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse

from qualcode.coding.base import SegmentInput
from qualcode.coding.classifier import TrainingExample, train
from qualcode.coding.evidence import block_contributions, credit_characters, find_term, top_entries

PARENT_OF: dict[str, str | None] = {"theme": None, "meetings": "theme", "employers": "theme"}
WORDS = {"meetings": "huddle allocation agenda minutes multidisciplinary".split(),
         "employers": "tea visit shop manager vacancy".split()}
FILLER = "the and we they it is was so really just think about work know mean yeah".split()


def test_find_term_gives_code_point_offsets_of_whole_words() -> None:
    text = "Café talk — She DIDN'T make him feel stupid; she didn't."
    at = find_term(text, "didn make")
    assert at is not None and text[at[0]:at[1]] == "DIDN'T make"
    assert find_term(text, "make him feel") == (text.index("make"), text.index("feel") + 4)
    assert find_term(text, "caf") is None  # words, not parts of words
    assert find_term(text, "him stupid") is None  # consecutive words only
    assert find_term("", "anything") is None


def test_top_contributions_match_a_dense_computation() -> None:
    rng = np.random.default_rng(3)
    x = sparse.random(30, 40, density=0.3, format="csr", random_state=4)
    coef = rng.normal(size=(40, 5))
    rows, cols = [0, 3, 3, 29, 7], [1, 0, 4, 2, 2]
    scores = block_contributions(x, rows, cols, coef, (5, 25))
    got = top_entries(scores, k=3)
    dense = x.toarray()
    for n, (r, c) in enumerate(zip(rows, cols)):
        contrib = dense[r, 5:25] * coef[5:25, c]
        np.testing.assert_allclose(scores.toarray()[n], contrib)
        want = sorted(((f, v) for f, v in enumerate(contrib) if v > 0), key=lambda fv: -fv[1])[:3]
        assert [f for f, _ in got[n]] == [f for f, _ in want]
        assert [v for _, v in got[n]] == pytest.approx([v for _, v in want])


def test_character_ngrams_are_credited_to_the_words_that_hold_them() -> None:
    # two pairs; word columns: "calm", "she", "she was" (a pair of words holds no gram)
    # char columns: g0 in "calm" only, g1 in both "calm" and "she", g2 in no present word
    grams_of_word = sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=float))
    words = sparse.csr_matrix(np.array([[0.5, 0.2, 0.1], [0.0, 0.3, 0.0]]))
    chars = sparse.csr_matrix(np.array([[1.0, 0.6, 9.0], [1.0, 0.4, 0.0]]))
    credit = credit_characters(words, chars, grams_of_word).toarray()
    # pair 0: calm gets g0 and half of g1; she gets the other half; g2 is held by no word
    np.testing.assert_allclose(credit[0], [1.0 + 0.3, 0.3, 0.0])
    # pair 1: only "she" is present, so g0 (held by the absent "calm") goes to nobody
    np.testing.assert_allclose(credit[1], [0.0, 0.4, 0.0])


@pytest.fixture(scope="module")
def model():  # noqa: ANN201
    rng = random.Random(5)
    examples = []
    for i in range(80):
        code = "meetings" if i % 2 else "employers"
        text = " ".join(rng.sample(WORDS[code], 2) + rng.sample(FILLER, 8))
        question = "how do the team meetings go" if code == "meetings" else "how do the employer visits go"
        examples.append(TrainingExample(text, frozenset({code}), segment_id=i, context=question))
    return train(examples, PARENT_OF, evaluate=False).model


def test_suggestions_name_the_words_that_raised_the_score(model) -> None:  # noqa: ANN001
    text = "Well, the Huddle on a Monday sets the agenda, and we know what to do."
    seg = SegmentInput(id=1, text=text, role="es", document="d", start=500, end=500 + len(text),
                       context="How do the team meetings go?")
    (sug,) = [s for s in model.suggest([seg]) if s.code == "meetings"]
    evidence = sug.provenance["evidence"]
    assert 1 <= len(evidence) <= 3
    weights = [e["weight"] for e in evidence]
    assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
    doc = " " * 500 + text
    for e in evidence:
        a, b = e["span"]
        assert doc[a:b] == e["matched"] and e["matched"].lower() == e["term"]
    assert {e["term"] for e in evidence} & {"huddle", "agenda"}
    context_terms = {e["term"] for e in sug.provenance["context_evidence"]}
    assert all(find_term(seg.context, t) for t in context_terms)  # words of the question
    assert context_terms & {"team", "meetings", "the team", "team meetings", "meetings go"}
    # the evidence is what the score rests on: without its top word the score falls
    top = evidence[0]["matched"]
    (weaker,) = model.predict_proba([text.replace(top, "")], [seg.context])[:, [model.codes.index("meetings")]]
    assert weaker[0] < sug.confidence


def test_a_segment_without_offsets_gets_words_but_no_span(model) -> None:  # noqa: ANN001
    seg = SegmentInput(id=1, text="the huddle agenda and the minutes", role="es", start=None)  # type: ignore[arg-type]
    (sug,) = [s for s in model.suggest([seg]) if s.code == "meetings"]
    assert sug.provenance["evidence"] and all("matched" in e and "span" not in e for e in sug.provenance["evidence"])


def test_evidence_can_be_left_out(model) -> None:  # noqa: ANN001
    seg = SegmentInput(id=1, text="the huddle agenda and the minutes", role="es")
    with_words, without = model.suggest([seg]), model.suggest([seg], evidence=False)
    assert [s.code for s in with_words] == [s.code for s in without]
    assert all("evidence" in s.provenance for s in with_words)
    assert not any("evidence" in s.provenance or "context_evidence" in s.provenance for s in without)


def test_review_and_web_show_the_evidence() -> None:
    from qualcode.coding.review import SuggestionView, describe_suggestion
    from qualcode.web.viewmodel import why

    prov = {"model": "tfidf-logreg", "score": 0.71, "threshold": 0.5,
            "evidence": [{"term": "didn make", "matched": "didn't\nmake", "span": [3, 14], "weight": 0.4},
                         {"term": "calm", "weight": 0.2}]}
    view = SuggestionView(1, 2, "people_skills", "classifier", 0.71, prov, "suggested")
    assert describe_suggestion(view) == "people_skills (classifier 0.71: 'didn't make', 'calm')"
    shown = why({"source": "classifier", "provenance": prov, "confidence": 0.71})
    assert shown == "classifier tfidf-logreg: score 0.71 (threshold 0.50) \u00b7 words \u201cdidn't make\u201d, \u201ccalm\u201d"
    # an older suggestion without evidence reads as before
    assert describe_suggestion(SuggestionView(1, 2, "x", "classifier", 0.6, {}, "suggested")) == "x (classifier 0.60)"
