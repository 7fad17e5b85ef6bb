"""What the model modules share: parameter checks, input matrices, targets, probabilities, deadlines, the fitted base.

Imports NumPy only, so that the registry stays light; each model module
imports its own library inside ``fit``. The leading underscore keeps the
registry from scanning this module for a ``MODEL``.
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from bench.contract import MODALITIES, TASKS, Part

EVERY_TASK = frozenset(TASKS)
EVERY_MODALITY = frozenset(MODALITIES)
# Learning-rate schedules of the net trainer (``_torch.fit_net``), here so that the nets' checks need no torch.
SCHEDULES = ("constant", "cosine")


# --------------------------------------------------------------------------- parameters


def with_defaults(model: str, defaults: dict[str, Any], params: dict) -> dict[str, Any]:
    """`params` over `defaults`; a ValueError naming `model` for a key the defaults do not have."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"{model}: unknown parameter(s) {unknown}; valid: {sorted(defaults)}")
    return {**defaults, **params}


def check_int(model: str, params: dict, name: str, low: int, high: int | None = None, *,
              optional: bool = False) -> None:
    """``params[name]`` is a whole number in low..high (no upper bound when `high` is None), or None if `optional`."""
    value = params[name]
    if optional and value is None:
        return
    whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    if whole and not isinstance(value, bool) and low <= value and (high is None or value <= high):
        return
    valid = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
    raise ValueError(f"{model}: {name} must be {'None or ' if optional else ''}{valid}, got {value!r}")


def check_positive(model: str, params: dict, name: str) -> None:
    """``params[name]`` > 0: a learning rate, a regularisation strength, a scale."""
    _check_real(model, params, name, lambda value: value > 0, "> 0")


def check_nonnegative(model: str, params: dict, name: str) -> None:
    """``params[name]`` >= 0: a penalty or a mixing parameter where 0 means off."""
    _check_real(model, params, name, lambda value: value >= 0, ">= 0")


def check_fraction(model: str, params: dict, name: str) -> None:
    """``params[name]`` in (0, 1]: a share of rows or columns sampled."""
    _check_real(model, params, name, lambda value: 0 < value <= 1, "in (0, 1]")


def check_rate(model: str, params: dict, name: str) -> None:
    """``params[name]`` in [0, 1): a dropout or label-smoothing rate, where 1 would leave nothing."""
    _check_real(model, params, name, lambda value: 0 <= value < 1, "in [0, 1)")


def check_choice(model: str, params: dict, name: str, choices: tuple) -> None:
    """``params[name]`` is one of `choices`."""
    if params[name] not in choices:
        raise ValueError(f"{model}: {name} must be one of {choices}, got {params[name]!r}")


def _check_real(model: str, params: dict, name: str, valid: Callable[[float], bool], words: str) -> None:
    value = params[name]
    # NaN fails every comparison, so it is refused too.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not valid(value):
        raise ValueError(f"{model}: {name} must be {words}, got {value!r}")


def zero_or(trial, name: str, low: float, high: float, log: bool = False) -> float:
    """0, or a value drawn from [low, high]: the "?distribution" of Gorishniy et al.'s tuning configs
    (rtdl-revisiting-models and tabm, ``bin/tune.py``), where a flag chooses between the two.

    The flag is ``<name>?``. An enqueued value (trial 0's default) sets the flag
    by itself, so that the default comes back exactly. The value is drawn
    whether the flag is on or off, so that every trial has the same parameters.
    """
    enqueued = _enqueued(trial)
    if name in enqueued and enqueued[name] == 0:
        return 0.0
    on = True if name in enqueued else trial.suggest_categorical(f"{name}?", (False, True))
    value = trial.suggest_float(name, low, high, log=log)
    return value if on else 0.0


def _enqueued(trial) -> dict[str, Any]:
    """The values ``study.enqueue_trial`` fixed for this trial (optuna keeps them as "fixed_params")."""
    from optuna.trial import TrialState

    for frozen in trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if frozen.number == trial.number:
            return frozen.system_attrs.get("fixed_params", {})
    return {}


