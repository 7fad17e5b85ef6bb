"""The contract every layer shares: data types, the model spec, trial and unit records, one variant parser.

Data, models, tuning, the store and the report import this module and nothing
imports upward from it, so that a report rebuilt from an export never loads
the model zoo, and the data layer never needs a model.

Variant syntax (one parser for the CLI, the registry and the claims):
``mlp[norm=none,dropout=0]`` is the ``mlp`` model with ``norm`` and
``dropout`` fixed. Values are literals: integers, floats, ``true``/``false``,
``none``/``null``, or strings (bare or quoted).
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, TypedDict

import numpy as np

TASKS = ("binary", "multiclass", "regression")
MODALITIES = ("tabular", "image", "sequence")
FAMILIES = ("deep", "tree", "classical")


# --------------------------------------------------------------------------- data


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


# --------------------------------------------------------------------------- models


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
    # Modules `fit` imports; the fork server that starts units imports them once, so that units start warm.
    imports: tuple[str, ...] = ()

    def supports(self, task: str, modality: str) -> bool:
        return task in self.tasks and modality in self.modalities


# --------------------------------------------------------------------------- records


class Status(str, enum.Enum):
    """The outcome of a trial (``ok`` or a fault) or of a unit (``done`` or the fault that ended it)."""

    OK = "ok"  # a trial that was scored
    DONE = "done"  # a unit with at least one scored trial
    FAILED = "failed"  # an exception in the model, or in the harness outside any trial
    NAN = "nan"  # NaN or infinity in the loss or the predictions
    OOM = "oom"  # out of memory
    TIMEOUT = "timeout"  # past the unit's wall-clock limit
    CRASHED = "crashed"  # the unit's process died

    def __str__(self) -> str:  # in f-strings and the store, the plain word
        return self.value


class TrialRecord(TypedDict, total=False):
    """One trial row as workers return it and the store keeps it."""

    number: int
    status: str  # a Status value
    params: dict[str, Any]
    valid_score: float | None
    test_score: float | None
    valid_metrics: dict[str, float] | None
    test_metrics: dict[str, float] | None
    fit_s: float | None
    predict_s: float | None
    started_s: float | None  # seconds from the unit's start to this trial's start
    n_iter: int | None
    stopped_by_deadline: bool | None
    curves: dict | None
    error: str | None
    predictions: dict[str, bytes]  # {"valid", "test"}: compact predictions of a scored trial (bench/store.py)


class UnitRecord(TypedDict, total=False):
    """One unit row: a (dataset, model, fold, train size) study and its outcome."""

    unit_key: str
    run_id: str
    dataset: str
    model: str
    fold: int
    train_size: int  # 0: the whole (capped) inner train part
    status: str  # a Status value: done, or the fault that ended the unit
    error: str | None
    n_train: int | None
    baseline_score: float | None  # the constant predictor's test score
    wall_s: float | None
    threads: int | None
    started: float | None
    finished: float | None


def best_trial(rows: list[TrialRecord]) -> TrialRecord | None:
    """The trial with the best validation score (first one on ties); selection never sees test."""
    ok = [r for r in rows if r["status"] == Status.OK and r.get("valid_score") is not None]
    return max(ok, key=lambda r: (r["valid_score"], -r["number"])) if ok else None


# --------------------------------------------------------------------------- variants

_VARIANT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[(.*)\])?\s*$", re.DOTALL)


def split_names(text: str) -> tuple[str, ...]:
    """Split a list on commas outside brackets: ``"mlp[norm=none,dropout=0],lightgbm"`` is two names."""
    return tuple(item.strip() for item in _split_commas(text, depth=0) if item.strip())


def parse_variant(name: str) -> tuple[str, dict[str, Any]]:
    """``"mlp[n_layers=2,lr=1e-3]"`` -> ``("mlp", {"n_layers": 2, "lr": 0.001})``; a plain name -> (name, {}).

    Values are read as literals without knowing the model (``none`` -> None);
    the registry's ``resolve`` then checks them against the model's defaults.
    Raises ValueError saying what is wrong with the name.
    """
    match = _VARIANT.match(name)
    if not match:
        raise ValueError(f"cannot read model {name!r}; write NAME or NAME[key=value,...]")
    base, body = match.group(1), match.group(2)
    if body is None:
        return base, {}
    fixed: dict[str, Any] = {}
    for item in _split_commas(body, depth=1, name=name):
        if not item.strip():
            continue
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            raise ValueError(f"cannot read {item.strip()!r} in model {name!r}; write key=value")
        if key in fixed:
            raise ValueError(f"parameter {key!r} is given twice in model {name!r}")
        fixed[key] = _literal(text.strip())
    if not fixed:
        raise ValueError(f"model {name!r} lists no parameters in its brackets; write {base} or {base}[key=value]")
    return base, fixed


def _split_commas(text: str, depth: int, name: str | None = None) -> list[str]:
    """Split on commas at bracket depth `depth`; inside brackets, commas in quotes do not split."""
    items, current, quote, level = [], [], None, depth
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif level > 0 and char in "\"'":
            quote = char
        elif char in "[]":
            level += 1 if char == "[" else -1
        elif char == "," and level == depth:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise ValueError(f"unclosed quote in model {name or text!r}")
    items.append("".join(current))
    return items


def _literal(text: str) -> Any:
    """true/false, none/null, an int, a float, a quoted string, else the bare text as a string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
