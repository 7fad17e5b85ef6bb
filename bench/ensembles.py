"""Post-hoc ensemble selection over a unit's trials: the third result per model, *tuned + ensembled*.

Greedy forward selection with replacement (Caruana, Niculescu-Mizil, Crew and Ksikes 2004,
"Ensemble selection from libraries of models", ICML), as AutoGluon's `EnsembleSelection` runs it
and TabArena reports it (Erickson et al. 2025): each round adds the trial whose addition scores
best on validation, a trial may be added again (its weight is the number of times chosen), and
the ensemble kept is the best-scoring prefix of the rounds (the shortest, on ties). The first round picks the best single
trial, so the kept ensemble scores at least as well on validation as the best trial. `ROUNDS` = 25,
AutoGluon's default (TabRepo, Salinas and Erickson 2024, found no gain above it).
Ties go to a trial already in the ensemble (a smaller ensemble), then to the earlier trial, so the
selection is deterministic.

Members are averaged: class probabilities for classification, values for regression. Weights are
chosen on validation only; the chosen ensemble is scored once on test. The inputs are the stored
(decoded) predictions (bench/store.py), so the store reproduces every ensemble exactly.

Cost: one selection is ROUNDS x trials metric evaluations, and the anytime curve repeats it for
each prefix, about ROUNDS x k^2 / 2 in all: 1,375 evaluations for a 10-trial unit, under a second
on most datasets and 10 s on letter (2,500 validation rows x 26 classes, 4 ms an evaluation).
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from bench import metrics

ROUNDS = 25
TIE = 1e-12  # scores this close (relative) are tied: float noise, not a better ensemble
CURVE_POINTS = 30  # anytime curve: every trial count up to this many trials, then this many log-spaced counts


def _score(task: str, metric: str, y: np.ndarray, prediction: np.ndarray, n_classes: int) -> float:
    return metrics.oriented(metric, metrics.score(task, y, prediction, n_classes)[metric])


def _tied_with(best: float, score: float) -> bool:
    return score >= best - TIE * max(1.0, abs(best))


def select(predictions: dict[int, np.ndarray], y_valid: np.ndarray, task: str, metric: str, n_classes: int = 0,
           rounds: int = ROUNDS) -> dict[int, int]:
    """{trial number: times chosen} by greedy selection with replacement on validation.

    `predictions` maps trial numbers to their validation predictions, (n, K) probabilities or
    (n,) values; `metric` is one of bench.metrics' names, scored higher-is-better (`oriented`).
    """
    if not predictions:
        raise ValueError("ensemble selection needs at least one trial's predictions")
    numbers = sorted(predictions)
    chosen: list[int] = []
    total = np.zeros_like(predictions[numbers[0]], dtype=np.float64)
    trajectory: list[float] = []
    for _ in range(rounds if len(numbers) > 1 else 1):
        size = len(chosen) + 1
        scores = {n: _score(task, metric, y_valid, (total + predictions[n]) / size, n_classes) for n in numbers}
        best = max(scores.values())
        tied = [n for n in numbers if _tied_with(best, scores[n])]
        pick = next((n for n in tied if n in chosen), tied[0])
        chosen.append(pick)
        total += predictions[pick]
        trajectory.append(scores[pick])
    # the shortest prefix tied with the best: a larger ensemble must be better, not float noise
    kept = next(i for i, score in enumerate(trajectory) if _tied_with(max(trajectory), score)) + 1
    return dict(sorted(Counter(chosen[:kept]).items()))


def combine(weights: dict[int, int], predictions: dict[int, np.ndarray]) -> np.ndarray:
    """The weighted average of the trials' predictions."""
    total = sum(weights.values())
    return sum(predictions[n] * (count / total) for n, count in weights.items())


def curve_points(n_trials: int) -> list[int]:
    """Trial counts the anytime curve is read at: all of them for a short study, else
    `CURVE_POINTS` log-spaced counts from 1 to `n_trials`."""
    if n_trials <= CURVE_POINTS:
        return list(range(1, n_trials + 1))
    return sorted({int(round(k)) for k in np.geomspace(1, n_trials, CURVE_POINTS)} | {n_trials})


def ensemble_unit(trials: list[dict], predictions: dict[int, dict[str, np.ndarray]], y: dict[str, np.ndarray],
                  task: str, metric: str, n_classes: int = 0, rounds: int = ROUNDS) -> dict | None:
    """A unit's tuned + ensembled result, or None when no trial has predictions.

    `trials` are the unit's trial rows in the order they ran (a trial without predictions, one
    that failed, is never a member), `predictions` maps trial numbers to {"valid", "test"}
    predictions and `y` holds the parts' targets. Returns the weights, the ensemble's validation
    and test score and metrics, and the anytime curve: the same selection over the first k
    trials only, scored on validation and test, for k at `curve_points` (scores None while no
    trial among the first k was scored).
    """
    order = [t["number"] for t in sorted(trials, key=lambda t: t["number"]) if t["number"] in predictions]
    if not order:
        return None

    results: dict[tuple[int, ...], tuple[dict[int, int], dict, dict]] = {}

    def over(pool: tuple[int, ...]) -> tuple[dict[int, int], dict, dict]:
        """(weights, valid metrics, test metrics) of the selection over `pool`; a pool seen before
        (the trials after a failed one) is not selected again."""
        if pool not in results:
            weights = select({n: predictions[n]["valid"] for n in pool}, y["valid"], task, metric, n_classes, rounds)
            results[pool] = (weights, *(
                metrics.score(task, y[part], combine(weights, {n: predictions[n][part] for n in weights}), n_classes)
                for part in ("valid", "test")))
        return results[pool]

    weights, valid, test = over(tuple(order))
    numbers_ran = sorted(t["number"] for t in trials)
    curve = []
    for k in curve_points(len(numbers_ran)):
        pool = tuple(n for n in order if n <= numbers_ran[k - 1])
        point = {"trials": k, "valid_score": None, "test_score": None}
        if pool:
            _, valid_k, test_k = over(pool)
            point.update(valid_score=metrics.oriented(metric, valid_k[metric]),
                         test_score=metrics.oriented(metric, test_k[metric]))
        curve.append(point)
    return {
        "weights": weights,
        "valid_score": metrics.oriented(metric, valid[metric]),
        "test_score": metrics.oriented(metric, test[metric]),
        "valid_metrics": valid,
        "test_metrics": test,
        "curve": curve,
    }
