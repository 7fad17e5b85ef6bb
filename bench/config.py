"""A run's configuration: what was asked, checked in one place, and the run id that names it.

Every command that starts a run (``bench run``, ``bench advise``) builds its
`RunConfig` here, so a budget, a fold count or a sampler is checked by one
rule with one message. A run is identified by what was asked (datasets,
models, budget, folds, seed, train cap, sampler, device, training sizes),
never by when or where it ran, so the same command resumes the same run.
"""
from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.contract import split_names
from bench.metrics import parse_metrics
from bench.threads import cores, threads_per_unit

SAMPLERS = ("tpe", "random")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_UNIT_TIMEOUT_S = 3600.0
MIN_TRAIN_ROWS = 10


class ConfigError(ValueError):
    """A run asked for something it cannot have; the message says what is valid."""


@dataclass(frozen=True)
class Budget:
    """Trials per unit, seconds of wall time per unit, or both (whichever ends first); checked by RunConfig."""

    trials: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class RunConfig:
    suite: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    trials: int | None
    seconds: float | None
    folds: int
    seed: int
    max_train: int | None
    sampler: str
    device: str
    train_sizes: tuple[int, ...] | None = None
    # Random trials before TPE models the search (trial 0, the default, counts as one); None: the
    # rule of `startup_trials`. Part of what was asked, so a run records the sampler it really had.
    startup_trials: int | None = None
    # The metric that scores and selects, per task, as (task, metric) pairs; None: the defaults
    # (bench/metrics.py). A string is read as --metric reads it ("accuracy", "binary=roc_auc,...").
    metrics: tuple[tuple[str, str], ...] | str | None = None

    def __post_init__(self):
        if self.startup_trials is None:
            object.__setattr__(self, "startup_trials", startup_trials(self.sampler, self.trials))
        if self.metrics is None or isinstance(self.metrics, str):
            try:
                chosen = parse_metrics(self.metrics)
            except ValueError as error:
                raise ConfigError(f"--metric: {error}") from None
            object.__setattr__(self, "metrics", tuple(sorted(chosen.items())))
        check_positive(self.trials, "--trials")
        check_positive(self.seconds, "--seconds")
        if self.trials is None and self.seconds is None:
            raise ConfigError("a budget needs trials or seconds")
        if self.folds < 1:
            raise ConfigError(f"--folds must be at least 1, got {self.folds}")
        if self.max_train is not None and self.max_train < MIN_TRAIN_ROWS:
            raise ConfigError(f"--max-train must be at least {MIN_TRAIN_ROWS}, got {self.max_train}")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {self.sampler!r}; valid: {', '.join(SAMPLERS)}")
        if self.device not in ("cpu", "cuda"):
            raise ConfigError(f"device must be cpu or cuda, got {self.device!r}")
        if self.startup_trials < 0:
            raise ConfigError(f"startup trials must be 0 or more, got {self.startup_trials}")
        if self.train_sizes is not None and (not self.train_sizes or min(self.train_sizes) < MIN_TRAIN_ROWS):
            raise ConfigError(f"--train-sizes must be at least {MIN_TRAIN_ROWS} rows each, "
                              f"got {','.join(map(str, self.train_sizes))}")

    @property
    def run_id(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def metric(self, task: str) -> str:
        """The metric that scores and selects on datasets of this task."""
        return dict(self.metrics)[task]

    @property
    def budget(self) -> Budget:
        return Budget(trials=self.trials, seconds=self.seconds)


def startup_trials(sampler: str, trials: int | None) -> int:
    """Random trials before TPE starts modelling: a fifth of the trial budget, at least 2, at most 10.

    Optuna's TPESampler starts with n_startup_trials=10 random trials, so at
    every budget of 10 trials or fewer "tpe" would be random search. Two are the
    fewest from which TPE can split the trials into a good and a bad group
    (Bergstra et al. 2011, "Algorithms for hyper-parameter optimization"); ten is Optuna's
    default, kept for large budgets. A seconds budget, whose trial count is not
    known in advance, gets 5. Random search has no startup phase (0).
    """
    if sampler != "tpe":
        return 0
    if trials is None:
        return 5
    return max(2, min(10, trials // 5))


def sampler_settings(config: RunConfig) -> dict:
    """The sampler as it really ran, for the report's provenance."""
    if config.sampler == "random":
        return {"name": "random", "seed": "per unit (crc32 of seed/dataset/model/fold)"}
    return {"name": "tpe", "n_startup_trials": config.startup_trials, "multivariate": False,
            "first_trial": "the model's default", "seed": "per unit (crc32 of seed/dataset/model/fold)"}


def check_positive(value, flag: str) -> None:
    """A ConfigError naming `flag` unless `value` is None or above 0."""
    if value is not None and not value > 0:
        raise ConfigError(f"{flag} must be above 0, got {value:g}")


def run_config(suite, cards: dict, specs: dict, *, datasets: str | None = None, models: str | None = None,
               target: str | None = None, task: str | None = None, trials: int | None = None,
               seconds: float | None = None, folds: int | None = None, seed: int | None = None,
               max_train: int | None = None, sampler: str | None = None, device: str = "auto",
               train_sizes: str | None = None, metric: str | None = None, named_suite: bool = False) -> RunConfig:
    """The suite's configuration with what the command line overrides; adds own data to `cards`
    and variants to `specs`. `datasets`, `models` and `train_sizes` are comma-separated lists."""
    names = add_own_data(split_names(datasets), cards, target, task) if datasets else suite.datasets
    model_names = split_names(models) if models else suite.models
    check_names(names, cards, "dataset")
    add_variants(model_names, specs)
    for model in model_names:
        spec = specs[model]
        if not any(spec.supports(cards[d].task, cards[d].modality) for d in names):
            raise ConfigError(
                f"model {model!r} supports none of the datasets asked for "
                f"({', '.join(f'{d}: {cards[d].task} {cards[d].modality}' for d in names)}); "
                f"it takes tasks {', '.join(sorted(spec.tasks))} and modalities {', '.join(sorted(spec.modalities))}"
            )
    budget_given = trials is not None or seconds is not None
    return RunConfig(
        suite=suite.name if not (datasets or models) or named_suite else "custom",
        datasets=names,
        models=model_names,
        trials=trials if budget_given else suite.trials,
        seconds=seconds if budget_given else suite.seconds,
        folds=suite.folds if folds is None else folds,
        seed=suite.seed if seed is None else seed,
        max_train=suite.max_train if max_train is None else (max_train or None),  # 0: no cap
        sampler=sampler or suite.sampler,
        device=resolve_device(device),
        train_sizes=_train_sizes(train_sizes) if train_sizes else suite.train_sizes,
        metrics=metric or suite.metric,
    )


def check_names(names, known: dict, what: str) -> None:
    """A ConfigError naming every unknown name and the valid ones."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown {what} {', '.join(map(repr, unknown))}; valid: {', '.join(known)}")


def add_variants(models: tuple[str, ...], specs: dict) -> None:
    """Check every model name, adding variants such as `mlp[norm=none]` to `specs` as written."""
    from bench.models import resolve

    for name in models:
        try:
            specs[name] = resolve(name, specs)
        except ValueError as error:
            raise ConfigError(str(error)) from None


def add_own_data(names: tuple[str, ...], cards: dict, target: str | None, task: str | None) -> tuple[str, ...]:
    """Turn file paths and openml:<id> names into cards; returns the dataset names to run."""
    from bench.data import FILE_KINDS, card_from_file, openml_card

    def is_own_data(name: str) -> bool:
        return (name.startswith("openml:") or name.lower().endswith(tuple(FILE_KINDS)) or "/" in name
                or Path(name).exists())

    resolved = []
    for name in names:
        if name in cards or not is_own_data(name):
            resolved.append(name)
            continue
        if name.startswith("openml:"):
            card = openml_card(name)
        else:
            if not target:
                raise ConfigError(f"{name}: a dataset from a file needs --target COLUMN")
            card = card_from_file(name, target, task)
        if card.name in cards and cards[card.name].source != card.source:
            card = dataclasses.replace(card, name=f"{card.name}-own")  # never shadow a catalogue dataset
        cards[card.name] = card
        resolved.append(card.name)
    return tuple(resolved)


def _train_sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(sorted({int(item) for item in split_names(text)}))
    except ValueError:
        raise ConfigError(f"--train-sizes must be comma-separated whole numbers, got {text!r}") from None


def _nvidia_driver_present() -> bool:
    """Whether an NVIDIA driver is loaded (native Linux, or WSL's /dev/dxg): CUDA needs one.

    Checked before importing torch, which costs the driver over a second of cold start."""
    return (os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/dxg")
            or bool(glob.glob("/dev/nvidia[0-9]*")))


def resolve_device(device: str) -> str:
    """auto, cpu or cuda -> cpu or cuda; auto takes CUDA when torch sees a device."""
    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; valid: {', '.join(DEVICES)}")
    if device == "cpu" or (device == "auto" and not _nvidia_driver_present()):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ConfigError("--device cuda: torch sees no CUDA device here; use --device auto or cpu")
    return "cpu"


def workers_for(workers: int | None) -> int:
    """Units run at once: one per core by default; 0 runs them one at a time in this process."""
    if workers is not None and workers < 0:
        raise ConfigError(f"--workers must be 0 (run in this process) or more, got {workers}")
    return cores() if workers is None else workers


def threads_for(workers: int, threads: int | None, scheduler: str | None) -> int:
    """Threads per unit: cores // workers, or `threads`, which may not oversubscribe the cores."""
    most = threads_per_unit(workers)
    if threads is None:
        return most
    if scheduler:
        raise ConfigError("--threads is for local runs; on a Dask cluster its workers' size decides the threads")
    if not 1 <= threads <= most:
        raise ConfigError(f"--threads must be 1 to {most} with {workers or 'in-process'} worker(s) on {cores()} "
                          f"core(s) (more would oversubscribe them), got {threads}")
    return threads


def unit_limits(config: RunConfig, workers: int, memory_gb: float | None = None, timeout_s: float | None = None):
    """Memory and wall-clock limits per unit: the machine's memory / workers, and an hour or twice
    the per-unit seconds, unless given."""
    from bench.isolation import Limits

    check_positive(memory_gb, "--unit-memory")
    check_positive(timeout_s, "--unit-timeout")
    if memory_gb:
        memory = int(memory_gb * 2**30)
    else:
        import psutil

        memory = psutil.virtual_memory().total // max(1, workers)
    timeout = timeout_s or max(DEFAULT_UNIT_TIMEOUT_S, 2 * (config.seconds or 0))
    return Limits(memory_bytes=memory, wall_s=timeout)
