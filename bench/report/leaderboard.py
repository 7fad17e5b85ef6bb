"""The leaderboard: the board every section reads (per-dataset results, their normalisation and signal,
per-model summaries, failures, provenance), section 1 (per common set of datasets: mean normalised score,
improvability, mean rank, wins, Elo; then default / tuned / tuned + ensembled, bench/report/result_kinds.py)
and `build_leaderboard`, which adds every other section's data to the board."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.report import (claims as claims_module, cost, critical_difference, diagnostics, families, guidance,
                          learning_curves, literature, per_dataset, provenance, ratings, result_kinds, subsets,
                          tuning_curves, wins)
from bench.report.formatting import budget_text, fmt
from bench.store import Store

NORMALISATION = (
    "Normalised score, per dataset (Grinsztajn et al. 2022, appendix): the best model's mean test score is 1 and "
    "a robust low anchor is 0, clipped to [0, 1]. The anchor comes from the models' own scores, as theirs does: "
    "the 10% quantile of the test scores of every trial of every model on the dataset (all folds), so that a best "
    "model that barely beats the constant predictor does not stretch two rows across the whole scale; for "
    "regression a trial below the constant predictor (the train mean, R2 about 0) counts as the constant predictor, "
    "so that a diverged model, R2 being unbounded below, does not squash the others against 1. (They take the "
    "median for regression, over hundreds of random-search trials; over the few, mostly tuned, trials of a run "
    "here it sits among the best models, so the 10% quantile serves both tasks.)"
)
IMPROVABILITY = (
    "Improvability (TabArena, Erickson et al. 2025): (error - best error) / error per dataset, error = 1 - score "
    "(error rate; MSE over the target's variance for R2), or the loss itself for a negated loss (log loss, RMSE, "
    "MAE); 0 for the best model, lower is better."
)
SIGNAL = (
    "a dataset carries no signal when its best model's lead over its worst (mean over their common folds, "
    "imputed folds left out) is within noise: no larger than the Nadeau-Bengio corrected standard error of that "
    "lead over folds, nor, for accuracy, than the binomial standard error of the best accuracy on the dataset's "
    "test rows. Such datasets are listed, kept in the per-dataset table and left out of every aggregate and "
    "family test; '—': too little to judge (one fold and no sampling error)."
)
def _by_unit(trials: list[dict]) -> dict[str, list[dict]]:
    by_unit = defaultdict(list)
    for trial in trials:
        by_unit[trial["unit_key"]].append(trial)
    return by_unit


# ---------------------------------------------------------------------------------------------
# Per dataset: normalised score, improvability, rank, signal
# ---------------------------------------------------------------------------------------------

def _trial_scores(results: list[dict], units: list[dict], trials_by_unit: dict) -> dict[str, list[float]]:
    """Per dataset, the test scores of every scored trial of the leaderboard's cells."""
    cells = {(r["dataset"], r["model"], r["train_size"]) for r in results}
    scores = defaultdict(list)
    for unit in units:
        if (unit["dataset"], unit["model"], unit["train_size"] or None) in cells:
            scores[unit["dataset"]] += [t["test_score"] for t in trials_by_unit.get(unit["unit_key"], [])
                                        if t["status"] == "ok" and t["test_score"] is not None]
    return scores


def normalise(results: list[dict], datasets: dict, trial_scores: dict[str, list[float]]) -> None:
    """Per result row: normalized_score (see NORMALISATION), improvability and rank among the dataset's models;
    per dataset: its low_anchor and best_score."""
    by_dataset = defaultdict(dict)
    for row in results:
        by_dataset[row["dataset"]][row["model"]] = row
    for dataset, rows in by_dataset.items():
        scores = {m: r["score"] for m, r in rows.items()}
        best = max(scores.values())
        trials = trial_scores.get(dataset)
        baselines = [r["baseline_score"] for r in rows.values() if r["baseline_score"] is not None]
        constant = float(np.mean(baselines)) if baselines else min(scores.values())
        metric = datasets[dataset].get("metric")
        anchor = (stats.robust_low_anchor(trials, datasets[dataset]["task"], constant, metric) if trials
                  else constant)
        if anchor >= best:  # no model beats the anchor: the worst model is 0
            anchor = min(scores.values())
        normalized = stats.normalized_scores(scores, anchor)
        improvable, ranked = stats.improvability(scores, metric or "accuracy"), stats.ranks(scores)
        for model, row in rows.items():
            row["normalized_score"] = normalized[model]
            row["improvability"] = improvable[model]
            row["rank"] = ranked[model]
        datasets[dataset]["low_anchor"] = anchor
        datasets[dataset]["best_score"] = best


