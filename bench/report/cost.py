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
