"""The leaderboard: the board every section reads (per-dataset results, per-model summaries, failures,
provenance), section 1 (mean normalised score, mean rank, wins, Elo) and `build_leaderboard`, which adds
every other section's data to the board."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.report import (claims as claims_module, cost, critical_difference, diagnostics, families, guidance,
                          learning_curves, per_dataset, provenance, ratings, tuning_curves, wins)
from bench.report.formatting import budget_text, fmt
from bench.store import Store


def _model_summary(config: dict, results: list[dict]) -> list[dict]:
    """Mean normalised score and mean rank per model over the datasets it was scored on."""
    by_dataset = defaultdict(dict)
    anchors = {}
    for row in results:
        if row["score"] is not None:
            by_dataset[row["dataset"]][row["model"]] = row["score"]
            anchors[row["dataset"]] = row["baseline_score"]
    normalized, ranked = defaultdict(list), defaultdict(list)
    for dataset, scores in by_dataset.items():
        for model, value in stats.normalized_scores(scores, anchors[dataset]).items():
            normalized[model].append(value)
        for model, value in stats.ranks(scores).items():
            ranked[model].append(value)
    for row in results:
        values = by_dataset.get(row["dataset"], {})
        if row["model"] in values:
            row["normalized_score"] = stats.normalized_scores(values, anchors[row["dataset"]])[row["model"]]
            row["rank"] = stats.ranks(values)[row["model"]]
    summary = []
    for model in config["models"]:
        summary.append({
            "name": model,
            "family": config["model_info"][model]["family"],
            "mean_rank": round(float(np.mean(ranked[model])), 4) if ranked[model] else None,
            "mean_normalized_score": round(float(np.mean(normalized[model])), 4) if normalized[model] else None,
            "n_datasets": len(ranked[model]),
            "wins": sum(1 for r in ranked[model] if r == 1.0),
        })
    summary.sort(key=lambda m: (m["mean_normalized_score"] is None, -(m["mean_normalized_score"] or 0)))
    return summary


def _by_unit(trials: list[dict]) -> dict[str, list[dict]]:
    by_unit = defaultdict(list)
    for trial in trials:
        by_unit[trial["unit_key"]].append(trial)
    return by_unit


def core_leaderboard(store: Store, run_id: str) -> tuple[dict, list[dict], dict[str, list[dict]]]:
    """The leaderboard's core (results, models, failures, provenance), the units and the trial rows by unit."""
    config = store.run(run_id)["config"]
    units = store.units(run_id)
    trials = store.trials(run_id)
    trials_by_unit = _by_unit(trials)
    cells = per_dataset.results(config, units, trials_by_unit)
    # Learning-curve runs hold one cell per training size; the leaderboard reads the largest.
    largest = defaultdict(int)
    for row in cells:
        largest[row["dataset"]] = max(largest[row["dataset"]], row["train_size"] or 0)
    results = [row for row in cells if (row["train_size"] or 0) == largest[row["dataset"]]]
    per_dataset.mark_best_and_ties(results)
    sittings = store.sittings(run_id)
    board = {
        "suite": config["suite"],
        "run_id": run_id,
        "budget": {"trials": config["trials"], "seconds": config["seconds"]},
        "folds": config["folds"],
        "seed": config["seed"],
        "max_train": config["max_train"],
        "sampler": config["sampler"],
        "device": config["device"],
        "datasets": config["dataset_info"],
        "models": _model_summary(config, results),
        "results": results,
        "learning_curve": [row for row in cells if row["train_size"]],
        "failures": [
            {"dataset": u["dataset"], "model": u["model"], "fold": u["fold"], "train_size": u["train_size"] or None,
             "status": u["status"],
             "error": u["error"]}
            for u in units if u["status"] != "done"
        ],
        "trial_counts": {
            status: sum(1 for t in trials if t["status"] == status)
            for status in sorted({t["status"] for t in trials})
        },
        "timing": provenance.timing(sittings, trials, units),
        "environment": sittings[-1]["environment"] if sittings else {},
        "sittings": len(sittings),
    }
    board["provenance"] = provenance.provenance(store, run_id, config, units, sittings, results)
    for model in board["models"]:
        covered = board["provenance"]["coverage"][model["name"]]
        model["datasets_not_scored"] = {k: covered[k] for k in ("failed", "missing") if covered[k]}
    return board, units, trials_by_unit


def build_leaderboard(store: Store, run_id: str, claims: list[dict] | None = None) -> dict:
    """Everything the report shows, as plain data: the JSON behind leaderboard.md and index.html.

    `claims` replaces the packaged claims (bench/report/claims.toml) when given.
    """
    board, units, trials_by_unit = core_leaderboard(store, run_id)
    rows = (units, trials_by_unit)
    elo = ratings.elo(board)
    for model in board["models"]:
        model.update(elo[model["name"]])
    board["rating_method"] = ratings.METHOD
    board["families"] = families.family_comparison(board)
    board["critical_difference"] = critical_difference.critical_difference(board)
    board["tuning_curves"] = tuning_curves.tuning_curves(board, *rows)
    board["learning_curves"] = learning_curves.learning_curves(board)
    board["cost"] = cost.cost(board, *rows)
    board["where_deep_wins"] = wins.where_deep_wins(board)
    board["guidance"] = guidance.guidance(board)
    board["claims"] = claims_module.evaluate_claims(board, *rows, claims=claims)
    board["diagnostics"] = diagnostics.diagnostics(board, *rows)
    return board


