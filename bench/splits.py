"""Outer folds, an inner validation split from each outer train part, and train-size caps.

Every index array is sorted, so a split is a set, and reproducible from
(labels, task, folds, seed) alone. The driver computes splits once and saves
them with the run; workers receive the indices.

A dataset whose card says ``split = "published"`` (MNIST-1D at its paper's
protocol, say) brings its own test rows (``Dataset.published_test``): they are
the one outer test fold, whatever the suite's ``folds``, because a published
test set is what makes a score comparable with the paper's; a second fold would
have to invent a test set the paper never used. The inner validation part is
still carved from the training rows, as for every other dataset.
"""
from __future__ import annotations

import math
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


def published_fold(n_rows: int, test: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The one (train part, test part) of a published split: test as given, train the rest."""
    test = np.unique(np.asarray(test, dtype=np.int64))
    if len(test) == 0 or len(test) >= n_rows or test[0] < 0 or test[-1] >= n_rows:
        raise ValueError(f"a published test split must name some but not all of the {n_rows} rows, "
                         f"as positions 0..{n_rows - 1}; got {len(test)} positions")
    return [(np.setdiff1d(np.arange(n_rows), test), test)]


def make_splits(
    y: np.ndarray, task: str, folds: int, seed: int, max_train: int | None = None,
    test: np.ndarray | None = None,
) -> list[Split]:
    """Outer folds with an inner validation split and an optional cap on inner-train rows.

    `test`: the rows of a published test split (``Dataset.published_test``); then there is one
    outer fold, fold 0, with those rows as its test part, and `folds` is not used. Without it
    the splits are those the suite's folds and seed give.

    The cap subsamples the inner train part (stratified where possible) and the
    validation part in proportion (`validation_size`), so that models which
    early-stop on validation (boosters, nets) get no more labelled rows than
    the cap says; test keeps every row, so that scores at different caps are
    measured on the same rows.
    """
    from sklearn.model_selection import train_test_split

    splits = []
    pairs = outer_folds(y, task, folds, seed) if test is None else published_fold(len(y), test)
    for fold, (outer_train, outer_test) in enumerate(pairs):
        strata = _stratify(y[outer_train], task)
        train, valid = train_test_split(
            outer_train, test_size=VALID_FRACTION, random_state=seed + fold, stratify=strata
        )
        if max_train is not None and len(train) > max_train:
            train = _subsample(train, y, task, max_train, seed + fold)
            valid = _subsample(valid, y, task, validation_size(max_train), seed + fold)
        splits.append(Split(fold, np.sort(train), np.sort(valid), np.sort(outer_test)))
    return splits


def validation_size(train_rows: int) -> int:
    """Validation rows that go with `train_rows` training rows: the same 80/20 proportion as the
    inner split, so capping training never leaves a validation part larger than it."""
    return max(1, math.ceil(train_rows * VALID_FRACTION / (1 - VALID_FRACTION)))


def _subsample(index: np.ndarray, y: np.ndarray, task: str, size: int, seed: int) -> np.ndarray:
    """`size` of the rows in `index` (all of them when it has no more), stratified where possible."""
    from sklearn.model_selection import train_test_split

    if len(index) <= size:
        return index
    strata = _stratify(y[index], task)
    if strata is not None and len(np.unique(strata)) > size:
        strata = None
    kept, _ = train_test_split(index, train_size=size, random_state=seed, stratify=strata)
    return kept


def training_subsets(train: np.ndarray, sizes: tuple[int, ...], seed: int) -> dict[int, np.ndarray]:
    """Nested subsets of an inner train part for learning curves: each size is a prefix of one
    seeded permutation, so a larger training set always contains the smaller ones.
    Sizes above what the part holds are left out."""
    order = np.random.default_rng(seed).permutation(train)
    return {size: np.sort(order[:size]) for size in sizes if size <= len(train)}


def validation_subsets(valid: np.ndarray, sizes: tuple[int, ...], seed: int) -> dict[int, np.ndarray]:
    """Nested validation parts for the training sizes of a learning curve, each in proportion to
    its size (`validation_size`), so that a model early-stopped on validation sees no more
    labelled rows at size 100 than the curve says."""
    order = np.random.default_rng(seed).permutation(valid)
    return {size: np.sort(order[:validation_size(size)]) for size in sizes}
