"""Statistics over stored results: fold means with corrected confidence intervals, paired tests over
folds, normalised scores and improvability, ranks, bootstrap intervals, Elo (Bradley-Terry) ratings,
Wilcoxon with Holm, Friedman with Nemenyi, and anytime (tuning) curves."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
ALPHA = 0.05
# The range each primary metric can take: an interval is clipped into it.
# The range of each metric's score (higher is better: losses are negated, bench/metrics.py).
SCORE_RANGE = {"accuracy": (0.0, 1.0), "balanced_accuracy": (0.0, 1.0), "roc_auc": (0.0, 1.0),
               "r2": (-math.inf, 1.0), "log_loss": (-math.inf, 0.0), "rmse": (-math.inf, 0.0),
               "mae": (-math.inf, 0.0)}
HOLDOUT_TEST_TRAIN_RATIO = 0.25  # --folds 1 is an 80/20 holdout


def mean_ci(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and naive Student-t interval, for independent values; a single value has a zero-width interval.

    Fold scores are not independent (their training sets overlap): use `corrected_mean_ci` for them.
    """
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return mean, mean, mean
    half = float(sps.t.ppf(0.5 + confidence / 2, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array)))
    return mean, mean - half, mean + half


# ---------------------------------------------------------------------------------------------
# The corrected resampled t (Nadeau & Bengio 2003) over cross-validation folds
# ---------------------------------------------------------------------------------------------

def split_ratio(folds: int) -> float:
    """n_test / n_train of the outer split: 1 / (K - 1) for K-fold cross-validation (Bouckaert & Frank
    2004), 0.25 for the 80/20 holdout of one fold."""
    return 1.0 / (folds - 1) if folds >= 2 else HOLDOUT_TEST_TRAIN_RATIO


def corrected_variance_factor(n: int, ratio: float) -> float:
    """Nadeau & Bengio's (2003) factor on the sample variance of n fold values, 1/n + n_test/n_train,
    in place of the naive 1/n that assumes independent folds."""
    return 1.0 / n + ratio


