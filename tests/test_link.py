from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from qualcode.analysis.link import _jitter, joint_display, link_chart, spearman_link
from qualcode.analysis.outcomes import read_table, validate_site_outcomes
from qualcode.errors import InvalidInput, QualcodeError

FIXTURES = Path(__file__).parent / "fixtures" / "outcomes"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def boroughs() -> pd.DataFrame:
    frame = read_table(FIXTURES / "boroughs.csv").rename(columns={"borough": "site"})
    return validate_site_outcomes(frame, "boroughs.csv").frame


@pytest.fixture()
def themes() -> pd.DataFrame:
    return pd.DataFrame({
        "site": ["barnet", "Harrow", "Hounslow", "Brent", "Hillingdon", "Ealing", "Westminster",
                 "Kensington &  Chelsea", "Camden"],
        "co_location": [9, 7, 5, 4, 4, 8, 1, 2, 3],
        "referral_gatekeeping_share": [0.1, 0.2, 0.3, 0.3, 0.4, 0.2, 0.6, 0.5, 0.4],
    })


def test_joint_display_rows_order_and_columns(boroughs, themes):
    display = joint_display(themes, boroughs, "job_entry_rate")
    assert list(display.columns) == ["site", "integration_rating", "co_location",
                                     "referral_gatekeeping_share", "job_entry_rate"]
    assert len(display) == 9  # eight boroughs plus Camden, which has themes but no outcomes
    assert display["site"].tolist()[:8] == [
        "Kensington & Chelsea", "Westminster",  # low, by rate
        "Hillingdon", "Brent", "Hounslow",      # medium
        "Ealing", "Harrow", "Barnet",           # high
    ]
    assert display["site"].iloc[-1] == "Camden" and pd.isna(display["integration_rating"].iloc[-1])
    barnet = display.set_index("site").loc["Barnet"]
    assert barnet["co_location"] == 9 and barnet["job_entry_rate"] == pytest.approx(47 / 120)


def test_joint_display_with_evidence_rating(boroughs, themes):
    evidence = pd.DataFrame({"site": list(boroughs["site"]), "rating": ["high"] * 4 + ["Low"] * 4})
    display = joint_display(themes.iloc[:8], boroughs, "job_entry_rate", evidence_rating=evidence)
    assert list(display.columns)[:3] == ["site", "integration_rating", "evidence_rating"]
    assert display.set_index("site").loc["Ealing", "evidence_rating"] == "low"


def test_joint_display_other_key_column(boroughs, themes):
    by_borough = boroughs.rename(columns={"site": "borough"})
    display = joint_display(themes, by_borough, "job_entry_rate", key="borough")
    assert display["site"].iloc[0] == "Kensington & Chelsea" and len(display) == 9


def test_joint_display_errors(boroughs, themes):
    with pytest.raises(InvalidInput, match="no column 'job_rate'"):
        joint_display(themes, boroughs, "job_rate")
    twice = pd.concat([themes, themes.iloc[:1]])
    with pytest.raises(InvalidInput, match="appears more than once"):
        joint_display(twice, boroughs, "job_entry_rate")
    bad = boroughs.assign(integration_rating="strong")
    with pytest.raises(InvalidInput, match="must be low, medium or high"):
        joint_display(themes, bad, "job_entry_rate")


def test_spearman_on_eight_boroughs(boroughs, themes):
    display = joint_display(themes, boroughs, "job_entry_rate").dropna(subset=["job_entry_rate"])
    result = spearman_link(display, "integration_rating", "job_entry_rate")
    scores = display["integration_rating"].map({"low": 1, "medium": 2, "high": 3})
    assert result.rho == pytest.approx(spearmanr(scores, display["job_entry_rate"])[0])
    assert result.n == 8
    assert result.caveat.startswith(
        "Only 8 sites: a rank correlation on so few sites is fragile; read it as description, not evidence."
    )
    assert "Ties:" in result.caveat and "integration_rating" in result.caveat
    assert "exact" in result.method and "40320" in result.method
    assert 0 < result.p_value < 1


def test_exact_p_value_for_perfect_order():
    display = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [10, 20, 30, 40, 50]})
    result = spearman_link(display, "a", "b")
    assert result.rho == pytest.approx(1.0)
    assert result.p_value == pytest.approx(2 / 120)  # only the two perfect orderings are as extreme
    assert "Ties" not in result.caveat


def test_many_sites_use_scipy_p_and_no_small_n_caveat():
    rng = np.random.default_rng(3)
    display = pd.DataFrame({"x": rng.normal(size=25), "y": rng.normal(size=25)})
    result = spearman_link(display, "x", "y")
    rho, p = spearmanr(display["x"], display["y"])
    assert (result.rho, result.p_value) == pytest.approx((rho, p))
    assert result.caveat is None and "t approximation" in result.method


def test_too_few_or_constant_gives_nan_not_crash():
    two = spearman_link(pd.DataFrame({"x": ["low", "high", None], "y": [0.1, 0.3, 0.2]}), "x", "y")
    assert math.isnan(two.rho) and math.isnan(two.p_value) and two.n == 2
    assert "too few" in two.caveat
    flat = spearman_link(pd.DataFrame({"x": ["high"] * 4, "y": [0.1, 0.3, 0.2, 0.4]}), "x", "y")
    assert math.isnan(flat.rho) and "same x" in flat.caveat


def test_jitter_separates_tied_sites():
    groups = pd.Series([0.0, 1.0, 1.0, 1.0, 2.0])
    offsets = _jitter(groups, pd.Series([0.2, 0.3, 0.1, 0.2, 0.4]))
    assert offsets[0] == 0 and offsets[4] == 0
    middle = offsets[1:4]
    assert len(set(middle)) == 3 and max(abs(middle)) < 0.2
    assert middle[1] < middle[2] < middle[0]  # spread in order of the outcome


def test_link_chart_writes_png(boroughs, themes, tmp_path):
    display = joint_display(themes, boroughs, "job_entry_rate")
    out = link_chart(display, "integration_rating", "job_entry_rate", path=tmp_path / "link.png")
    assert out == tmp_path / "link.png"
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png"]  # no temp file left
    numeric = link_chart(display, "co_location", "job_entry_rate", path=tmp_path / "n.png", title="T")
    assert numeric.read_bytes()[:8] == PNG
    with pytest.raises(QualcodeError, match="does not exist"):
        link_chart(display, "integration_rating", "job_entry_rate", path=tmp_path / "no" / "x.png")


def test_joint_display_shows_insufficient_evidence_as_unrated(boroughs, themes):
    ratings = ["high", "insufficient evidence"] + ["low"] * 6
    evidence = pd.DataFrame({"site": list(boroughs["site"])[:8], "evidence_rating": ratings})
    display = joint_display(themes.iloc[:8], boroughs, "job_entry_rate", evidence_rating=evidence)
    second = list(boroughs["site"])[1]
    assert display.set_index("site").loc[second, "evidence_rating"] == "insufficient evidence"
    bad = evidence.assign(evidence_rating=["high", "sort of"] + ["low"] * 6)
    with pytest.raises(InvalidInput, match="sort of"):
        joint_display(themes.iloc[:8], boroughs, "job_entry_rate", evidence_rating=bad)
