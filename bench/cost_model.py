"""A model of a unit's wall time, fitted to stored runs: what `bench run --dry-run` estimates a study with,
and what a run compares its own time against afterwards.

Per trial, log(seconds) = intercept[model] + slopes[family] . (log train rows, log features, log classes),
by least squares (a small ridge keeps a model seen at one size solvable) over every finished unit of the
stored runs, a unit's seconds per trial being its wall time over its trials. A unit's estimate is that
times its planned trials, capped at the budget's seconds. A model that no stored run has gets its family's
mean intercept, and says so. Units run longest first on `workers` workers, so the run's wall time is
estimated by that schedule (longest processing time first, Graham 1969).
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.contract import parse_variant

RIDGE = 1e-3
MIN_UNITS = 5


@dataclass
class UnitShape:
    """What the cost model reads of a unit: its model and family, its data, its budget."""

    model: str
    family: str
    n_train: int
    n_features: int
    n_classes: int  # 1 for regression
    trials: int | None
    seconds: float | None


@dataclass
class CostModel:
    intercepts: dict[str, float]
    family_slopes: dict[str, list[float]]
    units: int
    residual_sd: float
    unseen: set[str] = field(default_factory=set)

    def trial_seconds(self, shape: UnitShape) -> float:
        base = parse_variant(shape.model)[0]
        intercept = self.intercepts.get(base)
        if intercept is None:
            self.unseen.add(base)
            intercept = self.intercepts.get(f"family:{shape.family}", self.intercepts["all"])
        slopes = self.family_slopes.get(shape.family, self.family_slopes["all"])
        return math.exp(intercept + float(np.dot(slopes, _features(shape))))

    def unit_seconds(self, shape: UnitShape) -> float:
        per_trial = self.trial_seconds(shape)
        total = per_trial * (shape.trials or max(1, math.ceil((shape.seconds or per_trial) / per_trial)))
        return min(total, shape.seconds) if shape.seconds else total


def _features(shape: UnitShape) -> list[float]:
    return [math.log(max(2, shape.n_train)), math.log(max(1, shape.n_features)), math.log(max(1, shape.n_classes))]


def observations(config: dict, units: list[dict], trials: list[dict]) -> list[tuple[UnitShape, float]]:
    """(shape, seconds per trial) of every finished unit of one stored run."""
    counts = defaultdict(int)
    for trial in trials:
        counts[trial["unit_key"]] += 1
    families = {name: info["family"] for name, info in config["model_info"].items()}
    out = []
    for unit in units:
        n = counts.get(unit["unit_key"], 0)
        info = config["dataset_info"].get(unit["dataset"])
        if unit["status"] != "done" or not n or not unit.get("wall_s") or info is None or unit["model"] not in families:
            continue
        shape = UnitShape(unit["model"], families[unit["model"]], unit.get("n_train") or info["n_rows"],
                          info["n_features"], info.get("n_classes") or 1, n, None)
        out.append((shape, unit["wall_s"] / n))
    return out


def fit(samples: list[tuple[UnitShape, float]]) -> CostModel | None:
    """The least-squares model of log seconds per trial; None with fewer than MIN_UNITS samples."""
    if len(samples) < MIN_UNITS:
        return None
    models = sorted({parse_variant(s.model)[0] for s, _ in samples})
    families = sorted({s.family for s, _ in samples})
    columns = len(models) + 3 * len(families)
    X, y = np.zeros((len(samples), columns)), np.log([max(1e-3, seconds) for _, seconds in samples])
    for i, (shape, _) in enumerate(samples):
        X[i, models.index(parse_variant(shape.model)[0])] = 1.0
        start = len(models) + 3 * families.index(shape.family)
        X[i, start:start + 3] = _features(shape)
    coef = np.linalg.solve(X.T @ X + RIDGE * np.eye(columns), X.T @ y)
    residual = y - X @ coef
    intercepts = {m: float(coef[i]) for i, m in enumerate(models)}
    family_slopes = {f: coef[len(models) + 3 * j: len(models) + 3 * j + 3].tolist() for j, f in enumerate(families)}
    family_of = {parse_variant(s.model)[0]: s.family for s, _ in samples}
    for f in families:
        intercepts[f"family:{f}"] = float(np.mean([intercepts[m] for m in models if family_of[m] == f]))
    intercepts["all"] = float(np.mean([intercepts[m] for m in models]))
    family_slopes["all"] = np.mean([family_slopes[f] for f in families], axis=0).tolist()
    return CostModel(intercepts, family_slopes, len(samples), float(np.std(residual)))


def wall_seconds(unit_seconds: list[float], workers: int) -> float:
    """The finish time of the units run longest first on `workers` workers."""
    finish = [0.0] * max(1, workers)
    for seconds in sorted(unit_seconds, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + seconds)
    return max(finish)


def stored_samples(paths: list[Path]) -> tuple[list[tuple[UnitShape, float]], list[str]]:
    """Samples from stores and exports (each path a store, an export or a folder holding one), and the
    sources that gave some."""
    from bench.export import EXPORT_NAME, read_export
    from bench.store import Store, StoreError

    samples, used = [], []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            path = next((p for p in (path / "results.sqlite", path / EXPORT_NAME) if p.exists()), path)
        if not path.is_file():
            continue
        try:
            if str(path).endswith(".jsonl.gz"):
                # Read the records directly: loading the packaged exports into stores first took nearly
                # three times as long (5.0 s against 1.8 s), and every `bench run` start pays it.
                records = read_export(path)
                found = observations(records["run"][0]["config"], records["unit"], records["trial"])
            else:
                found = _store_observations(Store(path, create=False))
        except StoreError:
            continue
        samples += found
        if found:
            used.append(str(path))
    return samples, sorted(set(used))


def _store_observations(store) -> list[tuple[UnitShape, float]]:
    try:
        return [obs for run in store.runs()
                for obs in observations(run["config"], store.units(run["run_id"]), store.trials(run["run_id"]))]
    finally:
        store.close()
