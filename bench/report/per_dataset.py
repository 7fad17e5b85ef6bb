"""Per dataset: each model's test score over the outer folds with its corrected interval, the best marked,
the models that tie with it by a paired test over the same folds, and the folds imputed under the
report's one policy for missing and failed folds.

Imputation (after TabArena, Erickson et al. 2025, which fills a method's failed or missing results with
a fixed baseline's and shows the leaderboard on the datasets every method ran beside it): a fold whose
unit failed, or that the run planned and never ran, counts as the constant predictor's score on that fold
(the majority class, or the train mean), on test as on validation, and is flagged. A cell's score is the
mean over every planned fold, imputed ones included, so a model that fails on hard datasets is not
flattered by dropping out of them.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.contract import best_trial
from bench.report.formatting import fmt

IMPUTATION = (
    "a fold without a score of its own (its unit failed, or was planned and never ran) counts as the constant "
    "predictor's score on that fold (majority class or train mean; on validation as on test) and is flagged, as "
    "TabArena (Erickson et al. 2025) fills a failed method's result with a fixed baseline's; a cell's score is "
    "the mean over every planned fold. Every mean, rank, rating and test in the report uses these scores; "
    "section 1 shows beside them the datasets on which every model ran every fold, nothing imputed"
)
INTERVAL = (
    "95% Nadeau-Bengio corrected resampled t-interval over folds (Nadeau & Bengio 2003): the fold variance "
    "times 1/J + n_test/n_train (J folds; n_test/n_train = 1/(K-1) for K-fold cross-validation, as Bouckaert & "
    "Frank 2004 apply it), t with J-1 degrees of freedom, clipped into the metric's range"
)
TIE = (
    "a model ties with the best when the corrected resampled paired t-test of their per-fold differences "
    f"(the same folds, Nadeau & Bengio 2003) does not reject at alpha {stats.ALPHA} (with one fold, only an "
    "equal score ties)"
)


def _planned(parts: dict[str, list[tuple[int, int]]], dataset: str) -> dict[int, list[int]]:
    """Per training size, the folds the run planned on a dataset."""
    sizes = defaultdict(list)
    for fold, size in parts.get(dataset, []):
        sizes[size].append(fold)
    return {size: sorted(folds) for size, folds in sizes.items()}


def _scored_fold(unit: dict, trials: list[dict]) -> dict | None:
    best = best_trial(trials) if unit["status"] == "done" else None
    if best is None:
        return None
    # every test metric of the chosen trial, so that a run scored by ROC AUC or log loss can still be set
    # against published accuracies (section 12)
    return {"fold": unit["fold"], "trial": best["number"], "score": best["test_score"],
            "valid_score": best["valid_score"], "baseline_score": unit["baseline_score"],
            "tuning_s": sum(t["fit_s"] or 0.0 for t in trials), "imputed": None,
            "test_metrics": best.get("test_metrics") or {}}


def _imputed_fold(fold: int, baseline: float, unit: dict | None, trials: list[dict]) -> dict:
    return {"fold": fold, "trial": None, "score": baseline, "valid_score": baseline, "baseline_score": baseline,
            "tuning_s": sum(t["fit_s"] or 0.0 for t in trials) if unit else None,
            "imputed": "failed" if unit else "missing"}


def _status(own: int, planned: int, folds: list[dict]) -> str:
    if own == planned:
        return "ok"
    if own:
        return "partial"
    return "failed" if any(f["imputed"] == "failed" for f in folds) else "missing"


def results(config: dict, units: list[dict], trials_by_unit: dict[str, list[dict]],
            expected: dict[tuple[str, str], bool], parts: dict[str, list[tuple[int, int]]]) -> list[dict]:
    """One row per (dataset, model, train size) the run expected: the test score of the best-validation
    trial per fold, a fold without one imputed (see IMPUTATION), averaged over the planned folds.

    `folds` keeps, per fold, the chosen trial's number and scores (trial None and `imputed` set for an
    imputed fold), so every number traces to a trial row or to the constant predictor.
    """
    by_key = {(u["dataset"], u["model"], u["fold"], u["train_size"]): u for u in units}
    baselines = {(u["dataset"], u["fold"], u["train_size"]): u["baseline_score"] for u in units
                 if u["baseline_score"] is not None}
    ratio = stats.split_ratio(config["folds"])
    rows = []
    for dataset in sorted(config["datasets"]):
        info = config["dataset_info"][dataset]
        bounds = stats.SCORE_RANGE.get(info["metric"], (-np.inf, np.inf))
        ran = {u["model"] for u in units if u["dataset"] == dataset}
        for model in sorted(m for m in config["models"] if expected.get((dataset, m)) or m in ran):
            for train_size, planned in sorted(_planned(parts, dataset).items()):
                cell_units = [by_key[k] for k in ((dataset, model, f, train_size) for f in planned) if k in by_key]
                folds = []
                for fold in planned:
                    unit = by_key.get((dataset, model, fold, train_size))
                    trials = trials_by_unit.get(unit["unit_key"], []) if unit else []
                    entry = _scored_fold(unit, trials) if unit else None
                    if entry is None and (dataset, fold, train_size) in baselines:
                        entry = _imputed_fold(fold, baselines[(dataset, fold, train_size)], unit, trials)
                    if entry is not None:
                        folds.append(entry)
                if not folds:
                    continue
                rows.append(_row(config, info, dataset, model, train_size, planned, folds, cell_units, ratio, bounds))
    return rows


def _row(config, info, dataset, model, train_size, planned, folds, cell_units, ratio, bounds) -> dict:
    own = [f for f in folds if not f["imputed"]]
    score, low, high = stats.corrected_mean_ci([f["score"] for f in folds], ratio, bounds)
    ran_s = [f["tuning_s"] for f in folds if f["tuning_s"] is not None]
    n_train = [u["n_train"] for u in cell_units if u["n_train"]]
    return {
        "dataset": dataset,
        "modality": info["modality"],
        "task": info["task"],
        "metric": info["metric"],
        "n_train": int(np.mean(n_train)) if n_train else None,
        "model": model,
        "family": config["model_info"][model]["family"],
        "train_size": train_size or None,
        "score": score,
        "ci_low": low,
        "ci_high": high,
        "folds_done": len(own),
        "status": _status(len(own), len(planned), folds),
        "imputed": len(own) < len(folds),
        "complete": len(folds) == len(planned),
        "score_ran": float(np.mean([f["score"] for f in own])) if own else None,
        "baseline_score": float(np.mean([f["baseline_score"] for f in folds])),
        "tuning_s": float(np.mean(ran_s)) if ran_s else None,
        "valid_score": float(np.mean([f["valid_score"] for f in folds])),
        "folds": folds,
        "errors": sorted({u["error"] for u in cell_units if u["error"]}),
    }


def fold_scores(row: dict, own_only: bool = False) -> dict[int, float]:
    """{fold: test score} of a result row; `own_only` leaves out imputed folds."""
    return {f["fold"]: f["score"] for f in row["folds"] if not (own_only and f["imputed"])}


def outcome(a: dict, b: dict, folds: int) -> str:
    """'win', 'tie' or 'loss' of row a against row b: a tie when the corrected paired t-test over their common
    folds does not separate them (see TIE); `folds` is the run's fold count."""
    if a["score"] == b["score"] or stats.paired_tie(fold_scores(a), fold_scores(b), stats.split_ratio(folds)):
        return "tie"
    return "win" if a["score"] > b["score"] else "loss"


