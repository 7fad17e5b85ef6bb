"""One study under an equal budget: a unit is (dataset, model, fold), tuned by Optuna.

Trial 0 is the model's known-good default; later trials come from a seeded
sampler. Every trial is scored on validation and test, but only the validation
score reaches the sampler and the selection: the test scores are kept so that
anytime curves can be read off for any budget prefix. A scored trial keeps its
validation and test predictions in the store's compact form, and after the last
trial the unit's trials are ensembled on validation (bench/ensembles.py).
"""
from __future__ import annotations

import math
import sys
import time
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import ensembles, metrics
from bench.data import DatasetCard, load
from bench.config import SAMPLERS, Budget
from bench.contract import FitContext, ModelSpec, Status
from bench.models import registry, resolve
from bench.predictions import PARTS, decode_predictions, encode_predictions
from bench.threads import limit_threads

@dataclass(frozen=True)
class UnitTask:
    """Everything a worker needs to run one unit; small enough to ship to a cluster."""

    unit_key: str
    card: DatasetCard
    cache_dir: Path
    model: str
    fold: int
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    budget: Budget
    seed: int
    sampler: str = "tpe"
    startup_trials: int = 10  # random trials before TPE models the search (bench.config.startup_trials)
    metric: str = ""  # the metric that scores and selects; "": the task's default (bench/metrics.py)
    device: str = "cpu"
    threads: int = 1
    train_size: int = 0  # learning curves: the size of this unit's training subset; 0 = whole part

    def identity(self) -> dict:
        """The fields a unit record carries whatever its outcome."""
        return {"unit_key": self.unit_key, "dataset": self.card.name, "model": self.model, "fold": self.fold,
                "train_size": self.train_size, "n_train": len(self.train), "threads": self.threads}


def unit_seed(seed: int, dataset: str, model: str, fold: int) -> int:
    """A seed per unit that does not depend on the order units run in."""
    return zlib.crc32(f"{seed}/{dataset}/{model}/{fold}".encode()) % (2**31)


def _make_sampler(name: str, seed: int, startup_trials: int = 10):
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; valid: {', '.join(SAMPLERS)}")


def run_trial(spec: ModelSpec, params: dict, parts: dict, info, ctx: FitContext, metric: str = "") -> dict:
    """Fit one configuration and score it on validation and test by `metric`; never raises.

    A scored row keeps its predictions, compact (bench.predictions.encode_predictions), as
    `row["predictions"] = {"valid": bytes, "test": bytes}`: bytes travel cheaply to the driver."""
    row: dict = {"params": params, "status": Status.OK, "error": None}
    try:
        start = time.perf_counter()
        fitted = spec.fit(params, parts["train"], parts["valid"], info, ctx)
        row["fit_s"] = time.perf_counter() - start
        start = time.perf_counter()
        predictions = {name: fitted.predict(parts[name]) for name in ("valid", "test")}
        row["predict_s"] = time.perf_counter() - start
        row["n_iter"] = int(fitted.n_iter)
        row["stopped_by_deadline"] = bool(fitted.stopped_by_deadline)
        row["curves"] = fitted.curves
    except FloatingPointError as error:
        return {**row, "status": Status.NAN, "error": str(error)}
    except MemoryError as error:
        return {**row, "status": Status.OOM, "error": f"MemoryError: {error}"}
    except Exception as error:  # a model failure is a result, not a crash of the run
        message = f"{type(error).__name__}: {error}"
        # torch reports a failed allocation as a RuntimeError, not a MemoryError
        status = Status.OOM if "allocate" in message and "memory" in message else Status.FAILED
        return {**row, "status": status, "error": message}
    if not all(np.isfinite(p).all() for p in predictions.values()):
        return {**row, "status": Status.NAN, "error": "predictions contain NaN or infinity"}
    metric = metric or metrics.DEFAULT_METRICS[info.task]
    for name, prediction in predictions.items():
        scores = metrics.score(info.task, parts[name].y, prediction, info.n_classes)
        if metric not in scores:  # ROC AUC needs every class in the part
            return {**row, "status": Status.FAILED,
                    "error": f"{metric} is undefined on the {name} part (it lacks a class); choose another --metric"}
        row[f"{name}_metrics"] = scores
        row[f"{name}_score"] = metrics.oriented(metric, scores[metric])
    row["predictions"] = {name: encode_predictions(predictions[name]) for name in PARTS}
    if info.task != "regression":  # rows: true class, columns: predicted class
        row["curves"] = {**(row["curves"] or {}), "confusion_matrix": metrics.confusion(
            parts["test"].y, predictions["test"], info.n_classes)}
    return row


