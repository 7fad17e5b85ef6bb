"""XGBoost (model ``xgboost``): gradient-boosted trees (histogram method), early-stopped on the validation part.

Categorical codes go in natively (``enable_categorical``: XGBoost's own
partition splits; -1 becomes missing); numeric NaN is XGBoost's missing value.
No scaling is needed.

Default (trial 0): TabZilla's XGBoost default (McElfresh et al. 2023, "When do
neural nets outperform boosted trees on tabular data?": max_depth 5, eta 0.08,
alpha = lambda = 1e-4) with XGBoost's own defaults for the rest (no row or
column sampling, min_child_weight 1, gamma 0, which the space's floor of 1e-8
stands for), up to 2000 rounds early-stopped after 50 rounds without
improvement of the validation loss, as ``lightgbm`` does.

Space: ``max_depth`` 2..12 (log), ``learning_rate`` 0.01..0.3 (log),
``reg_alpha``/``reg_lambda`` 1e-8..1 (log) are TabZilla's; ``subsample``,
``colsample_bytree``, ``colsample_bylevel`` Uniform[0.5, 1],
``min_child_weight`` LogUniformInt[1, 100] and ``gamma`` LogUniform[1e-8, 7]
are Grinsztajn et al. 2022's ("Why do tree-based models still outperform deep
learning on tabular data?", from Hyperopt-sklearn). The number of rounds is
not tuned: early stopping picks it.

Device: ``ctx.device == "cuda"`` sets XGBoost's ``device="cuda"`` (needs the
``xgboost`` wheel with CUDA; ``xgboost-cpu`` has none); the code path is the
same. The deadline is a ``TrainingCallback`` checked after every round.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, FittedModel, check_fraction, check_int, deadline_passed, matrix,
                      untuned, with_defaults)


class XGBoostParams(TypedDict):
    learning_rate: float
    max_depth: int
    min_child_weight: int
    subsample: float  # rows sampled per tree
    colsample_bytree: float
    colsample_bylevel: float
    gamma: float  # min loss reduction to split
    reg_alpha: float
    reg_lambda: float
    n_estimators: int  # most boosting rounds (not tuned)
    early_stopping_rounds: int  # patience on the validation loss (not tuned)


DEFAULTS: XGBoostParams = {
    "learning_rate": 0.08,
    "max_depth": 5,
    "min_child_weight": 1,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "colsample_bylevel": 1.0,
    "gamma": 1e-8,
    "reg_alpha": 1e-4,
    "reg_lambda": 1e-4,
    "n_estimators": 2000,  # an upper bound; early stopping decides
    "early_stopping_rounds": 50,
}


def space(trial) -> XGBoostParams:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 12, log=True),
        "min_child_weight": trial.suggest_int("min_child_weight", 1, 100, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "colsample_bylevel": trial.suggest_float("colsample_bylevel", 0.5, 1.0),
        "gamma": trial.suggest_float("gamma", 1e-8, 7.0, log=True),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 1.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 1.0, log=True),
        **untuned(DEFAULTS, "n_estimators", "early_stopping_rounds"),
    }


@dataclass
class XGBoostFitted(FittedModel):
    booster: Any
    task: str
    n_classes: int

    def predict(self, part: Part) -> np.ndarray:
        p = self.booster.predict(_dmatrix(part), iteration_range=(0, self.n_iter))
        if self.task == "binary":
            return np.column_stack([1.0 - p, p]).astype(np.float64)
        if self.task == "multiclass":
            return np.asarray(p, dtype=np.float64).reshape(len(part), self.n_classes)
        return np.asarray(p, dtype=np.float64)


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> XGBoostFitted:
    import xgboost

    p = _check_params(params)
    objective = {
        "binary": {"objective": "binary:logistic", "eval_metric": "logloss"},
        "multiclass": {"objective": "multi:softprob", "eval_metric": "mlogloss", "num_class": info.n_classes},
        "regression": {"objective": "reg:squarederror", "eval_metric": "rmse"},
    }[info.task]
    booster_params = {
        **objective,
        "tree_method": "hist",
        "device": "cuda" if ctx.device == "cuda" else "cpu",
        "learning_rate": p["learning_rate"],
        "max_depth": int(p["max_depth"]),
        "min_child_weight": p["min_child_weight"],
        "subsample": p["subsample"],
        "colsample_bytree": p["colsample_bytree"],
        "colsample_bylevel": p["colsample_bylevel"],
        "gamma": p["gamma"],
        "alpha": p["reg_alpha"],
        "lambda": p["reg_lambda"],
        "nthread": ctx.threads,
        "seed": ctx.seed,
        "verbosity": 0,
    }
    deadline = _deadline_callback(ctx.deadline)
    booster = xgboost.train(
        booster_params,
        _dmatrix(train),
        num_boost_round=int(p["n_estimators"]),
        evals=[(_dmatrix(valid), "valid")],
        verbose_eval=False,
        # Early stopping first: it records the best round before the deadline may end training.
        callbacks=[xgboost.callback.EarlyStopping(rounds=int(p["early_stopping_rounds"])), deadline],
    )
    n_iter = int(booster.best_iteration) + 1  # set by early stopping at every improvement
    return XGBoostFitted(booster, info.task, info.n_classes, n_iter=n_iter, stopped_by_deadline=deadline.stopped)


def _deadline_callback(deadline: float | None):
    """An XGBoost TrainingCallback that stops training once ``time.monotonic()`` passes ``deadline``."""
    import xgboost

    class DeadlineStop(xgboost.callback.TrainingCallback):
        def __init__(self):
            super().__init__()
            self.stopped = False

        def after_iteration(self, model, epoch, evals_log) -> bool:
            self.stopped = deadline_passed(deadline)
            return self.stopped

    return DeadlineStop()


def _dmatrix(part: Part):
    """Numeric columns, then categorical codes (-1 -> NaN, missing) typed "c" for native splits."""
    import xgboost

    X = matrix(part, np.float32)
    types = ["q"] * part.X_num.shape[1] + ["c"] * part.X_cat.shape[1]
    y = part.y if len(part.y) else None
    return xgboost.DMatrix(X, label=y, feature_types=types, enable_categorical=True, nthread=1)


def _check_params(params: dict) -> dict:
    p = with_defaults("xgboost", DEFAULTS, params)
    for name in ("max_depth", "n_estimators", "early_stopping_rounds"):
        check_int("xgboost", p, name, 1)
    for name in ("subsample", "colsample_bytree", "colsample_bylevel"):
        check_fraction("xgboost", p, name)
    return p


MODEL = ModelSpec(
    name="xgboost",
    family="tree",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "defaults: TabZilla (McElfresh et al. 2023) XGBoost default with early stopping (50 rounds); "
        "space: TabZilla for max_depth, learning_rate, reg_alpha/lambda; Grinsztajn et al. 2022 for "
        "subsample, colsample_bytree/bylevel, min_child_weight, gamma"
    ),
    notes="device='cuda' when ctx.device is cuda (needs the CUDA xgboost wheel). n_iter is boosting rounds kept.",
    imports=("xgboost",),
)
