"""scikit-learn's RandomForest (model ``random_forest``), grown in chunks between deadline checks.

Features: numeric columns and categorical codes as ordinal numbers, with
NaN for missing values (sklearn's trees route missing values natively, >= 1.4).
No scaling is needed. Regression targets are standardised on train (undone
at predict time) so that ``min_impurity_decrease`` means the same on every
dataset, as Grinsztajn et al. do with their target transform.

Space: Grinsztajn et al. 2022 ("Why do tree-based models still outperform
deep learning on tabular data?", from Hyperopt-sklearn): 250 trees;
max_features one of sqrt, log2, all (1.0), 0.1..0.9 (and ``auto``, below);
max_depth one of None, 2, 3, 4; min_samples_split 2 or 3; min_samples_leaf
LogUniformInt[1, 50] (their q-log-uniform 1.5..50.5, widened to take sklearn's
default 1); bootstrap on or off; min_impurity_decrease one of 0, 0.01, 0.02,
0.05; criterion gini or entropy (classification only; regression uses squared
error, leaving out their absolute error, which is orders of magnitude slower).
Optuna's categorical choices are uniform, where they weight some (max_depth
None 70%, min_samples_split 2 95%, min_impurity_decrease 0 85%, sqrt listed
twice among their 13 max_features).

Default (trial 0): scikit-learn's defaults (full depth, 2 rows to split, 1 row
per leaf, bootstrap, no impurity threshold, gini; squared error for
regression) and, for max_features,
``"auto"``: scikit-learn's default for the task, which differs between its
two forests -- sqrt for ``RandomForestClassifier``, 1.0 (all features) for
``RandomForestRegressor`` (since sklearn 1.1; what sklearn's own ``"auto"``
meant until 1.3). ``fit`` then leaves max_features to sklearn. ``"auto"`` is
also one of the space's max_features choices, so that trial 0 lies in the
space; the forests the space can draw are the same, and the task's default
gets two shares of the 13 (for classification, sqrt twice, as in their list).
The trees are Grinsztajn et al.'s 250, not sklearn's 100, so that trial 0 grows
as many trees as every other trial.

Nothing to stop early: all trees are grown. Deadline: sklearn has no callback,
so the forest grows in chunks of 10 trees (``warm_start``, which gives the
same forest as one fit) and checks the deadline between chunks; a chunk cannot
be cut short.
"""
from __future__ import annotations

from typing import TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, EstimatorFitted, check_choice, check_int, grow_to_deadline, matrix,
                      target_scale, untuned, with_defaults)

CHUNK = 10  # trees between deadline checks
# "auto": scikit-learn's default for the task (sqrt for classification, 1.0 for regression); see the docstring.
MAX_FEATURES = ("auto", "sqrt", "log2", 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class RandomForestParams(TypedDict):
    max_features: str | float  # "auto" (sklearn's default for the task), "sqrt", "log2" or a share of columns
    max_depth: int | None
    min_samples_split: int
    min_samples_leaf: int
    bootstrap: bool
    min_impurity_decrease: float
    criterion: str  # classification only: "gini" or "entropy"
    n_estimators: int  # not tuned


DEFAULTS: RandomForestParams = {
    "max_features": "auto",
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
        **untuned(DEFAULTS, "n_estimators"),
    }


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> EstimatorFitted:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    p = _check_params(params)
    regression = info.task == "regression"
    target = target_scale(info.task, train.y)
    y = target.scale(train.y) if regression else train.y
    common = {
        "n_estimators": 0,
        "max_depth": p["max_depth"],
        "min_samples_split": int(p["min_samples_split"]),
        "min_samples_leaf": int(p["min_samples_leaf"]),
        "bootstrap": bool(p["bootstrap"]),
        "min_impurity_decrease": p["min_impurity_decrease"],
        "n_jobs": ctx.threads,
        "random_state": ctx.seed,
        "warm_start": True,
    }
    if p["max_features"] != "auto":  # "auto": sklearn's default, which depends on the task
        common["max_features"] = p["max_features"]
    if regression:
        estimator = RandomForestRegressor(criterion="squared_error", **common)
    else:
        estimator = RandomForestClassifier(criterion=p["criterion"], **common)
    X = _matrix(train)

    def fit_to(n_trees: int) -> int:
        estimator.n_estimators = n_trees
        return len(estimator.fit(X, y).estimators_)

    stopped = grow_to_deadline(fit_to, int(p["n_estimators"]), ctx.deadline, CHUNK)
    return EstimatorFitted(estimator, _matrix, info.task, info.n_classes, target,
                           n_iter=len(estimator.estimators_), stopped_by_deadline=stopped)


def _matrix(part: Part) -> np.ndarray:
    """Categorical codes as ordinal numbers after the numeric columns, in float32 as sklearn's trees use."""
    return matrix(part, np.float32)


def _check_params(params: dict) -> dict:
    p = with_defaults("random_forest", DEFAULTS, params)
    check_choice("random_forest", p, "criterion", ("gini", "entropy"))
    features = p["max_features"]
    if not (features in ("auto", "sqrt", "log2") or (isinstance(features, (int, float)) and 0 < features <= 1)):
        raise ValueError(
            f"random_forest: max_features must be 'auto', 'sqrt', 'log2' or a fraction in (0, 1], got {features!r}"
        )
    check_int("random_forest", p, "max_depth", 1, optional=True)
    check_int("random_forest", p, "min_samples_split", 2)
    for name in ("min_samples_leaf", "n_estimators"):
        check_int("random_forest", p, name, 1)
    return p


MODEL = ModelSpec(
    name="random_forest",
    family="tree",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "scikit-learn RandomForest; space and 250 trees: Grinsztajn et al. 2022 (from Hyperopt-sklearn), "
        "categorical weights made uniform; default: scikit-learn's per task (max_features 'auto': sqrt for "
        "classification, 1.0 for regression) with Grinsztajn et al.'s 250 trees (sklearn: 100)"
    ),
    notes="Deadline checked every 10 trees (no callback in sklearn); no early stopping (nothing to stop). CPU only.",
    imports=("sklearn.ensemble",),
)
