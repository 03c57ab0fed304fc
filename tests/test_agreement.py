"""Inter-coder agreement: published worked examples, coverage, hierarchy, edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.analysis.agreement import (
    agreement_nominal,
    agreement_presence,
    confusion,
    disagreements,
    pairwise_kappa,
    precision_recall,
    presence_table,
    roll_up,
)
from qualcode.errors import InvalidInput


def frame(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


def row(result: pd.DataFrame, code: str) -> pd.Series:
    hits = result[result["code"] == code]
    assert len(hits) == 1
    return hits.iloc[0]


def presence_codings(vectors: dict[str, list[int]], code: str = "c") -> pd.DataFrame:
    """Codings from 0/1 vectors per coder (unit = position)."""
    return frame([(u, coder, code) for coder, vec in vectors.items()
                  for u, v in enumerate(vec) if v == 1])


# --- published worked examples ---------------------------------------------------------
def test_cohen_kappa_classic_two_by_two() -> None:
    # 50 units: both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> kappa 0.4
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    codings = presence_codings({"A": a, "B": b})
    coverage = {"A": range(50), "B": range(50)}
    result = agreement_presence(codings, ["A", "B"], ["c"], coverage)
    c = row(result, "c")
    assert c["units"] == 50 and c["coders"] == 2
    assert c["percent_agreement"] == pytest.approx(0.70)
    assert c["cohen_kappa"] == pytest.approx(0.4)
    assert (c["n_A"], c["n_B"]) == (25, 30)
    overall = row(result, "(overall)")  # one code: pooled equals per-code
    assert overall["cohen_kappa"] == pytest.approx(0.4)
    assert list(result["code"]) == ["c", "(overall)"]


KRIPPENDORFF_2011 = {  # "Computing Krippendorff's Alpha-Reliability", nominal example
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}


def test_krippendorff_alpha_nominal_with_missing_data() -> None:
    assignments = frame([(unit, coder, value)
                         for coder, line in KRIPPENDORFF_2011.items()
                         for unit, value in enumerate(line.split(), start=1) if value != "."])
    result = agreement_nominal(assignments, ["A", "B", "C", "D"])
    overall = row(result, "(overall)")
    assert round(overall["krippendorff_alpha"], 3) == 0.743
    # units 2..9 are coded by all four; they agree on 3, 4, 5, 7, 9
    assert overall["units"] == 8
    assert overall["percent_agreement"] == pytest.approx(5 / 8)
    assert math.isnan(overall["cohen_kappa"])  # four coders
    assert overall["alpha_units"] == 11  # unit 12 has a single value
    assert (overall["n_A"], overall["n_B"]) == (9, 11)
    assert set(result["code"]) == {"1", "2", "3", "4", "5", "(overall)"}
    assert row(result, "5")["percent_agreement"] == 1.0  # no one-vs-rest split on 2..9


def test_krippendorff_alpha_binary_two_coders() -> None:
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    coverage = {"A": range(10), "B": range(10)}
    result = agreement_presence(presence_codings({"A": a, "B": b}), ["A", "B"], ["c"],
                                coverage)
    assert round(row(result, "c")["krippendorff_alpha"], 3) == 0.095
    assert row(result, "c")["percent_agreement"] == pytest.approx(0.6)


# --- coverage: not covered is missing, not absent --------------------------------------
def coverage_codings() -> pd.DataFrame:
    return frame([(1, "A", "x"), (2, "A", "x"), (3, "A", "x"),
                  (4, "A", "y"), (5, "A", "y"), (6, "A", "y"),
                  (1, "B", "x"), (2, "B", "x"), (4, "B", "y"), (5, "B", "y")])


def test_inferred_coverage_treats_uncoded_units_as_missing() -> None:
    result = agreement_presence(coverage_codings(), ["A", "B"], ["x", "y"])
    x = row(result, "x")
    assert x["units"] == 4  # B has no row at units 3 and 6
    assert x["percent_agreement"] == 1.0 and x["cohen_kappa"] == pytest.approx(1.0)
    assert x["krippendorff_alpha"] == pytest.approx(1.0)
    assert x["n_A"] == 3  # counted over A's own coverage
    table = presence_table(coverage_codings(), ["A", "B"], ["x"])["x"]
    assert list(table.columns) == [1, 2, 3, 4, 5, 6]
    assert math.isnan(table.loc["B", 3]) and table.loc["A", 3] == 1.0
    assert table.loc["A", 4] == 0.0


def test_explicit_coverage_makes_uncoded_units_absent() -> None:
    coverage = {"A": range(1, 7), "B": range(1, 7)}
    result = agreement_presence(coverage_codings(), ["A", "B"], ["x", "y"], coverage)
    x = row(result, "x")
    assert x["units"] == 6
    assert x["percent_agreement"] == pytest.approx(5 / 6)
    assert x["cohen_kappa"] < 1.0 and x["krippendorff_alpha"] < 1.0
    overall = row(result, "(overall)")  # pooled over 12 unit-code decisions, 2 disagree
    assert overall["percent_agreement"] == pytest.approx(10 / 12)
    assert overall["units"] == 6
    assert (overall["n_A"], overall["n_B"]) == (6, 4)


def test_partial_coverage_gives_missing_values_in_alpha() -> None:
    # C covered only units 1-2; percent and kappa use units covered by all coders
    codings = pd.concat([coverage_codings(), frame([(1, "C", "x")])])
    coverage = {"A": range(1, 7), "B": range(1, 7), "C": [1, 2]}
    result = agreement_presence(codings, ["A", "B", "C"], ["x"], coverage)
    x = row(result, "x")
    assert x["units"] == 2 and x["alpha_units"] == 6
    assert x["percent_agreement"] == 0.5  # unit 2: C did not apply x
    assert math.isnan(x["cohen_kappa"])


def test_coding_outside_coverage_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="not in their coverage"):
        agreement_presence(coverage_codings(), ["A", "B"], ["x"],
                           {"A": range(1, 7), "B": [1, 2]})


# --- hierarchy --------------------------------------------------------------------------
PARENT_OF = {"barriers": None, "transport": "barriers", "cost": "transport",
             "enablers": None, "support": "enablers"}


def test_roll_up_top_and_all() -> None:
    codings = frame([(1, "A", "cost"), (2, "A", "transport"), (2, "A", "cost"),
                     (3, "A", "support"), (3, "A", "enablers")])
    top = roll_up(codings, PARENT_OF, "top")
    assert set(map(tuple, top.to_numpy())) == {
        (1, "A", "barriers"), (2, "A", "barriers"), (3, "A", "enablers")}
    assert len(top) == 3
    every = roll_up(codings, PARENT_OF, "all")
    assert set(map(tuple, every.to_numpy())) == {
        (1, "A", "cost"), (1, "A", "transport"), (1, "A", "barriers"),
        (2, "A", "cost"), (2, "A", "transport"), (2, "A", "barriers"),
        (3, "A", "support"), (3, "A", "enablers")}
    assert len(every) == 8


def test_sub_code_counts_for_its_parent() -> None:
    codings = frame([(1, "A", "cost"), (1, "B", "transport"), (2, "A", "support"),
                     (2, "B", "enablers")])
    plain = agreement_presence(codings, ["A", "B"], ["transport"])
    assert row(plain, "transport")["percent_agreement"] == 0.5
    rolled = agreement_presence(roll_up(codings, PARENT_OF, "all"), ["A", "B"],
                                ["barriers", "transport", "enablers"])
    assert list(rolled["percent_agreement"]) == [1.0, 1.0, 1.0, 1.0]
    assert row(rolled, "barriers")["cohen_kappa"] == pytest.approx(1.0)


def test_roll_up_rejects_unknown_code_and_cycle_and_level() -> None:
    with pytest.raises(InvalidInput, match="unknown code 'nope'"):
        roll_up(frame([(1, "A", "nope")]), PARENT_OF, "top")
    with pytest.raises(InvalidInput, match="cycle"):
        roll_up(frame([(1, "A", "a")]), {"a": "b", "b": "a"}, "all")
    with pytest.raises(InvalidInput, match="level"):
        roll_up(frame([(1, "A", "cost")]), PARENT_OF, "middle")  # type: ignore[arg-type]


# --- degenerate codes -------------------------------------------------------------------
def test_never_and_always_applied_codes_give_nan_without_warnings() -> None:
    codings = frame([(u, c, "always") for u in range(5) for c in ("A", "B")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = agreement_presence(codings, ["A", "B"], ["never", "always"])
        pairs = pairwise_kappa(codings, ["A", "B"], ["never"])
        pr = precision_recall(codings, "A", "B", ["never", "always"])
    for code in ("never", "always"):
        r = row(result, code)
        assert r["percent_agreement"] == 1.0
        assert math.isnan(r["cohen_kappa"]) and math.isnan(r["krippendorff_alpha"])
    # pooled over both codes there is variation (0s and 1s) and perfect agreement
    assert row(result, "(overall)")["cohen_kappa"] == pytest.approx(1.0)
    assert pairs["percent_agreement"].tolist() == [1.0, 1.0]
    assert pairs["cohen_kappa"].isna().all()
    assert math.isnan(row(pr, "always")["cohen_kappa"])
    assert row(pr, "always")["f1"] == 1.0 and row(pr, "never")["f1"] == 0.0


def test_no_shared_units_gives_nan_not_crash() -> None:
    codings = frame([(1, "A", "x"), (2, "B", "x")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = row(agreement_presence(codings, ["A", "B"], ["x"]), "x")
    assert r["units"] == 0 and r["alpha_units"] == 0
    assert math.isnan(r["percent_agreement"]) and math.isnan(r["krippendorff_alpha"])
    with pytest.raises(InvalidInput, match="share no covered unit"):
        precision_recall(codings, "A", "B", ["x"])


# --- review helpers ----------------------------------------------------------------------
def test_disagreements_lists_units_with_text() -> None:
    coverage = {"A": range(1, 7), "B": range(1, 7), "C": range(1, 4)}
    codings = pd.concat([coverage_codings(),
                         frame([(1, "C", "x"), (2, "C", "x"), (3, "C", "x"), (1, "C", "y")])])
    texts = {u: f"segment {u}" for u in range(1, 7)}
    out = disagreements(codings, ["A", "B", "C"], ["y", "x"], coverage, texts)
    assert list(out.columns) == ["unit", "code", "applied_by", "not_applied_by", "text"]
    assert out.to_dict("records") == [
        {"unit": 1, "code": "y", "applied_by": "C", "not_applied_by": "A, B",
         "text": "segment 1"},
        {"unit": 3, "code": "x", "applied_by": "A, C", "not_applied_by": "B",
         "text": "segment 3"},
        {"unit": 6, "code": "y", "applied_by": "A", "not_applied_by": "B",
         "text": "segment 6"},
    ]
    plain = disagreements(coverage_codings(), ["A", "B"], ["x", "y"])
    assert plain.empty and "text" not in plain.columns  # 3 and 6 are not covered by B


def pr_codings() -> tuple[pd.DataFrame, dict[str, range]]:
    codings = frame([(1, "human", "x"), (2, "human", "x"), (3, "human", "x"),
                     (2, "rules", "x"), (3, "rules", "x"), (4, "rules", "x"),
                     (5, "rules", "y"),
                     (1, "human", "z"), (4, "human", "z"), (1, "rules", "z"), (4, "rules", "z")])
    return codings, {"human": range(1, 7), "rules": range(1, 7)}


def test_precision_recall_hand_computed() -> None:
    codings, coverage = pr_codings()
    out = precision_recall(codings, "rules", "human", ["x", "y", "z"], coverage)
    x = row(out, "x")
    assert (x["support"], x["predicted"], x["tp"], x["fp"], x["fn"]) == (3, 3, 2, 1, 1)
    assert x["precision"] == pytest.approx(2 / 3) and x["recall"] == pytest.approx(2 / 3)
    assert x["f1"] == pytest.approx(2 / 3)
    assert x["cohen_kappa"] == pytest.approx(1 / 3)  # po 4/6, pe 1/2
    y = row(out, "y")
    assert (y["support"], y["fp"], y["precision"], y["recall"], y["f1"]) == (0, 1, 0, 0, 0)
    macro = row(out, "(macro)")  # over x and z only (y has no support)
    assert macro["precision"] == pytest.approx(5 / 6)
    assert macro["f1"] == pytest.approx(5 / 6)
    assert macro["cohen_kappa"] == pytest.approx(2 / 3)
    assert macro["tp"] == 4


def test_confusion_table() -> None:
    codings, coverage = pr_codings()
    table = confusion(codings, "rules", "human", "x", coverage)
    assert table.index.name == "rules" and table.columns.name == "human"
    assert table.loc["applied", "applied"] == 2
    assert table.loc["applied", "not applied"] == 1  # only rules
    assert table.loc["not applied", "applied"] == 1  # only human
    assert table.loc["not applied", "not applied"] == 2


def test_pairwise_kappa_three_coders() -> None:
    coverage = {"A": range(1, 7), "B": range(1, 7), "C": range(1, 4)}
    codings = pd.concat([coverage_codings(), frame([(3, "C", "x"), (1, "C", "x"),
                                                    (2, "C", "x")])])
    out = pairwise_kappa(codings, ["A", "B", "C"], ["x"], coverage)
    assert list(zip(out["coder_a"], out["coder_b"], out["code"])) == [
        ("A", "B", "x"), ("A", "B", "(overall)"), ("A", "C", "x"), ("A", "C", "(overall)"),
        ("B", "C", "x"), ("B", "C", "(overall)")]
    ac = out[(out["coder_a"] == "A") & (out["coder_b"] == "C") & (out["code"] == "x")].iloc[0]
    assert ac["units"] == 3 and ac["percent_agreement"] == 1.0
    assert math.isnan(ac["cohen_kappa"])  # all three units have x from both
    ab = out[(out["coder_a"] == "A") & (out["coder_b"] == "B") & (out["code"] == "x")].iloc[0]
    assert ab["units"] == 6 and ab["cohen_kappa"] == pytest.approx(
        row(agreement_presence(codings, ["A", "B"], ["x"], coverage), "x")["cohen_kappa"])


# --- bad input ----------------------------------------------------------------------------
def test_bad_coders_and_inputs_raise_invalid_input() -> None:
    codings = coverage_codings()
    with pytest.raises(InvalidInput, match="unknown coder.*'Z'"):
        agreement_presence(codings, ["A", "Z"], ["x"])
    with pytest.raises(InvalidInput, match="at least 2 coders"):
        agreement_presence(codings, ["A"], ["x"])
    with pytest.raises(InvalidInput, match="listed twice"):
        agreement_presence(codings, ["A", "A"], ["x"])
    with pytest.raises(InvalidInput, match="no coverage given for coder"):
        agreement_presence(codings, ["A", "B"], ["x"], {"A": range(1, 7)})
    with pytest.raises(InvalidInput, match="lack column"):
        agreement_presence(codings.drop(columns="code"), ["A", "B"], ["x"])
    with pytest.raises(InvalidInput, match="no codes"):
        agreement_presence(codings, ["A", "B"], [])
    with pytest.raises(InvalidInput, match="unknown coder"):
        confusion(codings, "A", "nobody", "x")


def test_coder_with_no_codings_is_fine_when_coverage_is_given() -> None:
    coverage = {"A": range(1, 7), "E": range(1, 7)}
    r = row(agreement_presence(coverage_codings(), ["A", "E"], ["x"], coverage), "x")
    assert r["n_E"] == 0 and r["percent_agreement"] == 0.5
    assert r["cohen_kappa"] == pytest.approx(0.0)


def test_nominal_rejects_several_codes_for_one_unit() -> None:
    assignments = frame([(1, "A", "x"), (1, "B", "x"), (2, "A", "x"), (2, "A", "y"),
                         (2, "B", "y")])
    with pytest.raises(InvalidInput, match=r"coder 'A' gave unit 2 several codes"):
        agreement_nominal(assignments, ["A", "B"])


def test_nominal_two_coders_and_uncoded_covered_unit() -> None:
    assignments = frame([(1, "A", "x"), (1, "B", "x"), (2, "A", "y"), (2, "B", "y"),
                         (3, "A", "x"), (3, "B", "y")])
    overall = row(agreement_nominal(assignments, ["A", "B"]), "(overall)")
    assert overall["percent_agreement"] == pytest.approx(2 / 3)
    assert overall["cohen_kappa"] == pytest.approx(0.4)  # po 2/3, pe 4/9
    covered = {"A": [1, 2, 3, 4], "B": [1, 2, 3, 4]}
    with_none = row(agreement_nominal(assignments, ["A", "B"], covered), "(overall)")
    assert with_none["units"] == 4  # unit 4 is "(none)" for both
    assert with_none["percent_agreement"] == pytest.approx(3 / 4)


# --- properties -----------------------------------------------------------------------------
binary = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(binary)
def test_percent_agreement_in_unit_interval(pairs: list[tuple[bool, bool]]) -> None:
    a, b = ([int(p[i]) for p in pairs] for i in (0, 1))
    cov = {"A": range(len(pairs)), "B": range(len(pairs))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = row(agreement_presence(presence_codings({"A": a, "B": b}), ["A", "B"], ["c"],
                                   cov), "c")
    assert 0.0 <= r["percent_agreement"] <= 1.0
    assert r["percent_agreement"] == pytest.approx(np.mean(np.array(a) == np.array(b)))
    assert math.isnan(r["cohen_kappa"]) or -1.0 <= r["cohen_kappa"] <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=30).filter(lambda v: 0 < sum(v) < len(v)))
def test_identical_coders_have_kappa_one(values: list[bool]) -> None:
    vec = [int(v) for v in values]
    cov = {"A": range(len(vec)), "B": range(len(vec))}
    r = row(agreement_presence(presence_codings({"A": vec, "B": vec}), ["A", "B"], ["c"],
                               cov), "c")
    assert r["cohen_kappa"] == pytest.approx(1.0)
    assert r["krippendorff_alpha"] == pytest.approx(1.0)
    assert r["percent_agreement"] == 1.0