def corrected_mean_ci(values: list[float], ratio: float, bounds: tuple[float, float] = (-math.inf, math.inf),
                      confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean over folds and the Nadeau-Bengio corrected resampled t-interval, clipped into `bounds`
    (the metric's range); one fold has a zero-width interval."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return mean, mean, mean
    se = math.sqrt(corrected_variance_factor(len(array), ratio) * array.var(ddof=1))
    half = float(sps.t.ppf(0.5 + confidence / 2, len(array) - 1) * se)
    low, high = bounds
    return mean, float(max(low, mean - half)), float(min(high, mean + half))


def corrected_paired_t(differences: list[float], ratio: float) -> dict:
    """The corrected resampled paired t-test (Nadeau & Bengio 2003) of per-fold differences between
    two models on the same folds: n, mean, standard error, t and the two-sided p-value (None for
    fewer than 2 folds). Equal differences on every fold have no spread: p = 0 unless all are 0."""
    array = np.asarray(differences, dtype=float)
    out = {"n": int(len(array)), "mean": float(array.mean()) if len(array) else None, "se": None, "t": None,
           "p_value": None}
    if len(array) < 2:
        return out
    se = math.sqrt(corrected_variance_factor(len(array), ratio) * array.var(ddof=1))
    out["se"] = se
    if se == 0:
        out["t"], out["p_value"] = (0.0, 1.0) if out["mean"] == 0 else (math.copysign(math.inf, out["mean"]), 0.0)
        return out
    out["t"] = out["mean"] / se
    out["p_value"] = float(2 * sps.t.sf(abs(out["t"]), len(array) - 1))
    return out


def fold_differences(first: dict[int, float], second: dict[int, float]) -> list[float]:
    """first - second on every fold both have, in fold order."""
    return [first[f] - second[f] for f in sorted(first) if f in second]


def paired_tie(first: dict[int, float], second: dict[int, float], ratio: float, alpha: float = ALPHA) -> bool:
    """Whether two models' fold scores ({fold: score}) are indistinguishable: the corrected paired t-test
    over their common folds does not reject at `alpha`. With one common fold only equal scores tie."""
    differences = fold_differences(first, second)
    if not differences:
        return False
    if len(differences) < 2:
        return differences[0] == 0
    return corrected_paired_t(differences, ratio)["p_value"] >= alpha


def binomial_se(accuracy: float, n: int) -> float:
    """Standard error of an accuracy measured on n test rows: sqrt(p (1 - p) / n)."""
    return math.sqrt(max(0.0, accuracy * (1 - accuracy)) / n) if n > 0 else math.inf


def has_signal(best: dict[int, float], worst: dict[int, float], ratio: float,
               sampling_se: float | None = None) -> bool | None:
    """Whether a dataset separates its models: the best model's lead over the worst, averaged over their
    common folds, exceeds the noise, the larger of the corrected standard error of that lead (fold to
    fold) and `sampling_se` (the test-set sampling error of one score, where known). None when neither
    noise can be measured (one fold and no sampling error)."""
    differences = fold_differences(best, worst)
    if not differences:
        return None
    noise = [sampling_se] if sampling_se is not None else []
    if len(differences) >= 2:
        noise.append(corrected_paired_t(differences, ratio)["se"])
    if not noise:
        return None
    return float(np.mean(differences)) > max(noise)


# ---------------------------------------------------------------------------------------------
# Normalised score, improvability, ranks
# ---------------------------------------------------------------------------------------------

def robust_low_anchor(trial_scores: list[float], task: str, constant_score: float | None = None,
                      metric: str | None = None) -> float:
    """The zero of the normalised score, after Grinsztajn et al. (2022, appendix: the 10% quantile of all
    random-search results for classification): the 10% quantile of the test scores of every trial run on
    the dataset. Accuracy is bounded, so no configuration can drag that far; R2 is not, so for regression a
    trial below the constant predictor (`constant_score`, the train mean's R2) counts as the constant predictor,
    and a diverged model cannot set the scale.

    Grinsztajn et al. take the median for regression, over hundreds of random-search trials of which most
    are poor; over the few, mostly tuned, trials of a run here the median sits among the best models and
    would stretch noise across the whole [0, 1], so the 10% quantile serves both tasks. A negated loss
    (log loss, RMSE, MAE: `metric`) is unbounded below like R2, and is floored at the constant predictor too.
    """
    anchor = float(np.quantile(np.asarray(trial_scores, dtype=float), 0.1))
    unbounded = SCORE_RANGE.get(metric, (0.0, 1.0))[0] == -math.inf if metric else task == "regression"
    if unbounded and constant_score is not None:
        return max(anchor, constant_score)
    return anchor


def normalized_score(score: float, low_anchor: float, best: float) -> float:
    """One score on the affine scale of `normalized_scores`: `best` = 1, `low_anchor` = 0, clipped to [0, 1];
    when `best` is not above the anchor, 1 for a score at `best` and 0 below it."""
    if best <= low_anchor:
        return 1.0 if score >= best else 0.0
    return min(1.0, max(0.0, (score - low_anchor) / (best - low_anchor)))


def normalized_scores(scores: dict[str, float], low_anchor: float) -> dict[str, float]:
    """Affine normalisation per dataset (Grinsztajn et al. 2022): best model = 1, low anchor = 0, clipped
    to [0, 1]. When no model is above the anchor, the best (equal) scores are 1 and the others 0."""
    best = max(scores.values())
    return {model: normalized_score(score, low_anchor, best) for model, score in scores.items()}


def improvability(scores: dict[str, float], metric: str = "accuracy") -> dict[str, float]:
    """TabArena's improvability (Erickson et al. 2025): how much lower the best model's error is than this
    model's, as a share of this model's error, (err - err_best) / err; 0 for the best and for a zero error.
    The error of a score bounded by 1 (accuracy, balanced accuracy, ROC AUC, R2) is 1 - score (the error
    rate; MSE over the target's variance for R2); the error of a negated loss (log loss, RMSE, MAE) is the
    loss itself."""
    def error(score: float) -> float:
        return -score if SCORE_RANGE.get(metric, (0, 1))[1] == 0.0 else 1.0 - score

    best_error = error(max(scores.values()))
    out = {}
    for model, score in scores.items():
        err = error(score)
        out[model] = 0.0 if err <= 0 else max(0.0, (err - best_error) / err)
    return out


def ranks(scores: dict[str, float]) -> dict[str, float]:
    """Rank 1 is the best (highest) score; ties share the average rank."""
    models = list(scores)
    values = sps.rankdata([-scores[m] for m in models], method="average")
    return {model: float(rank) for model, rank in zip(models, values)}


# ---------------------------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------------------------

def bootstrap_ci(values, statistic=np.mean, n_boot: int = 2000, seed: int = 0,
                 confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """The statistic and its percentile-bootstrap interval (resampling values with replacement).

    `statistic` takes an array and an `axis` keyword, as numpy's reductions do.
    """
    array = np.asarray(values, dtype=float)
    point = float(statistic(array))
    if len(array) < 2:
        return point, point, point
    rng = np.random.default_rng(seed)
    samples = array[rng.integers(0, len(array), size=(n_boot, len(array)))]
    replicates = statistic(samples, axis=1)
    tail = 100 * (1 - confidence) / 2
    return point, float(np.percentile(replicates, tail)), float(np.percentile(replicates, 100 - tail))


# ---------------------------------------------------------------------------------------------
# Bradley-Terry strengths on the Elo scale
# ---------------------------------------------------------------------------------------------

ELO_BASE = 1000.0
ELO_SCALE = 400.0  # rating points per factor of 10 in the odds of winning, as in chess Elo
ELO_PRIOR_TIES = 1.0  # virtual ties between every pair of models: keeps ratings finite


def pairwise_wins(score_table: list[dict[str, float]], models: list[str]) -> np.ndarray:
    """wins[d, i, j]: 1 if model i beat model j on comparison d (a dataset), 0.5 on a tie, else 0.

    Each element of `score_table` holds the scores of the models present on one dataset;
    a pair is compared only where both are present. Sum over d for the win matrix.
    """
    index = {m: i for i, m in enumerate(models)}
    wins = np.zeros((len(score_table), len(models), len(models)))
    for d, scores in enumerate(score_table):
        present = [m for m in models if scores.get(m) is not None]
        for a in present:
            for b in present:
                if a != b and scores[a] >= scores[b]:
                    wins[d, index[a], index[b]] = 1.0 if scores[a] > scores[b] else 0.5
    return wins


def bradley_terry(wins: np.ndarray, prior_ties: float = ELO_PRIOR_TIES, tol: float = 1e-10,
                  max_iter: int = 100_000) -> np.ndarray:
    """Maximum-likelihood Bradley-Terry strengths by Hunter's (2004) MM algorithm.

    P(i beats j) = p_i / (p_i + p_j). `prior_ties` virtual ties are added between every
    pair, which keeps the estimate finite when a model wins or loses every comparison.
    `wins` is (k, k), or (b, k, k) for b independent problems solved together. Strengths are
    returned with geometric mean 1.
    """
    wins = np.asarray(wins, dtype=float)
    k = wins.shape[-1]
    wins = wins + prior_ties / 2 * (1 - np.eye(k))
    games = wins + np.swapaxes(wins, -1, -2)
    won = wins.sum(axis=-1)
    strength = np.ones(wins.shape[:-1])
    for _ in range(max_iter):
        denominator = (games / (strength[..., :, None] + strength[..., None, :])).sum(axis=-1)
        updated = won / denominator
        updated /= np.exp(np.mean(np.log(updated), axis=-1, keepdims=True))
        done = np.max(np.abs(updated - strength)) < tol
        strength = updated
        if done:
            break
    return strength


def elo_from_strength(strength: np.ndarray) -> np.ndarray:
    """Strengths on the Elo scale: mean rating 1000, 400 points per factor of 10 in the odds."""
    return ELO_BASE + ELO_SCALE * np.log10(strength)


def elo_ratings(score_table: list[dict[str, float]], models: list[str], n_boot: int = 1000, seed: int = 0,
                confidence: float = CONFIDENCE) -> dict[str, tuple[float, float, float]]:
    """Elo rating of each model from pairwise comparisons per dataset, with a bootstrap interval
    over datasets (the datasets are resampled with replacement, as TabArena does)."""
    per_dataset = pairwise_wins(score_table, models)
    rng = np.random.default_rng(seed)
    n = len(score_table)
    # Row 0 counts every dataset once (the point estimate); the others are bootstrap resamples.
    counts = np.stack([np.ones(n)] + [np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)])
    ratings = elo_from_strength(bradley_terry(np.tensordot(counts.astype(float), per_dataset, axes=1)))
    point, replicates = ratings[0], ratings[1:]
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(replicates, tail, axis=0), np.percentile(replicates, 100 - tail, axis=0)
    return {m: (float(point[i]), float(low[i]), float(high[i])) for i, m in enumerate(models)}


# ---------------------------------------------------------------------------------------------
# Paired tests over datasets
# ---------------------------------------------------------------------------------------------

def min_wilcoxon_n(alpha: float = 0.05) -> int:
    """The fewest non-zero pairs with which an exact two-sided Wilcoxon test can reach `alpha`:
    the smallest possible p-value with n pairs is 2 / 2**n."""
    n = 1
    while 2.0 / 2**n >= alpha:
        n += 1
    return n


def wilcoxon(differences: list[float], alpha: float = 0.05) -> dict:
    """Two-sided Wilcoxon signed-rank test of paired differences (zeros dropped, as Wilcoxon did).

    Returns n (non-zero pairs), the statistic, the p-value (None when the test cannot run), the
    median difference, the rank sums of the positive and negative differences, `direction` (+1 when
    the positive side has the larger rank sum, -1 when the negative, 0 on a draw) and `testable`:
    whether n is enough to ever reach `alpha`.
    """
    array = np.asarray(differences, dtype=float)
    nonzero = array[array != 0]
    result = {"n": int(len(nonzero)), "n_pairs": int(len(array)), "statistic": None, "p_value": None,
              "median_difference": float(np.median(array)) if len(array) else None,
              "rank_sum_positive": 0.0, "rank_sum_negative": 0.0, "direction": 0,
              "testable": len(nonzero) >= min_wilcoxon_n(alpha)}
    if len(nonzero) == 0:
        return result
    signed_ranks = sps.rankdata(np.abs(nonzero)) * np.sign(nonzero)
    result["rank_sum_positive"] = float(signed_ranks[signed_ranks > 0].sum())
    result["rank_sum_negative"] = float(-signed_ranks[signed_ranks < 0].sum())
    result["direction"] = int(np.sign(result["rank_sum_positive"] - result["rank_sum_negative"]))
    test = sps.wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided")
    result["statistic"] = float(test.statistic)
    result["p_value"] = float(test.pvalue)
    return result


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None stays None and is not counted)."""
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    present.sort()
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for step, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - step) * p))
        adjusted[i] = running
    return adjusted


def rank_matrix(matrix: np.ndarray) -> np.ndarray:
    """Ranks within each row (dataset) of a datasets x models score matrix: 1 = best, ties averaged."""
    return np.vstack([sps.rankdata(-row, method="average") for row in np.asarray(matrix, dtype=float)])


def friedman(matrix: np.ndarray) -> dict:
    """Friedman's test over a datasets x models score matrix (at least 2 datasets and 3 models),
    with the Iman-Davenport F correction that Demsar (2006) recommends."""
    matrix = np.asarray(matrix, dtype=float)
    n, k = matrix.shape
    chi2, p = sps.friedmanchisquare(*matrix.T)
    denominator = n * (k - 1) - chi2
    if denominator > 0:
        f = (n - 1) * chi2 / denominator
        f_p = float(sps.f.sf(f, k - 1, (k - 1) * (n - 1)))
    else:  # the same order on every dataset: the F statistic is infinite
        f, f_p = math.inf, 0.0
    return {"n_datasets": n, "n_models": k, "chi2": float(chi2), "p_value": float(p),
            "iman_davenport_f": float(f), "iman_davenport_p": f_p,
            "mean_ranks": [float(r) for r in rank_matrix(matrix).mean(axis=0)]}


def nemenyi_critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of mean ranks (Demsar 2006): q_alpha * sqrt(k (k+1) / (6 n)),
    where q_alpha is the studentized range quantile over sqrt(2)."""
    q = sps.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n)))


