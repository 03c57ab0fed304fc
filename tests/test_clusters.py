from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qualcode.analysis.clusters import _labels, change_scores, cluster_change, cluster_chart
from qualcode.errors import InvalidInput

MEASURES = ["wemwbs", "confidence", "self_esteem"]
# DOMAIN.md: steady improvers 82%, clients of concern 4%, "superstars" 14% (of 241 clients)
GROUPS = {"steady": (410, 2.0, 0.30), "concern": (20, -6.0, 0.05), "super": (70, 9.0, 0.60)}


@pytest.fixture(scope="module")
def wellbeing() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for name, (size, mean, rate) in GROUPS.items():
        for _ in range(size):
            base = rng.normal(40, 6, len(MEASURES))
            change = rng.normal(mean, 1.0, len(MEASURES))
            row = {"true_group": name, "job_start": int(rng.random() < rate)}
            for m, b, c in zip(MEASURES, base, change):
                row[f"{m}_base"], row[f"{m}_follow"] = round(b, 1), round(b + c, 1)
            rows.append(row)
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)
    lost = df.index[df["true_group"] == "steady"][:25]  # lost to follow-up
    df.loc[lost[:15], "confidence_follow"] = np.nan
    df.loc[lost[15:], ["wemwbs_follow", "self_esteem_follow"]] = np.nan
    return df


def test_change_scores_leave_out_missing_follow_up(wellbeing):
    changes, missing = change_scores(wellbeing, MEASURES)
    assert missing == 25 and len(changes) == len(wellbeing) - 25
    first = changes.index[0]
    assert changes.loc[first, "wemwbs"] == pytest.approx(
        wellbeing.loc[first, "wemwbs_follow"] - wellbeing.loc[first, "wemwbs_base"])
    assert not changes.isna().any().any()


def test_change_scores_errors():
    with pytest.raises(InvalidInput, match="no column 'mood_follow'"):
        change_scores(pd.DataFrame({"mood_base": [1]}), ["mood"])
    with pytest.raises(InvalidInput, match="'better' .* is not a number"):
        change_scores(pd.DataFrame({"m_base": [1, 2], "m_follow": [3, "better"]}), ["m"])


def test_three_groups_recovered_with_sizes_and_labels(wellbeing):
    result = cluster_change(wellbeing, MEASURES)
    assert result.k == 3
    assert max(result.silhouette, key=result.silhouette.get) == 3
    assert set(result.silhouette) == {2, 3, 4, 5, 6}
    assert result.n_missing == 25
    summary = result.summary
    assert summary["label"].tolist() == ["strong improvers", "improvers", "of concern"]
    assert summary["group"].tolist() == [1, 2, 3]
    assert summary["n"].tolist() == [70, 385, 20]
    assert summary["share"].tolist() == pytest.approx([70 / 475, 385 / 475, 20 / 475])
    assert summary["mean_change_wemwbs"].tolist() == pytest.approx([9, 2, -6], abs=0.4)
    assert summary["job_start_rate"].iloc[0] > summary["job_start_rate"].iloc[1] > summary["job_start_rate"].iloc[2]
    assert result.labels == {1: "strong improvers", 2: "improvers", 3: "of concern"}
    truth = wellbeing.loc[result.assignments.index, "true_group"]
    table = pd.crosstab(truth, result.assignments)  # every client in its true group's cluster
    assert table.loc["super", 1] == 70 and table.loc["steady", 2] == 385 and table.loc["concern", 3] == 20
    assert (table.to_numpy() > 0).sum() == 3
    assert list(summary.columns) == ["group", "label", "n", "share", "mean_change_wemwbs",
                                     "mean_change_confidence", "mean_change_self_esteem", "mean_std_change",
                                     "job_start_rate"]


def test_fixed_k_and_seed_are_reproducible(wellbeing):
    a = cluster_change(wellbeing, MEASURES, k=2, seed=5)
    b = cluster_change(wellbeing, MEASURES, k=2, seed=5)
    assert a.k == 2 and list(a.silhouette) == [2]
    assert a.assignments.equals(b.assignments)
    assert a.summary["n"].sum() == len(wellbeing) - 25


def test_without_outcome_column_rate_is_nan(wellbeing):
    result = cluster_change(wellbeing.drop(columns="job_start"), MEASURES, k=3)
    assert result.summary["job_start_rate"].isna().all()


def test_bad_k_and_too_few_clients(wellbeing):
    with pytest.raises(InvalidInput, match="k must be"):
        cluster_change(wellbeing, MEASURES, k=0)
    tiny = wellbeing.iloc[:2]
    with pytest.raises(InvalidInput, match="too few"):
        cluster_change(tiny, MEASURES)


@pytest.mark.parametrize(
    "means, labels",
    [
        ([1.2, 0.5, 0.1, -0.3, -1.0], ["strong improvers", "improvers", "steady", "of concern", "of concern 2"]),
        ([0.1, 0.05], ["steady", "steady 2"]),
        ([-0.2, -0.9], ["of concern", "of concern 2"]),
    ],
)
def test_label_rule(means, labels):
    assert _labels(means) == labels


def test_cluster_chart_png(wellbeing, tmp_path):
    result = cluster_change(wellbeing, MEASURES, k=3)
    out = cluster_chart(result.summary, MEASURES, tmp_path / "clusters.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["clusters.png"]
    with pytest.raises(InvalidInput, match="mean_change_mood"):
        cluster_chart(result.summary, ["mood"], tmp_path / "x.png")
    assert not math.isnan(result.silhouette[3])
