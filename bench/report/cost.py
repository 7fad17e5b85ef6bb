"""Cost: fit and predict time per model, and the time-vs-score Pareto front.

Fit and predict seconds are medians over every trial of the model (predict covers the
validation and test sets of the trial). A unit's tuning time is the sum of its trials' fit
seconds. Trials per unit are the trials a finished unit ran (whatever their status); a unit is cut by the
time budget when the run has one and the unit ran fewer trials than the trial budget (every unit, when the
budget is seconds alone): its model was tuned less than the trial budget says. In the table, a model's mean
tuning time and mean normalised score are over the common
datasets of its own leaderboard (section 1). Each Pareto panel (all datasets, then each modality)
holds the models that apply to every dataset of the panel, each point its mean tuning time per unit
against its mean normalised score over the panel's common datasets (where all those models have a
complete cell, failed folds imputed, and that carry signal; given as n). A model is on the front when
no other model is both faster and at least as good.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from bench.report.formatting import fmt
from bench.report.per_dataset import common_datasets

METHOD = __doc__.split("\n\n", 1)[1].replace("\n", " ").strip()


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names whose (seconds, score) no other point dominates (no slower-or-equal time with a better score)."""
    front = []
    for name, (seconds, score) in points.items():
        dominated = any(
            (s2 <= seconds and v2 >= score) and (s2 < seconds or v2 > score)
            for other, (s2, v2) in points.items() if other != name
        )
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])


def _round(value: float | None, digits: int = 4):
    return None if value is None else round(float(value), digits)


def _mean(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def cost(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> dict:
    results = board["results"]
    cells = {(r["dataset"], r["model"], r["train_size"]) for r in results}
    by_cell = {(r["dataset"], r["model"]): r for r in results}
    fit, predict, failed = defaultdict(list), defaultdict(list), defaultdict(int)
    ran, cut = defaultdict(list), defaultdict(int)  # trials per finished unit; units the time budget cut short
    budget = board.get("budget") or {}
    for unit in units:
        if (unit["dataset"], unit["model"], unit["train_size"] or None) not in cells:
            continue
        if unit["status"] == "done":
            n = len(trials_by_unit.get(unit["unit_key"], []))
            ran[unit["model"]].append(n)
            cut[unit["model"]] += bool(budget.get("seconds")) and n < (budget.get("trials") or math.inf)
        for trial in trials_by_unit.get(unit["unit_key"], []):
            if trial["status"] == "ok":
                fit[unit["model"]].append(trial["fit_s"])
                predict[unit["model"]].append(trial["predict_s"])
            else:
                failed[unit["model"]] += 1
    scopes = {s["name"]: s for s in board["leaderboards"]}
    per_model = []
    for model in board["models"]:
        name = model["name"]
        home = scopes[model["scope"]]["datasets"] if model["scope"] else []
        per_model.append({
            "model": name, "family": model["family"], "n_trials": len(fit[name]), "failed_trials": failed[name],
            "mean_trials_per_unit": _round(_mean(ran[name]), 2), "units": len(ran[name]),
            "units_cut_by_time": cut[name],
            "median_fit_s": _round(np.median(fit[name])) if fit[name] else None,
            "median_predict_s": _round(np.median(predict[name])) if predict[name] else None,
            "mean_tuning_s_per_unit": _round(_mean([by_cell[(d, name)]["tuning_s"] for d in home])),
            "mean_normalized_score": model["mean_normalized_score"],
            "n_datasets": len(home),
        })
    panels = {}
    coverage = board["provenance"]["coverage"]
    no_signal = set(board["no_signal_datasets"])
    modalities = sorted({r["modality"] for r in results})
    for panel in ["all", *modalities] if len(modalities) > 1 else modalities:
        datasets = sorted({r["dataset"] for r in results if panel == "all" or r["modality"] == panel})
        models = [m for m, c in coverage.items() if not set(datasets) & set(c["not_applicable"])]
        common, _ = common_datasets(results, models, datasets, no_signal)
        if not common or not models:
            continue
        points = {}
        for name in models:
            seconds = _mean([by_cell[(d, name)]["tuning_s"] for d in common])
            points[name] = (seconds if seconds is not None else math.nan,
                            float(np.mean([by_cell[(d, name)]["normalized_score"] for d in common])))
        panels[panel] = {
            "datasets": common,
            "points": {n: {"tuning_s": _round(None if math.isnan(s) else s), "mean_normalized_score": _round(v),
                           "n_datasets": len(common)} for n, (s, v) in points.items()},
            "front": pareto_front({n: p for n, p in points.items() if not math.isnan(p[0])}),
        }
    return {"method": METHOD, "models": per_model, "pareto": panels}


def render(board: dict) -> list:
    """Section 6: fit, predict and tuning time per model, and the Pareto fronts."""
    c = board["cost"]
    rows = [[m["model"], m["family"], fmt(m["median_fit_s"], 3), fmt(m["median_predict_s"], 4),
             fmt(m["mean_tuning_s_per_unit"], 2), fmt(m["mean_normalized_score"], 3), str(m["n_datasets"]),
             ", ".join(panel for panel, p in c["pareto"].items() if m["model"] in p["front"]) or "—",
             str(m["failed_trials"]), fmt(m.get("mean_trials_per_unit"), 1),
             f"{m['units_cut_by_time']} of {m['units']}" if "units" in m else "—"] for m in c["models"]]
    fronts = [f"{panel} ({len(p['datasets'])} common datasets): {' → '.join(p['front'])}"
              for panel, p in c["pareto"].items()]
    return [("table", ["model", "family", "median fit s / trial", "median predict s / trial",
                       "mean tuning s / unit", "mean normalised score", "datasets", "on the front of",
                       "failed trials", "trials / unit", "units cut by the time budget"], rows, "llrrrrrllrr"),
            ("p", c["method"]),
            ("list", ["Pareto front (fastest first), " + f for f in fronts]),
            ("figure", "pareto")]


def draw(board: dict):
    """Mean tuning seconds per unit against mean normalised score, front joined, per modality."""
    from bench.report.figures import family_color, grid

    panels = board["cost"]["pareto"]
    if not panels:
        return None
    family = {m["name"]: m["family"] for m in board["models"]}
    fig, axes = grid(len(panels), 4, 3.4, 2.9)
    for ax, (name, panel) in zip(axes, panels.items()):
        points = panel["points"]
        points = {m: p for m, p in points.items() if p["tuning_s"] is not None}
        for model, p in points.items():
            ax.scatter(p["tuning_s"], p["mean_normalized_score"], color=family_color(family[model]), zorder=3)
            ax.annotate(f"{model} ({p['n_datasets']})", (p["tuning_s"], p["mean_normalized_score"]),
                        textcoords="offset points", xytext=(4, 3), fontsize=7)
        front = panel["front"]
        ax.plot([points[m]["tuning_s"] for m in front], [points[m]["mean_normalized_score"] for m in front],
                color="#555", ls="--", lw=0.8, zorder=2)
        ax.set_xscale("log")
        ax.set_xlabel("mean tuning seconds per unit (log)")
        ax.set_ylabel("mean normalised score")
        ax.set_title(name)
    fig.tight_layout()
    return fig


FIGURES = {
    "pareto": (draw, "Mean tuning time per unit against mean normalised score; dashed: the Pareto front; in "
                     "brackets, the number of datasets."),
}
