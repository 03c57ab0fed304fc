"""Integration evidence per site, the derived rating's thresholds, and the comparison with
the rating an evaluator entered."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from qualcode.analysis.rating import INSUFFICIENT, compare_ratings, derive_rating, integration_evidence
from qualcode.errors import InvalidInput

INFO = pd.DataFrame({
    "code": ["integration", "co_location", "team_exclusion", "barriers", "stigma"],
    "top": ["integration", "integration", "integration", "barriers", "barriers"],
    "realist_role": ["context", "context", "mechanism", "context", "context"],
    "direction": [None, "enabling", "hindering", None, "hindering"],
})


@pytest.mark.parametrize(
    "enabling, hindering, balance, rating",
    [
        (0, 0, float("nan"), INSUFFICIENT),
        (1, 1, 0.0, INSUFFICIENT),  # 2 codings: under the minimum of 3
        (1, 2, -1 / 3, "low"),
        (0, 3, -1.0, "low"),
        (2, 2, 0.0, "medium"),  # balance exactly 0 is not below 0
        (2, 1, 1 / 3, "medium"),
        (3, 1, 0.5, "high"),  # exactly 0.5 is high
        (3, 0, 1.0, "high"),
    ],
)
def test_rating_thresholds(enabling: int, hindering: int, balance: float, rating: str) -> None:
    got_balance, got_rating = derive_rating(enabling, hindering)
    assert got_rating == rating
    assert (math.isnan(got_balance) and math.isnan(balance)) or got_balance == pytest.approx(balance)


def test_min_evidence_can_be_raised() -> None:
    assert derive_rating(3, 0, min_evidence=4)[1] == INSUFFICIENT
    assert derive_rating(4, 0, min_evidence=4)[1] == "high"


@pytest.fixture
def evidence() -> pd.DataFrame:
    segments = pd.DataFrame(
        [
            (1, "a1.txt", "A", "es", 0, "We share the office."),
            (2, "a1.txt", "A", "es", 1, "I go to every MDT."),
            (3, "a2.txt", "A", "ad_staff", 0, "She sits with us."),
            (4, "a2.txt", "A", "ad_staff", 1, "Sometimes she is left out."),
            (5, "b1.txt", "B", "es", 0, "I am on site once a month."),
            (6, "b1.txt", "B", "es", 1, "They never invite me."),
            (7, "b2.txt", "B", "client", 0, "She was not allowed in the meeting."),
            (8, "c1.txt", "C", "es", 0, "Good days and bad days."),
            (9, "c1.txt", "C", "es", 1, "Mixed."),
            (10, "d1.txt", "D", "es", 0, "Nothing about the team."),
        ],
        columns=["segment_id", "document", "site", "role", "seq", "text"],
    )
    codings = pd.DataFrame(
        [
            (1, "co_location", "human", "alice", None),
            (1, "co_location", "human", "bob", None),  # same segment and code: once
            (1, "stigma", "human", "alice", None),  # another pillar: not counted
            (2, "co_location", "rule", None, 0.7),
            (2, "integration", "human", "alice", None),  # no direction: not counted
            (3, "co_location", "human", "alice", None),
            (4, "team_exclusion", "human", "alice", None),
            (5, "co_location", "human", "alice", None),
            (6, "team_exclusion", "human", "alice", None),
            (7, "team_exclusion", "classifier", None, 0.8),
            (8, "co_location", "human", "alice", None),
            (9, "team_exclusion", "human", "alice", None),
        ],
        columns=["segment_id", "code", "source", "decided_by", "confidence"],
    )
    return integration_evidence(codings, segments, INFO, quotes=2)


def test_integration_evidence_per_site(evidence: pd.DataFrame) -> None:
    rows = evidence.set_index("site")
    assert list(rows.index) == ["A", "B", "C", "D"]
    counts = rows[["enabling", "hindering", "evidence", "interviews", "rating"]].to_dict("index")
    assert counts == {
        "A": {"enabling": 3, "hindering": 1, "evidence": 4, "interviews": 2, "rating": "high"},
        "B": {"enabling": 1, "hindering": 2, "evidence": 3, "interviews": 2, "rating": "low"},
        "C": {"enabling": 1, "hindering": 1, "evidence": 2, "interviews": 1, "rating": INSUFFICIENT},
        "D": {"enabling": 0, "hindering": 0, "evidence": 0, "interviews": 0, "rating": INSUFFICIENT},
    }
    assert rows.loc["A", "balance"] == pytest.approx(0.5)
    assert rows.loc["B", "balance"] == pytest.approx(-1 / 3)
    assert math.isnan(rows.loc["D", "balance"])
    # a person's codings first, one per interview first: segment 1 (a1), then 3 (a2), not 2
    assert rows.loc["A", "enabling_quotes"] == ('"We share the office." (IPS ES, A)\n\n'
                                                '"She sits with us." (Clinical staff, A)')
    assert rows.loc["A", "hindering_quotes"] == '"Sometimes she is left out." (Clinical staff, A)'
    assert rows.loc["B", "hindering_quotes"] == ('"They never invite me." (IPS ES, B)\n\n'
                                                 '"She was not allowed in the meeting." (IPS client, B)')
    assert rows.loc["D", "enabling_quotes"] == ""


def test_compare_ratings_flags_differences(evidence: pd.DataFrame) -> None:
    entered = pd.DataFrame({"site": ["A", " b ", "C", "E"], "integration_rating": ["High", "medium", "low", "low"]})
    out = compare_ratings(evidence, entered).set_index("site")
    assert list(out.index) == ["A", "B", "C", "D", "E"]
    assert out["entered_rating"].fillna("").to_dict() == {"A": "high", "B": "medium", "C": "low", "D": "", "E": "low"}
    assert str(out["differs"].dtype) == "boolean"
    assert bool(out.loc["A", "differs"]) is False and bool(out.loc["B", "differs"]) is True
    assert out["differs"].isna().to_dict() == {"A": False, "B": False, "C": True, "D": True, "E": True}
    assert out.loc["E", "rating"] == INSUFFICIENT and out.loc["E", "evidence"] == 0
    with pytest.raises(InvalidInput, match="must be low, medium or high"):
        compare_ratings(evidence, pd.DataFrame({"site": ["A"], "integration_rating": ["strong"]}))
    with pytest.raises(InvalidInput, match="more than once"):
        compare_ratings(evidence, pd.DataFrame({"site": ["A", "a"], "integration_rating": ["low", "high"]}))
