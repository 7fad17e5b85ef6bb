"""A run: plan the units a configuration asks for, skip the finished ones, run the rest.

A run is identified by its `RunConfig` (bench/config.py): what was asked,
never when or where it ran, so the same command resumes the same run.
"""
from __future__ import annotations

import hashlib
import heapq
import math
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from bench.config import RunConfig, sampler_settings
from bench.data import Dataset, DatasetCard, dataset_summary, load
from bench.data.hygiene import shared_duplicates
from bench.environment import environment
from bench.estimate import estimate, hours_left
from bench.executor import open_executor, run_units
from bench.contract import ModelSpec
from bench.isolation import Limits
from bench.splits import make_splits, training_subsets, validation_subsets
from bench.store import Store
from bench.tuning import UnitTask


def unit_key(run_id: str, dataset: str, model: str, fold: int, train_size: int = 0) -> str:
    return hashlib.sha1(f"{run_id}/{dataset}/{model}/{fold}/{train_size}".encode()).hexdigest()[:16]


def describe(config: RunConfig, cards: dict[str, DatasetCard], specs: dict[str, ModelSpec], cache_dir: Path,
             shared: dict[str, list[int]]) -> dict:
    """The run's config plus what the report needs to know of its datasets (meta-features,
    hygiene notes) and models, so that the report reads the store alone."""
    dataset_info = {}
    for name in config.datasets:
        summary = dataset_summary(cards[name], cache_dir)
        notes = list(summary.pop("notes"))
        if any(shared[name]):
            notes.append(f"{sum(shared[name])} test row(s) exactly duplicate a training row "
                         f"(per fold: {', '.join(map(str, shared[name]))})")
        for drop in ("name", "citation", "licence", "benchmarks"):
            summary.pop(drop, None)
        dataset_info[name] = {**summary, "metric": config.metric(cards[name].task), "notes": notes,
                              "test_duplicates_of_train": shared[name]}
    return {
        **asdict(config),
        "sampler_settings": sampler_settings(config),
        "dataset_info": dataset_info,
        "model_info": {
            name: {"family": specs[name].family, "source": specs[name].source,
                   "tasks": sorted(specs[name].tasks), "modalities": sorted(specs[name].modalities)}
            for name in config.models
        },
    }


def plan(config: RunConfig, store: Store, cards: dict[str, DatasetCard], datasets: dict[str, Dataset],
         specs: dict[str, ModelSpec], cache_dir: Path, threads: int,
         shard: tuple[int, int] | None = None, save_splits: bool = True) -> tuple[list[UnitTask], int, dict]:
    """Unfinished units of the run (of its shard `(i, n)`, the i-th of n, when given), how many units it (the
    shard) has in all, and per dataset the number of test rows that duplicate a training row in each fold.
    Saves the splits unless told not to."""
    run_id = config.run_id
    finished = store.finished_units(run_id)
    tasks, shared = [], {}
    for name in config.datasets:
        card, dataset = cards[name], datasets[name]
        parts = []  # (fold, train_size, train, valid, test)
        splits = make_splits(dataset.y, card.task, config.folds, config.seed, config.max_train,
                             test=dataset.published_test)
        shared[name] = [shared_duplicates(dataset, s.train, s.test) for s in splits]
        for split in splits:
            if config.train_sizes:
                subsets = training_subsets(split.train, config.train_sizes, config.seed + split.fold)
                valids = validation_subsets(split.valid, config.train_sizes, config.seed + split.fold)
                parts += [(split.fold, size, train, valids[size], split.test) for size, train in subsets.items()]
            else:
                parts.append((split.fold, 0, split.train, split.valid, split.test))
        for fold, size, train, valid, test in parts if save_splits else ():
            store.save_split(run_id, name, fold, train, valid, test, train_size=size)
        for model in config.models:
            if not specs[model].supports(card.task, card.modality):
                continue
            for fold, size, train, valid, test in parts:
                tasks.append(UnitTask(
                    unit_key=unit_key(run_id, name, model, fold, size), card=card, cache_dir=cache_dir,
                    model=model, fold=fold, train=train, valid=valid, test=test, budget=config.budget,
                    seed=config.seed, sampler=config.sampler, startup_trials=config.startup_trials,
                    metric=config.metric(card.task), device=config.device, threads=threads, train_size=size,
                ))
    costs = {t.unit_key: expected_cost(t, datasets[t.card.name], specs[t.model]) for t in tasks}
    tasks.sort(key=lambda t: (-costs[t.unit_key], t.unit_key))
    if shard is not None:
        tasks = shard_units(tasks, [costs[t.unit_key] for t in tasks], *shard)
    return [t for t in tasks if t.unit_key not in finished], len(tasks), shared


def shard_units(tasks: list, costs: list[float], index: int, count: int) -> list:
    """The `index`-th (1-based) of `count` shares of the units, balanced by expected cost: units taken in the
    given order (longest first) each go to the share with the least cost so far, ties to the lower share.
    Deterministic from the run's configuration alone, finished units included, so that every machine and
    every resume computes the same shares."""
    loads = [(0.0, share) for share in range(count)]
    mine = []
    for task, cost in zip(tasks, costs):
        load, share = heapq.heappop(loads)
        heapq.heappush(loads, (load + cost, share))
        if share == index - 1:
            mine.append(task)
    return mine


