"""scikit-learn's RandomForest (model ``random_forest``), grown in chunks between deadline checks.

Features: numeric columns and categorical codes as ordinal numbers, with
NaN for missing values (sklearn's trees route missing values natively, >= 1.4).
No scaling is needed. Regression targets are standardised on train (undone
at predict time) so that ``min_impurity_decrease`` means the same on every
dataset, as Grinsztajn et al. do with their target transform.

Space: Grinsztajn et al. 2022 ("Why do tree-based models still outperform
deep learning on tabular data?", from Hyperopt-sklearn): 250 trees;
max_features one of sqrt, log2, all (1.0), 0.1..0.9; max_depth one of None, 2,
3, 4; min_samples_split 2 or 3; min_samples_leaf LogUniformInt[1, 50] (their
q-log-uniform 1.5..50.5, widened to take sklearn's default 1); bootstrap on or off; min_impurity_decrease one of
0, 0.01, 0.02, 0.05; criterion gini or entropy (classification only; regression
uses squared error, leaving out their absolute error, which is orders of
magnitude slower). Optuna's categorical choices are uniform, where they
weight some (max_depth None 70%, min_samples_split 2 95%, min_impurity_decrease
0 85%). Default (trial 0): scikit-learn's defaults (sqrt features for
classification and regression alike, full depth, 1 row per leaf, bootstrap) with
their 250 trees.

Nothing to stop early: all trees are grown. Deadline: sklearn has no callback,
so the forest grows in chunks of 10 trees (``warm_start``, which gives the
same forest as one fit) and checks the deadline between chunks; a chunk cannot
be cut short.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from . import with_defaults

CHUNK = 10  # trees between deadline checks
MAX_FEATURES = ("sqrt", "log2", 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class RandomForestParams(TypedDict):
    max_features: str | float
    max_depth: int | None
    min_samples_split: int
    min_samples_leaf: int
    bootstrap: bool
    min_impurity_decrease: float
    criterion: str  # classification only: "gini" or "entropy"
    n_estimators: int  # not tuned


DEFAULTS: RandomForestParams = {
    "max_features": "sqrt",
    "max_depth": None,
    "min_samples_split": 2,
    "min_samples_leaf": 1,
    "bootstrap": True,
    "min_impurity_decrease": 0.0,
    "criterion": "gini",
    "n_estimators": 250,
}


def space(trial) -> RandomForestParams:
    return {
        "max_features": trial.suggest_categorical("max_features", MAX_FEATURES),
        "max_depth": trial.suggest_categorical("max_depth", (None, 2, 3, 4)),
        "min_samples_split": trial.suggest_categorical("min_samples_split", (2, 3)),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 50, log=True),
        "bootstrap": trial.suggest_categorical("bootstrap", (True, False)),
        "min_impurity_decrease": trial.suggest_categorical("min_impurity_decrease", (0.0, 0.01, 0.02, 0.05)),
        "criterion": trial.suggest_categorical("criterion", ("gini", "entropy")),
        "n_estimators": DEFAULTS["n_estimators"],
    }


@dataclass
class RandomForestFitted:
    estimator: Any
    task: str
    n_classes: int
    y_mean: float
    y_std: float
    n_iter: int
    stopped_by_deadline: bool
    curves: dict = field(default_factory=dict)

    def predict(self, part: Part) -> np.ndarray:
        X = _matrix(part)
        if self.task == "regression":
            return self.estimator.predict(X).astype(np.float64) * self.y_std + self.y_mean
        proba = np.zeros((len(X), self.n_classes))
        proba[:, self.estimator.classes_] = self.estimator.predict_proba(X)
        return proba


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> RandomForestFitted:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    p = _check_params(params)
    regression = info.task == "regression"
    y_mean = float(np.mean(train.y)) if regression else 0.0
    y_std = float(np.std(train.y)) if regression else 1.0
    y_std = y_std if y_std > 0 else 1.0
    y = (train.y - y_mean) / y_std if regression else train.y
    common = {
        "n_estimators": 0,
        "max_features": p["max_features"],
        "max_depth": p["max_depth"],
        "min_samples_split": int(p["min_samples_split"]),
        "min_samples_leaf": int(p["min_samples_leaf"]),
        "bootstrap": bool(p["bootstrap"]),
        "min_impurity_decrease": p["min_impurity_decrease"],
        "n_jobs": ctx.threads,
        "random_state": ctx.seed,
        "warm_start": True,
    }
    if regression:
        estimator = RandomForestRegressor(criterion="squared_error", **common)
    else:
        estimator = RandomForestClassifier(criterion=p["criterion"], **common)
    X = _matrix(train)
    stopped_by_deadline = False
    while estimator.n_estimators < p["n_estimators"]:
        estimator.n_estimators = min(estimator.n_estimators + CHUNK, int(p["n_estimators"]))
        estimator.fit(X, y)
        if ctx.deadline is not None and time.monotonic() >= ctx.deadline and estimator.n_estimators < p["n_estimators"]:
            stopped_by_deadline = True
            break
    return RandomForestFitted(
        estimator, info.task, info.n_classes, y_mean, y_std, len(estimator.estimators_), stopped_by_deadline
    )


def _matrix(part: Part) -> np.ndarray:
    """Numeric columns, then categorical codes as ordinal floats with -1 turned into NaN (missing)."""
    codes = part.X_cat.astype(np.float32)
    codes[codes < 0] = np.nan
    return np.hstack([part.X_num.astype(np.float32), codes])


def _check_params(params: dict) -> dict:
    p = with_defaults("random_forest", DEFAULTS, params)
    if p["criterion"] not in ("gini", "entropy"):
        raise ValueError(f"random_forest: criterion must be 'gini' or 'entropy', got {p['criterion']!r}")
    features = p["max_features"]
    if not (features in ("sqrt", "log2") or (isinstance(features, (int, float)) and 0 < features <= 1)):
        raise ValueError(f"random_forest: max_features must be 'sqrt', 'log2' or a fraction in (0, 1], got {features!r}")
    if p["max_depth"] is not None and int(p["max_depth"]) < 1:
        raise ValueError(f"random_forest: max_depth must be None or >= 1, got {p['max_depth']}")
    if int(p["min_samples_split"]) < 2:
        raise ValueError(f"random_forest: min_samples_split must be >= 2, got {p['min_samples_split']}")
    for name in ("min_samples_leaf", "n_estimators"):
        if int(p[name]) < 1:
            raise ValueError(f"random_forest: {name} must be >= 1, got {p[name]}")
    return p


MODEL = ModelSpec(
    name="random_forest",
    family="tree",
    tasks=frozenset({"binary", "multiclass", "regression"}),
    modalities=frozenset({"tabular", "image", "sequence"}),
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "scikit-learn RandomForest; space and 250 trees: Grinsztajn et al. 2022 (from Hyperopt-sklearn), "
        "categorical weights made uniform; default: scikit-learn's"
    ),
    notes="Deadline checked every 10 trees (no callback in sklearn); no early stopping (nothing to stop). CPU only.",
    imports=("sklearn.ensemble",),
)
