"""Per dataset: each model's test score, averaged over folds with its interval, the best marked and the
models that tie with it."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.contract import best_trial
from bench.report.formatting import fmt


def results(config: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> list[dict]:
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


def mark_best_and_ties(results: list[dict]) -> None:
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


def score_cell(row: dict, folds: int) -> str:
    """One model's cell: mean ± interval half-width, **bold** when best, (tie), (partial: ...) or the status."""
    if row["score"] is None:
        return row["status"]
    text = fmt(row["score"])
    if row["folds_done"] > 1:
        text += f" ± {fmt((row['ci_high'] - row['ci_low']) / 2)}"
    if row["best"]:
        text = f"**{text}**"
    elif row["tie_with_best"]:
        text += " (tie)"
    if row["status"] == "partial":
        text += f" (partial: {row['folds_done']} of {folds} folds)"
    return text


def render(board: dict) -> list:
    """Section 2: a table of every dataset with each model's score."""
    models = [m["name"] for m in board["models"]]
    cells = defaultdict(dict)
    for row in board["results"]:
        cells[row["dataset"]][row["model"]] = row
    rows = []
    for dataset, info in sorted(board["datasets"].items()):
        n_train = next((r["n_train"] for r in cells.get(dataset, {}).values() if r["n_train"]), None)
        rendered = [score_cell(cells[dataset][m], board["folds"]) if m in cells.get(dataset, {}) else "n/a"
                    for m in models]
        rows.append([dataset, info["modality"], info["task"], info["metric"], fmt(n_train)] + rendered)
    one_fold = board["folds"] < 2
    return [
        ("table", ["dataset", "modality", "task", "metric", "train rows"] + models, rows, "lllll" + "r" * len(models)),
        ("p", "Mean test score over folds ± half-width of the 95% t-interval over folds. **Bold**: the best mean; "
              "(tie): a fold interval overlapping the best's, so not distinguishable from it. "
              + ("With one fold there are no intervals: only equal scores tie. " if one_fold else "")
              + "n/a: the model does not apply to the dataset or was not run; failed: no trial scored."),
    ]
