"""Tests for bench/data/metafeatures.py: values on hand-made data equal values computed by hand."""
from __future__ import annotations

import time

import numpy as np
import pytest

from bench.data import Dataset, DatasetCard, card_from_file, catalogue, load
from bench.data.metafeatures import metafeatures

HAND_MADE = """\
a,b,c,label
1,10,x,p
2,10,y,p
3,20,x,p
4,20,,q
10,,y,q
"""


def test_metafeatures_of_a_hand_made_frame(tmp_path):
    (tmp_path / "hand.csv").write_text(HAND_MADE)
    dataset = load(card_from_file(tmp_path / "hand.csv", "label"), cache_dir=tmp_path / "cache")
    values = metafeatures(dataset)
    assert values["n_rows"] == 5
    assert (values["n_features"], values["n_numeric"], values["n_categorical"]) == (3, 2, 1)
    assert values["categorical_share"] == pytest.approx(1 / 3)
    # one missing b, one missing c: 2 of 5 x 3 cells
    assert values["missing_share"] == pytest.approx(2 / 15)
    # classes p (3 rows) and q (2 rows)
    assert values["n_classes"] == 2
    assert values["class_balance"] == pytest.approx(0.4 / 0.6)
    # -(0.6 ln 0.6 + 0.4 ln 0.4) / ln 2
    assert values["class_entropy"] == pytest.approx(0.9709505944546686)
    # a = 1, 2, 3, 4, 10: mean 4, deviations -3 -2 -1 0 6, m2 = 50/5 = 10, m3 = 180/5 = 36,
    # m4 = 1394/5 = 278.8; g1 = 36 / 10^1.5 = 1.1384199576606167, g2 = 278.8 / 100 - 3 = -0.212.
    # b = 10, 10, 20, 20 (one missing): deviations -5 -5 5 5, m2 = 25, m3 = 0, m4 = 625; g1 = 0, g2 = -2.
    assert values["skewness_mean_abs"] == pytest.approx((1.1384199576606167 + 0) / 2)
    assert values["kurtosis_mean"] == pytest.approx((-0.212 - 2) / 2)
    assert values["uninformative_share"] is None  # too few rows for a validation split


def make_dataset(X_num: np.ndarray, y: np.ndarray, task: str, classes: tuple[str, ...] = ()) -> Dataset:
    card = DatasetCard(name="made", source="csv:none.csv", task=task, modality="tabular", target="y")
    return Dataset(card=card, X_num=X_num.astype(np.float32), X_cat=np.empty((len(y), 0), np.int64), y=y,
                   classes=classes, num_names=tuple(f"x{j}" for j in range(X_num.shape[1])),
                   cat_names=(), cat_cardinalities=())


def test_a_constant_feature_is_uninformative_and_a_perfect_one_is_not():
    # A depth-2 tree on the constant column predicts the training class shares, exactly the
    # constant predictor: it removes 0% of the error. On the copy of the class it removes 100%.
    y = np.arange(200) % 2
    X = np.column_stack([y, np.zeros(200)])
    values = metafeatures(make_dataset(X, y, "binary", ("a", "b")))
    assert values["uninformative_share"] == 0.5


def test_uninformative_share_for_regression():
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    X = np.column_stack([y + rng.normal(0, 0.1, 400), np.zeros(400), rng.normal(size=400), y ** 2])
    values = metafeatures(make_dataset(X, y, "regression"))
    # x0 explains y; x1 is constant; x2 is noise; x3 = y^2 carries no sign, so a tree on it removes little.
    assert values["uninformative_share"] == 0.75
    assert values["n_classes"] == 0 and values["class_balance"] is None


def test_moments_skip_constant_columns():
    y = np.arange(30) % 3
    X = np.column_stack([np.ones(30), np.r_[np.zeros(29), 1.0]])
    values = metafeatures(make_dataset(X, y, "multiclass", ("a", "b", "c")))
    # only the second column counts: 29 zeros and a one, mean 1/30
    p = 1 / 30
    m2, m3 = p * (1 - p), p * (1 - p) * (1 - 2 * p)
    assert values["skewness_mean_abs"] == pytest.approx(m3 / m2 ** 1.5)


def test_metafeatures_are_fast_on_20k_rows(cache_dir):
    dataset = load(catalogue()["letter"], cache_dir=cache_dir)  # 20,000 rows, 16 features, 26 classes
    metafeatures(dataset)  # imports scikit-learn's trees once
    start = time.perf_counter()
    metafeatures(dataset)
    assert time.perf_counter() - start < 1.0
