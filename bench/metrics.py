"""Task metrics. Every trial is scored on all metrics its task defines.

The primary metric drives selection and the leaderboard: accuracy for
classification and R2 for regression, as in Grinsztajn et al. (2022), both
higher-is-better so that normalisation and ranks need no sign flips.
"""
from __future__ import annotations

import numpy as np

PRIMARY = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}
HIGHER_IS_BETTER = {
    "accuracy": True,
    "balanced_accuracy": True,
    "log_loss": False,
    "roc_auc": True,
    "rmse": False,
    "mae": False,
    "r2": True,
}


def primary_metric(task: str) -> str:
    return PRIMARY[task]


def score(task: str, y_true: np.ndarray, prediction: np.ndarray, n_classes: int = 0) -> dict[str, float]:
    """All metrics of the task. `prediction` is (n, K) probabilities or (n,) values."""
    from sklearn import metrics as skm  # here, not at the top: the driver imports this module and needs none

    if task == "regression":
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y_true, prediction))),
            "mae": float(skm.mean_absolute_error(y_true, prediction)),
            "r2": float(skm.r2_score(y_true, prediction)),
        }
    labels = np.arange(n_classes or prediction.shape[1])
    proba = np.clip(prediction, 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    predicted = proba.argmax(axis=1)
    result = {
        "accuracy": float(skm.accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, predicted)),
        "log_loss": float(skm.log_loss(y_true, proba, labels=labels)),
    }
    present = np.unique(y_true)
    if task == "binary" and len(present) == 2:
        result["roc_auc"] = float(skm.roc_auc_score(y_true, proba[:, 1]))
    elif task == "multiclass" and len(present) == len(labels):
        result["roc_auc"] = float(skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels))
    return result


def constant_prediction(task: str, y_train: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """The trivial predictor fit on train: class frequencies, or the mean target."""
    if task == "regression":
        return np.full(n_rows, float(np.mean(y_train)))
    freq = np.bincount(y_train.astype(np.int64), minlength=n_classes) / len(y_train)
    return np.tile(freq, (n_rows, 1))


def confusion(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> list[list[int]]:
    """Counts of (true class, predicted class), as nested lists for the store."""
    from sklearn import metrics as skm

    matrix = skm.confusion_matrix(y_true, proba.argmax(axis=1), labels=np.arange(n_classes))
    return matrix.tolist()
