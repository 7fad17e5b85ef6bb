"""LightGBM gradient-boosted trees, early-stopped on the validation part.

Categorical codes go in natively (LightGBM's own categorical splits, -1 as
missing); numeric NaN is LightGBM's missing value. No scaling is needed.

Default (trial 0): LightGBM's own defaults (31 leaves, 20 rows per leaf, no
row or column sampling, no L1/L2, which the space's floor of 1e-8 stands for)
with a smaller learning rate of 0.05 (LightGBM's: 0.1) and up to 2000 rounds
(LightGBM's: 100) early-stopped after 50 rounds without improvement of the
validation loss -- the usual recipe when a validation set is at hand.

Space: ``num_leaves`` 2..4096 (log), ``lambda_l1``/``lambda_l2`` 1e-8..10
(log) and ``learning_rate`` 0.01..0.3 (log) are TabZilla's LightGBM space
(McElfresh et al. 2023, "When do neural nets outperform boosted trees on
tabular data?"); ``feature_fraction``/``bagging_fraction`` 0.4..1 and
``min_data_in_leaf`` 5..100 are the ranges of Optuna's LightGBMTuner
(Akiba et al. 2019). The number of rounds is not tuned: early stopping picks it.

Runs on CPU whatever ``ctx.device`` says (the pip wheel has no CUDA build);
trees on a few threads are fast enough for the data sizes in this suite.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, FittedModel, categorical_columns, check_fraction, check_int,
                      check_nonnegative, check_positive, deadline_passed, matrix, untuned, with_defaults)


class LightGBMParams(TypedDict):
    learning_rate: float
    num_leaves: int
    min_data_in_leaf: int
    feature_fraction: float  # columns sampled per tree
    bagging_fraction: float  # rows sampled per tree
    lambda_l1: float
    lambda_l2: float
    n_estimators: int  # most boosting rounds (not tuned)
    early_stopping_rounds: int  # patience on the validation loss (not tuned)


DEFAULTS: LightGBMParams = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "lambda_l1": 1e-8,
    "lambda_l2": 1e-8,
    "n_estimators": 2000,  # an upper bound; early stopping decides
    "early_stopping_rounds": 50,
}


def space(trial) -> LightGBMParams:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 2, 4096, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 100, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.4, 1.0),
        "lambda_l1": trial.suggest_float("lambda_l1", 1e-8, 10.0, log=True),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-8, 10.0, log=True),
        **untuned(DEFAULTS, "n_estimators", "early_stopping_rounds"),
    }


@dataclass
class LightGBMFitted(FittedModel):
    booster: Any
    task: str

    def predict(self, part: Part) -> np.ndarray:
        p = self.booster.predict(matrix(part), num_iteration=self.n_iter)
        if self.task == "binary":
            return np.column_stack([1.0 - p, p])
        return np.asarray(p, dtype=np.float64)


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> LightGBMFitted:
    import lightgbm

    params = _check_params(params)
    objective = {
        "binary": {"objective": "binary", "metric": "binary_logloss"},
        "multiclass": {"objective": "multiclass", "metric": "multi_logloss", "num_class": info.n_classes},
        "regression": {"objective": "regression", "metric": "l2"},
    }[info.task]
    booster_params = {
        **objective,
        "learning_rate": params["learning_rate"],
        "num_leaves": params["num_leaves"],
        "min_data_in_leaf": params["min_data_in_leaf"],
        "feature_fraction": params["feature_fraction"],
        "bagging_fraction": params["bagging_fraction"],
        "bagging_freq": 1,  # bagging_fraction < 1 has no effect without it
        "lambda_l1": params["lambda_l1"],
        "lambda_l2": params["lambda_l2"],
        "num_threads": ctx.threads,
        "seed": ctx.seed,
        "deterministic": True,
        "force_row_wise": True,  # with deterministic=True, for bit-identical reruns
        "verbosity": -1,
    }
    categorical = categorical_columns(train)
    train_set = lightgbm.Dataset(matrix(train), train.y, categorical_feature=categorical)
    valid_set = lightgbm.Dataset(matrix(valid), valid.y, categorical_feature=categorical, reference=train_set)
    deadline = _DeadlineStop(ctx.deadline)
    booster = lightgbm.train(
        booster_params,
        train_set,
        num_boost_round=int(params["n_estimators"]),
        valid_sets=[valid_set],
        callbacks=[lightgbm.early_stopping(int(params["early_stopping_rounds"]), verbose=False), deadline],
    )
    n_iter = max(booster.best_iteration, 1)
    return LightGBMFitted(booster, info.task, n_iter=n_iter, stopped_by_deadline=deadline.stopped)


class _DeadlineStop:
    """LightGBM callback: at the deadline, stop and keep the best round so far."""

    order = 40  # after lightgbm.early_stopping (order 30)

    def __init__(self, deadline: float | None):
        self.deadline = deadline
        self.stopped = False
        self.best_loss = float("inf")
        self.best_round = 0
        self.best_score: list = []

    def __call__(self, env) -> None:
        import lightgbm

        loss = env.evaluation_result_list[0][2]
        if loss < self.best_loss:
            self.best_loss, self.best_round, self.best_score = loss, env.iteration, env.evaluation_result_list
        if deadline_passed(self.deadline):
            self.stopped = True
            raise lightgbm.callback.EarlyStopException(self.best_round, self.best_score)


def _check_params(params: dict) -> dict:
    p = with_defaults("lightgbm", DEFAULTS, params)
    check_positive("lightgbm", p, "learning_rate")
    check_int("lightgbm", p, "num_leaves", 2, 131_072)  # LightGBM's own bounds
    check_int("lightgbm", p, "min_data_in_leaf", 0)
    for name in ("feature_fraction", "bagging_fraction"):
        check_fraction("lightgbm", p, name)
    for name in ("lambda_l1", "lambda_l2"):
        check_nonnegative("lightgbm", p, name)
    for name in ("n_estimators", "early_stopping_rounds"):
        check_int("lightgbm", p, name, 1)
    return p


MODEL = ModelSpec(
    name="lightgbm",
    family="tree",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "defaults: LightGBM's defaults with learning_rate 0.05 and early stopping (50 rounds); "
        "space: TabZilla (McElfresh et al. 2023) for num_leaves, lambda_l1/l2, learning_rate; "
        "Optuna LightGBMTuner ranges for feature_fraction, bagging_fraction, min_data_in_leaf"
    ),
    notes="CPU only (ctx.device is ignored). n_iter is the number of boosting rounds kept.",
    imports=("lightgbm",),
)
