"""The leaderboard of one run, as plain data: every number traceable to trial rows."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.report import (claims as claims_module, cost, critical_difference, diagnostics, families, guidance,
                          learning_curves, provenance, ratings, tuning_curves, wins)
from bench.store import Store
from bench.contract import best_trial


def _sitting_spans(sittings: list[dict], units: list[dict]) -> list[tuple[float, int]]:
    """(seconds, workers) per sitting. A sitting that was killed has no finish time: it ends at the
    last unit it recorded (the work after that was lost and redone)."""
    spans = []
    for i, sitting in enumerate(sittings):
        end = sitting["finished"]
        if end is None:
            until = sittings[i + 1]["started"] if i + 1 < len(sittings) else float("inf")
            recorded = [u["finished"] for u in units if u.get("finished") and sitting["started"] <= u["finished"] < until]
            end = max(recorded, default=sitting["started"])
        spans.append((end - sitting["started"], max(1, sitting["workers"])))
    return spans


def _timing(store: Store, run_id: str, trials: list[dict], units: list[dict]) -> dict:
    """Wall time over sittings against the model time the trials report.

    Overhead is measured in worker-seconds: wall time times the number of
    workers, minus the seconds spent in fit and predict, over the former.
    """
    spans = _sitting_spans(store.sittings(run_id), units)
    wall_s = sum(seconds for seconds, _ in spans)
    worker_s = sum(seconds * workers for seconds, workers in spans)
    model_s = sum((t["fit_s"] or 0.0) + (t["predict_s"] or 0.0) for t in trials)
    overhead = (worker_s - model_s) / worker_s if worker_s > 0 else None
    return {"wall_s": round(wall_s, 3), "model_s": round(model_s, 3),
            "overhead_fraction": None if overhead is None else round(overhead, 4)}


def _results(config: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> list[dict]:
    """One row per (dataset, model, train size): the test score of the best-validation trial, over folds.

    `folds` keeps, per fold, the chosen trial's number and scores, so every number traces to a trial row.
    """
    cells = defaultdict(list)
    for unit in units:
        cells[(unit["dataset"], unit["model"], unit["train_size"])].append(unit)
    rows = []
    for (dataset, model, train_size), cell_units in sorted(cells.items()):
        info = config["dataset_info"][dataset]
        folds = []
        for unit in sorted(cell_units, key=lambda u: u["fold"]):
            rows_of_unit = trials_by_unit.get(unit["unit_key"], [])
            best = best_trial(rows_of_unit) if unit["status"] == "done" else None
            if best is not None:
                folds.append({
                    "fold": unit["fold"], "trial": best["number"], "score": best["test_score"],
                    "valid_score": best["valid_score"], "baseline_score": unit["baseline_score"],
                    "tuning_s": sum(t["fit_s"] or 0.0 for t in rows_of_unit),
                })
        scores = [f["score"] for f in folds]
        expected = config["folds"]
        status = "ok" if len(scores) == expected else ("partial" if scores else "failed")
        score, low, high = stats.mean_ci(scores) if scores else (None, None, None)
        rows.append({
            "dataset": dataset,
            "modality": info["modality"],
            "task": info["task"],
            "metric": info["metric"],
            "n_train": int(np.mean([u["n_train"] for u in cell_units if u["n_train"]])) if any(
                u["n_train"] for u in cell_units) else None,
            "model": model,
            "family": config["model_info"][model]["family"],
            "train_size": train_size or None,
            "score": score,
            "ci_low": low,
            "ci_high": high,
            "folds_done": len(scores),
            "status": status,
            "baseline_score": float(np.mean([f["baseline_score"] for f in folds])) if folds else None,
            "tuning_s": float(np.mean([f["tuning_s"] for f in folds])) if folds else None,
            "valid_score": float(np.mean([f["valid_score"] for f in folds])) if folds else None,
            "folds": folds,
            "errors": sorted({u["error"] for u in cell_units if u["error"]}),
        })
    return rows


def _mark_best_and_ties(results: list[dict]) -> None:
    """Per dataset: the best mean score, and the models whose fold interval overlaps the best's.

    With one fold there is no interval, so only an equal score ties.
    """
    by_dataset = defaultdict(list)
    for row in results:
        if row["score"] is not None:
            by_dataset[row["dataset"]].append(row)
    for row in results:
        row["best"], row["tie_with_best"] = False, False
    for rows in by_dataset.values():
        top = max(rows, key=lambda r: r["score"])
        for row in rows:
            row["best"] = row["score"] == top["score"]
            overlap = row["ci_high"] >= top["ci_low"] and top["ci_high"] >= row["ci_low"]
            row["tie_with_best"] = not row["best"] and overlap


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
    runs = {r["run_id"]: r for r in store.runs()}
    config = runs[run_id]["config"]
    units = store.units(run_id)
    trials = store.trials(run_id)
    trials_by_unit = _by_unit(trials)
    cells = _results(config, units, trials_by_unit)
    # Learning-curve runs hold one cell per training size; the leaderboard reads the largest.
    largest = defaultdict(int)
    for row in cells:
        largest[row["dataset"]] = max(largest[row["dataset"]], row["train_size"] or 0)
    results = [row for row in cells if (row["train_size"] or 0) == largest[row["dataset"]]]
    _mark_best_and_ties(results)
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
        "timing": _timing(store, run_id, trials, units),
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
