import pytest

from bench import stats


def test_mean_ci_contains_mean_and_widens_with_spread():
    mean, low, high = stats.mean_ci([0.8, 0.82, 0.84])
    assert low < mean < high and mean == pytest.approx(0.82)
    _, wide_low, wide_high = stats.mean_ci([0.7, 0.82, 0.94])
    assert wide_high - wide_low > high - low
    assert stats.mean_ci([0.5]) == (0.5, 0.5, 0.5)


def test_normalized_scores_anchor_best_at_one_and_baseline_at_zero():
    scores = {"a": 0.9, "b": 0.7, "c": 0.4}
    assert stats.normalized_scores(scores, low_anchor=0.5) == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})


def test_ranks_share_ties():
    assert stats.ranks({"a": 0.9, "b": 0.9, "c": 0.1}) == {"a": 1.5, "b": 1.5, "c": 3.0}
