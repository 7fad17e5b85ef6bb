"""Cost: fit and predict time per model, and the time-vs-score Pareto front.

Fit and predict seconds are medians over every trial of the model (predict covers the
validation and test sets of the trial). A unit's tuning time is the sum of its trials' fit
seconds; a model's point on the Pareto chart is its mean tuning time per unit against its mean
normalised score, over the datasets of the panel it was scored on (given as n). A model is on the
front when no other model is both faster and at least as good.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench.report.formatting import fmt

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


def cost(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> dict:
    results = [r for r in board["results"] if r["score"] is not None]
    cells = {(r["dataset"], r["model"], r["train_size"]) for r in results}
    fit, predict, failed = defaultdict(list), defaultdict(list), defaultdict(int)
    for unit in units:
        if (unit["dataset"], unit["model"], unit["train_size"] or None) not in cells:
            continue
        for trial in trials_by_unit.get(unit["unit_key"], []):
            if trial["status"] == "ok":
                fit[unit["model"]].append(trial["fit_s"])
                predict[unit["model"]].append(trial["predict_s"])
            else:
                failed[unit["model"]] += 1
    per_model = []
    for model in board["models"]:
        name = model["name"]
        mine = [r for r in results if r["model"] == name]
        per_model.append({
            "model": name, "family": model["family"], "n_trials": len(fit[name]), "failed_trials": failed[name],
            "median_fit_s": _round(np.median(fit[name])) if fit[name] else None,
            "median_predict_s": _round(np.median(predict[name])) if predict[name] else None,
            "mean_tuning_s_per_unit": _round(np.mean([r["tuning_s"] for r in mine])) if mine else None,
            "mean_normalized_score": model["mean_normalized_score"],
        })
    panels = {}
    modalities = sorted({r["modality"] for r in results})
    for panel in ["all", *modalities] if len(modalities) > 1 else modalities:
        rows = [r for r in results if panel == "all" or r["modality"] == panel]
        points, counts = {}, {}
        for name in sorted({r["model"] for r in rows}):
            mine = [r for r in rows if r["model"] == name]
            points[name] = (float(np.mean([r["tuning_s"] for r in mine])),
                            float(np.mean([r["normalized_score"] for r in mine])))
            counts[name] = len(mine)
        panels[panel] = {
            "points": {n: {"tuning_s": _round(s), "mean_normalized_score": _round(v), "n_datasets": counts[n]}
                       for n, (s, v) in points.items()},
            "front": pareto_front(points),
        }
    return {"method": METHOD, "models": per_model, "pareto": panels}


def render(board: dict) -> list:
    """Section 6: fit, predict and tuning time per model, and the Pareto fronts."""
    c = board["cost"]
    overall = c["pareto"].get("all") or next(iter(c["pareto"].values()), {"front": []})
    front = set(overall["front"])
    rows = [[m["model"], m["family"], fmt(m["median_fit_s"], 3), fmt(m["median_predict_s"], 4),
             fmt(m["mean_tuning_s_per_unit"], 2), fmt(m["mean_normalized_score"], 3),
             "yes" if m["model"] in front else "no", str(m["failed_trials"])] for m in c["models"]]
    fronts = [f"{panel}: {' → '.join(p['front'])}" for panel, p in c["pareto"].items()]
    return [("table", ["model", "family", "median fit s / trial", "median predict s / trial",
                       "mean tuning s / unit", "mean normalised score", "on the front", "failed trials"], rows,
             "llrrrrll"),
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
