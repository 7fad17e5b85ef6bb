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


# ---------------------------------------------------------------------------------------------
# Bootstrap, Elo, paired tests, Friedman/Nemenyi, anytime curves
# ---------------------------------------------------------------------------------------------

import math  # noqa: E402

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402
from scipy import stats as sps  # noqa: E402


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    covered = 0
    for repetition in range(200):
        sample = rng.normal(3.0, 2.0, size=40)
        _, low, high = stats.bootstrap_ci(sample, n_boot=1000, seed=repetition)
        covered += low <= 3.0 <= high
    assert 0.88 <= covered / 200 <= 0.99
    assert stats.bootstrap_ci([1.0, 2.0, 3.0], seed=5) == stats.bootstrap_ci([1.0, 2.0, 3.0], seed=5)
    assert stats.bootstrap_ci([4.0]) == (4.0, 4.0, 4.0)


def test_pairwise_wins_count_ties_as_half_and_skip_absent_models():
    wins = stats.pairwise_wins([{"a": 1.0, "b": 0.5, "c": 0.5}, {"a": 0.2, "b": 0.9}], ["a", "b", "c"]).sum(axis=0)
    assert wins.tolist() == [[0, 1, 1], [1, 0, 0.5], [0, 0.5, 0]]


def test_elo_of_two_models_matches_the_hand_computed_odds():
    # a beats b on 3 of 4 datasets; with one virtual tie: odds (3 + 0.5) / (1 + 0.5)
    table = [{"a": 1, "b": 0}] * 3 + [{"a": 0, "b": 1}]
    ratings = stats.elo_ratings(table, ["a", "b"], n_boot=200)
    assert ratings["a"][0] - ratings["b"][0] == pytest.approx(400 * math.log10(3.5 / 1.5), abs=1e-6)
    assert ratings["a"][0] + ratings["b"][0] == pytest.approx(2000)


def test_bradley_terry_is_the_maximum_likelihood_estimate():
    wins = np.array([[0, 7, 9], [3, 0, 6], [1, 4, 0]], dtype=float)
    strength = stats.bradley_terry(wins, prior_ties=0.0)

    def negative_log_likelihood(log_p):
        p = np.exp(log_p)
        return -sum(wins[i, j] * (log_p[i] - np.log(p[i] + p[j])) for i in range(3) for j in range(3) if i != j)

    best = optimize.minimize(negative_log_likelihood, np.zeros(3), method="BFGS").x
    expected = np.exp(best - best.mean())
    assert strength == pytest.approx(expected, rel=1e-4)


def test_elo_orders_models_by_who_beats_whom_with_intervals_around_the_point():
    rng = np.random.default_rng(0)
    table = [{"strong": 0.9 + rng.normal(0, 0.01), "middle": 0.8 + rng.normal(0, 0.01),
              "weak": 0.7 + rng.normal(0, 0.01)} for _ in range(12)]
    ratings = stats.elo_ratings(table, ["weak", "middle", "strong"], n_boot=300, seed=3)
    assert ratings["strong"][0] > ratings["middle"][0] > ratings["weak"][0]
    for point, low, high in ratings.values():
        assert low <= point <= high
    assert stats.elo_ratings(table, ["weak", "middle", "strong"], n_boot=300, seed=3) == ratings


def test_wilcoxon_matches_the_exact_hand_computed_p_value_and_scipy():
    # six positive differences: the only more extreme outcome is its mirror, p = 2 / 2**6
    result = stats.wilcoxon([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert result["p_value"] == pytest.approx(2 / 64) and result["testable"] and result["direction"] == 1
    differences = [0.3, -0.1, 0.25, 0.4, 0.05, -0.2, 0.15, 0.0]
    result = stats.wilcoxon(differences)
    reference = sps.wilcoxon([d for d in differences if d != 0])
    assert result["p_value"] == pytest.approx(reference.pvalue) and result["statistic"] == reference.statistic
    assert result["n"] == 7 and result["n_pairs"] == 8
    # |d| ranks: 0.05 1, 0.1 2, 0.15 3, 0.2 4, 0.25 5, 0.3 6, 0.4 7; the negatives hold ranks 2 and 4
    assert result["rank_sum_positive"] == 22.0 and result["rank_sum_negative"] == 6.0 and result["statistic"] == 6.0
    assert not stats.wilcoxon([0.1, 0.2, 0.3])["testable"]
    assert stats.min_wilcoxon_n(0.05) == 6 and stats.min_wilcoxon_n(0.01) == 8


def test_holm_adjusts_step_down_and_keeps_order():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, None, 0.01]) == [pytest.approx(0.5), None, pytest.approx(0.02)]
    assert stats.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # 2 x 0.8 caps at 1, and the step-down keeps it


def test_friedman_matches_scipy_and_the_iman_davenport_formula():
    matrix = np.array([[0.9, 0.8, 0.7], [0.85, 0.86, 0.6], [0.7, 0.6, 0.65], [0.95, 0.9, 0.8], [0.8, 0.7, 0.75]])
    result = stats.friedman(matrix)
    chi2, p = sps.friedmanchisquare(*matrix.T)
    assert result["chi2"] == pytest.approx(chi2) and result["p_value"] == pytest.approx(p)
    n, k = matrix.shape
    f = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert result["iman_davenport_f"] == pytest.approx(f)
    # ranks per row: (1,2,3), (2,1,3), (1,3,2), (1,2,3), (1,3,2)
    assert result["mean_ranks"] == pytest.approx([1.2, 2.2, 2.6])


def test_nemenyi_critical_difference_matches_demsar_table():
    # Demsar (2006), table 5(a): q_0.05 = 2.343 (k=3), 2.569 (k=4), 2.728 (k=5)
    for k, q in ((3, 2.343), (4, 2.569), (5, 2.728)):
        assert stats.nemenyi_critical_difference(k, 10) == pytest.approx(q * math.sqrt(k * (k + 1) / 60), abs=2e-3)


def test_anytime_curves_choose_by_validation_and_read_test():
    valid, test, cost = [0.5, 0.9, 0.7], [0.4, 0.8, 0.95], [1.0, 2.0, 3.0]
    scores, elapsed = stats.anytime_curves(valid, test, cost, n_boot=50, seed=0)
    orders = {tuple(row) for row in scores.tolist()}
    # the default stays first; the other two come in either order
    assert orders == {(0.4, 0.8, 0.8), (0.4, 0.95, 0.8)}
    assert {tuple(row) for row in elapsed.tolist()} == {(1.0, 3.0, 6.0), (1.0, 4.0, 6.0)}
    failed_first, _ = stats.anytime_curves([None, 0.6], [None, 0.5], [1.0, 1.0], n_boot=2, seed=0)
    assert np.isnan(failed_first[0, 0]) and failed_first[0, 1] == 0.5
