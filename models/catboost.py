"""CatBoost (model ``catboost``): ordered boosting on oblivious trees, early-stopped on the validation part.

Categorical codes go in natively: CatBoost's own ordered target statistics
and one-hot for small cardinalities, with the missing code -1 kept as a
category of its own; numeric NaN is CatBoost's missing value (``Min``). No
scaling is needed.

Default (trial 0): TabZilla's CatBoost default (McElfresh et al. 2023, "When
do neural nets outperform boosted trees on tabular data?": depth 5,
learning_rate 0.08, l2_leaf_reg 5), up to 2000 iterations early-stopped after
50 without improvement of the validation loss, keeping the best iteration.

Space: TabZilla's: ``learning_rate`` 0.01..0.3 (log), ``depth`` 2..12 (log),
``l2_leaf_reg`` 0.5..30 (log). The number of iterations is not tuned: early
stopping picks it. ``border_count`` (254, CatBoost's default) is fixed; on wide
data it sets the cost: on 4,000 MNIST images one iteration takes ~0.5 s on one
thread with 254 borders and ~0.1 s with 32 (``catboost[border_count=32]``).

Device: ``ctx.device == "cuda"`` sets ``task_type="GPU"``; the code path is the
same. The deadline is a fit callback checked after every iteration on CPU;
CatBoost refuses user callbacks on GPU (catboost/catboost#1792), so there a
fit cannot be cut short: only a deadline already passed is honoured, with a
one-iteration fit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, FittedModel, categorical_columns, check_int, check_nonnegative,
                      deadline_passed, untuned, with_defaults)


class CatBoostParams(TypedDict):
    learning_rate: float
    depth: int
    l2_leaf_reg: float
    border_count: int  # histogram bins per feature (not tuned; fewer is faster on wide data)
    n_estimators: int  # most iterations (not tuned)
    early_stopping_rounds: int  # patience on the validation loss (not tuned)


DEFAULTS: CatBoostParams = {
    "learning_rate": 0.08,
    "depth": 5,
    "l2_leaf_reg": 5.0,
    "border_count": 254,  # CatBoost's CPU default
    "n_estimators": 2000,  # an upper bound; early stopping decides
    "early_stopping_rounds": 50,
}


def space(trial) -> CatBoostParams:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "depth": trial.suggest_int("depth", 2, 12, log=True),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 0.5, 30.0, log=True),
        **untuned(DEFAULTS, "border_count", "n_estimators", "early_stopping_rounds"),
    }


@dataclass
class CatBoostFitted(FittedModel):
    model: Any
    task: str

    def predict(self, part: Part) -> np.ndarray:
        X = _frame(part)
        if self.task == "regression":
            return np.asarray(self.model.predict(X), dtype=np.float64)
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> CatBoostFitted:
    import catboost

    p = _check_params(params)
    gpu = ctx.device == "cuda"
    # No callbacks on GPU: a deadline already passed is all that can be honoured there (one iteration).
    passed_on_gpu = gpu and deadline_passed(ctx.deadline)
    iterations = 1 if passed_on_gpu else int(p["n_estimators"])
    common = {
        "iterations": iterations,
        "learning_rate": p["learning_rate"],
        "depth": int(p["depth"]),
        "l2_leaf_reg": p["l2_leaf_reg"],
        "border_count": int(p["border_count"]),
        "random_seed": ctx.seed,
        "thread_count": ctx.threads,
        "task_type": "GPU" if gpu else "CPU",
        "allow_writing_files": False,  # no catboost_info/ folder in the working directory
        "verbose": False,
    }
    if info.task == "regression":
        model = catboost.CatBoostRegressor(loss_function="RMSE", **common)
    else:
        loss = "Logloss" if info.task == "binary" else "MultiClass"
        # class_names: probabilities over every class, also when train lacks one
        model = catboost.CatBoostClassifier(loss_function=loss, class_names=list(range(info.n_classes)), **common)
    deadline = _DeadlineStop(ctx.deadline)
    cat_features = categorical_columns(train)
    model.fit(
        catboost.Pool(_frame(train), train.y, cat_features=cat_features),
        eval_set=catboost.Pool(_frame(valid), valid.y, cat_features=cat_features),
        early_stopping_rounds=int(p["early_stopping_rounds"]),
        use_best_model=True,
        callbacks=None if gpu else [deadline],
    )
    stopped = deadline.stopped or passed_on_gpu
    return CatBoostFitted(model, info.task, n_iter=int(model.tree_count_), stopped_by_deadline=stopped)


class _DeadlineStop:
    """CatBoost fit callback: returning False from after_iteration ends training."""

    def __init__(self, deadline: float | None):
        self.deadline = deadline
        self.stopped = False

    def after_iteration(self, info) -> bool:
        if deadline_passed(self.deadline):
            self.stopped = True
        return not self.stopped


def _frame(part: Part):
    """A float32 matrix when all features are numeric, else a DataFrame with integer code columns last."""
    if part.X_cat.shape[1] == 0:
        return np.ascontiguousarray(part.X_num, dtype=np.float32)
    import pandas as pd

    frame = pd.DataFrame(part.X_num, columns=[f"num{i}" for i in range(part.X_num.shape[1])])
    for i in range(part.X_cat.shape[1]):
        frame[f"cat{i}"] = part.X_cat[:, i]  # -1 (missing) stays a category of its own
    return frame


def _check_params(params: dict) -> dict:
    p = with_defaults("catboost", DEFAULTS, params)
    check_int("catboost", p, "depth", 1, 16)  # CatBoost's limit for oblivious trees
    for name in ("border_count", "n_estimators", "early_stopping_rounds"):
        check_int("catboost", p, name, 1)
    check_nonnegative("catboost", p, "l2_leaf_reg")
    return p


MODEL = ModelSpec(
    name="catboost",
    family="tree",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "defaults and space: TabZilla (McElfresh et al. 2023) CatBoost (depth, learning_rate, l2_leaf_reg), "
        "with early stopping (50 rounds); native categorical features"
    ),
    notes=(
        "task_type GPU when ctx.device is cuda; on GPU CatBoost allows no callbacks, so the deadline is only "
        "checked before the fit. n_iter is the number of trees kept (best iteration)."
    ),
    imports=("catboost",),
)
