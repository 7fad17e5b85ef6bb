"""The model zoo: one module per family, each defining ``MODEL = ModelSpec(...)``.

To add a model, drop a module in this folder that defines ``MODEL``; the
registry finds it by scanning the package. Models kept outside the package are
found through ``BENCH_MODEL_MODULES``: comma-separated importable module names,
each defining ``MODEL`` (or ``MODELS``, a list). Nothing else in the harness
knows a model by name.

Variants for ablations: ``resolve("mlp[norm=none,dropout=0]")`` is the ``mlp``
spec named exactly as written, whose defaults hold the listed values and whose
space no longer tunes them (the trial it is given never sees those names, so
a define-by-run space that branches on a fixed value still works). Values are
literals: integers, floats, ``true``/``false``, ``none``/``null``, or strings
(bare or quoted). ``resolve("mlp")`` is the registered spec itself.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pkgutil
import re
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
    # Modules `fit` imports; the fork server that starts units imports them once, so that units start warm.
    imports: tuple[str, ...] = ()

    def supports(self, task: str, modality: str) -> bool:
        return task in self.tasks and modality in self.modalities


def with_defaults(model: str, defaults: dict[str, Any], params: dict) -> dict[str, Any]:
    """`params` over `defaults`; a ValueError naming `model` for a key the defaults do not have."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"{model}: unknown parameter(s) {unknown}; valid: {sorted(defaults)}")
    return {**defaults, **params}


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


# --------------------------------------------------------------------------- variants

_VARIANT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[(.*)\])?\s*$", re.DOTALL)


def resolve(name: str, models: dict[str, ModelSpec] | None = None) -> ModelSpec:
    """The spec for a model name or a variant ``name[key=value,...]`` (see the module docstring).

    Raises ValueError naming the unknown model or parameter and the valid ones.
    """
    base, fixed = parse_variant(name)
    models = registry() if models is None else models
    if base not in models:
        raise ValueError(f"unknown model {base!r}; valid: {', '.join(sorted(models))}")
    spec = models[base]
    if not fixed:
        return spec
    unknown = [key for key in fixed if key not in spec.defaults]
    if unknown:
        raise ValueError(
            f"model {base!r} has no parameter {unknown[0]!r} (in {name!r}); valid: {', '.join(sorted(spec.defaults))}"
        )
    for key, value in fixed.items():
        fixed[key] = _coerce(base, key, value, spec.defaults[key])
    space = spec.space

    def variant_space(trial) -> dict[str, Any]:
        return {**space(_FixedTrial(trial, fixed)), **fixed}

    return dataclasses.replace(
        spec, name=name.strip(), defaults={**spec.defaults, **fixed}, space=variant_space,
        notes=" ".join(filter(None, [spec.notes, f"Variant of {base} with {_describe(fixed)} fixed."])),
    )


def parse_variant(name: str) -> tuple[str, dict[str, Any]]:
    """``"mlp[n_layers=2,lr=1e-3]"`` -> ``("mlp", {"n_layers": 2, "lr": 0.001})``; a plain name -> (name, {}).

    Values are read as literals without knowing the model (``none`` -> None);
    ``resolve`` then checks them against the model's defaults.
    """
    match = _VARIANT.match(name)
    if not match:
        raise ValueError(f"cannot read model {name!r}; write NAME or NAME[key=value,...]")
    base, body = match.group(1), match.group(2)
    if body is None:
        return base, {}
    fixed: dict[str, Any] = {}
    for item in _split_items(body, name):
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


class _FixedTrial:
    """An Optuna trial whose suggest_* return the fixed value for fixed names, unregistered with the study."""

    def __init__(self, trial, fixed: dict[str, Any]):
        self._trial = trial
        self._fixed = fixed

    def _suggest(self, method: str, name: str, *args, **kwargs):
        if name in self._fixed:
            return self._fixed[name]
        return getattr(self._trial, method)(name, *args, **kwargs)

    def suggest_float(self, name, *args, **kwargs):
        return self._suggest("suggest_float", name, *args, **kwargs)

    def suggest_int(self, name, *args, **kwargs):
        return self._suggest("suggest_int", name, *args, **kwargs)

    def suggest_categorical(self, name, *args, **kwargs):
        return self._suggest("suggest_categorical", name, *args, **kwargs)

    def suggest_uniform(self, name, *args, **kwargs):
        return self._suggest("suggest_uniform", name, *args, **kwargs)

    def suggest_loguniform(self, name, *args, **kwargs):
        return self._suggest("suggest_loguniform", name, *args, **kwargs)

    def suggest_discrete_uniform(self, name, *args, **kwargs):
        return self._suggest("suggest_discrete_uniform", name, *args, **kwargs)

    def __getattr__(self, attribute):  # number, params, user attributes, ...: the real trial's
        return getattr(self._trial, attribute)


def _split_items(body: str, name: str) -> list[str]:
    """Split on commas outside quotes."""
    items, current, quote = [], [], None
    for char in body:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise ValueError(f"unclosed quote in model {name!r}")
    items.append("".join(current))
    return [item for item in items if item.strip()]


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


def _coerce(model: str, key: str, value: Any, default: Any) -> Any:
    """Check a fixed value against its default's type where that type is plain.

    An int may stand for a float; ``none`` is the string "none" where the
    default is a string (``mlp[norm=none]``); a string default also takes
    numbers (``random_forest[max_features=0.5]``), which the model's own checks
    judge; a default of None takes anything.
    """
    if isinstance(default, str):
        return "none" if value is None else value
    if default is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    else:
        return value
    kind = {bool: "true or false", int: "an integer", float: "a number"}[type(default)]
    raise ValueError(f"model {model!r}: {key} takes {kind} (default {default!r}), got {value!r}")


def _describe(fixed: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in fixed.items())