def warning_summary(caught: list) -> str:
    """One line for a unit's warnings: how many, and the commonest kind with its first message."""
    kinds = Counter((w.category.__name__, str(w.message).splitlines()[0][:160]) for w in caught)
    (category, message), count = kinds.most_common(1)[0]
    others = f"; {len(kinds) - 1} other kind(s)" if len(kinds) > 1 else ""
    return f"{len(caught)} library warning(s), {count} x {category}: {message}{others}"


def run_unit(task: UnitTask, on_event=None) -> dict:
    """Run one study; returns the unit record, its trial rows and its ensemble (None when no
    trial was scored; bench/ensembles.py). Runs on a worker.

    `on_event` receives ("start", partial row) before each fit and ("trial", row)
    after it, so that a supervising process keeps finished trials if this one dies.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    unit_start, started_at = time.monotonic(), time.time()
    deadline = unit_start + task.budget.seconds if task.budget.seconds else None
    spec = resolve(task.model, registry())  # a plain name or a variant such as mlp[norm=none]
    dataset = load(task.card, task.cache_dir)
    info = dataset.info
    parts = {name: dataset.part(getattr(task, name)) for name in ("train", "valid", "test")}
    seed = unit_seed(task.seed, task.card.name, task.model, task.fold)
    metric = task.metric or metrics.DEFAULT_METRICS[info.task]
    constant = metrics.score(
        info.task,
        parts["test"].y,
        metrics.constant_prediction(info.task, parts["train"].y, len(parts["test"]), info.n_classes),
        info.n_classes,
    )
    baseline = metrics.oriented(metric, constant[metric]) if metric in constant else None

    study = optuna.create_study(direction="maximize", sampler=_make_sampler(task.sampler, seed, task.startup_trials))
    study.enqueue_trial(spec.defaults, skip_if_exists=False)
    rows = []
    max_trials = task.budget.trials or math.inf
    # Library warnings (scikit-learn's LinAlgWarning, convergence notes, ...) can come once per
    # trial or per fold of an internal search: kept out of the console, summed up once per unit.
    with limit_threads(task.threads), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        while len(rows) < max_trials and (deadline is None or time.monotonic() < deadline):
            trial = study.ask()
            params = {**spec.defaults, **spec.space(trial)}
            ctx = FitContext(seed=seed + trial.number, threads=task.threads, device=task.device, deadline=deadline)
            opening = {"number": trial.number, "params": params, "started_s": time.monotonic() - unit_start}
            if on_event:
                on_event(("start", opening))
            row = {**run_trial(spec, params, parts, info, ctx, metric), **opening}
            rows.append(row)
            if on_event:
                on_event(("trial", row))
            if row["status"] == Status.OK:
                study.tell(trial, row["valid_score"])
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        ensemble = _ensemble(rows, parts, info.task, metric, info.n_classes)
    if caught:
        print(f"unit {task.card.name}/{task.model}/fold{task.fold}: {warning_summary(caught)}", file=sys.stderr)
    ok = [r for r in rows if r["status"] == Status.OK]
    unit = {
        **task.identity(),
        # A unit without a single scored trial takes the status of its last trial (failed, nan, oom).
        "status": Status.DONE if ok else (rows[-1]["status"] if rows else Status.FAILED),
        "error": None if ok else (rows[-1].get("error") if rows else "no trial ran within the budget"),
        "baseline_score": baseline,
        "wall_s": time.monotonic() - unit_start,
        "started": started_at,
    }
    return {"unit": unit, "trials": rows, "ensemble": ensemble}


def _ensemble(rows: list[dict], parts: dict, task: str, metric: str, n_classes: int) -> dict | None:
    """The unit's ensemble over its scored trials, from their stored (decoded) predictions, so
    that the store alone reproduces it."""
    predictions = {r["number"]: {part: decode_predictions(blob) for part, blob in r["predictions"].items()}
                   for r in rows if r["status"] == Status.OK}
    return ensembles.ensemble_unit(rows, predictions, {part: parts[part].y for part in PARTS}, task, metric,
                                   n_classes)

