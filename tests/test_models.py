from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qualcode.analysis.models import TABLE_COLUMNS, compare_without, fit_logistic, forest_plot
from qualcode.errors import InvalidInput

BANDS = ["1-4", "5-8", "9-12", "13+"]
TRUE_BAND_OR = {"1-4": 1.0, "5-8": 4.0, "9-12": 7.0, "13+": 15.0}
TRUE_SOURCE_OR = {"Jobcentre": 1.0, "Treatment service": 3.0, "Self-referral": 12.0}


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    import statsmodels.api as sm

    return sm.datasets.spector.load_pandas().data


@pytest.fixture(scope="module")
def clients() -> pd.DataFrame:
    """Clients whose true odds ratios are known: meetings band and referral source."""
    rng = np.random.default_rng(20240611)
    n = 6000
    band = rng.choice(BANDS, n, p=[0.35, 0.3, 0.2, 0.15])
    source = rng.choice(list(TRUE_SOURCE_OR), n, p=[0.5, 0.35, 0.15])
    age = rng.integers(18, 65, n)
    logit = (np.log(0.12) + np.log([TRUE_BAND_OR[b] for b in band])
             + np.log([TRUE_SOURCE_OR[s] for s in source]) - 0.02 * (age - 40))
    job = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"meetings_band": band, "referral_source": source, "age": age, "job_start": job})


