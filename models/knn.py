"""k-nearest neighbours (model ``knn``): scikit-learn's KNeighborsClassifier / KNeighborsRegressor.

Inputs go through ``bench.preprocess.FeatureEncoder`` (median imputation plus
missing indicators, standard scaling, one-hot categoricals), fit on the
training part only, so that every feature counts on the same scale in the
distance; images and sequences are flat pixels with one mean and std.

Default (trial 0): TabZilla's (McElfresh et al. 2023) k = 9 (sklearn's: 5),
with sklearn's uniform weights and Euclidean distance (p = 2). Space:
TabZilla's k, the odd numbers 3..41; the weighting (uniform or by inverse
distance) and the Minkowski power (1 or 2) are scikit-learn's options, added
here. TabZilla also tunes the search structure (kd-tree or ball tree, leaf
size), which changes speed, not predictions, so it is left to sklearn's
``auto``.

The validation part is not used (nothing to stop early) and a fit cannot be
cut short (fitting stores the training rows; predicting is the cost), so the
deadline is not checked. k is capped at the number of training rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import EVERY_MODALITY, EVERY_TASK, EstimatorFitted, check_choice, check_int, with_defaults


class KNNParams(TypedDict):
    n_neighbors: int
    weights: Literal["uniform", "distance"]
    p: int  # Minkowski power: 1 Manhattan, 2 Euclidean


DEFAULTS: KNNParams = {"n_neighbors": 9, "weights": "uniform", "p": 2}


def space(trial) -> KNNParams:
    return {
        "n_neighbors": trial.suggest_categorical("n_neighbors", tuple(range(3, 42, 2))),
        "weights": trial.suggest_categorical("weights", ("uniform", "distance")),
        "p": trial.suggest_categorical("p", (1, 2)),
    }


@dataclass
class KNNFitted(EstimatorFitted):
    threads: int = 1

    def predict(self, part: Part) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(self.threads):  # the distance matrix is a BLAS call
            return super().predict(part)


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext) -> KNNFitted:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    from bench.preprocess import FeatureEncoder

    p = _check_params(params)
    encoder = FeatureEncoder(numeric="standard", seed=ctx.seed)
    X = encoder.fit_transform(train, info)
    Estimator = KNeighborsRegressor if info.task == "regression" else KNeighborsClassifier
    estimator = Estimator(
        n_neighbors=min(int(p["n_neighbors"]), len(X)), weights=p["weights"], p=int(p["p"])
    ).fit(X, train.y)  # no n_jobs: joblib's processes fail inside daemonic workers; BLAS threads do the work
    return KNNFitted(estimator, encoder.transform, info.task, info.n_classes, threads=ctx.threads)


def _check_params(params: dict) -> dict:
    p = with_defaults("knn", DEFAULTS, params)
    check_int("knn", p, "n_neighbors", 1)
    check_choice("knn", p, "weights", ("uniform", "distance"))
    check_choice("knn", p, "p", (1, 2))
    return p


MODEL = ModelSpec(
    name="knn",
    family="classical",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "scikit-learn KNeighbors; default k=9 and k in odd 3..41: TabZilla (McElfresh et al. 2023); "
        "weights and Minkowski p: scikit-learn's options"
    ),
    notes="Ignores the validation part and the deadline (a fit only stores the rows). n_iter is 1.",
    imports=("sklearn.neighbors",),
)
