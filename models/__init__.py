"""The model zoo: one module per family, each defining ``MODEL = ModelSpec(...)``.

To add a model, drop a module in this folder, named after the model, that
defines ``MODEL``; the registry finds it by scanning the package (modules whose
name starts with an underscore are skipped: ``_common`` holds what the models
share, ``_torch`` the nets' training loop). Models kept outside the package are
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
import os
import pkgutil
from typing import Any

from bench.contract import ModelSpec, parse_variant


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

    def __getattr__(self, attribute):  # number, params, user attributes, ...: the real trial's
        return getattr(self._trial, attribute)


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