def _sampling_se(info: dict, score: float, folds: int) -> float | None:
    """The binomial standard error of an accuracy on every test row of the run's folds (None for R2)."""
    if info["metric"] != "accuracy" or not info.get("n_rows"):
        return None
    n_test = info["n_rows"] if folds >= 2 else round(info["n_rows"] * 0.2)
    return stats.binomial_se(score, n_test)


def mark_signal(results: list[dict], datasets: dict, folds: int) -> list[str]:
    """Per dataset `signal` (True, False, or None when it cannot be judged; see SIGNAL); returns the datasets
    without signal."""
    by_dataset = defaultdict(list)
    for row in results:
        if row["folds_done"]:
            by_dataset[row["dataset"]].append(row)
    ratio = stats.split_ratio(folds)
    for dataset, info in datasets.items():
        rows = by_dataset.get(dataset, [])
        if len(rows) < 2:
            info["signal"] = None
            continue
        best = max(rows, key=lambda r: (r["score_ran"], r["model"]))
        worst = min(rows, key=lambda r: (r["score_ran"], r["model"]))
        info["signal"] = stats.has_signal(per_dataset.fold_scores(best, own_only=True),
                                          per_dataset.fold_scores(worst, own_only=True), ratio,
                                          _sampling_se(info, best["score_ran"], folds))
    return sorted(d for d, info in datasets.items() if info["signal"] is False)


# ---------------------------------------------------------------------------------------------
# Leaderboards: one per set of datasets models apply to, over its common datasets
# ---------------------------------------------------------------------------------------------

def _scope_name(scope: list[str], datasets: dict) -> str:
    if len(scope) == len(datasets):
        return "all datasets"
    modalities = sorted({datasets[d]["modality"] for d in scope})
    if set(scope) == {d for d, info in datasets.items() if info["modality"] in modalities}:
        return " + ".join(modalities) + " datasets"
    kinds = sorted({f"{datasets[d]['modality']} {datasets[d]['task']}" for d in scope})
    return " + ".join(kinds) + " datasets"


def _aggregate(model: str, cells: dict, competitors: list[str], datasets: list[str]) -> dict:
    """Mean normalised score, mean improvability, mean rank (among `competitors`) and wins over `datasets`."""
    if not datasets:
        return {"mean_normalized_score": None, "mean_improvability": None, "mean_rank": None, "wins": 0}
    ranked = [stats.ranks({c: cells[(d, c)]["score"] for c in competitors})[model] for d in datasets]
    return {
        "mean_normalized_score": round(float(np.mean([cells[(d, model)]["normalized_score"] for d in datasets])), 4),
        "mean_improvability": round(float(np.mean([cells[(d, model)]["improvability"] for d in datasets])), 4),
        "mean_rank": round(float(np.mean(ranked)), 4),
        "wins": sum(1 for r in ranked if r == 1.0),
    }


