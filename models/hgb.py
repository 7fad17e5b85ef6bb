"""scikit-learn's HistGradientBoosting (model ``hgb``), early-stopped on the validation part.

Categorical codes go in natively (``categorical_features``: sklearn's own
partition splits; -1 becomes missing, unseen codes too); a categorical column
with more codes than sklearn's 255 bins allow goes in as an ordinal number.
Numeric NaN is sklearn's missing value. No scaling is needed.

Default (trial 0): scikit-learn's defaults (learning rate 0.1, 31 leaves, no
depth limit, 20 rows per leaf, no L2) with up to 1000 iterations, early-stopped
on the validation loss after 20 iterations without improvement, as Grinsztajn
et al. 2022 fix them in their search (sklearn's defaults: 100 iterations,
patience 10, early stopping only above 10,000 rows, on 10% of train held out):
here the validation part is at hand, so early stopping, not a cap of 100,
decides the number of iterations. sklearn keeps the iterations made after
the best one.

Space: Grinsztajn et al. 2022 ("Why do tree-based models still outperform deep
learning on tabular data?", from Hyperopt-sklearn): learning_rate
LogNormal(ln 0.01, ln 10), max_leaf_nodes Normal(31, 5), min_samples_leaf
Normal(20, 2), max_depth one of None, 2, 3, 4. Optuna samples bounded
distributions, so here: learning_rate LogUniform[1e-3, 1], max_leaf_nodes
21..41 and min_samples_leaf 16..24 (the central +-2 sigma), max_depth as theirs
(uniform over the four, where they favour 3).

Deadline: sklearn has no callback, so the model grows in chunks
(``warm_start``, which gives the same model as one fit) and checks the deadline
between chunks. Chunks start at 10 iterations and double up to 100, but never
beyond the iterations the time left allows at the pace so far; a chunk cannot
be cut short. (Each chunk re-bins the data, hence not chunks of one.)
"""
from __future__ import annotations

from typing import TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, EstimatorFitted, categorical_columns, check_int, check_positive,
                      grow_to_deadline, matrix, untuned, with_defaults)

FIRST_CHUNK, MAX_CHUNK = 10, 100  # iterations between deadline checks
MAX_BINS = 255  # sklearn's limit, also on the number of categories


class HGBParams(TypedDict):
    learning_rate: float
    max_leaf_nodes: int
    max_depth: int | None
    min_samples_leaf: int
    l2_regularization: float  # not tuned
    max_iter: int  # most iterations (not tuned)
    n_iter_no_change: int  # early-stopping patience (not tuned)


DEFAULTS: HGBParams = {
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "max_depth": None,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "max_iter": 1000,
    "n_iter_no_change": 20,
}


def space(trial) -> HGBParams:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1.0, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 21, 41),
        "max_depth": trial.suggest_categorical("max_depth", (None, 2, 3, 4)),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 16, 24),
        **untuned(DEFAULTS, "l2_regularization", "max_iter", "n_iter_no_change"),
    }


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> EstimatorFitted:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    p = _check_params(params)
    X, X_valid = matrix(train), matrix(valid)
    # Codes beyond sklearn's bins go in as ordinal numbers; the rest as categories.
    too_many = np.nanmax(X[:, categorical_columns(train)], axis=0, initial=0) >= MAX_BINS - 1
    categorical = np.r_[np.zeros(train.X_num.shape[1], bool), ~too_many]
    Estimator = HistGradientBoostingRegressor if info.task == "regression" else HistGradientBoostingClassifier
    estimator = Estimator(
        learning_rate=p["learning_rate"],
        max_leaf_nodes=int(p["max_leaf_nodes"]),
        max_depth=None if p["max_depth"] is None else int(p["max_depth"]),
        min_samples_leaf=int(p["min_samples_leaf"]),
        l2_regularization=p["l2_regularization"],
        max_iter=0,
        categorical_features=categorical if categorical.any() else None,
        early_stopping=True,
        scoring="loss",
        n_iter_no_change=int(p["n_iter_no_change"]),
        warm_start=True,
        random_state=ctx.seed,
    )

    def fit_to(max_iter: int) -> int:
        estimator.max_iter = max_iter
        return estimator.fit(X, train.y, X_val=X_valid, y_val=valid.y).n_iter_  # fewer: early stopping ended it

    with threadpool_limits(ctx.threads, user_api="openmp"):
        stopped = grow_to_deadline(fit_to, int(p["max_iter"]), ctx.deadline, FIRST_CHUNK, MAX_CHUNK)
    return EstimatorFitted(estimator, matrix, info.task, info.n_classes,
                           n_iter=int(estimator.n_iter_), stopped_by_deadline=stopped)


def _check_params(params: dict) -> dict:
    p = with_defaults("hgb", DEFAULTS, params)
    check_positive("hgb", p, "learning_rate")
    check_int("hgb", p, "max_leaf_nodes", 2)
    check_int("hgb", p, "max_depth", 1, optional=True)
    for name in ("min_samples_leaf", "max_iter", "n_iter_no_change"):
        check_int("hgb", p, name, 1)
    return p


MODEL = ModelSpec(
    name="hgb",
    family="tree",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "scikit-learn HistGradientBoosting; defaults: scikit-learn's with early stopping on validation (20 rounds, "
        "1000 iterations) as Grinsztajn et al. 2022; space: Grinsztajn et al. 2022 (learning_rate, max_leaf_nodes, "
        "min_samples_leaf, max_depth), bounded for Optuna"
    ),
    notes="Deadline checked between chunks of 10..100 iterations (no callback in sklearn). CPU only.",
    imports=("sklearn.ensemble",),
)
