"""Linear baseline: L2-regularised logistic regression (classification) or ridge (regression).

Inputs go through ``bench.preprocess.FeatureEncoder`` (median imputation,
standard scaling, one-hot categoricals), fit on the training part only.

One parameter is tuned, the L2 strength ``alpha``: ridge uses it as is and
logistic regression gets ``C = 1 / alpha``. The default 1.0 is scikit-learn's
default for both; the range 1e-4..1e4 (log-uniform) is the grid that
scikit-learn's ``LogisticRegressionCV`` searches by default (``Cs=10`` ->
``np.logspace(-4, 4, 10)``). The lbfgs cap ``max_iter`` is 1000, not
sklearn's 100, so that a fit ends converged rather than at the cap (sklearn
warns when it stops there). The validation part is not used: there is
nothing to stop early, and the deadline is not checked (a fit takes seconds).
"""
from __future__ import annotations

from typing import TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import EVERY_MODALITY, EVERY_TASK, EstimatorFitted, check_int, check_positive, untuned, with_defaults


class LinearParams(TypedDict):
    alpha: float  # L2 strength: ridge alpha, logistic C = 1 / alpha
    max_iter: int  # lbfgs iteration cap (not tuned)


DEFAULTS: LinearParams = {"alpha": 1.0, "max_iter": 1000}


def space(trial) -> LinearParams:
    return {
        "alpha": trial.suggest_float("alpha", 1e-4, 1e4, log=True),
        **untuned(DEFAULTS, "max_iter"),
    }


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> EstimatorFitted:
    from sklearn.linear_model import LogisticRegression, Ridge

    from bench.preprocess import FeatureEncoder

    params = _check_params(params)
    alpha = float(params["alpha"])
    encoder = FeatureEncoder(numeric="standard", seed=ctx.seed)
    X = encoder.fit_transform(train, info)
    if info.task == "regression":
        estimator = Ridge(alpha=alpha, random_state=ctx.seed).fit(X, train.y)
        n_iter = 1  # closed-form solve
    else:
        estimator = LogisticRegression(
            C=1.0 / alpha, solver="lbfgs", max_iter=int(params["max_iter"]), random_state=ctx.seed
        ).fit(X, train.y)
        n_iter = int(np.max(estimator.n_iter_))
    return EstimatorFitted(estimator, encoder.transform, info.task, info.n_classes, n_iter=n_iter)


def _check_params(params: dict) -> dict:
    params = with_defaults("linear", DEFAULTS, params)
    check_positive("linear", params, "alpha")
    check_int("linear", params, "max_iter", 1)
    return params


MODEL = ModelSpec(
    name="linear",
    family="classical",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "scikit-learn LogisticRegression (lbfgs) / Ridge; default alpha=1 is scikit-learn's default, "
        "range 1e-4..1e4 log-uniform is LogisticRegressionCV's default grid"
    ),
    notes="Ignores the validation part and the deadline; n_iter is lbfgs iterations (1 for ridge).",
    imports=("sklearn.linear_model",),
)
