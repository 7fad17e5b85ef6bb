"""The model zoo: one module per family, each defining ``MODEL = ModelSpec(...)``.

To add a model, drop a module in this folder that defines ``MODEL``; the
registry finds it by scanning the package. Models kept outside the package are
found through ``BENCH_MODEL_MODULES``: comma-separated importable module names,
each defining ``MODEL`` (or ``MODELS``, a list). Nothing else in the harness
knows a model by name.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

TASKS = ("binary", "multiclass", "regression")
MODALITIES = ("tabular", "image", "sequence")
FAMILIES = ("deep", "tree", "classical")


@dataclass(frozen=True)
class Part:
    """Rows of one split part: numeric features, categorical codes and target."""

    X_num: np.ndarray  # (n, d_num) float32; NaN marks a missing value; images/sequences flattened
    X_cat: np.ndarray  # (n, d_cat) int64 codes 0..cardinality-1; -1 marks a missing value
    y: np.ndarray  # (n,) int64 class ids, or float64 targets for regression

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class DataInfo:
    """What a model may know about a dataset besides its rows."""

    task: str
    modality: str
    n_classes: int  # 0 for regression
    num_names: tuple[str, ...] = ()
    cat_names: tuple[str, ...] = ()
    cat_cardinalities: tuple[int, ...] = ()
    shape: tuple[int, ...] | None = None  # (C, H, W) for images, (C, L) for sequences


@dataclass(frozen=True)
class FitContext:
    """What the harness, not the model, decides: seed, threads, device, deadline."""

    seed: int
    threads: int = 1
    device: str = "cpu"  # "cpu" or "cuda"
    deadline: float | None = None  # a time.monotonic() value; None means no deadline


class Fitted(Protocol):
    n_iter: int  # epochs or trees actually used
    stopped_by_deadline: bool
    curves: dict  # e.g. {"train_loss": [...], "valid_loss": [...]} for nets; {} otherwise

    def predict(self, part: Part) -> np.ndarray:
        """Class probabilities (n, n_classes) for classification, values (n,) for regression."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # one of FAMILIES
    tasks: frozenset[str]
    modalities: frozenset[str]
    defaults: dict[str, Any]  # trial 0: the known-good default
    space: Callable[[Any], dict[str, Any]]  # optuna.Trial -> params (define-by-run)
    fit: Callable[[dict, Part, Part, DataInfo, FitContext], Fitted]
    source: str  # where the defaults and the space come from
    notes: str = field(default="")

    def supports(self, task: str, modality: str) -> bool:
        return task in self.tasks and modality in self.modalities


def _module_names() -> list[str]:
    names = [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    extra = os.environ.get("BENCH_MODEL_MODULES", "")
    return names + [name.strip() for name in extra.split(",") if name.strip()]


def registry() -> dict[str, ModelSpec]:
    """Every model defined in this package or in a module named by BENCH_MODEL_MODULES, by name."""
    models: dict[str, ModelSpec] = {}
    for name in _module_names():
        module = importlib.import_module(name)
        specs = list(getattr(module, "MODELS", [])) + [getattr(module, "MODEL", None)]
        models.update({spec.name: spec for spec in specs if isinstance(spec, ModelSpec)})
    return dict(sorted(models.items()))
