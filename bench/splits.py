"""Outer folds, an inner validation split from each outer train part, and train-size caps.

Every index array is sorted, so a split is a set, and reproducible from
(labels, task, folds, seed) alone. The driver computes splits once and saves
them with the run; workers receive the indices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# scikit-learn is imported inside the functions: the driver imports this module before it starts
# the fork server, and the second the import takes would delay the first unit.

VALID_FRACTION = 0.2  # share of the outer train part held out for early stopping and selection
HOLDOUT_TEST_FRACTION = 0.2  # test share when a suite asks for a single fold


@dataclass(frozen=True)
class Split:
    """Row indices of one outer fold: inner train, inner validation, outer test."""

    fold: int
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def _stratify(y: np.ndarray, task: str) -> np.ndarray | None:
    """Labels to stratify on, or None when stratifying is impossible (regression, singleton classes)."""
    if task == "regression":
        return None
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def outer_folds(y: np.ndarray, task: str, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train part, test part) per outer fold; folds=1 is a single stratified holdout."""
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    index = np.arange(len(y))
    strata = _stratify(y, task)
    if folds == 1:
        train, test = train_test_split(
            index, test_size=HOLDOUT_TEST_FRACTION, random_state=seed, stratify=strata
        )
        return [(np.sort(train), np.sort(test))]
    if strata is not None and np.unique(y, return_counts=True)[1].min() >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        pairs = splitter.split(index, strata)
    else:
        pairs = KFold(n_splits=folds, shuffle=True, random_state=seed).split(index)
    return [(np.sort(train), np.sort(test)) for train, test in pairs]


def make_splits(
    y: np.ndarray, task: str, folds: int, seed: int, max_train: int | None = None
) -> list[Split]:
    """Outer folds with an inner validation split and an optional cap on inner-train rows.

    The cap subsamples the inner train part only (stratified where possible);
    validation and test keep every row they were given so that scores at
    different caps are measured on the same rows.
    """
    from sklearn.model_selection import train_test_split

    splits = []
    for fold, (outer_train, test) in enumerate(outer_folds(y, task, folds, seed)):
        strata = _stratify(y[outer_train], task)
        train, valid = train_test_split(
            outer_train, test_size=VALID_FRACTION, random_state=seed + fold, stratify=strata
        )
        if max_train is not None and len(train) > max_train:
            strata = _stratify(y[train], task)
            if strata is not None and len(np.unique(strata)) > max_train:
                strata = None
            train, _ = train_test_split(
                train, train_size=max_train, random_state=seed + fold, stratify=strata
            )
        splits.append(Split(fold, np.sort(train), np.sort(valid), np.sort(test)))
    return splits


def training_subsets(train: np.ndarray, sizes: tuple[int, ...], seed: int) -> dict[int, np.ndarray]:
    """Nested subsets of an inner train part for learning curves: each size is a prefix of one
    seeded permutation, so a larger training set always contains the smaller ones.
    Sizes above what the part holds are left out."""
    order = np.random.default_rng(seed).permutation(train)
    return {size: np.sort(order[:size]) for size in sizes if size <= len(train)}