def row(table: pd.DataFrame, factor: str, level: str) -> pd.Series:
    hit = table[(table["factor"] == factor) & (table["level"] == level)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_spector_matches_published_coefficients(spector):
    # Greene, Econometric Analysis: const -13.021, GPA 2.826, TUCE 0.095, PSI 2.379
    result = fit_logistic(spector, "GRADE", factors=["PSI"], numeric=["GPA", "TUCE"], reference={"PSI": 0})
    table = result.table
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert row(table, "PSI", "1")["odds_ratio"] == pytest.approx(math.exp(2.379), rel=2e-3)
    assert row(table, "GPA", "(per unit)")["odds_ratio"] == pytest.approx(math.exp(2.826), rel=2e-3)
    assert row(table, "TUCE", "(per unit)")["odds_ratio"] == pytest.approx(math.exp(0.095), rel=2e-3)
    assert result.intercept_odds == pytest.approx(math.exp(-13.021), rel=2e-3)
    ref = row(table, "PSI", "0")
    assert ref["odds_ratio"] == 1.0 and math.isnan(ref["ci_low"]) and math.isnan(ref["p_value"])
    assert (ref["n"], row(table, "PSI", "1")["n"], row(table, "GPA", "(per unit)")["n"]) == (18, 14, 32)
    assert result.reference == {"PSI": "0"} and result.converged
    assert result.n_used == 32 and result.n_dropped == 0
    assert result.pseudo_r2 == pytest.approx(0.374, abs=1e-3)
    psi = row(table, "PSI", "1")
    assert psi["ci_low"] < psi["odds_ratio"] < psi["ci_high"] and psi["p_value"] == pytest.approx(0.0255, abs=1e-3)
    assert any("fewer than 10 per parameter" in w for w in result.warnings)  # 11 passes, 3 terms


def test_known_odds_ratios_recovered(clients):
    result = fit_logistic(clients, "job_start", ["meetings_band", "referral_source"], ["age"],
                          reference={"referral_source": "Jobcentre"})
    assert result.reference == {"meetings_band": "1-4", "referral_source": "Jobcentre"}  # natural order
    table = result.table
    assert table["level"].tolist()[:4] == BANDS
    for factor, truth in (("meetings_band", TRUE_BAND_OR), ("referral_source", TRUE_SOURCE_OR)):
        for level, odds in truth.items():
            r = row(table, factor, level)
            if odds == 1.0:
                assert r["odds_ratio"] == 1.0
                continue
            assert r["odds_ratio"] == pytest.approx(odds, rel=0.25)
            assert r["ci_low"] < odds < r["ci_high"]
            assert r["p_value"] < 1e-6
    age = row(table, "age", "(per unit)")
    assert age["odds_ratio"] == pytest.approx(math.exp(-0.02), abs=0.01)
    assert table["n"].iloc[:4].sum() == len(clients) == result.n_used
    assert result.warnings == []


def test_missing_rows_dropped_and_counted(clients):
    df = clients.copy().astype({"age": float, "meetings_band": object})
    df.loc[df.index[:30], "age"] = np.nan
    df.loc[df.index[20:45], "meetings_band"] = " "  # blanks count as missing; rows 20-29 overlap
    df.loc[df.index[100:107], "job_start"] = np.nan
    result = fit_logistic(df, "job_start", ["meetings_band"], ["age"])
    assert result.n_dropped == 45 + 7
    assert result.n_used == len(df) - 52
    assert row(result.table, "meetings_band", "1-4")["n"] + row(result.table, "meetings_band", "5-8")["n"] <= result.n_used


def test_reference_override_is_a_reparametrisation(clients):
    base = fit_logistic(clients, "job_start", ["meetings_band"]).table
    moved = fit_logistic(clients, "job_start", ["meetings_band"], reference={"meetings_band": "9-12"})
    assert moved.reference == {"meetings_band": "9-12"}
    assert moved.table["level"].tolist()[0] == "9-12"
    expected = row(base, "meetings_band", "13+")["odds_ratio"] / row(base, "meetings_band", "9-12")["odds_ratio"]
    assert row(moved.table, "meetings_band", "13+")["odds_ratio"] == pytest.approx(expected, rel=1e-6)
    assert row(moved.table, "meetings_band", "1-4")["odds_ratio"] < 1


def test_categorical_order_sets_default_reference(clients):
    df = clients.assign(referral_source=pd.Categorical(clients["referral_source"],
                                                       categories=["Self-referral", "Jobcentre", "Treatment service"]))
    result = fit_logistic(df, "job_start", ["referral_source"])
    assert result.reference == {"referral_source": "Self-referral"}
    assert row(result.table, "referral_source", "Jobcentre")["odds_ratio"] < 0.2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(factors=["meetings_band"], reference={"meetings_band": "20+"}), "reference level '20\\+' is not a level"),
        (dict(factors=["meetings_band"], reference={"site": "A"}), "not one of the factors"),
        (dict(factors=["borough"]), "no column 'borough'"),
        (dict(factors=["meetings_band"], numeric=["referral_source"]), "is not a number"),
    ],
)
def test_bad_requests(clients, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        fit_logistic(clients, "job_start", **kwargs)


def test_outcome_must_be_binary(clients):
    with pytest.raises(InvalidInput, match="must be 0/1"):
        fit_logistic(clients.assign(job_start=clients["job_start"] * 2), "job_start", ["meetings_band"])


def test_level_with_no_job_starts_is_nan_with_warning(clients):
    df = clients.copy()
    df["site"] = np.where(np.arange(len(df)) % 4 == 0, "Ealing", np.where(np.arange(len(df)) % 4 == 1, "Brent", "Barnet"))
    df.loc[df["site"] == "Ealing", "job_start"] = 0
    result = fit_logistic(df, "job_start", ["meetings_band", "site"])
    ealing = row(result.table, "site", "Ealing")
    assert math.isnan(ealing["odds_ratio"]) and math.isnan(ealing["ci_low"]) and ealing["n"] == 1500
    assert any("site = 'Ealing'" in w and "job_start = 0" in w for w in result.warnings)
    assert result.converged
    assert row(result.table, "meetings_band", "13+")["odds_ratio"] == pytest.approx(15, rel=0.35)


def test_perfect_separation_on_a_number_does_not_crash(clients):
    df = clients.assign(score=clients["job_start"] * 3.0 + 1)
    result = fit_logistic(df, "job_start", ["meetings_band"], ["score"])
    assert not result.converged and result.method == "ridge-penalised fallback"
    assert any("separation" in w for w in result.warnings)
    assert row(result.table, "score", "(per unit)")["odds_ratio"] > 1
    assert result.table["ci_low"].isna().all()


def test_aliased_factor_is_not_estimable(clients):
    df = clients.assign(band_copy=clients["meetings_band"])
    result = fit_logistic(df, "job_start", ["meetings_band", "band_copy"])
    copies = result.table[(result.table["factor"] == "band_copy") & (result.table["odds_ratio"] != 1.0)]
    assert copies["odds_ratio"].isna().all() and len(copies) == 3
    assert any("aliased" in w for w in result.warnings)
    assert row(result.table, "meetings_band", "5-8")["odds_ratio"] == pytest.approx(4, rel=0.25)


def test_compare_with_and_without_meetings():
    # boroughs differ only in how many meetings they give (quantity), not in quality
    rng = np.random.default_rng(7)
    n = 5000
    borough = rng.choice(["Barnet", "Ealing", "Brent"], n)
    meetings = rng.poisson(np.select([borough == "Barnet", borough == "Ealing"], [12, 4], 8))
    job = (rng.random(n) < 1 / (1 + np.exp(-(-3 + 0.25 * meetings)))).astype(int)
    df = pd.DataFrame({"borough": borough, "meetings": meetings.astype(float), "job_start": job})
    df.loc[:9, "meetings"] = np.nan
    table = compare_without(df, "job_start", ["borough"], numeric=["meetings"], without="meetings",
                            focus="borough", reference={"borough": "Brent"})
    assert list(table.columns) == [
        "factor", "level", "n", "odds_ratio_with", "ci_low_with", "ci_high_with", "p_value_with",
        "odds_ratio_without", "ci_low_without", "ci_high_without", "p_value_without"]
    barnet = table.set_index("level").loc["Barnet"]
    assert 0.7 < barnet["odds_ratio_with"] < 1.4  # little quality difference once meetings count
    assert barnet["odds_ratio_without"] > 2  # the raw gap is all quantity
    assert table.attrs["without"] == "meetings" and table.attrs["n_dropped"] == 10
    assert table["n"].sum() == n - 10
    with pytest.raises(InvalidInput, match="'without' must be"):
        compare_without(df, "job_start", ["borough"], without="borough", focus="borough")


def test_forest_plot_png(clients, tmp_path):
    df = clients.copy()
    df.loc[df["referral_source"] == "Self-referral", "job_start"] = 1  # one level not estimable
    table = fit_logistic(df, "job_start", ["meetings_band", "referral_source"], ["age"]).table
    out = forest_plot(table, tmp_path / "forest.png", "Odds of a job start")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["forest.png"]
    with pytest.raises(InvalidInput, match="empty"):
        forest_plot(table.iloc[:0], tmp_path / "e.png", "x")