def leaderboards(board: dict, family: dict[str, str]) -> list[dict]:
    """One leaderboard per distinct set of datasets a model applies to (all datasets first): the models that
    apply to all of that set, over the datasets where every one of them has a complete cell and that carry
    signal; beside it, the same over the datasets where every model ran every fold (nothing imputed)."""
    coverage = board["provenance"]["coverage"]
    datasets = board["datasets"]
    names = list(coverage)
    applies = {m: [d for d in sorted(datasets) if d not in coverage[m]["not_applicable"]] for m in names}
    scopes = sorted({tuple(a) for a in applies.values() if a}, key=lambda s: (-len(s), s))
    cells = {(r["dataset"], r["model"]): r for r in board["results"]}
    no_signal = set(board["no_signal_datasets"])
    out = []
    for scope in scopes:
        competitors = [m for m in names if set(applies[m]) >= set(scope)]
        common, lacking = per_dataset.common_datasets(board["results"], competitors, list(scope), no_signal)
        ran = [d for d in common if not any(cells[(d, m)]["imputed"] for m in competitors)]
        elo = ratings.elo([{m: cells[(d, m)]["score"] for m in competitors} for d in common], competitors,
                          board["seed"])
        rows = []
        for model in competitors:
            rows.append({"name": model, "family": family[model], **_aggregate(model, cells, competitors, common),
                         **elo[model], "imputed_cells": sum(cells[(d, model)]["imputed"] for d in common),
                         "every_model_ran": _aggregate(model, cells, competitors, ran)})
        rows.sort(key=lambda r: (r["mean_normalized_score"] is None, -(r["mean_normalized_score"] or 0), r["name"]))
        out.append({
            "name": _scope_name(list(scope), datasets), "models": competitors,
            "home_models": [m for m in names if tuple(applies[m]) == scope],
            "datasets": common, "n_datasets": len(common),
            "no_signal": sorted(d for d in scope if d in no_signal and d not in lacking),
            "lacking": lacking, "every_model_ran": ran, "n_every_model_ran": len(ran), "rows": rows,
        })
    return out


def model_summaries(board: dict, family: dict[str, str]) -> list[dict]:
    """Per model, its numbers on its own leaderboard (the one over the datasets it applies to), models of the
    first leaderboard first, each leaderboard's best first."""
    summaries = []
    for index, scope in enumerate(board["leaderboards"]):
        for rank, row in enumerate(scope["rows"]):
            if row["name"] in scope["home_models"]:
                summaries.append(((index, rank), {**row, "scope": scope["name"], "n_datasets": scope["n_datasets"]}))
    placed = {s["name"] for _, s in summaries}
    for name, covered in board["provenance"]["coverage"].items():
        if name not in placed:
            summaries.append(((len(board["leaderboards"]), 0), {
                "name": name, "family": family[name], "scope": None, "n_datasets": 0, "mean_normalized_score": None,
                "mean_improvability": None, "mean_rank": None, "wins": 0, "elo": None, "elo_low": None,
                "elo_high": None, "imputed_cells": 0, "every_model_ran": {}}))
    models = [s for _, s in sorted(summaries, key=lambda item: item[0])]
    for model in models:
        covered = board["provenance"]["coverage"][model["name"]]
        model["datasets_not_scored"] = {k: covered[k] for k in ("failed", "missing") if covered[k]}
    return models


