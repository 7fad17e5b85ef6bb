"""Elo ratings of the models: Bradley-Terry strengths from pairwise wins per dataset, with
bootstrap intervals over datasets (as TabArena reports them)."""
from __future__ import annotations

from collections import defaultdict

from bench import stats

N_BOOT = 1000
METHOD = (
    "Bradley-Terry maximum likelihood over pairwise comparisons, one per dataset and pair of models "
    "scored on it (higher mean test score wins; equal scores tie, counting half to each); one virtual tie "
    f"between every pair keeps ratings finite. Elo scale: mean rating {stats.ELO_BASE:g}, "
    f"{stats.ELO_SCALE:g} points per factor of 10 in the odds of winning. 95% interval: percentile bootstrap "
    f"over datasets ({N_BOOT} resamples, seeded)."
)


def score_table(results: list[dict]) -> list[dict[str, float]]:
    """Per dataset (sorted by name), the mean test score of every model scored on it."""
    table = defaultdict(dict)
    for row in results:
        if row["score"] is not None:
            table[row["dataset"]][row["model"]] = row["score"]
    return [table[d] for d in sorted(table)]


def elo(board: dict) -> dict[str, dict]:
    """Per model: elo, elo_low, elo_high (None for a model scored nowhere)."""
    table = score_table(board["results"])
    rated = [m["name"] for m in board["models"] if any(m["name"] in row for row in table)]
    ratings = stats.elo_ratings(table, rated, n_boot=N_BOOT, seed=board["seed"]) if len(rated) >= 2 and table else {}
    out = {}
    for model in board["models"]:
        value = ratings.get(model["name"])
        out[model["name"]] = {
            "elo": None if value is None else round(value[0], 1),
            "elo_low": None if value is None else round(value[1], 1),
            "elo_high": None if value is None else round(value[2], 1),
        }
    return out