def overview(board: dict) -> list:
    """The paragraphs above the sections: what was run, how a score is read, and whether results are partial."""
    p = board["provenance"]
    blocks = [("p", f"Suite `{board['suite']}` (run `{board['run_id']}`): {len(board['datasets'])} datasets, "
                    f"{len(board['models'])} models, budget {budget_text(board)}, {board['folds']} outer fold(s), "
                    f"seed {board['seed']}, sampler {board['sampler']}, training rows capped at "
                    f"{board['max_train'] or 'no cap'}, device {board['device']}."),
              ("p", "Each score is the test score of the trial with the best validation score (selection never "
                    "sees test), averaged over folds. The normalised score puts the best model on each dataset "
                    "at 1 and the constant predictor (majority class, or the train mean) at 0 (Grinsztajn et al. "
                    "2022), clipping below 0.")]
    units = p["units"]
    if not p["complete"]:
        blocks.append(("p", f"**Partial results**: {units['done']} of {units['expected']} expected units finished; "
                            f"{units['failed']} failed and {units['missing']} are missing (see Provenance). "
                            "Missing and failed units are left out, never imputed; every mean below says over "
                            "which datasets it is taken."))
    return blocks


def elo_text(model: dict) -> str:
    """Elo [low, high], or an em dash for a model with no rating."""
    if model.get("elo") is None:
        return "—"
    return f"{model['elo']:.0f} [{model['elo_low']:.0f}, {model['elo_high']:.0f}]"


def _n_datasets(board: dict) -> int:
    return len({r["dataset"] for r in board["results"] if r["score"] is not None})


def render(board: dict) -> list:
    """Section 1: mean normalised score, mean rank, wins and Elo per model, and which datasets each is scored on."""
    n_all = _n_datasets(board)
    rows = []
    for m in board["models"]:
        rows.append([m["name"], m["family"], fmt(m["mean_normalized_score"], 3), fmt(m["mean_rank"], 2),
                     str(m["wins"]), elo_text(m), f"{m['n_datasets']} of {n_all}"])
    blocks = [("table", ["model", "family", "mean normalised score", "mean rank", "wins", "Elo [95% CI]", "datasets"],
               rows, "llrrrrr")]
    notes = []
    coverage = board["provenance"]["coverage"]
    for m in board["models"]:
        c = coverage[m["name"]]
        if m["n_datasets"] < n_all:
            parts = []
            if c["not_applicable"]:
                parts.append(f"not applicable to {len(c['not_applicable'])}")
            if c["failed"]:
                parts.append(f"failed on {', '.join(c['failed'])}")
            if c["missing"]:
                parts.append(f"not yet run on {', '.join(c['missing'])}")
            notes.append(f"`{m['name']}` is scored on {m['n_datasets']} of {n_all} datasets ({'; '.join(parts)}): "
                         "its mean score and rank are over those datasets only, so compare it with the others "
                         "through the Elo rating (pairwise, on shared datasets) or the per-dataset table.")
    if notes:
        blocks.append(("list", notes))
    blocks += [
        ("p", "Mean rank: rank among the models scored on each dataset (1 = best, ties share the mean rank). "
              "Wins: datasets where the model has the best mean score. " + board["rating_method"]),
        ("figure", "ratings"),
    ]
    return blocks


def draw(board: dict):
    """Elo with its bootstrap interval per model, and the mean normalised score beside it."""
    from matplotlib.patches import Patch

    from bench.report.figures import FAMILY_COLORS, family_color, plt

    models = [m for m in board["models"] if m.get("elo") is not None]
    if not models:
        return None
    models = sorted(models, key=lambda m: m["elo"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.45 * len(models) + 1.2), sharey=True)
    y = np.arange(len(models))
    for i, m in enumerate(models):
        left.errorbar(m["elo"], i, xerr=[[m["elo"] - m["elo_low"]], [m["elo_high"] - m["elo"]]], fmt="o",
                      color=family_color(m["family"]), capsize=3)
        right.barh(i, m["mean_normalized_score"] or 0, color=family_color(m["family"]), alpha=0.8)
        right.text((m["mean_normalized_score"] or 0) + 0.01, i, f"{m['n_datasets']} ds", va="center", fontsize=7)
    left.axvline(1000, color="#999", lw=0.8, ls="--")
    left.set_yticks(y, [m["name"] for m in models])
    left.set_xlabel("Elo (95% bootstrap interval over datasets)")
    right.set_xlabel("mean normalised score (over the model's datasets)")
    right.set_xlim(0, 1.15)
    right.legend(handles=[Patch(color=c, label=f) for f, c in FAMILY_COLORS.items()], loc="lower right",
                 frameon=False)
    fig.tight_layout()
    return fig


FIGURES = {
    "ratings": (draw, "Elo rating per model with its 95% bootstrap interval over datasets, and the mean "
                      "normalised score with the number of datasets behind it."),
}