def expected_cost(task: UnitTask, dataset: Dataset, spec: ModelSpec) -> float:
    """A rough guess of a unit's time, to start the longest units first so that no worker idles
    at the end of a run: rows x sqrt(features), more for nets, and per class for boosters
    (one tree per class and round)."""
    features = dataset.X_num.shape[1] + dataset.X_cat.shape[1]
    family = {"deep": 3.0, "tree": max(1, dataset.info.n_classes), "classical": 1.0}.get(spec.family, 1.0)
    return len(task.train) * math.sqrt(features) * family


def dry_run(config: RunConfig, store: Store, cards: dict[str, DatasetCard], specs: dict[str, ModelSpec],
            cache_dir: Path, workers: int, threads: int, shard: tuple[int, int] | None = None,
            cost_sources: list[Path] = ()) -> dict:
    """The units a run would run (its shard's, unfinished) and their estimated time; runs and writes nothing."""
    datasets = {name: load(cards[name], cache_dir) for name in config.datasets}
    tasks, total, _ = plan(config, store, cards, datasets, specs, cache_dir, threads, shard, save_splits=False)
    units = Counter((t.card.name, t.model) for t in tasks)
    return {"total_units": total, "to_run": len(tasks), "units": [
        {"dataset": d, "model": m, "units": n} for (d, m), n in sorted(units.items())],
        "estimate": estimate(config, tasks, datasets, specs, workers, [store.path, *cost_sources])}


def execute(config: RunConfig, store: Store, cards: dict[str, DatasetCard], specs: dict[str, ModelSpec],
            cache_dir: Path, workers: int, threads: int, scheduler: str | None, limits: Limits = Limits(),
            progress: bool = True, shard: tuple[int, int] | None = None, cost_sources: list[Path] = ()) -> dict:
    """Run every unfinished unit of the run (of its shard, when given) and record it; returns a summary, with
    the cost model's estimate of the sitting beside its real time."""
    from tqdm import tqdm

    started = time.monotonic()
    preload = sorted({module for name in config.models for module in specs[name].imports})
    with open_executor(workers, threads, scheduler, preload) as (client, threads):
        # The fork server imports the models' libraries while the run is planned.
        datasets = {name: load(cards[name], cache_dir) for name in config.datasets}
        run_id = config.run_id
        tasks, total, shared = plan(config, store, cards, datasets, specs, cache_dir, threads, shard)
        store.ensure_run(run_id, describe(config, cards, specs, cache_dir, shared))
        for name, counts in shared.items():
            if any(counts):
                print(f"warning: {name}: {sum(counts)} test row(s) exactly duplicate a training row",
                      file=sys.stderr)
        guess = estimate(config, tasks, datasets, specs, workers, [store.path, *cost_sources])
        recorded = environment(threads, config.device)
        if shard is not None:
            recorded["shard"] = f"{shard[0]}/{shard[1]}"
        if guess is not None and tasks:
            recorded["estimate"] = {k: guess[k] for k in ("units", "unit_s", "wall_s")}
        sitting = store.start_sitting(run_id, workers, recorded)
        counts = {"units": 0, "trials": 0, "failed_units": 0, "skipped": total - len(tasks)}
        # How far off the estimate is on the units finished so far: the sitting records it when it ends (also
        # when it is interrupted), and the progress bar scales the estimate of the units left by it.
        per_unit = (guess or {}).get("per_unit_s", {})
        progress = {"units": 0, "estimated_unit_s": 0.0, "unit_s": 0.0}
        left_s = sum(per_unit.values())
        bar = tqdm(total=total, initial=total - len(tasks), unit="unit", disable=not progress,
                   file=sys.stderr, dynamic_ncols=True, desc=config.suite)

        def record(result: dict) -> None:
            nonlocal left_s
            unit = result["unit"]
            store.record_unit(run_id, unit, result["trials"], result["ensemble"])
            counts["units"] += 1
            counts["trials"] += len(result["trials"])
            counts["failed_units"] += unit["status"] != "done"
            expected = per_unit.get(unit["unit_key"])
            if expected is not None and unit.get("wall_s") is not None:
                progress["units"] += 1
                progress["estimated_unit_s"] += expected
                progress["unit_s"] += unit["wall_s"]
                left_s -= expected
            left = f" left~{hours_left(progress, left_s, workers):.1f}h" if per_unit else ""
            bar.set_postfix_str(f"trials={counts['trials']}{left} last={unit['dataset']}/{unit['model']}",
                                refresh=False)
            bar.update(1)
            if unit["status"] != "done":
                bar.write(f"unit {unit['dataset']}/{unit['model']}/fold{unit['fold']} failed: {unit.get('error')}")

        try:
            run_units(client, tasks, limits, record)
        finally:
            bar.close()
            store.finish_sitting(sitting, {"progress": {k: round(v, 3) for k, v in progress.items()}}
                                 if progress["units"] else None)
    counts["wall_s"] = time.monotonic() - started
    counts["total_units"] = total
    counts["estimate"] = {k: v for k, v in guess.items() if k != "per_unit_s"} if guess and tasks else None
    return counts