def untuned(defaults: dict[str, Any], *names: str) -> dict[str, Any]:
    """The defaults of the parameters a space does not tune, for the space to return as they are."""
    return {name: defaults[name] for name in names}


# --------------------------------------------------------------------------- inputs and targets


def matrix(part: Part, dtype: type = np.float64) -> np.ndarray:
    """Numeric columns, then categorical codes as numbers with -1 (missing) turned into NaN."""
    codes = part.X_cat.astype(dtype)
    codes[codes < 0] = np.nan
    return np.hstack([part.X_num.astype(dtype), codes])


def categorical_columns(part: Part) -> list[int]:
    """The positions of the categorical codes in ``matrix(part)``."""
    n_num = part.X_num.shape[1]
    return list(range(n_num, n_num + part.X_cat.shape[1]))


@dataclass(frozen=True)
class TargetScale:
    """Regression targets standardised on train, so one setting means the same on every dataset."""

    mean: float = 0.0
    std: float = 1.0

    def scale(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean) / self.std

    def unscale(self, values: np.ndarray) -> np.ndarray:
        return values * self.std + self.mean


def target_scale(task: str, y: np.ndarray) -> TargetScale:
    """The train mean and std of regression targets (std 1 for a constant target); no change for classes."""
    if task != "regression":
        return TargetScale()
    std = float(np.std(y))
    return TargetScale(float(np.mean(y)), std if std > 0 else 1.0)


def full_proba(estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """A scikit-learn classifier's probabilities over all `n_classes`, also when train lacked some class."""
    proba = np.zeros((len(X), n_classes))
    proba[:, estimator.classes_] = estimator.predict_proba(X)
    return proba


# --------------------------------------------------------------------------- deadlines


def deadline_passed(deadline: float | None) -> bool:
    """Whether a ``time.monotonic()`` deadline has passed; None never passes."""
    return deadline is not None and time.monotonic() >= deadline


def grow_to_deadline(fit_to: Callable[[int], int], total: int, deadline: float | None, chunk: int,
                     max_chunk: int | None = None) -> bool:
    """Grow a warm-started model to `total` units (trees, iterations) in chunks; True if the deadline ended it.

    ``fit_to(size)`` fits the model up to `size` units and returns how many it
    has; fewer means its early stopping ended the growth. The deadline is
    checked between chunks, as a chunk cannot be cut short. Chunks are
    `chunk` units; with `max_chunk`, they double up to it but never beyond the
    units the time left allows at the pace so far.
    """
    size, start = 0, time.monotonic()
    while size < total:
        size = min(size + chunk, total)
        grown = fit_to(size)
        if grown < size:
            return False
        if deadline is not None:
            now = time.monotonic()
            if now >= deadline and size < total:
                return True
        if max_chunk is not None:
            chunk = min(2 * chunk, max_chunk)
            if deadline is not None:
                pace = (now - start) / grown  # seconds per unit so far
                chunk = max(1, min(chunk, int((deadline - now) / max(pace, 1e-9))))
    return False


# --------------------------------------------------------------------------- fitted models


@dataclass(kw_only=True)
class FittedModel:
    """What every fitted model reports besides its predictions (``bench.contract.Fitted``)."""

    n_iter: int = 1  # epochs, trees or iterations used; 1 for a single solver call
    stopped_by_deadline: bool = False
    curves: dict = field(default_factory=dict)


@dataclass
class EstimatorFitted(FittedModel):
    """A scikit-learn estimator behind its fitted input transform: full-class probabilities, or values."""

    estimator: Any
    features: Callable[[Part], np.ndarray]  # Part -> the estimator's input, fit on train
    task: str
    n_classes: int
    target: TargetScale | None = None  # regression targets it was fit on scaled; None: as they were

    def predict(self, part: Part) -> np.ndarray:
        X = self.features(part)
        if self.task != "regression":
            return full_proba(self.estimator, X, self.n_classes)
        values = self.estimator.predict(X).astype(np.float64)
        return values if self.target is None else self.target.unscale(values)
