"""Claims read along training sizes (runs with `train_sizes`, the learning-curve suite): does an ablation's
effect grow with the data? The test takes the learning-curve cells of the leaderboard (section 5), one per
dataset, model and training size, and returns its verdict as every claim test does (claim_tests.py).
"""
from __future__ import annotations

import numpy as np

from bench.report import claim_stats
from bench.report.claim_tests import (ALPHA, INCONCLUSIVE, WILCOXON, _decide, _imputed_note, _round, _same_model,
                                      ablation_problem, normalised_at_sizes, variant_key)


def size_slope(sizes: list[int], effects: list[float]) -> float:
    """The least-squares slope of an effect against log10(training size): its change per tenfold more data."""
    return float(np.polyfit(np.log10(sizes), effects, 1)[0])


def test_grows_with_size(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    larger, smaller = params["larger"], params["smaller"]
    needed = claim_stats.min_n_two_sided(alpha)
    (_, fixed_a), (_, fixed_b) = variant_key(larger), variant_key(smaller)
    key = next((k for k in fixed_a if fixed_a[k] != fixed_b.get(k)), "?")
    method = (f"Per dataset and training size of the learning curve, the effect is the normalised score of "
              f"{larger} minus {smaller} (two variants that differ in {key} alone), each on its size's own scale "
              f"(the constant predictor at that size 0, the best model at that size 1); per dataset, the "
              f"least-squares slope of the effect against log10(training size), over the sizes "
              f"both were scored at (at least two). A two-sided {WILCOXON}, of the slopes over datasets: supported "
              f"when the effect grows with the data (slopes significantly above 0), contradicted when it shrinks, "
              f"at p < {alpha}, which needs at least {needed} datasets.")
    curves = normalised_at_sizes(board)
    if not curves:
        return {"verdict": INCONCLUSIVE, "statistic": {}, "datasets": [], "method": method,
                "summary": "this run has no training sizes; the claim is read on a run with train_sizes "
                           "(the learning-curve suite)"}
    slopes, first_effect, last_effect, datasets, imputed = [], [], [], [], []
    for dataset, models in sorted(curves.items()):
        a = next((cells for m, cells in models.items() if _same_model(m, larger)), None)
        b = next((cells for m, cells in models.items() if _same_model(m, smaller)), None)
        sizes = sorted(set(a or {}) & set(b or {}))
        if len(sizes) < 2:
            continue
        effects = [a[s]["normalized"] - b[s]["normalized"] for s in sizes]
        slopes.append(size_slope(sizes, effects))
        first_effect.append(effects[0])
        last_effect.append(effects[-1])
        datasets.append(dataset)
        if any(a[s]["imputed"] or b[s]["imputed"] for s in sizes):
            imputed.append(dataset)
    if not datasets:
        return {"verdict": INCONCLUSIVE, "statistic": {}, "datasets": [], "method": method,
                "summary": f"no dataset has both {larger} and {smaller} at two or more training sizes"}
    test = claim_stats.wilcoxon(slopes, alpha)
    if test["n"] < needed:
        why = (f"{test['n']} dataset(s) with a slope; this test needs at least {needed} to reach p < {alpha}: "
               "it cannot decide")
    else:
        why = f"Wilcoxon p = {test['p_value']:.3g} over {test['n']} dataset(s)"
    return {
        "verdict": _decide(test, test["p_value"], alpha, needed),
        "statistic": {"wilcoxon": test, "min_datasets": needed, "mean_slope_per_decade": _round(slopes),
                      "mean_effect_at_smallest": _round(first_effect), "mean_effect_at_largest": _round(last_effect),
                      "imputed": imputed},
        "datasets": datasets,
        "summary": (f"effect of {key} ({larger} - {smaller}): {np.mean(first_effect):+.4f} at each dataset's "
                    f"smallest size, {np.mean(last_effect):+.4f} at its largest, mean slope "
                    f"{np.mean(slopes):+.4f} per tenfold more rows (normalised); " + why
                    + _imputed_note(imputed, "a variant's cell on")),
        "method": method,
    }


def _check(params: dict) -> list[str]:
    problem = ablation_problem({"with": params["larger"], "without": params["smaller"]}, "larger/smaller")
    return [problem] if problem else []


REQUIRED = {"grows_with_size": ("larger", "smaller")}
CHECKS = {"grows_with_size": _check}
TESTS = {"grows_with_size": test_grows_with_size}