# ---------------------------------------------------------------------------------------------
# Anytime (tuning) curves
# ---------------------------------------------------------------------------------------------

def anytime_curves(valid: list[float | None], test: list[float | None], cost: list[float], n_boot: int,
                   seed: int, keep_first: bool = True, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Best-so-far test score, chosen by validation, after each trial, over random trial orders.

    Trials with no score (failed) cost their time but can never be chosen. With `keep_first`
    the first trial (the model's default) stays first and the others are shuffled. Shuffling is
    valid for random search only, whose trials are exchangeable; with `shuffle=False` the curve
    follows the order the trials ran in (an adaptive sampler such as TPE), as one row. Returns
    (scores, elapsed), both (n_boot, n_trials), or (1, n_trials) unshuffled: the test score of the
    best-validation trial among the first k+1 (NaN before any trial scored) and the seconds spent by then.
    """
    valid_array = np.array([-np.inf if v is None else v for v in valid], dtype=float)
    test_array = np.array([np.nan if t is None else t for t in test], dtype=float)
    cost_array = np.array([c or 0.0 for c in cost], dtype=float)
    n = len(valid_array)
    rng = np.random.default_rng(seed)
    start = 1 if keep_first and n > 0 else 0
    orders = np.tile(np.arange(n), (n_boot if shuffle else 1, 1))
    for row in orders if shuffle else ():
        rng.shuffle(row[start:])
    v, t, c = valid_array[orders], test_array[orders], cost_array[orders]
    scores = np.full(orders.shape, np.nan)
    best_valid = np.full(len(orders), -np.inf)
    best_test = np.full(len(orders), np.nan)
    for k in range(n):
        better = v[:, k] > best_valid  # strict: the earlier trial wins ties
        best_valid = np.where(better, v[:, k], best_valid)
        best_test = np.where(better, t[:, k], best_test)
        scores[:, k] = best_test
    return scores, np.cumsum(c, axis=1)
