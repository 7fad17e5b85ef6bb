"""Provenance: what was run, on what, when, for how long, and which units are missing or failed.

A unit is expected for every (dataset, model, fold, training size) the run asked for where
the model applies to the dataset. Whether a model applies comes from the run's `model_info`
(`tasks` and `modalities`) when it records them; otherwise it is inferred: a model applies to
a dataset when it has a unit on some dataset of the same modality and task.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bench.report.formatting import budget_text, fmt
from bench.report.per_dataset import IMPUTATION
from bench.store import Store

MISSING_LISTED = 40  # missing units listed one a row; more are grouped by model


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def planned_parts(store: Store, run_id: str, config: dict, units: list[dict]) -> dict[str, list[tuple[int, int]]]:
    """Per dataset, the (fold, training size) parts the run planned: those it saved splits for (a store
    rebuilt from an export has none) or ran a unit on; for a dataset with neither, every fold at every
    training size the run asked for."""
    parts = defaultdict(set)
    for row in store.split_parts(run_id):
        parts[row["dataset"]].add((row["fold"], row["train_size"]))
    for unit in units:
        parts[unit["dataset"]].add((unit["fold"], unit["train_size"]))
    sizes = config.get("train_sizes") or [0]
    return {dataset: sorted(parts[dataset], key=lambda p: (p[1], p[0])) if parts.get(dataset) else
            [(fold, size) for size in sizes for fold in range(config["folds"])] for dataset in config["datasets"]}


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
    """Per model: datasets scored (some fold has a score of its own), failed (units ran, none scored),
    missing (expected, none ran), not applicable; and imputed (some fold's score is imputed: failed or
    missing folds count as the constant predictor's score, see per_dataset.IMPUTATION)."""
    cells = {(r["dataset"], r["model"]): r for r in results}
    ran = {(u["dataset"], u["model"]) for u in units}
    out = {}
    for model in config["models"]:
        entry = {"scored": [], "failed": [], "missing": [], "not_applicable": [], "imputed": []}
        for dataset in config["datasets"]:
            key = (dataset, model)
            cell = cells.get(key)
            if cell is not None and cell["folds_done"]:
                entry["scored"].append(dataset)
            elif key in ran:
                entry["failed"].append(dataset)
            elif expected.get(key):
                entry["missing"].append(dataset)
            else:
                entry["not_applicable"].append(dataset)
            if cell is not None and cell["imputed"]:
                entry["imputed"].append(dataset)
        out[model] = entry
    return out


def timing(sittings: list[dict], trials: list[dict], units: list[dict]) -> dict:
    """Wall time over sittings against the model time the trials report.

    Overhead is measured in worker-seconds: wall time times the number of
    workers, minus the seconds spent in fit and predict, over the former.
    """
    spans = _sitting_spans(sittings, units)
    wall_s = sum(seconds for seconds, _ in spans)
    worker_s = sum(seconds * workers for seconds, workers in spans)
    model_s = sum((t["fit_s"] or 0.0) + (t["predict_s"] or 0.0) for t in trials)
    overhead = (worker_s - model_s) / worker_s if worker_s > 0 else None
    return {"wall_s": round(wall_s, 3), "model_s": round(model_s, 3),
            "overhead_fraction": None if overhead is None else round(overhead, 4)}


def provenance(store: Store, run_id: str, config: dict, units: list[dict], sittings: list[dict],
               results: list[dict], applicability: tuple[dict, str] | None = None,
               parts: dict[str, list[tuple[int, int]]] | None = None) -> dict:
    """What was run, on what and when; `applicability` and `parts` (from `applicable` and `planned_parts`)
    are computed here when not given."""
    expected, how = applicability or applicable(config, units)
    parts = parts if parts is not None else planned_parts(store, run_id, config, units)
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
        "sampler_settings": config.get("sampler_settings"),
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
             "git_revision": s["environment"].get("git_revision"), "cpu": s["environment"].get("cpu")}
            # a sitting's shard and its cost model's estimate (bench/estimate.py), when it recorded them
            | {key: s["environment"][key] for key in ("shard", "estimate", "progress") if key in s["environment"]}
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
        "imputation": IMPUTATION,
    }


