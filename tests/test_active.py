"""Tests for active learning (qualcode.coding.active)."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.coding.active import COLUMNS, select_next, uncertainty
from qualcode.coding.base import SegmentInput
from qualcode.coding.classifier import TrainingExample, train
from qualcode.errors import InvalidInput

PARENT_OF = {"employer": None, "disclosure": "employer", "three_cups": "employer",
             "outreach": None}
WORDS = {
    "disclosure": "disclose conviction criminal record stigma consent declare".split(),
    "three_cups": "tea cups visit manager shop coffee face-to-face".split(),
    "outreach": "disengaged chase letters missed appointment reengage dropped".split(),
}
FILLER = ("the and we they it is was so really just think about client people service "
          "work know mean yeah like sort of things there what when have get more").split()


def text_for(rng: random.Random, code: str, strong: bool) -> str:
    words = rng.sample(WORDS[code], 4 if strong else 1) + rng.sample(FILLER, 12)
    rng.shuffle(words)
    return " ".join(words)


@pytest.fixture(scope="module")
def model():
    rng = random.Random(5)
    examples = []
    for i in range(60):
        code = list(WORDS)[i % 3]
        examples.append(TrainingExample(text_for(rng, code, strong=True), frozenset({code}),
                                        segment_id=i))
    return train(examples, PARENT_OF, evaluate=False).model


def seg(i: int, text: str, document: str, site: str | None = "s1") -> SegmentInput:
    return SegmentInput(id=i, text=text, role="client", document=document, site=site)


def weak_and_strong(rng: random.Random, n_weak: int, n_strong: int, doc: str, start: int,
                    site: str | None = "s1") -> list[SegmentInput]:
    codes = list(WORDS)
    out = [seg(start + i, text_for(rng, codes[i % 3], strong=False), doc, site)
           for i in range(n_weak)]
    out += [seg(start + n_weak + i, text_for(rng, codes[i % 3], strong=True), doc, site)
            for i in range(n_strong)]
    return out


def test_uncertain_segments_come_first(model) -> None:
    rng = random.Random(1)
    segs = weak_and_strong(rng, 12, 30, "doc1", 0)
    table = select_next(model, segs, n=6)
    assert list(table.columns) == COLUMNS
    assert len(table) == 6
    u_all, _ = uncertainty(model.predict_proba([s.text for s in segs]))
    # the most uncertain segment of all is first, and rows are most uncertain first
    assert table["segment_id"].iloc[0] == segs[int(np.argmax(u_all))].id
    assert table["uncertainty"].is_monotonic_decreasing
    # the picks are the weakly cued segments, never the clear-cut ones
    assert set(table["segment_id"]) <= {s.id for s in segs[:12]}
    strong_u = u_all[12:]
    assert table["uncertainty"].min() > strong_u.max()


def test_columns_agree_with_the_model(model) -> None:
    rng = random.Random(2)
    segs = weak_and_strong(rng, 10, 5, "doc1", 0)
    table = select_next(model, segs, n=5)
    probs = model.predict_proba(table["text"].tolist())
    for k, row in enumerate(table.itertuples()):
        j = model.codes.index(row.most_uncertain_code)
        assert row.p == pytest.approx(probs[k, j], abs=1e-12)
        assert row.uncertainty == pytest.approx(1 - 2 * np.abs(probs[k] - 0.5).min(), abs=1e-12)
        assert row.role == "client" and row.document == "doc1" and row.site == "s1"


def test_picks_are_spread_across_documents(model) -> None:
    rng = random.Random(3)
    segs = weak_and_strong(rng, 30, 5, "big", 0)  # one document with many candidates
    for k, doc in enumerate(["b", "c", "d"]):
        segs += weak_and_strong(rng, 5, 5, doc, 100 * (k + 1))
    table = select_next(model, segs, n=8)
    assert Counter(table["document"]) == {"big": 2, "b": 2, "c": 2, "d": 2}
    # without spreading, the big document would have dominated the top 8
    u_all, _ = uncertainty(model.predict_proba([s.text for s in segs]))
    top8 = [segs[i].document for i in np.argsort(-u_all, kind="stable")[:8]]
    assert Counter(top8)["big"] > 2


def test_picks_are_spread_across_sites_first(model) -> None:
    rng = random.Random(4)
    segs = []
    for k, doc in enumerate(["x1", "x2", "x3"]):
        segs += weak_and_strong(rng, 6, 0, doc, 100 * k, site="site_x")
    segs += weak_and_strong(rng, 6, 0, "y1", 900, site="site_y")
    table = select_next(model, segs, n=4)
    assert Counter(table["site"]) == {"site_x": 2, "site_y": 2}
    assert table[table["site"] == "site_x"]["document"].nunique() == 2


def test_entropy_strategy(model) -> None:
    rng = random.Random(6)
    segs = weak_and_strong(rng, 10, 10, "doc1", 0)
    by_entropy = select_next(model, segs, n=5, strategy="entropy")
    probs = model.predict_proba(by_entropy["text"].tolist())
    p = np.clip(probs, 1e-15, 1 - 1e-15)
    h = (-(p * np.log2(p) + (1 - p) * np.log2(1 - p))).mean(axis=1)
    np.testing.assert_allclose(by_entropy["uncertainty"], h, atol=1e-12)
    assert ((by_entropy["uncertainty"] >= 0) & (by_entropy["uncertainty"] <= 1)).all()
    assert by_entropy["uncertainty"].is_monotonic_decreasing


def test_without_a_model_a_spread_random_sample(model) -> None:
    rng = random.Random(7)
    segs = []
    for k, doc in enumerate(["a", "b", "c"]):
        segs += weak_and_strong(rng, 4, 6 if doc == "a" else 1, doc, 100 * k)
    first = select_next(None, segs, n=6, seed=11)
    again = select_next(None, segs, n=6, seed=11)
    assert first.equals(again)
    assert Counter(first["document"]) == {"a": 2, "b": 2, "c": 2}
    assert first["uncertainty"].isna().all() and first["p"].isna().all()
    assert first["most_uncertain_code"].isna().all()
    everything = select_next(None, segs, n=1000, seed=11)
    assert sorted(everything["segment_id"]) == sorted(s.id for s in segs)
    other = select_next(None, segs, n=len(segs), seed=12)
    assert list(other["segment_id"]) != list(everything["segment_id"])


def test_blank_segments_and_bad_arguments(model) -> None:
    assert list(select_next(model, [], n=3).columns) == COLUMNS
    blank = select_next(model, [seg(1, "   ", "a")], n=3)
    assert blank.empty
    segs = [seg(1, "we talked about disclosure", "a")]
    for bad in (0, -2, 1.5, True):
        with pytest.raises(InvalidInput):
            select_next(model, segs, n=bad)
    with pytest.raises(InvalidInput, match="strategy"):
        select_next(model, segs, strategy="random")
    with pytest.raises(InvalidInput):
        select_next(model, ["just a string"])
    with pytest.raises(InvalidInput):
        uncertainty(np.zeros((3, 0)))
    assert math.isclose(uncertainty(np.array([[0.5, 0.9]]))[0][0], 1.0)


SITE_OF = {"a": "s1", "b": "s1", "c": "s2", "d": "s2", "e": None}


@settings(max_examples=60, deadline=None)
@given(docs=st.lists(st.sampled_from(sorted(SITE_OF)), min_size=1, max_size=40),
       n=st.integers(min_value=1, max_value=45), seed=st.integers(0, 5))
def test_random_sample_is_balanced_unless_a_group_runs_out(docs, n, seed) -> None:
    segs = [seg(i, f"text {i}", d, SITE_OF[d]) for i, d in enumerate(docs)]
    table = select_next(None, segs, n=n, seed=seed)
    assert len(table) == min(n, len(segs))
    assert table["segment_id"].is_unique
    size = Counter(docs)
    site_size = Counter(SITE_OF[d] for d in docs)
    got = Counter(table["document"])
    got_site = Counter(SITE_OF[d] for d in table["document"])
    for x in site_size:  # sites: a site is short of another only when it has run out
        for y in site_size:
            if got_site[x] < got_site[y] - 1:
                assert got_site[x] == site_size[x]
    for x in size:  # documents of one site, likewise
        for y in size:
            if SITE_OF[x] == SITE_OF[y] and got[x] < got[y] - 1:
                assert got[x] == size[x]
