"""Data hygiene: columns that cannot help, features that leak the target, rows shared by train and test.

Rules applied when a tabular dataset is built (``bench.data.encoding.build``), each leaving a
plain-text note in ``Dataset.notes``:

- **Constant columns** (at most one distinct non-missing value) are dropped.
- **ID-like columns** are dropped: no missing value, a distinct value in every row,
  and one of: a name that says it is an identifier (``id``, ``customer_id``,
  ``userId``, ``index``, ``Unnamed: 0``, ...); text (in a table of at least
  ``MIN_ROWS`` rows); or integers (in a table of at least ``MIN_ROWS`` rows) that
  are strictly monotone over the rows or are a run of consecutive integers, i.e. a
  row index. Unique floats are measurements and are kept.
- **Likely leakage** is flagged, not dropped: a single feature whose value
  determines the target on every row with a small rule. For classes: each value
  holds one class, and either the class changes at most ``MAX_LEAVES - 1`` times
  along the sorted values (a depth-3 tree on that feature alone fits every row) or
  the feature has at most one distinct value per ``ROWS_PER_VALUE`` rows (a lookup
  table that does not merely memorise rows). For regression: the feature is a
  strictly monotone function of the target (|Spearman rho| >= ``MONOTONE_RHO``:
  a copy, a rescaling, a log), or a lookup table as above. Tables with fewer than
  ``MIN_ROWS`` rows are not checked.

Rows with a missing target are dropped by ``bench.data.encoding.build`` itself. At split
time the harness calls ``shared_duplicates`` to count test rows that exactly repeat
a training row (features and target), for a warning.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bench.data.dataset import Dataset

MIN_ROWS = 20
MAX_LEAVES = 8
ROWS_PER_VALUE = 10
MONOTONE_RHO = 0.99999
LISTED_NAMES = 8  # a note names at most this many columns


# --------------------------------------------------------------------------- columns


def drop_useless_columns(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, list[str]]:
    """The frame without constant and ID-like feature columns, and one note per rule that fired."""
    constant, id_like = [], []
    for name in frame.columns:
        if name == target:
            continue
        column = frame[name]
        if column.nunique(dropna=True) <= 1:
            constant.append(name)
        elif is_id_like(column, str(name)):
            id_like.append(name)
    notes = []
    if constant:
        notes.append(f"dropped {len(constant)} constant column(s): {_names(constant)}")
    if id_like:
        notes.append(f"dropped {len(id_like)} ID-like column(s) (a distinct value in every row): "
                     f"{_names(id_like)}")
    return frame.drop(columns=constant + id_like), notes


def is_id_like(column: pd.Series, name: str) -> bool:
    """True for an identifier or row index (see the module docstring for the exact rule)."""
    n = len(column)
    if n < 2 or column.isna().any() or column.nunique() != n:
        return False
    if _looks_like_id_name(name):
        return True
    if n < MIN_ROWS or pd.api.types.is_bool_dtype(column):
        return False
    if not pd.api.types.is_numeric_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
        return True  # text, distinct in every row: a name or a key, not a category
    values = column.to_numpy(dtype=np.float64)
    if not np.all(np.mod(values, 1) == 0):
        return False  # unique floats are measurements
    steps = np.diff(values)
    monotone = bool(np.all(steps > 0) or np.all(steps < 0))
    consecutive = values.max() - values.min() == n - 1
    return monotone or consecutive


def _looks_like_id_name(name: str) -> bool:
    if re.fullmatch(r"(?i)(ids?|idx|index|uuid|row_?(id|num|number)?|rownames|unnamed: ?\d+)", name):
        return True
    if re.search(r"(?i)(^|[^a-z0-9])ids?$", name):  # subject_id, case.id, "record id"
        return True
    return bool(re.search(r"[a-z0-9](ID|Id)s?$", name))  # customerID, userId


def _names(names: list) -> str:
    shown = ", ".join(str(n) for n in names[:LISTED_NAMES])
    return shown + (f" and {len(names) - LISTED_NAMES} more" if len(names) > LISTED_NAMES else "")


# --------------------------------------------------------------------------- leakage


def leakage_notes(X_num: np.ndarray, X_cat: np.ndarray, y: np.ndarray, task: str,
                  num_names, cat_names, target: str) -> list[str]:
    """A 'likely leakage' note naming the features that alone predict the target perfectly."""
    leaking = perfect_predictors(X_num, X_cat, y, task, num_names, cat_names)
    if not leaking:
        return []
    return [f"likely leakage: {len(leaking)} feature(s) alone predict target '{target}' on every row: "
            f"{_names(leaking)}"]


def perfect_predictors(X_num: np.ndarray, X_cat: np.ndarray, y: np.ndarray, task: str,
                       num_names, cat_names) -> list[str]:
    """Names of the single features that determine the target with a small rule (module docstring)."""
    y = np.asarray(y)
    n = len(y)
    if n < MIN_ROWS:
        return []
    classification = task != "regression"
    found = []
    for j, name in enumerate(num_names):
        x = np.asarray(X_num[:, j], dtype=np.float64)
        present = ~np.isnan(x)
        if present.sum() < n / 2:
            continue
        x, target = x[present], y[present]
        if classification:
            leak = _determines(x, target, runs_allowed=MAX_LEAVES)
        else:
            leak = _monotone(x, target) or _determines(x, target, runs_allowed=0)
        if leak:
            found.append(name)
    for j, name in enumerate(cat_names):
        if _determines(np.asarray(X_cat[:, j]), y, runs_allowed=0):
            found.append(name)
    return found


def _determines(x: np.ndarray, y: np.ndarray, runs_allowed: int) -> bool:
    """Each value of x holds one value of y, and the rule is small: at most runs_allowed
    runs of one y along the sorted x, or at most one distinct x per ROWS_PER_VALUE rows."""
    if len(np.unique(y)) < 2:
        return False
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    same_x = xs[1:] == xs[:-1]
    changes = ys[1:] != ys[:-1]
    if np.any(changes & same_x):
        return False  # one value of x, two values of y
    runs = 1 + int(changes.sum())
    distinct = 1 + int((~same_x).sum())
    return runs <= runs_allowed or distinct <= len(x) // ROWS_PER_VALUE


def _monotone(x: np.ndarray, y: np.ndarray) -> bool:
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return False
    from scipy.stats import rankdata

    rho = np.corrcoef(rankdata(x), rankdata(y))[0, 1]
    return bool(abs(rho) >= MONOTONE_RHO)


# --------------------------------------------------------------------------- duplicates


def shared_duplicates(dataset: Dataset, train_index: np.ndarray, test_index: np.ndarray) -> int:
    """How many test rows exactly repeat a training row (every feature and the target)."""
    train = set(_row_keys(dataset, np.asarray(train_index)).tolist())
    return sum(key in train for key in _row_keys(dataset, np.asarray(test_index)).tolist())


def duplicate_rows(dataset: Dataset) -> int:
    """How many rows exactly repeat an earlier row (every feature and the target)."""
    keys = _row_keys(dataset, np.arange(dataset.n_rows))
    return int(len(keys) - len(np.unique(keys)))


def _row_keys(dataset: Dataset, index: np.ndarray) -> np.ndarray:
    """One opaque byte string per row; equal rows give equal keys (NaN equals NaN, -0.0 equals 0.0)."""
    if len(index) == 0:
        return np.empty(0, dtype=np.dtype((np.void, 1)))
    X_num = np.asarray(dataset.X_num[index], dtype=np.float32)
    X_num = np.where(np.isnan(X_num), np.float32(np.nan), X_num) + np.float32(0.0)
    X_cat = np.asarray(dataset.X_cat[index], dtype=np.int64)
    y = np.asarray(dataset.y[index])
    y = (y + 0.0) if y.dtype.kind == "f" else y.astype(np.int64)
    parts = [np.ascontiguousarray(a).reshape(len(index), -1).view(np.uint8)
             for a in (X_num, X_cat, y.reshape(-1, 1))]
    rows = np.ascontiguousarray(np.concatenate(parts, axis=1))
    return rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
