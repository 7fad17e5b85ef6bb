"""Meta-features of a dataset: what kind of data it is, computed from its encoded arrays.

``metafeatures(dataset)`` returns:

- ``n_rows``, ``n_features``, ``n_numeric``, ``n_categorical``, ``categorical_share``
  (categorical / all features);
- ``missing_share``: missing cells (NaN numeric, -1 categorical code) over all feature cells;
- ``n_classes`` (0 for regression); ``class_balance``: smallest class share divided by
  the largest (1.0 = balanced); ``class_entropy``: entropy of the class shares divided
  by log(n_classes) (1.0 = balanced). Both None for regression;
- ``skewness_mean_abs`` and ``kurtosis_mean``: mean over numeric features of |g1| and
  of the excess kurtosis g2, with the population moments of each feature's
  non-missing values (g1 = m3 / m2^1.5, g2 = m4 / m2^2 - 3). Constant features and
  features with fewer than 3 values are left out; None when none is left. On at most
  ``MOMENT_ROWS`` rows (a seeded random subset);
- ``uninformative_share``, the irregularity measure: the share of features a depth-2
  decision tree finds uninformative. On at most ``TREE_ROWS`` rows (a seeded, stratified
  for classes, random subset) split 70/30 into fit and validation parts (stratified), a
  depth-2 tree is fitted on each feature alone (missing numeric values imputed with the
  fit part's median; categorical codes used as ordered numbers, missing as -1). Its
  validation squared error (Brier score of the class probabilities; squared error for
  regression) is compared with that of the constant predictor (the fit part's class
  shares or mean). A feature is uninformative if the tree removes less than
  ``MIN_SKILL`` (1%) of the constant predictor's error. With more than ``TREE_FEATURES``
  features, a seeded random sample of that many is scored. None with fewer than 10 rows.

Everything is seeded, so the values are the same on every run and machine.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from bench.data.dataset import Dataset

METAFEATURES_VERSION = 1  # bump when a definition changes, so cached values are recomputed
MOMENT_ROWS = 20_000
TREE_ROWS = 5_000
TREE_FEATURES = 100
VALID_SHARE = 0.3
MIN_SKILL = 0.01
SEED = 0


def metafeatures(dataset: Dataset) -> dict[str, Any]:
    """Every meta-feature of the module docstring, as plain Python numbers (None where undefined)."""
    X_num, X_cat, y = np.asarray(dataset.X_num), np.asarray(dataset.X_cat), np.asarray(dataset.y)
    n_rows, n_numeric = X_num.shape
    n_categorical = X_cat.shape[1]
    n_features = n_numeric + n_categorical
    cells = n_rows * n_features
    missing = int(np.isnan(X_num).sum()) + int((X_cat < 0).sum())
    classification = dataset.card.task != "regression"
    n_classes = len(dataset.classes) if classification else 0
    skewness, kurtosis = moments(X_num)
    return {
        "n_rows": int(n_rows),
        "n_features": int(n_features),
        "n_numeric": int(n_numeric),
        "n_categorical": int(n_categorical),
        "categorical_share": n_categorical / n_features if n_features else 0.0,
        "missing_share": missing / cells if cells else 0.0,
        "n_classes": n_classes,
        **class_balance(y, n_classes),
        "skewness_mean_abs": skewness,
        "kurtosis_mean": kurtosis,
        "uninformative_share": uninformative_share(X_num, X_cat, y, n_classes),
    }


def class_balance(y: np.ndarray, n_classes: int) -> dict[str, float | None]:
    """Smallest over largest class share, and the normalised class entropy; both None for regression."""
    if n_classes < 2:
        return {"class_balance": None, "class_entropy": None}
    shares = np.bincount(y, minlength=n_classes) / len(y)
    present = shares[shares > 0]
    entropy = float(-(present * np.log(present)).sum() / np.log(n_classes))
    return {"class_balance": float(shares.min() / shares.max()), "class_entropy": entropy}


def moments(X_num: np.ndarray) -> tuple[float | None, float | None]:
    """Mean |skewness| and mean excess kurtosis over the numeric features (module docstring)."""
    X = _rows(X_num, MOMENT_ROWS).astype(np.float64)
    if X.size == 0:
        return None, None
    present = ~np.isnan(X)
    count = present.sum(axis=0)
    spread = np.where(present, X, -np.inf).max(axis=0) - np.where(present, X, np.inf).min(axis=0)
    usable = (count >= 3) & (spread > 0) & np.isfinite(spread)
    if not usable.any():
        return None, None
    X, present, count = X[:, usable], present[:, usable], count[usable]
    mean = np.where(present, X, 0.0).sum(axis=0) / count
    centred = np.where(present, X - mean, 0.0)
    m2 = (centred ** 2).sum(axis=0) / count
    m3 = (centred ** 3).sum(axis=0) / count
    m4 = (centred ** 4).sum(axis=0) / count
    skewness = m3 / m2 ** 1.5
    kurtosis = m4 / m2 ** 2 - 3.0
    return float(np.abs(skewness).mean()), float(kurtosis.mean())


def uninformative_share(X_num: np.ndarray, X_cat: np.ndarray, y: np.ndarray, n_classes: int) -> float | None:
    """Share of features a depth-2 tree on that feature alone finds uninformative (module docstring)."""
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    n_rows = len(y)
    n_features = X_num.shape[1] + X_cat.shape[1]
    if n_rows < 10 or n_features == 0:
        return None
    classification = n_classes >= 2
    rng = np.random.default_rng(SEED)
    rows = np.arange(n_rows)
    if n_rows > TREE_ROWS:
        rows, _ = train_test_split(rows, train_size=TREE_ROWS, random_state=SEED,
                                   stratify=_stratify(y, classification))
        rows = np.sort(rows)
    fit, valid = train_test_split(rows, test_size=VALID_SHARE, random_state=SEED,
                                  stratify=_stratify(y[rows], classification))
    features = np.arange(n_features)
    if n_features > TREE_FEATURES:
        features = np.sort(rng.choice(n_features, size=TREE_FEATURES, replace=False))

    y_fit, y_valid = y[fit], y[valid]
    if classification:
        onehot = np.eye(n_classes)[y_valid]
        baseline = np.bincount(y_fit, minlength=n_classes) / len(y_fit)
        constant_error = ((onehot - baseline) ** 2).sum(axis=1).mean()
    else:
        constant_error = ((y_valid - y_fit.mean()) ** 2).mean()
    if constant_error == 0:
        return 1.0  # nothing left to explain on the validation part

    uninformative = 0
    for j in features:
        column = X_num[:, j] if j < X_num.shape[1] else X_cat[:, j - X_num.shape[1]]
        x_fit, x_valid = _impute(np.asarray(column[fit], np.float64), np.asarray(column[valid], np.float64))
        if x_fit is None:
            uninformative += 1
            continue
        if classification:
            tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(x_fit, y_fit)
            probabilities = np.zeros((len(valid), n_classes))
            probabilities[:, tree.classes_] = tree.predict_proba(x_valid)
            error = ((onehot - probabilities) ** 2).sum(axis=1).mean()
        else:
            tree = DecisionTreeRegressor(max_depth=2, random_state=SEED).fit(x_fit, y_fit)
            error = ((y_valid - tree.predict(x_valid)) ** 2).mean()
        if 1.0 - error / constant_error < MIN_SKILL:
            uninformative += 1
    return uninformative / len(features)


def _stratify(y: np.ndarray, classification: bool) -> np.ndarray | None:
    if not classification:
        return None
    counts = np.bincount(y)
    return y if counts[counts > 0].min() >= 2 else None


def _impute(x_fit: np.ndarray, x_valid: np.ndarray):
    present = ~np.isnan(x_fit)
    if not present.any():
        return None, None
    median = np.median(x_fit[present])
    return (np.where(present, x_fit, median)[:, None],
            np.where(np.isnan(x_valid), median, x_valid)[:, None])


def _rows(X: np.ndarray, limit: int) -> np.ndarray:
    if len(X) <= limit:
        return np.asarray(X)
    rows = np.sort(np.random.default_rng(SEED).choice(len(X), size=limit, replace=False))
    return np.asarray(X[rows])
