"""Statistics over stored results: fold means with confidence intervals, normalised scores, ranks."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95


def mean_ci(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval over folds; a single fold has a zero-width interval."""
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return mean, mean, mean
    half = float(sps.t.ppf(0.5 + confidence / 2, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array)))
    return mean, mean - half, mean + half


def normalized_scores(scores: dict[str, float], low_anchor: float) -> dict[str, float]:
    """Affine normalisation per dataset (Grinsztajn et al. 2022): best model = 1, low anchor = 0.

    The low anchor is the constant predictor's score (majority-class
    accuracy, or R2 = 0 of the train mean), so a normalised score reads as
    "share of the achievable gain over guessing". Scores below the anchor
    clip to 0.
    """
    best = max(scores.values())
    if best <= low_anchor:
        return {model: 0.0 for model in scores}
    return {model: max(0.0, (score - low_anchor) / (best - low_anchor)) for model, score in scores.items()}


def ranks(scores: dict[str, float]) -> dict[str, float]:
    """Rank 1 is the best (highest) score; ties share the average rank."""
    models = list(scores)
    values = sps.rankdata([-scores[m] for m in models], method="average")
    return {model: float(rank) for model, rank in zip(models, values)}