def mark_best_and_ties(results: list[dict], folds: int) -> None:
    """Per dataset: the best mean score, and the models that tie with it by a paired test over the same
    folds (see TIE), with the test's p-value (`p_vs_best`)."""
    ratio = stats.split_ratio(folds)
    by_dataset = defaultdict(list)
    for row in results:
        by_dataset[row["dataset"]].append(row)
    for rows in by_dataset.values():
        top = max(rows, key=lambda r: r["score"])
        for row in rows:
            row["best"] = row["score"] == top["score"]
            differences = stats.fold_differences(fold_scores(top), fold_scores(row))
            row["p_vs_best"] = None if row["best"] else stats.corrected_paired_t(differences, ratio)["p_value"]
            row["tie_with_best"] = not row["best"] and stats.paired_tie(fold_scores(row), fold_scores(top), ratio)


def common_datasets(results: list[dict], models: list[str], datasets: list[str],
                    excluded: set[str] = frozenset()) -> tuple[list[str], list[str]]:
    """The datasets on which every one of `models` has a complete cell (every planned fold scored or imputed),
    minus `excluded`; and the datasets left out because some model lacks one."""
    cells = {(r["dataset"], r["model"]): r for r in results}
    common, lacking = [], []
    for dataset in datasets:
        if all((dataset, m) in cells and cells[(dataset, m)]["complete"] for m in models):
            if dataset not in excluded:
                common.append(dataset)
        else:
            lacking.append(dataset)
    return common, lacking


def score_cell(row: dict, folds: int) -> str:
    """One model's cell: mean ± interval half-width, **bold** when best, (tie), and what was imputed."""
    text = fmt(row["score"])
    if len(row["folds"]) > 1:
        text += f" ± {fmt((row['ci_high'] - row['ci_low']) / 2)}"
    if row["best"]:
        text = f"**{text}**"
    elif row["tie_with_best"]:
        text += " (tie)"
    imputed = [f for f in row["folds"] if f["imputed"]]
    if imputed:
        reasons = sorted({f["imputed"] for f in imputed})
        text += f" (imputed: {len(imputed)} of {folds} folds {' or '.join(reasons)})"
    if not row["complete"]:
        text += f" (incomplete: {len(row['folds'])} of {folds} folds)"
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
        signal = {False: "no", None: "—"}.get(info.get("signal"), "yes")
        rows.append([dataset, info["modality"], info["task"], info["metric"], fmt(n_train), signal] + rendered)
    one_fold = board["folds"] < 2
    return [
        ("table", ["dataset", "modality", "task", "metric", "train rows", "signal"] + models, rows,
         "llllll" + "r" * len(models)),
        ("p", "Mean test score over folds ± half-width of the " + INTERVAL + ". **Bold**: the best mean; (tie): "
              + TIE + ". "
              + ("With one fold there are no intervals: only equal scores tie. " if one_fold else "")
              + "Imputation: " + IMPUTATION + ". Signal: " + board["signal_method"] + " "
              + "n/a: the model does not apply to the dataset."),
    ]
