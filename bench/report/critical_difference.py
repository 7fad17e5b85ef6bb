"""The critical-difference ranking (Demsar 2006): Friedman's test over the models' ranks per
dataset, then Nemenyi's post-hoc critical difference of mean ranks.

Friedman needs the same datasets for every model. The diagram takes the models with a complete cell
(every planned fold scored or imputed, see per_dataset.IMPUTATION) on at least half of the datasets,
and the datasets where all of those have one and that carry signal; the rest are named.
"""
from __future__ import annotations

import numpy as np

from bench import stats

ALPHA = 0.05
MIN_COVERAGE = 0.5
ROUGH_BELOW = 10  # Friedman's chi-square approximation is rough with fewer datasets (Demsar 2006)


def block(results: list[dict], excluded: set[str] = frozenset()) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """Models, datasets and their score matrix (datasets x models) with no gaps; and the models left out.
    Datasets in `excluded` (no signal) are left out."""
    scores: dict[str, dict[str, float]] = {}
    for row in results:
        if row["score"] is not None and row.get("complete", True) and row["dataset"] not in excluded:
            scores.setdefault(row["model"], {})[row["dataset"]] = row["score"]
    all_datasets = sorted({d for per_model in scores.values() for d in per_model})
    threshold = MIN_COVERAGE * len(all_datasets)
    models = sorted(m for m, per_model in scores.items() if len(per_model) >= threshold)
    left_out = sorted(set(scores) - set(models))
    datasets = [d for d in all_datasets if all(d in scores[m] for m in models)]
    matrix = np.array([[scores[m][d] for m in models] for d in datasets]).reshape(len(datasets), len(models))
    return models, datasets, matrix, left_out


def cliques(mean_ranks: dict[str, float], cd: float) -> list[list[str]]:
    """Maximal groups of models whose mean ranks lie within the critical difference: the bars of the diagram."""
    order = sorted(mean_ranks, key=lambda m: (mean_ranks[m], m))
    groups = []
    for i, first in enumerate(order):
        group = [m for m in order[i:] if mean_ranks[m] - mean_ranks[first] <= cd]
        if len(group) > 1 and not any(set(group) <= set(g) for g in groups):
            groups.append(group)
    return groups


def critical_difference(board: dict) -> dict:
    models, datasets, matrix, left_out = block(board["results"], set(board.get("no_signal_datasets", [])))
    result = {"alpha": ALPHA, "models": models, "datasets": datasets, "left_out_models": left_out,
              "mean_ranks": {}, "friedman": None, "cd": None, "cliques": [], "verdict": None}
    if len(models) < 3 or len(datasets) < 2:
        result["verdict"] = (f"inconclusive: Friedman's test needs at least 3 models on at least 2 common "
                             f"datasets; this run has {len(models)} model(s) on {len(datasets)} common dataset(s)")
        if models and datasets:
            ranks = stats.rank_matrix(matrix).mean(axis=0)
            result["mean_ranks"] = {m: round(float(r), 4) for m, r in zip(models, ranks)}
        return result
    friedman = stats.friedman(matrix)
    mean_ranks = {m: round(r, 4) for m, r in zip(models, friedman.pop("mean_ranks"))}
    cd = stats.nemenyi_critical_difference(len(models), len(datasets), ALPHA)
    result.update({"friedman": friedman, "mean_ranks": mean_ranks, "cd": round(cd, 4),
                   "cliques": cliques(mean_ranks, cd)})
    rough = (f"; with {len(datasets)} datasets (under {ROUGH_BELOW}) the chi-square approximation is rough"
             if len(datasets) < ROUGH_BELOW else "")
    if friedman["p_value"] < ALPHA:
        result["verdict"] = (f"the models differ (Friedman p = {friedman['p_value']:.3g}); pairs whose mean ranks "
                             f"differ by more than the critical difference {cd:.2f} differ significantly" + rough)
    else:
        result["verdict"] = (f"no significant difference among the models (Friedman p = {friedman['p_value']:.3g}); "
                             f"the Nemenyi critical difference {cd:.2f} is shown for scale only" + rough)
    return result
