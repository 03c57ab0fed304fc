"""Bootstrap intervals of Cohen's kappa (qualcode.analysis.agreement.kappa_intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from qualcode.analysis.agreement import agreement_presence, kappa_intervals, resample_indices
from qualcode.errors import InvalidInput


def codings(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Two coders on ``n`` units and two codes; coder b mostly follows coder a."""
    rng = np.random.default_rng(seed)
    truth = {}
    rows = []
    for code, share in (("x", 0.3), ("y", 0.5)):
        a = rng.random(n) < share
        b = np.where(rng.random(n) < 0.8, a, rng.random(n) < share)
        truth[code] = np.vstack([a, b]).astype(int)
        rows += [(u, coder, code) for coder, v in (("a", a), ("b", b)) for u in np.flatnonzero(v)]
    return pd.DataFrame(rows, columns=["unit", "coder", "code"]), truth


def cover(n: int) -> dict[str, set[int]]:
    return {"a": set(range(n)), "b": set(range(n))}


def test_intervals_are_percentiles_of_kappa_on_the_same_resamples() -> None:
    n, r = 60, 200
    df, truth = codings(n)
    got = kappa_intervals(df, ["a", "b"], ["x", "y"], cover(n), resamples=r, seed=3).set_index("code")
    idx = resample_indices(n, r, seed=3)
    for code in ("x", "y"):
        a, b = truth[code]
        ks = [cohen_kappa_score(a[i], b[i]) for i in idx]
        assert got.loc[code, "kappa_low"] == pytest.approx(np.percentile(ks, 2.5))
        assert got.loc[code, "kappa_high"] == pytest.approx(np.percentile(ks, 97.5))
    pooled = [cohen_kappa_score(np.concatenate([truth[c][0][i] for c in "xy"]),
                                np.concatenate([truth[c][1][i] for c in "xy"])) for i in idx]
    assert got.loc["(overall)", "kappa_low"] == pytest.approx(np.percentile(pooled, 2.5))


def test_intervals_hold_the_estimate_and_narrow_with_more_units() -> None:
    widths = []
    for n in (40, 400):
        df, _ = codings(n)
        point = agreement_presence(df, ["a", "b"], ["x", "y"], cover(n)).set_index("code")
        ci = kappa_intervals(df, ["a", "b"], ["x", "y"], cover(n)).set_index("code")
        for code in ("x", "y", "(overall)"):
            assert ci.loc[code, "kappa_low"] <= point.loc[code, "cohen_kappa"] <= ci.loc[code, "kappa_high"]
        widths.append(float((ci["kappa_high"] - ci["kappa_low"]).mean()))
    assert widths[1] < widths[0] / 2


def test_identical_coders_and_an_unused_code() -> None:
    n = 30
    rows = [(u, c, "x") for u in range(0, n, 3) for c in ("a", "b")]
    ci = kappa_intervals(pd.DataFrame(rows, columns=["unit", "coder", "code"]), ["a", "b"],
                         ["x", "never"], cover(n)).set_index("code")
    assert (ci.loc["x", "kappa_low"], ci.loc["x", "kappa_high"]) == (1.0, 1.0)
    assert np.isnan(ci.loc["never", "kappa_low"]) and np.isnan(ci.loc["never", "kappa_high"])


@pytest.mark.parametrize("kwargs, message", [
    ({"coders": ["a", "b", "c"]}, "exactly two coders"),
    ({"resamples": 10}, "resamples"),
    ({"confidence": 1.2}, "confidence"),
])
def test_intervals_refuse_what_they_cannot_do(kwargs: dict, message: str) -> None:
    df, _ = codings(20)
    args = {"coders": ["a", "b"], "resamples": 1000, "confidence": 0.95, **kwargs}
    cov = {c: set(range(20)) for c in args["coders"]}
    with pytest.raises(InvalidInput, match=message):
        kappa_intervals(df, args["coders"], ["x"], cov, resamples=args["resamples"],
                        confidence=args["confidence"])


def test_coders_who_share_no_unit_get_no_interval() -> None:
    rows = [(0, "a", "x"), (1, "b", "x")]
    ci = kappa_intervals(pd.DataFrame(rows, columns=["unit", "coder", "code"]), ["a", "b"], ["x"],
                         {"a": {0}, "b": {1}})
    assert list(ci["code"]) == ["x", "(overall)"]
    assert ci[["kappa_low", "kappa_high"]].isna().all().all()


def test_groups_of_one_unit_each_give_the_segment_bootstrap() -> None:
    n = 50
    df, _ = codings(n)
    plain = kappa_intervals(df, ["a", "b"], ["x", "y"], cover(n), resamples=300, seed=2)
    single = kappa_intervals(df, ["a", "b"], ["x", "y"], cover(n), resamples=300, seed=2,
                             groups={u: f"doc{u}" for u in range(n)})
    pd.testing.assert_frame_equal(plain, single)


def test_interview_bootstrap_draws_whole_interviews() -> None:
    n, r = 60, 200
    df, truth = codings(n, seed=4)
    groups = {u: f"interview{u // 6}" for u in range(n)}  # 10 interviews of 6 segments
    got = kappa_intervals(df, ["a", "b"], ["x", "y"], cover(n), resamples=r, seed=5,
                          groups=groups).set_index("code")
    members = [np.arange(g * 6, g * 6 + 6) for g in range(10)]
    for code in ("x", "y"):
        a, b = truth[code]
        ks = []
        for draw in resample_indices(10, r, seed=5):
            rows = np.concatenate([members[g] for g in draw])
            ks.append(cohen_kappa_score(a[rows], b[rows]))
        assert got.loc[code, "kappa_low"] == pytest.approx(np.percentile(ks, 2.5))
        assert got.loc[code, "kappa_high"] == pytest.approx(np.percentile(ks, 97.5))


def test_interview_bootstrap_is_wider_when_interviews_differ() -> None:
    # coder b agrees with a throughout some interviews and guesses throughout others: the
    # segments of one interview are alike, which resampling segments cannot see
    rng = np.random.default_rng(7)
    n, size = 200, 20
    a = rng.random(n) < 0.4
    careful = np.repeat(rng.random(n // size) < 0.5, size)
    b = np.where(careful, a, rng.random(n) < 0.4)
    rows = [(u, c, "x") for c, v in (("a", a), ("b", b)) for u in np.flatnonzero(v)]
    df = pd.DataFrame(rows, columns=["unit", "coder", "code"])
    groups = {u: f"i{u // size}" for u in range(n)}
    width = {}
    for name, g in (("segments", None), ("interviews", groups)):
        ci = kappa_intervals(df, ["a", "b"], ["x"], cover(n), groups=g).set_index("code")
        width[name] = ci.loc["x", "kappa_high"] - ci.loc["x", "kappa_low"]
    assert width["interviews"] > 1.3 * width["segments"]


def test_a_unit_without_an_interview_is_named() -> None:
    df, _ = codings(10)
    with pytest.raises(InvalidInput, match="unit 9 has no group"):
        kappa_intervals(df, ["a", "b"], ["x"], cover(10), groups={u: "one" for u in range(9)})
