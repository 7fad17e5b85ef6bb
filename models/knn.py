"""k-nearest neighbours (model ``knn``): scikit-learn's KNeighborsClassifier / KNeighborsRegressor.

Inputs go through ``bench.preprocess.FeatureEncoder`` (median imputation plus
missing indicators, standard scaling, one-hot categoricals), fit on the
training part only, so that every feature counts on the same scale in the
distance; images and sequences are flat pixels with one mean and std.

Default (trial 0): TabZilla's (McElfresh et al. 2023) k = 9, uniform weights,
Euclidean distance. Space: TabZilla's k, the odd numbers 3..41; the weighting
(uniform or by inverse distance) and the Minkowski power (1 or 2) are
scikit-learn's options, added here. TabZilla also tunes the search structure
(kd-tree or ball tree, leaf size), which changes speed, not predictions, so it
is left to sklearn's ``auto``.

The validation part is not used (nothing to stop early) and a fit cannot be
cut short (fitting stores the training rows; predicting is the cost), so the
deadline is not checked. k is capped at the number of training rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from . import with_defaults


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
class KNNFitted:
    encoder: Any
    estimator: Any
    task: str
    n_classes: int
    threads: int
    n_iter: int = 1
    stopped_by_deadline: bool = False
    curves: dict = field(default_factory=dict)

    def predict(self, part: Part) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        X = self.encoder.transform(part)
        with threadpool_limits(self.threads):  # the distance matrix is a BLAS call
            if self.task == "regression":
                return self.estimator.predict(X).astype(np.float64)
            proba = np.zeros((len(X), self.n_classes))
            proba[:, self.estimator.classes_] = self.estimator.predict_proba(X)
        return proba


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
    return KNNFitted(encoder, estimator, info.task, info.n_classes, ctx.threads)


def _check_params(params: dict) -> dict:
    p = with_defaults("knn", DEFAULTS, params)
    if int(p["n_neighbors"]) < 1:
        raise ValueError(f"knn: n_neighbors must be >= 1, got {p['n_neighbors']}")
    if p["weights"] not in ("uniform", "distance"):
        raise ValueError(f"knn: weights must be 'uniform' or 'distance', got {p['weights']!r}")
    if p["p"] not in (1, 2):
        raise ValueError(f"knn: p must be 1 or 2, got {p['p']!r}")
    return p


MODEL = ModelSpec(
    name="knn",
    family="classical",
    tasks=frozenset({"binary", "multiclass", "regression"}),
    modalities=frozenset({"tabular", "image", "sequence"}),
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
