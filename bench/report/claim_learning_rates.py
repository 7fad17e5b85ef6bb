"""Where the tuned learning rates of the nets fall: is a range of a parameter a known-good start? The test
reads every tuning run (units and trial rows) of the named nets and returns its verdict as every claim test
does (claim_tests.py).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.contract import Status, best_trial
from bench.report.claim_tests import (ALPHA, CONTRADICTED, INCONCLUSIVE, SUPPORTED, _round, claimed, excluded_note,
                                      variant_key)


def poisson_binomial(probabilities: list[float]) -> np.ndarray:
    """pmf[x] = P(X = x) for X the number of successes of independent Bernoulli(p_i) trials (exact, by
    convolution)."""
    pmf = np.ones(1)
    for p in probabilities:
        pmf = np.concatenate([pmf * (1 - p), [0.0]]) + np.concatenate([[0.0], pmf * p])
    return pmf


def in_range_test(hits: list[bool], probabilities: list[float]) -> dict:
    """Two-sided exact test that the count of hits is what independent Bernoulli(p_i) would give: p = twice
    the smaller tail, capped at 1; `smallest_p` is the least p the procedure can give with these p_i."""
    pmf = poisson_binomial(probabilities)
    x = int(sum(hits))
    upper, lower = float(pmf[x:].sum()), float(pmf[: x + 1].sum())
    expected = float(sum(probabilities))
    return {"n": len(hits), "hits": x, "expected": round(expected, 3),
            "p_value": min(1.0, 2 * min(upper, lower)),
            "direction": int(np.sign(x - expected)) if len(hits) else 0,
            "smallest_p": min(1.0, 2 * min(float(pmf[-1]), float(pmf[0])))}


def test_range_is_known_good(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    key, low, high, models = params.get("key", "lr"), params["low"], params["high"], params["models"]
    method = (f"Every finished unit of {', '.join(models)} (variants included) on a dataset that carries signal, "
              f"whose trials tried {key} both inside and outside [{low:g}, {high:g}]: the unit's hit is whether its "
              f"best-validation trial has {key} in the range. If the range did not matter, the winner would be any "
              f"of the unit's scored trials alike, so a unit hits with probability p_i, the share of its trials in "
              f"the range, independently over units: the number of hits is Poisson-binomial (exact, two-sided: "
              f"twice the smaller tail). Supported when winners fall in the range significantly more often than "
              f"that, contradicted when significantly less often, at p < {alpha}; inconclusive when the "
              f"procedure's smallest attainable p is not below {alpha} (too few units). Exact for random search; "
              f"TPE's later proposals depend on earlier winners, which this test takes as independent draws. "
              f"Beside it, how far the default (trial 0) is from the tuned choice on the normalised scale of "
              f"section 1, per model." + excluded_note(params))
    signal = claimed(board, params)
    hits, probabilities, best_values, gaps = [], [], defaultdict(list), defaultdict(list)
    datasets = set()
    for unit in units:
        base = variant_key(unit["model"])[0]
        if base not in models or unit["status"] != "done" or unit["dataset"] not in signal:
            continue
        rows = [t for t in trials_by_unit.get(unit["unit_key"], [])
                if t["status"] == Status.OK and t.get("valid_score") is not None and key in (t.get("params") or {})]
        chosen = best_trial(rows)
        if chosen is None:
            continue
        inside = [low <= float(t["params"][key]) <= high for t in rows]
        share = sum(inside) / len(inside)
        best_values[base].append(float(chosen["params"][key]))
        gap = _default_gap(board, unit["dataset"], rows, chosen)
        if gap is not None:
            gaps[base].append(gap)
        if 0 < share < 1:
            hits.append(low <= float(chosen["params"][key]) <= high)
            probabilities.append(share)
            datasets.add(unit["dataset"])
    test = in_range_test(hits, probabilities)
    if not hits:
        verdict, why = INCONCLUSIVE, f"no unit tried {key} both inside and outside the range"
    elif test["smallest_p"] >= alpha:
        verdict, why = INCONCLUSIVE, (f"{len(hits)} unit(s) whose trials tried both sides of the range; the "
                                      f"smallest p they allow is {test['smallest_p']:.3g}, not below {alpha}: "
                                      f"it cannot decide")
    elif test["p_value"] >= alpha or test["direction"] == 0:
        verdict, why = INCONCLUSIVE, f"exact p = {test['p_value']:.3g} over {len(hits)} unit(s)"
    else:
        verdict = SUPPORTED if test["direction"] > 0 else CONTRADICTED
        why = f"exact p = {test['p_value']:.3g} over {len(hits)} unit(s)"
    per_model = {m: {"units": len(best_values[m]),
                     "median_best": float(np.median(best_values[m])),
                     "share_best_in_range": round(float(np.mean([low <= v <= high for v in best_values[m]])), 3),
                     "mean_default_gap": _round(gaps[m])} for m in sorted(best_values)}
    gap_text = {m: "n/a" if v["mean_default_gap"] is None else v["mean_default_gap"] for m, v in per_model.items()}
    described = "; ".join(f"{m}: median best {key} {v['median_best']:.2g}, {v['share_best_in_range']:.0%} of "
                          f"{v['units']} in range, default {gap_text[m]} below tuned (normalised)"
                          for m, v in per_model.items())
    summary = (f"best {key} in [{low:g}, {high:g}] in {test['hits']} of {len(hits)} unit(s) that tried both sides, "
               f"{test['expected']:.1f} expected if the range did not matter; {why}" if hits else why)
    return {"verdict": verdict,
            "statistic": {"test": test, "per_model": per_model, "key": key, "range": [low, high]},
            "datasets": sorted(datasets),
            "summary": summary + (f". {described}" if described else ""),
            "method": method}


def _default_gap(board: dict, dataset: str, rows: list[dict], chosen: dict) -> float | None:
    """The normalised test score of the tuned choice minus that of trial 0 (section 1's scale), or None."""
    default = next((t for t in rows if t["number"] == 0), None)
    info = board["datasets"].get(dataset, {})
    low, high = info.get("low_anchor"), info.get("best_score")
    if default is None or low is None or high is None or high <= low:
        return None
    return (stats.normalized_score(chosen["test_score"], low, high)
            - stats.normalized_score(default["test_score"], low, high))


def _check(params: dict) -> list[str]:
    problems = []
    models = params["models"]
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        problems.append("`models` must be a list of model names")
    low, high = params["low"], params["high"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or not 0 < low < high:
        problems.append(f"`low` and `high` must be numbers with 0 < low < high; got {low!r}, {high!r}")
    return problems


REQUIRED = {"range_is_known_good": ("models", "low", "high")}
CHECKS = {"range_is_known_good": _check}
TESTS = {"range_is_known_good": test_range_is_known_good}
