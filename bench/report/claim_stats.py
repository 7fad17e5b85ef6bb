"""The statistics the claim tests need beyond bench.stats: how many datasets a procedure needs before
it can reach alpha at all, one-sided Wilcoxon signed-rank tests and the equivalence test built from
them, and a randomisation test that relabels which variant of a dataset is which.

Every function is pure: numbers in, numbers out. `wilcoxon` is bench.stats.wilcoxon with the exact
null distribution cached, so that the claims' null simulation runs in seconds; with ties, or more than
50 differences, it is bench.stats.wilcoxon itself (where scipy leaves the exact distribution).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats as sps

from bench import stats

# Randomisation tests enumerate every relabelling up to this many, and draw this many at random above it.
EXACT_LIMIT = 100_000
N_RESAMPLES = 1999


# ---------------------------------------------------------------------------------------------
# The fewest datasets a procedure needs
# ---------------------------------------------------------------------------------------------

def smallest_n(smallest_p, threshold: float) -> int:
    """The fewest datasets n with smallest_p(n) < threshold (smallest_p falls with n)."""
    n = 1
    while smallest_p(n) >= threshold:
        n += 1
    return n


def min_n_two_sided(alpha: float, k: int = 1) -> int:
    """Fewest non-zero differences with which an exact two-sided Wilcoxon test can reject, alone (k = 1)
    or as the first step of Holm's procedure over k tests, whose smallest p must be below alpha / k
    (Holm 1979). The smallest two-sided p with n differences is 2 / 2**n: 6 for alpha 0.05, 7 with k = 2."""
    return smallest_n(lambda n: 2.0 / 2**n, alpha / k)


def min_n_one_sided(alpha: float) -> int:
    """Fewest non-zero differences with which an exact one-sided Wilcoxon test can reject: 1 / 2**n < alpha."""
    return smallest_n(lambda n: 1.0 / 2**n, alpha)


def min_n_relabel(alpha: float, labels: int) -> int:
    """Fewest datasets with which a two-sided randomisation test over `labels` equally likely labellings
    per dataset can reject: the smallest p is 2 / labels**n."""
    return smallest_n(lambda n: 2.0 / labels**n, alpha)


# ---------------------------------------------------------------------------------------------
# One-sided Wilcoxon and the equivalence test
# ---------------------------------------------------------------------------------------------

EXACT_MAX_N = 50  # scipy's wilcoxon is exact up to here when there are no ties


@lru_cache(maxsize=None)
def _signed_rank_cdf(n: int) -> np.ndarray:
    """cdf[w] = P(W+ <= w) for the signed-rank statistic of n untied non-zero differences under the null:
    the number of subsets of the ranks 1..n summing to w, over 2**n."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return np.cumsum(counts) / 2.0**n


def _untied(differences) -> tuple[np.ndarray, np.ndarray | None]:
    """The non-zero differences, and their ranks by absolute value when the exact distribution applies."""
    array = np.asarray(differences, dtype=float)
    nonzero = array[array != 0]
    magnitude = np.abs(nonzero)
    if len(nonzero) == 0 or len(nonzero) > EXACT_MAX_N or len(np.unique(magnitude)) < len(nonzero):
        return nonzero, None
    ranks = np.empty(len(nonzero))
    ranks[np.argsort(magnitude)] = np.arange(1, len(nonzero) + 1)
    return nonzero, ranks


def _exact_p(r_plus: float, n: int, alternative: str) -> float:
    cdf = _signed_rank_cdf(n)
    w = int(round(r_plus))
    at_most = float(cdf[w])  # P(W+ <= w)
    at_least = float(1.0 - cdf[w - 1]) if w > 0 else 1.0  # P(W+ >= w)
    if alternative == "less":
        return at_most
    if alternative == "greater":
        return at_least
    return min(1.0, 2.0 * min(at_most, at_least))


def wilcoxon(differences, alpha: float = 0.05) -> dict:
    """bench.stats.wilcoxon (two-sided, zeros dropped, the same keys), from a cached exact distribution
    when there are no ties among at most 50 differences, else from bench.stats.wilcoxon."""
    nonzero, ranks = _untied(differences)
    if ranks is None:
        return stats.wilcoxon(differences, alpha)
    array = np.asarray(differences, dtype=float)
    r_plus, r_minus = float(ranks[nonzero > 0].sum()), float(ranks[nonzero < 0].sum())
    return {"n": int(len(nonzero)), "n_pairs": int(len(array)), "statistic": min(r_plus, r_minus),
            "p_value": _exact_p(r_plus, len(nonzero), "two-sided"), "median_difference": float(np.median(array)),
            "rank_sum_positive": r_plus, "rank_sum_negative": r_minus, "direction": int(np.sign(r_plus - r_minus)),
            "testable": len(nonzero) >= stats.min_wilcoxon_n(alpha)}


