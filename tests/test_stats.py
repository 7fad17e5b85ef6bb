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
    assert stats.normalized_scores({"a": 0.5, "b": 0.5}, low_anchor=0.6) == {"a": 1.0, "b": 1.0}


def test_the_low_anchor_is_robust_to_the_constant_predictor_and_diverged_models():
    """nass_cds (reference run): constant predictor 0.955, linear 0.9552, mlp 0.9550, lightgbm 0.9542. Anchored
    at the constant predictor, mlp scored 0 and linear 1; the 10% quantile of the trials keeps them together."""
    trials = [0.9548, 0.9532, 0.9545, 0.9540, 0.9561, 0.9550, 0.9546, 0.9550, 0.9550, 0.9549]
    anchor = stats.robust_low_anchor(trials, "binary", constant_score=0.955)
    assert anchor == pytest.approx(np.quantile(trials, 0.1)) and anchor < 0.9540
    normalized = stats.normalized_scores({"linear": 0.9552, "mlp": 0.9550, "lightgbm": 0.9542}, anchor)
    assert normalized["linear"] == 1.0 and normalized["mlp"] > 0.7 and normalized["lightgbm"] < 0.3
    # regression: a diverged model (R2 -50 on a third of the trials) counts as the train mean, R2 0
    r2 = [0.90, 0.88, 0.91, 0.60, 0.62, 0.61, -50.0, -48.0, -49.0]
    assert stats.robust_low_anchor(r2, "regression", constant_score=0.0) == 0.0
    assert stats.robust_low_anchor(r2, "regression") < -40
    assert stats.robust_low_anchor([0.8, 0.85, 0.9, 0.7, 0.75], "regression", 0.0) == pytest.approx(0.72)


def test_improvability_is_tabarenas_relative_error_gap():
    # errors 0.1, 0.2, 0.4: (0.2 - 0.1) / 0.2 and (0.4 - 0.1) / 0.4
    assert stats.improvability({"a": 0.9, "b": 0.8, "c": 0.6}) == pytest.approx({"a": 0.0, "b": 0.5, "c": 0.75})
    assert stats.improvability({"a": 1.0, "b": 1.0}) == {"a": 0.0, "b": 0.0}


def test_corrected_interval_widens_the_naive_one_and_stays_in_the_metric_range():
    """Old: a naive t-interval over dependent folds (an R2 interval reached 1.014 on diamonds)."""
    folds = [0.99, 0.95, 0.995]  # R2 near 1
    naive = stats.mean_ci(folds)
    ratio = stats.split_ratio(3)
    assert ratio == 0.5 and stats.split_ratio(5) == 0.25 and stats.split_ratio(1) == 0.25
    mean, low, high = stats.corrected_mean_ci(folds, ratio)
    # the variance factor 1/3 + 1/2 in place of 1/3: the half-width grows by sqrt(2.5)
    assert (high - mean) == pytest.approx((naive[2] - naive[0]) * math.sqrt(2.5))
    _, _, clipped = stats.corrected_mean_ci(folds, ratio, stats.SCORE_RANGE["r2"])
    assert clipped == 1.0 and high > 1.0 and naive[2] > 1.0
    assert stats.corrected_mean_ci([0.99, 1.0, 0.97], ratio, (0.0, 1.0))[2] == 1.0
    assert stats.corrected_mean_ci([0.5], ratio) == (0.5, 0.5, 0.5)


def test_corrected_paired_t_matches_the_hand_computation():
    differences = [0.01, 0.02, 0.015]
    result = stats.corrected_paired_t(differences, 0.5)
    se = math.sqrt((1 / 3 + 0.5) * np.var(differences, ddof=1))
    assert result["se"] == pytest.approx(se) and result["t"] == pytest.approx(0.015 / se)
    assert result["p_value"] == pytest.approx(2 * sps.t.sf(0.015 / se, 2))
    assert stats.corrected_paired_t([0.01, 0.01], 1.0)["p_value"] == 0.0
    assert stats.corrected_paired_t([0.0, 0.0], 1.0)["p_value"] == 1.0


def test_a_tie_is_decided_by_the_same_folds():
    """Old: overlapping intervals. Here b's fold intervals overlap a's widely, yet b is lower on every fold
    by the same margin: not a tie. c swaps places with a from fold to fold: a tie."""
    a = {0: 0.80, 1: 0.90, 2: 0.85}
    b = {0: 0.79, 1: 0.89, 2: 0.84}
    c = {0: 0.83, 1: 0.86, 2: 0.84}
    assert not stats.paired_tie(b, a, 0.5) and stats.paired_tie(c, a, 0.5)
    assert stats.paired_tie({0: 0.5}, {0: 0.5}, 0.25) and not stats.paired_tie({0: 0.5}, {0: 0.6}, 0.25)


def test_a_dataset_whose_models_are_within_noise_has_no_signal():
    # nass_cds: linear and lightgbm per fold; within the binomial error of an accuracy on 26,217 test rows
    linear, lightgbm = {0: 0.9561, 1: 0.9550, 2: 0.9546}, {0: 0.9548, 1: 0.9532, 2: 0.9545}
    assert stats.has_signal(linear, lightgbm, 0.5, stats.binomial_se(0.9552, 26217)) is False
    # concrete: lightgbm against linear, R2 (no sampling error): far beyond the fold-to-fold noise
    assert stats.has_signal({0: 0.912, 1: 0.9232, 2: 0.8935}, {0: 0.6105, 1: 0.5893, 2: 0.6183}, 0.5) is True
    # german_credit: the lead is within its corrected standard error
    assert stats.has_signal({0: 0.7754, 1: 0.7417, 2: 0.7568}, {0: 0.7904, 1: 0.7267, 2: 0.7357}, 0.5) is False
    assert stats.has_signal({0: 0.9}, {0: 0.8}, 0.25) is None


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


def test_anytime_curves_in_run_order_for_an_adaptive_sampler():
    scores, elapsed = stats.anytime_curves([0.5, 0.9, 0.7], [0.4, 0.8, 0.95], [1.0, 2.0, 3.0], n_boot=50, seed=0,
                                           shuffle=False)
    assert scores.tolist() == [[0.4, 0.8, 0.8]] and elapsed.tolist() == [[1.0, 3.0, 6.0]]
