"""Provenance: what was run, on what, when, and which units are missing or failed.

A unit is expected for every (dataset, model, fold, training size) the run asked for where
the model applies to the dataset. Whether a model applies comes from the run's `model_info`
(`tasks` and `modalities`) when it records them; otherwise it is inferred: a model applies to
a dataset when it has a unit on some dataset of the same modality and task.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bench.store import Store


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def planned_parts(store: Store, run_id: str, config: dict, units: list[dict]) -> dict[str, list[tuple[int, int]]]:
    """Per dataset, the (fold, training size) parts the run planned: those it saved splits for (a store
    rebuilt from an export has none) or ran a unit on; for a dataset with neither, every fold at every
    training size the run asked for."""
    rows = store.db.execute("SELECT dataset, fold, train_size FROM splits WHERE run_id = ?", (run_id,)).fetchall()
    parts = defaultdict(set)
    for row in rows:
        parts[row["dataset"]].add((row["fold"], row["train_size"]))
    for unit in units:
        parts[unit["dataset"]].add((unit["fold"], unit["train_size"]))
    sizes = config.get("train_sizes") or [0]
    return {dataset: sorted(parts[dataset], key=lambda p: (p[1], p[0])) if parts.get(dataset) else
            [(fold, size) for size in sizes for fold in range(config["folds"])] for dataset in config["datasets"]}


def applicable(config: dict, units: list[dict]) -> tuple[dict[tuple[str, str], bool], str]:
    """Whether each (dataset, model) is expected to run, and how that was decided."""
    info, models = config["dataset_info"], config["model_info"]
    declared = all("modalities" in m and "tasks" in m for m in models.values())
    seen = {(info[u["dataset"]]["modality"], info[u["dataset"]]["task"], u["model"]) for u in units
            if u["dataset"] in info}
    result = {}
    for dataset in config["datasets"]:
        modality, task = info[dataset]["modality"], info[dataset]["task"]
        for model in config["models"]:
            if declared:
                result[(dataset, model)] = modality in models[model]["modalities"] and task in models[model]["tasks"]
            else:
                result[(dataset, model)] = (modality, task, model) in seen
    how = ("declared by each model (tasks, modalities)" if declared else
           "inferred: a model is expected on a dataset when it ran on some dataset of the same modality and task")
    return result, how


def coverage(config: dict, units: list[dict], results: list[dict], expected: dict) -> dict[str, dict]:
    """Per model: datasets scored, failed (units ran, none scored), missing (expected, not run) and
    not applicable. Means over a model's datasets are over `scored` only."""
    scored = {(r["dataset"], r["model"]) for r in results if r["score"] is not None}
    ran = {(u["dataset"], u["model"]) for u in units}
    out = {}
    for model in config["models"]:
        entry = {"scored": [], "failed": [], "missing": [], "not_applicable": []}
        for dataset in config["datasets"]:
            key = (dataset, model)
            if key in scored:
                entry["scored"].append(dataset)
            elif key in ran:
                entry["failed"].append(dataset)
            elif expected.get(key):
                entry["missing"].append(dataset)
            else:
                entry["not_applicable"].append(dataset)
        out[model] = entry
    return out


def provenance(store: Store, run_id: str, config: dict, units: list[dict], sittings: list[dict],
               results: list[dict]) -> dict:
    expected, how = applicable(config, units)
    parts = planned_parts(store, run_id, config, units)
    recorded = {(u["dataset"], u["model"], u["fold"], u["train_size"]) for u in units}
    missing = []
    n_expected = 0
    for dataset in config["datasets"]:
        dataset_parts = parts[dataset]
        for model in config["models"]:
            if not expected[(dataset, model)]:
                continue
            for fold, size in dataset_parts:
                n_expected += 1
                if (dataset, model, fold, size) not in recorded:
                    missing.append({"dataset": dataset, "model": model, "fold": fold, "train_size": size or None})
    env = sittings[-1]["environment"] if sittings else {}
    finished = [s for s in sittings if s["finished"] is not None]
    return {
        "suite": config["suite"],
        "run_id": run_id,
        "budget": {"trials": config["trials"], "seconds": config["seconds"]},
        "folds": config["folds"],
        "seed": config["seed"],
        "sampler": config["sampler"],
        "max_train": config["max_train"],
        "train_sizes": config.get("train_sizes"),
        "device": config["device"],
        "git_revision": env.get("git_revision"),
        "python": env.get("python"),
        "hardware": {k: env.get(k) for k in ("cpu", "cores", "threads_per_unit", "cuda_device", "platform")},
        "packages": env.get("packages", {}),
        "sittings": [
            {"started": _iso(s["started"]), "finished": _iso(s["finished"]), "workers": s["workers"],
             "wall_s": None if s["finished"] is None else round(s["finished"] - s["started"], 3),
             "git_revision": s["environment"].get("git_revision")}
            for s in sittings
        ],
        "wall_s": round(sum(s["finished"] - s["started"] for s in finished), 3),
        "units": {
            "expected": n_expected,
            "recorded": len(units),
            "done": sum(1 for u in units if u["status"] == "done"),
            "failed": sum(1 for u in units if u["status"] != "done"),
            "missing": len(missing),
        },
        "complete": not missing and all(u["status"] == "done" for u in units),
        "applicability": how,
        "missing_units": missing,
        "coverage": coverage(config, units, results, expected),
        "imputation": ("none: a failed or missing unit is left out, never scored; a dataset's score is the mean "
                       "over the folds that finished, and every comparison between models or families uses only "
                       "the datasets both sides were scored on"),
    }