def core_leaderboard(store: Store, run_id: str) -> tuple[dict, list[dict], dict[str, list[dict]]]:
    """The leaderboard's core (results, leaderboards, models, failures, provenance), the units and the trial
    rows by unit."""
    config = store.run(run_id)["config"]
    units = store.units(run_id)
    trials = store.trials(run_id)
    trials_by_unit = _by_unit(trials)
    expected, how = provenance.applicable(config, units)
    parts = provenance.planned_parts(store, run_id, config, units)
    cells = per_dataset.results(config, units, trials_by_unit, expected, parts)
    # Learning-curve runs hold one cell per training size; the leaderboard reads the largest.
    largest = defaultdict(int)
    for row in cells:
        largest[row["dataset"]] = max(largest[row["dataset"]], row["train_size"] or 0)
    results = [row for row in cells if (row["train_size"] or 0) == largest[row["dataset"]]]
    per_dataset.mark_best_and_ties(results, config["folds"])
    datasets = config["dataset_info"]
    normalise(results, datasets, _trial_scores(results, units, trials_by_unit))
    sittings = store.sittings(run_id)
    board = {
        "suite": config["suite"],
        "run_id": run_id,
        "budget": {"trials": config["trials"], "seconds": config["seconds"]},
        "folds": config["folds"],
        "seed": config["seed"],
        "max_train": config["max_train"],
        "sampler": config["sampler"],
        "sampler_settings": config.get("sampler_settings"),
        "device": config["device"],
        "datasets": datasets,
        "no_signal_datasets": mark_signal(results, datasets, config["folds"]),
        "normalisation_method": NORMALISATION,
        "improvability_method": IMPROVABILITY,
        "signal_method": SIGNAL,
        "imputation_method": per_dataset.IMPUTATION,
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
    board["provenance"] = provenance.provenance(store, run_id, config, units, sittings, results,
                                                applicability=(expected, how), parts=parts)
    family = {m: info["family"] for m, info in config["model_info"].items()}
    board["leaderboards"] = leaderboards(board, family)
    board["models"] = model_summaries(board, family)
    return board, units, trials_by_unit


def build_leaderboard(store: Store, run_id: str, claims: list[dict] | None = None) -> dict:
    """Everything the report shows, as plain data: the JSON behind leaderboard.md and index.html.

    `claims` replaces the packaged claims (bench/report/claims.toml) when given.
    """
    board, units, trials_by_unit = core_leaderboard(store, run_id)
    rows = (units, trials_by_unit)
    ensembles = {e["unit_key"]: e for e in store.ensembles(run_id)}
    board["rating_method"] = ratings.METHOD
    board["subsets"] = subsets.subset_leaderboards(board)
    board["result_kinds"] = result_kinds.result_kinds(board, *rows, ensembles)
    board["families"] = families.family_comparison(board)
    board["critical_difference"] = critical_difference.critical_difference(board)
    board["tuning_curves"] = tuning_curves.tuning_curves(board, *rows, ensembles)
    board["learning_curves"] = learning_curves.learning_curves(board)
    board["cost"] = cost.cost(board, *rows)
    board["where_deep_wins"] = wins.where_deep_wins(board)
    board["guidance"] = guidance.guidance(board)
    board["claims"] = claims_module.evaluate_claims(board, *rows, claims=claims)
    board["diagnostics"] = diagnostics.diagnostics(board, *rows)
    board["literature"] = literature.literature(board)
    return board


def overview(board: dict) -> list:
    """The paragraphs above the sections: what was run, how a score is read, and whether results are partial."""
    p = board["provenance"]
    blocks = [("p", f"Suite `{board['suite']}` (run `{board['run_id']}`): {len(board['datasets'])} datasets, "
                    f"{len(board['models'])} models, budget {budget_text(board)}, {board['folds']} outer fold(s), "
                    f"seed {board['seed']}, sampler {board['sampler']}, training rows capped at "
                    f"{board['max_train'] or 'no cap'}, device {board['device']}."),
              ("p", "Each score is the test score of the trial with the best validation score (selection never "
                    "sees test), averaged over folds: the *tuned* result, which every section reads; section 1 "
                    "shows the *default* (trial 0) and *tuned + ensembled* results beside it. "
                    + board["normalisation_method"] + " Every aggregate is over a stated common set of datasets "
                    "(section 1).")]
    units = p["units"]
    if not p["complete"]:
        blocks.append(("p", f"**Partial results**: {units['done']} of {units['expected']} expected units finished; "
                            f"{units['failed']} failed and {units['missing']} are missing (see Provenance). "
                            f"Imputation: {board['imputation_method']}."))
    return blocks


def elo_text(model: dict) -> str:
    """Elo [low, high], or an em dash for a model with no rating."""
    if model.get("elo") is None:
        return "—"
    return f"{model['elo']:.0f} [{model['elo_low']:.0f}, {model['elo_high']:.0f}]"


def _listed(names: list[str], limit: int = 12) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _scope_blocks(scope: dict) -> list:
    ran = scope["n_every_model_ran"]
    rows = [[r["name"], r["family"], fmt(r["mean_normalized_score"], 3), fmt(r["mean_improvability"], 3),
             fmt(r["mean_rank"], 2), str(r["wins"]), elo_text(r), str(r["imputed_cells"]),
             fmt(r["every_model_ran"].get("mean_normalized_score"), 3), fmt(r["every_model_ran"].get("mean_rank"), 2)]
            for r in scope["rows"]]
    blocks = [("h", f"{scope['name'][0].upper()}{scope['name'][1:]}: {len(scope['models'])} models on "
                    f"{scope['n_datasets']} common datasets"),
              ("table", ["model", "family", "mean normalised score", "mean improvability", "mean rank", "wins",
                         "Elo [95% CI]", "imputed cells", f"normalised score, every model ran ({ran})",
                         f"mean rank, every model ran ({ran})"], rows, "llrrrrrrrr")]
    notes = [f"Common datasets ({scope['n_datasets']}): {_listed(scope['datasets']) or 'none'}."]
    if scope["no_signal"]:
        notes.append(f"Left out, no signal ({len(scope['no_signal'])}): {_listed(scope['no_signal'])}.")
    if scope["lacking"]:
        notes.append(f"Left out, some model's cell incomplete even with imputation ({len(scope['lacking'])}): "
                     f"{_listed(scope['lacking'])}.")
    skipped = [d for d in scope["datasets"] if d not in scope["every_model_ran"]]
    if skipped:
        notes.append(f"Every model ran every fold on {ran} of the {scope['n_datasets']}; imputed on "
                     f"{_listed(skipped)}.")
    return blocks + [("list", notes)]


def render(board: dict) -> list:
    """Section 1: one leaderboard per set of datasets the models apply to, each over its common datasets."""
    blocks = []
    for scope in board["leaderboards"]:
        blocks += _scope_blocks(scope)
    unplaced = [m["name"] for m in board["models"] if m["scope"] is None]
    if unplaced:
        blocks.append(("p", f"Not on any leaderboard (applies to no dataset of the run): {', '.join(unplaced)}."))
    blocks += [
        ("p", "Each leaderboard holds the models that apply to every dataset of its set (a model that applies only "
              "to some modalities is ranked on its own set, against every model that applies there too), over the "
              "datasets where each of them has a score on every planned fold and that carry signal; its numbers "
              "compare only within it. " + board["normalisation_method"] + " " + board["improvability_method"]
              + " Mean rank: rank among the leaderboard's models on each of its datasets (1 = best, ties share "
              "the mean rank). Wins: datasets where the model has the best mean score. Imputation: "
              + board["imputation_method"] + ". " + board["rating_method"]),
        ("figure", "ratings"),
    ]
    return blocks + subsets.render(board) + result_kinds.render(board)


def draw(board: dict):
    """Per leaderboard, Elo with its bootstrap interval per model, and the mean normalised score beside it."""
    from matplotlib.patches import Patch

    from bench.report.figures import FAMILY_COLORS, family_color, plt

    scopes = [s for s in board["leaderboards"] if any(r.get("elo") is not None for r in s["rows"])]
    if not scopes:
        return None
    heights = [len(s["rows"]) + 1 for s in scopes]
    fig, axes = plt.subplots(len(scopes), 2, figsize=(9, 0.45 * sum(heights) + 0.6 * len(scopes)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for (left, right), scope in zip(axes, scopes):
        models = sorted([r for r in scope["rows"] if r.get("elo") is not None], key=lambda r: r["elo"])
        y = np.arange(len(models))
        for i, m in enumerate(models):
            left.errorbar(m["elo"], i, xerr=[[m["elo"] - m["elo_low"]], [m["elo_high"] - m["elo"]]], fmt="o",
                          color=family_color(m["family"]), capsize=3)
            right.barh(i, m["mean_normalized_score"] or 0, color=family_color(m["family"]), alpha=0.8)
        left.axvline(1000, color="#999", lw=0.8, ls="--")
        left.set_yticks(y, [m["name"] for m in models])
        right.set_yticks(y, [""] * len(models))
        left.set_title(f"{scope['name']} ({scope['n_datasets']} common datasets)", fontsize=8, loc="left")
        right.set_xlim(0, 1.05)
    axes[-1][0].set_xlabel("Elo (95% bootstrap interval over the common datasets)")
    axes[-1][1].set_xlabel("mean normalised score (over the common datasets)")
    axes[0][1].legend(handles=[Patch(color=c, label=f) for f, c in FAMILY_COLORS.items()], loc="lower right",
                      frameon=False)
    fig.tight_layout()
    return fig


FIGURES = {
    "ratings": (draw, "Per leaderboard (a set of datasets and the models that apply to all of it), Elo rating per "
                      "model with its 95% bootstrap interval over the common datasets, and the mean normalised "
                      "score."),
}
