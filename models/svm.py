"""Support vector machine with an RBF kernel (model ``svm``), for small data.

Classification: scikit-learn's ``SVC``, with probabilities from Platt's
sigmoid calibration fit on 5-fold cross-validated decision values
(``CalibratedClassifierCV(..., ensemble=False)``, the replacement sklearn 1.9
gives for ``SVC(probability=True)``). Regression: ``SVR`` on targets
standardised on train (undone at predict time), epsilon 0.1 (sklearn's).
Inputs go through ``bench.preprocess.FeatureEncoder`` (median imputation plus
missing indicators, standard scaling, one-hot categoricals), fit on train.

``gamma`` is given as a multiple of sklearn's ``"scale"`` (1 / (n_features *
Var X)), so one range suits any number of features. Default (trial 0):
sklearn's defaults, C = 1 and gamma = "scale" (``gamma_scale`` 1), as
TabZilla's default (McElfresh et al. 2023). Space: log-uniform C and gamma, the
grid of Hsu, Chang & Lin ("A practical guide to support vector
classification", 2003: C 2^-5..2^15, gamma 2^-15..2^3) with C capped at 2^10
(a 4,000-row fit takes ~30 s at C = 2^15 and ~2 s at 2^10) and gamma_scale
2^-10..2^5, about their gamma range for 10 standardised features. TabZilla
tunes C alone, over 1e-10..1e10.

Small data only: a kernel SVM costs O(n^2) memory and up to O(n^3) time, so a
fit refuses more than ``max_rows`` training rows (10,000; a ValueError that
names the parameter). The validation part is not used and a fit cannot be cut
short (libsvm has no callback), so the deadline is not checked.
"""
from __future__ import annotations

from typing import TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, EstimatorFitted, check_int, check_positive, target_scale, untuned,
                      with_defaults)


class SVMParams(TypedDict):
    C: float
    gamma_scale: float  # gamma = gamma_scale / (n_features * Var X)
    max_rows: int  # refuse larger training sets (not tuned)


DEFAULTS: SVMParams = {"C": 1.0, "gamma_scale": 1.0, "max_rows": 10_000}


def space(trial) -> SVMParams:
    return {
        "C": trial.suggest_float("C", 2.0**-5, 2.0**10, log=True),
        "gamma_scale": trial.suggest_float("gamma_scale", 2.0**-10, 2.0**5, log=True),
        **untuned(DEFAULTS, "max_rows"),
    }


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> EstimatorFitted:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC, SVR
    from threadpoolctl import threadpool_limits

    from bench.preprocess import FeatureEncoder

    p = _check_params(params)
    if len(train) > p["max_rows"]:
        raise ValueError(
            f"svm: {len(train)} training rows exceed max_rows={p['max_rows']}; a kernel SVM is for small data "
            f"(raise max_rows, e.g. svm[max_rows={len(train)}], to fit anyway)"
        )
    encoder = FeatureEncoder(numeric="standard", seed=ctx.seed)
    X = encoder.fit_transform(train, info)
    variance = float(X.var()) if X.size else 1.0
    gamma = p["gamma_scale"] / (max(X.shape[1], 1) * (variance if variance > 0 else 1.0))
    target = target_scale(info.task, train.y)
    with threadpool_limits(ctx.threads):
        if info.task == "regression":
            estimator = SVR(C=p["C"], gamma=gamma).fit(X, target.scale(train.y))
        else:
            svc = SVC(C=p["C"], gamma=gamma, random_state=ctx.seed)
            counts = np.bincount(train.y)
            folds = max(2, min(5, int(counts[counts > 0].min())))  # each fold should see every class
            estimator = CalibratedClassifierCV(svc, method="sigmoid", cv=folds, ensemble=False)
            estimator.fit(X, train.y)
    return EstimatorFitted(estimator, encoder.transform, info.task, info.n_classes, target)


def _check_params(params: dict) -> dict:
    p = with_defaults("svm", DEFAULTS, params)
    for name in ("C", "gamma_scale"):
        check_positive("svm", p, name)
    check_int("svm", p, "max_rows", 1)
    return p


MODEL = ModelSpec(
    name="svm",
    family="classical",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "scikit-learn SVC/SVR (RBF) with Platt-calibrated probabilities; default C=1, gamma='scale' (sklearn's, "
        "TabZilla's default); space: Hsu, Chang & Lin 2003 log grid (C 2^-5..2^10, capped from 2^15 for speed; "
        "gamma relative to 'scale' 2^-10..2^5)"
    ),
    notes=(
        "Small data: refuses more than max_rows (10,000) training rows. Ignores the validation part and the "
        "deadline (libsvm cannot be cut short). CPU only."
    ),
    imports=("sklearn.svm",),
)
