"""What a run will cost before it runs: its units and their estimated wall time, from the cost model
(bench/cost_model.py) fitted to stored runs (the run's own store, the reference exports packaged under
bench.reports, and any the user names). `bench run --dry-run` prints it; a real run records it in its sitting
so that the report can say how far off it was.
"""
from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path

from bench.cost_model import UnitShape, fit, stored_samples, wall_seconds


def reference_exports() -> list[Path]:
    """The exports of the packaged reference runs (reports/<suite>/results.jsonl.gz)."""
    return sorted(Path(str(resources.files("bench.reports"))).glob("*/results.jsonl.gz"))


def unit_shape(task, dataset, spec, config) -> UnitShape:
    return UnitShape(task.model, spec.family, len(task.train), dataset.X_num.shape[1] + dataset.X_cat.shape[1],
                     dataset.info.n_classes or 1, config.trials, config.seconds)


def estimate(config, tasks: list, datasets: dict, specs: dict, workers: int, sources: list[Path]) -> dict | None:
    """Units, estimated unit seconds and wall seconds on `workers` workers of the planned `tasks`, from the
    stored runs of `sources` and the packaged reference exports; None when they hold too few finished units to
    fit a cost model."""
    samples, used = stored_samples([*sources, *reference_exports()])
    model = fit(samples)
    if model is None:
        return None
    seconds = [model.unit_seconds(unit_shape(t, datasets[t.card.name], specs[t.model], config)) for t in tasks]
    by_model = Counter()
    for task, s in zip(tasks, seconds):
        by_model[task.model] += s
    return {"units": len(tasks), "unit_s": round(sum(seconds), 1), "wall_s": round(wall_seconds(seconds, workers), 1),
            "workers": workers, "by_model_s": {m: round(s, 1) for m, s in by_model.most_common()},
            "fitted_on": {"units": model.units, "sources": used, "log_residual_sd": round(model.residual_sd, 3)},
            "unseen_models": sorted(model.unseen),
            "per_unit_s": {t.unit_key: s for t, s in zip(tasks, seconds)}}  # for the progress, not recorded


def hours_left(progress: dict, left_s: float, workers: int) -> float:
    """Wall hours still to run: the cost model's unit seconds of the units left, scaled by how far off it was
    on the units this sitting finished (`progress`: their estimated and actual unit seconds), over the workers."""
    ratio = progress["unit_s"] / progress["estimated_unit_s"] if progress["estimated_unit_s"] > 0 else 1.0
    return left_s * ratio / max(1, workers) / 3600


def describe_estimate(result: dict | None) -> str:
    """The estimate in a few lines, for the terminal."""
    if result is None:
        return ("no estimate: the stored runs hold too few finished units to fit a cost model; run a sample "
                "first (e.g. --max-train 300 --trials 1) and point --cost-from at its store")
    hours = result["wall_s"] / 3600
    lines = [f"estimate: {result['units']} unit(s), {result['unit_s']:,.0f} s of unit time, "
             f"{result['wall_s']:,.0f} s ({hours:.1f} h) of wall time on {result['workers']} worker(s)",
             f"  fitted on {result['fitted_on']['units']} finished unit(s) of "
             f"{', '.join(result['fitted_on']['sources'])}"
             f" (log-time residual sd {result['fitted_on']['log_residual_sd']}: a unit is typically within "
             f"x{2.718 ** result['fitted_on']['log_residual_sd']:.1f})"]
    if result["unseen_models"]:
        lines.append(f"  no stored unit of {', '.join(result['unseen_models'])}: estimated from their family's mean")
    lines.append("  by model: " + ", ".join(f"{m} {s:,.0f} s" for m, s in result["by_model_s"].items()))
    return "\n".join(lines)