def signed_rank_one_sided(differences, alternative: str) -> dict:
    """One-sided Wilcoxon signed-rank test (zeros dropped): alternative 'greater' (the differences lie
    above 0) or 'less'. Returns n (non-zero differences) and the p-value (None without differences)."""
    nonzero, ranks = _untied(differences)
    if len(nonzero) == 0:
        return {"n": 0, "p_value": None}
    if ranks is not None:
        return {"n": int(len(nonzero)), "p_value": _exact_p(float(ranks[nonzero > 0].sum()), len(nonzero), alternative)}
    test = sps.wilcoxon(nonzero, zero_method="wilcox", alternative=alternative)
    return {"n": int(len(nonzero)), "p_value": float(test.pvalue)}


def equivalence(values, margin: float, alpha: float) -> dict:
    """Two one-sided tests (TOST, Schuirmann 1987) with Wilcoxon signed-rank tests in place of t-tests:
    the values lie within (-margin, +margin) when both 'values + margin > 0' and 'values - margin < 0'
    reject at alpha. p_value is the larger of the two; equivalent says whether it is below alpha."""
    array = np.asarray(values, dtype=float)
    above = signed_rank_one_sided(array + margin, "greater")
    below = signed_rank_one_sided(array - margin, "less")
    ps = [above["p_value"], below["p_value"]]
    p = None if None in ps else max(ps)
    n = min(above["n"], below["n"])
    testable = n >= min_n_one_sided(alpha)
    return {"margin": margin, "n": n, "p_above_minus_margin": above["p_value"], "p_below_margin": below["p_value"],
            "p_value": p, "testable": testable, "equivalent": bool(testable and p is not None and p < alpha)}


# ---------------------------------------------------------------------------------------------
# Randomisation test over labellings within datasets
# ---------------------------------------------------------------------------------------------

def relabel_test(values, labels: int, alpha: float, seed: int = 0) -> dict:
    """Two-sided randomisation test (Fisher 1935; Pitman 1937) of sum_d values[d][0].

    values[d][j] is dataset d's statistic had its labels been assigned the j-th of `labels` ways; under
    the null all labellings of a dataset are equally likely, independently over datasets, so the null
    distribution of the sum draws one column per dataset. It is enumerated exactly when there are at
    most EXACT_LIMIT labellings, else sampled N_RESAMPLES times with a fixed seed (p = (1 + hits) /
    (1 + N_RESAMPLES), still exact in level). Rows the same under every labelling cannot move the sum
    and are not counted in n.
    """
    values = np.asarray(values, dtype=float).reshape(-1, labels)
    moving = values[np.ptp(values, axis=1) > 0]
    n = len(moving)
    result = {"n": n, "labels": labels, "statistic": round(float(values[:, 0].sum()), 6), "p_value": None,
              "direction": 0, "exact": None, "testable": n >= min_n_relabel(alpha, labels)}
    if n == 0:
        return result
    observed = float(moving[:, 0].sum())
    tolerance = 1e-9 * max(1.0, abs(observed))
    if labels**n <= EXACT_LIMIT:
        sums = np.zeros(1)
        for row in moving:
            sums = (sums[:, None] + row[None, :]).ravel()
        p_upper = np.count_nonzero(sums >= observed - tolerance) / len(sums)
        p_lower = np.count_nonzero(sums <= observed + tolerance) / len(sums)
        exact = True
    else:
        picks = np.random.default_rng(seed).integers(0, labels, size=(N_RESAMPLES, n))
        sums = moving[np.arange(n)[None, :], picks].sum(axis=1)
        p_upper = (1 + np.count_nonzero(sums >= observed - tolerance)) / (1 + N_RESAMPLES)
        p_lower = (1 + np.count_nonzero(sums <= observed + tolerance)) / (1 + N_RESAMPLES)
        exact = False
    result.update(p_value=float(min(1.0, 2 * min(p_upper, p_lower))), exact=exact,
                  direction=int(np.sign(p_lower - p_upper)))
    return result


def presence_relabellings(values) -> np.ndarray:
    """values[d] = (absent, flavour, flavour, ...) normalised scores of dataset d. Returns out[d, j]: how much
    farther variant j lies from the others than the others lie from each other (mean |other - j| minus mean
    |other - other|), over the mean distance between all variants, had variant j been the absent one;
    column 0 is the observed labelling. A dataset whose variants all score the same gives 0."""
    values = np.asarray(values, dtype=float)
    labels = values.shape[1]
    distance = np.abs(values[:, :, None] - values[:, None, :])  # (datasets, labels, labels)
    to_j = distance.sum(axis=2)  # sum over the others of |other - j|
    total = distance.sum(axis=(1, 2)) / 2  # sum over pairs
    spread = total / (labels * (labels - 1) / 2)
    between = (total[:, None] - to_j) / ((labels - 1) * (labels - 2) / 2)
    out = to_j / (labels - 1) - between
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread[:, None] > 0, out / spread[:, None], 0.0)


def presence_statistic(absent: float, flavours: list[float]) -> float:
    """presence_relabellings' observed value for one dataset."""
    return float(presence_relabellings([[absent, *flavours]])[0, 0])
