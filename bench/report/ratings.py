"""Elo ratings of the models: Bradley-Terry strengths from pairwise wins per dataset, with
bootstrap intervals over datasets (as TabArena reports them), within one leaderboard: its models
on its common datasets."""
from __future__ import annotations

from collections import defaultdict

from bench import stats

N_BOOT = 1000
METHOD = (
    "Elo: Bradley-Terry maximum likelihood over pairwise comparisons, one per common dataset and pair of models "
    "(higher mean test score wins; equal scores tie, counting half to each); one virtual tie between every pair "
    f"keeps ratings finite. Elo scale: mean rating {stats.ELO_BASE:g} within each leaderboard, "
    f"{stats.ELO_SCALE:g} points per factor of 10 in the odds of winning, so ratings compare only within one "
    f"leaderboard. 95% interval: percentile bootstrap over its datasets ({N_BOOT} resamples, seeded)."
)


def score_table(results: list[dict]) -> list[dict[str, float]]:
    """Per dataset (sorted by name), the mean test score of every model scored on it."""
    table = defaultdict(dict)
    for row in results:
        if row["score"] is not None:
            table[row["dataset"]][row["model"]] = row["score"]
    return [table[d] for d in sorted(table)]


def elo(table: list[dict[str, float]], models: list[str], seed: int) -> dict[str, dict]:
    """Per model: elo, elo_low, elo_high from `table` (one dict of scores per dataset); None without two
    models and a dataset."""
    ratings = stats.elo_ratings(table, models, n_boot=N_BOOT, seed=seed) if len(models) >= 2 and table else {}
    out = {}
    for model in models:
        value = ratings.get(model)
        out[model] = {
            "elo": None if value is None else round(value[0], 1),
            "elo_low": None if value is None else round(value[1], 1),
            "elo_high": None if value is None else round(value[2], 1),
        }
    return out
