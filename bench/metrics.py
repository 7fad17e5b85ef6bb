"""Task metrics. Every trial is scored on all metrics its task defines.

One metric per task drives selection and the leaderboard (the run's
`metrics`, chosen with `--metric` or a suite's `metric`). The defaults hold
under class imbalance, where accuracy leaves every model at the majority rate:
ROC AUC for binary and log loss for multiclass tasks, as TabArena scores them
(Erickson et al. 2025, "TabArena: a living benchmark for machine learning on
tabular data"), and R2 for regression, which on a given split ranks models
exactly as TabArena's RMSE does (R2 = 1 - MSE / Var(y_test)) while staying
unitless, so that one tolerance and one table format serve every dataset.

Scores are oriented so that higher is better: a loss is stored negated (the
score of log loss is -log loss), so that selection, normalisation and ranks
need no sign flips. Accuracy and the other metrics stay in each trial's
metrics beside it.
"""
from __future__ import annotations

import numpy as np

TASK_METRICS = {
    "binary": ("roc_auc", "log_loss", "accuracy", "balanced_accuracy"),
    "multiclass": ("log_loss", "roc_auc", "accuracy", "balanced_accuracy"),
    "regression": ("r2", "rmse", "mae"),
}
DEFAULT_METRICS = {task: names[0] for task, names in TASK_METRICS.items()}
HIGHER_IS_BETTER = {
    "accuracy": True,
    "balanced_accuracy": True,
    "log_loss": False,
    "roc_auc": True,
    "rmse": False,
    "mae": False,
    "r2": True,
}


EPS = np.finfo(np.float64).eps  # log loss clips probabilities to [EPS, 1 - EPS], as scikit-learn does


def oriented(metric: str, value: float) -> float:
    """The metric's value as a higher-is-better score (a loss negated)."""
    return value if HIGHER_IS_BETTER[metric] else -value


def parse_metrics(text: str | None) -> dict[str, str]:
    """The metric of each task: defaults, overridden by ``NAME`` (every task that defines it) or
    ``task=NAME,...``. Raises ValueError naming what is valid."""
    chosen = dict(DEFAULT_METRICS)
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        task, sep, name = item.rpartition("=")
        tasks = [task.strip()] if sep else [t for t, names in TASK_METRICS.items() if item in names]
        name = name.strip()
        if sep and task.strip() not in TASK_METRICS:
            raise ValueError(f"metric {item!r}: unknown task {task.strip()!r}; valid: {', '.join(TASK_METRICS)}")
        if not tasks or name not in TASK_METRICS[tasks[0]]:
            valid = "; ".join(f"{t}: {', '.join(names)}" for t, names in TASK_METRICS.items())
            raise ValueError(f"unknown metric {item!r}; valid (per task): {valid}")
        chosen.update({t: name for t in tasks})
    return chosen


def score(task: str, y_true: np.ndarray, prediction: np.ndarray, n_classes: int = 0) -> dict[str, float]:
    """All metrics of the task. `prediction` is (n, K) probabilities or (n,) values.

    Written in numpy rather than called from scikit-learn: its input checks cost 10-30 ms
    a call, and every trial scores twice, which made scoring a third of the harness's
    overhead on the quick suite. tests/test_metrics.py holds these to scikit-learn's values.
    """
    if len(prediction) != len(y_true):
        raise ValueError(f"{len(prediction)} predictions for {len(y_true)} targets")
    if task == "regression":
        y_true, prediction = np.asarray(y_true, dtype=float), np.asarray(prediction, dtype=float).reshape(-1)
        residual = y_true - prediction
        return {"rmse": float(np.sqrt(np.mean(residual**2))), "mae": float(np.mean(np.abs(residual))),
                "r2": _r2(y_true, residual)}
    y_true = np.asarray(y_true).astype(np.int64)
    k = n_classes or prediction.shape[1]
    proba = np.clip(prediction, 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    predicted = proba.argmax(axis=1)
    counts = np.bincount(y_true, minlength=k)
    correct = np.bincount(y_true[predicted == y_true], minlength=k)
    present = counts > 0
    result = {
        "accuracy": float(correct.sum() / len(y_true)),
        "balanced_accuracy": float(np.mean(correct[present] / counts[present])),
        "log_loss": float(-np.mean(np.log(np.clip(proba[np.arange(len(y_true)), y_true], EPS, 1 - EPS)))),
    }
    # AUC needs every class (both, for binary) in y_true, as scikit-learn's roc_auc_score does.
    if present.all() and k >= 2:
        if task == "binary":
            result["roc_auc"] = float(_roc_auc((y_true == 1)[:, None], proba[:, 1:2])[0])
        else:  # one-vs-rest, macro-averaged
            result["roc_auc"] = float(np.mean(_roc_auc(y_true[:, None] == np.arange(k), proba)))
    return result


def _r2(y_true: np.ndarray, residual: np.ndarray) -> float:
    """Coefficient of determination; a constant target scores 1 if predicted exactly, else 0
    (scikit-learn's `force_finite`)."""
    total = np.sum((y_true - y_true.mean()) ** 2)
    error = np.sum(residual**2)
    if total == 0:
        return 1.0 if error == 0 else 0.0
    return float(1 - error / total)


def _roc_auc(positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of each column of `scores` against the same column of
    `positive`, as the Mann-Whitney statistic: the chance that a random positive outscores a
    random negative, ties counting half (equal to the trapezoidal area)."""
    n, k = scores.shape
    order = np.argsort(scores, axis=0)
    ordered = np.take_along_axis(scores, order, axis=0).T.ravel()  # one column after another
    starts = np.r_[True, ordered[1:] != ordered[:-1]]  # where each run of tied scores starts
    starts[::n] = True  # and where each column starts
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], n * k]
    mean_rank = (first + last + 1) / 2 - first // n * n  # 1-based, within the column
    ranks = np.repeat(mean_rank, last - first).reshape(k, n)
    hits = np.take_along_axis(positive, order, axis=0).T
    n_pos = hits.sum(axis=1)
    return ((ranks * hits).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * (n - n_pos))


def constant_prediction(task: str, y_train: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """The trivial predictor fit on train: class frequencies, or the mean target."""
    if task == "regression":
        return np.full(n_rows, float(np.mean(y_train)))
    freq = np.bincount(y_train.astype(np.int64), minlength=n_classes) / len(y_train)
    return np.tile(freq, (n_rows, 1))


def confusion(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> list[list[int]]:
    """Counts of (true class, predicted class), as nested lists for the store."""
    cells = np.asarray(y_true).astype(np.int64) * n_classes + proba.argmax(axis=1)
    return np.bincount(cells, minlength=n_classes * n_classes).reshape(n_classes, n_classes).tolist()