def _estimate_text(sitting: dict) -> str:
    """', estimated 120 s for 40 units, took 150 s (1.25x the estimate)', or nothing. A sitting that ended
    before its units did (interrupted, or stopped at the end of a working session) is compared on the units
    it finished: their estimated unit seconds against their real ones."""
    estimate, progress = sitting.get("estimate"), sitting.get("progress")
    if not estimate:
        return ""
    text = f", estimated {estimate['wall_s']:.0f} s for {estimate['units']} unit(s)"
    if progress and progress["units"] < estimate["units"]:
        ratio = progress["unit_s"] / progress["estimated_unit_s"] if progress["estimated_unit_s"] else None
        text += (f"; it finished {progress['units']} of them: estimated {progress['estimated_unit_s']:.0f} s of "
                 f"unit time, took {progress['unit_s']:.0f} s"
                 + (f" ({ratio:.2f}x the estimate)" if ratio else ""))
    elif sitting["wall_s"] and estimate["wall_s"]:
        text += f", took {sitting['wall_s']:.0f} s ({sitting['wall_s'] / estimate['wall_s']:.2f}x the estimate)"
    return text


def render(board: dict) -> list:
    """Section 11: what was run, on what and when; failed and missing units; dataset notes."""
    p = board["provenance"]
    clock = board["timing"]
    hw = p["hardware"]
    overhead = clock["overhead_fraction"]
    u = p["units"]
    mixed_cpus = len({s.get("cpu") for s in p["sittings"]}) > 1
    items = [
        f"suite `{p['suite']}`, run `{p['run_id']}`; budget {budget_text(board)}; {p['folds']} outer fold(s); "
        f"seed {p['seed']} (per unit: a hash of seed, dataset, model and fold; per trial: that plus the trial "
        f"number); sampler {p['sampler']}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in p["sampler_settings"].items()) + ")"
           if p.get("sampler_settings") else " (settings not recorded by this run)")
        + f"; training rows capped at {p['max_train'] or 'no cap'}"
        + (f"; training sizes {p['train_sizes']}" if p["train_sizes"] else "") + f"; device {p['device']}",
        f"git revision {p['git_revision']}; Python {p['python']}; {hw['cpu']}, {hw['cores']} cores, "
        f"{hw['threads_per_unit']} thread(s) per unit" + (f"; GPU {hw['cuda_device']}" if hw.get("cuda_device") else "")
        + f"; {hw['platform']}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in sorted(p["packages"].items())),
        f"wall time {clock['wall_s']:.1f} s over {len(p['sittings'])} sitting(s); "
        f"model time {clock['model_s']:.1f} s; "
        f"harness overhead {fmt(None if overhead is None else 100 * overhead, 1)}% of worker time",
        "sittings: " + "; ".join(f"{s['started']} to {s['finished'] or 'unfinished'} ({s['workers']} worker(s)"
                                 + (f", shard {s['shard']}" if s.get("shard") else "")
                                 # a time budget buys each machine its own number of trials: say which ran what
                                 + (f", {s.get('cpu')}" if mixed_cpus else "") + ")" + _estimate_text(s)
                                 for s in p["sittings"]),
        f"units: {u['expected']} expected, {u['recorded']} recorded, {u['done']} done, {u['failed']} failed, "
        f"{u['missing']} missing; applicability {p['applicability']}",
        "trials: " + ", ".join(f"{n} {s}" for s, n in board["trial_counts"].items()),
        f"imputation: {p['imputation']}",
    ]
    blocks = [("list", items)]
    if board["failures"]:
        blocks += [("h", "Failures"), ("p", "Failed or timed-out units: each fold imputed with the constant "
                                            "predictor's score on it and flagged (see Imputation above)."),
                   ("table", ["dataset", "model", "fold", "training rows", "status", "error"],
                    [[f["dataset"], f["model"], str(f["fold"]), fmt(f["train_size"]), f["status"], f["error"] or ""]
                     for f in board["failures"]], "llrrll")]
    if p["missing_units"]:
        blocks += [("h", "Missing units"), ("p", "Expected by the run, not in the store: imputed like a failed "
                                                 "unit.")]
        if len(p["missing_units"]) <= MISSING_LISTED:
            blocks += [("table", ["dataset", "model", "fold", "training rows"],
                        [[m["dataset"], m["model"], str(m["fold"]), fmt(m["train_size"])]
                         for m in p["missing_units"]], "llrr")]
        else:  # a run stopped between sittings: one row a model, not thousands (leaderboard.json lists each unit)
            by_model: dict[str, dict[str, int]] = {}
            for m in p["missing_units"]:
                datasets = by_model.setdefault(m["model"], {})
                datasets[m["dataset"]] = datasets.get(m["dataset"], 0) + 1
            blocks += [("table", ["model", "units missing", "datasets"],
                        [[model, str(sum(datasets.values())),
                          ", ".join(d if n == 1 else f"{d} ({n})" for d, n in sorted(datasets.items()))]
                         for model, datasets in sorted(by_model.items())], "lrl")]
    notes = [f"{d}: {'; '.join(info['notes'])}" for d, info in sorted(board["datasets"].items()) if info.get("notes")]
    if notes:
        blocks += [("p", "Dataset notes (hygiene):"), ("list", notes)]
    return blocks
