"""Tests for bench/data/encoding.py: from a source's table to numeric, categorical and target arrays."""
from __future__ import annotations

import numpy as np
import pytest

from bench.contract import DataInfo
from bench.data import DataError, catalogue, load, load_card
from toy_data import CSV_CARD, write_card, write_csv_card


@pytest.mark.parametrize(
    "name, n_rows, d_num, classes, shape",
    [
        ("breast_cancer", 569, 30, ("malignant", "benign"), None),
        ("wisconsin", 683, 9, ("2", "4"), None),
        ("mnist1d", 5000, 40, tuple(str(k) for k in range(10)), (1, 40)),
        ("digits", 1797, 64, tuple(str(k) for k in range(10)), (1, 8, 8)),
    ],
)
def test_small_packaged_cards_load_with_expected_arrays(tmp_path, name, n_rows, d_num, classes, shape):
    dataset = load(catalogue()[name], cache_dir=tmp_path)
    assert dataset.n_rows == n_rows
    assert dataset.X_num.shape == (n_rows, d_num) and dataset.X_num.dtype == np.float32
    assert dataset.X_cat.shape == (n_rows, 0) and dataset.X_cat.dtype == np.int64
    assert dataset.y.dtype == np.int64 and set(np.unique(dataset.y)) == set(range(len(classes)))
    assert dataset.classes == classes
    assert len(dataset.num_names) == d_num
    info = dataset.info
    assert isinstance(info, DataInfo)
    assert (info.n_classes, info.shape, info.task) == (len(classes), shape, dataset.card.task)


def test_diamonds_encodes_declared_categoricals_and_a_float_target(tmp_path):
    dataset = load(catalogue()["diamonds"], cache_dir=tmp_path)
    assert dataset.X_num.shape == (53940, 6)
    assert dataset.cat_names == ("cut", "color", "clarity")
    assert dataset.cat_cardinalities == (5, 7, 8)
    assert dataset.y.dtype == np.float64 and dataset.classes == ()
    assert dataset.info.n_classes == 0
    assert "rownames" not in dataset.num_names


def test_csv_card_encodes_missing_values_and_drops_rows_without_target(tmp_path):
    dataset = load(load_card(write_csv_card(tmp_path)), cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 4  # the row with no label is dropped
    assert any("dropped 1 of 5 rows" in note for note in dataset.notes)
    assert dataset.classes == ("no", "yes")
    np.testing.assert_array_equal(dataset.y, [1, 0, 1, 0])
    assert dataset.num_names == ("size",)
    np.testing.assert_array_equal(np.isnan(dataset.X_num[:, 0]), [False, True, False, False])
    # colour is declared; shape is text, so it is encoded as categorical too.
    assert dataset.cat_names == ("colour", "shape")
    assert dataset.cat_cardinalities == (2, 2)
    np.testing.assert_array_equal(dataset.X_cat, [[1, 0], [0, 1], [-1, 0], [1, -1]])


def test_wrong_number_of_classes_for_the_task_is_a_data_error(tmp_path):
    path = write_csv_card(tmp_path, card=CSV_CARD.replace('"binary"', '"multiclass"'))
    with pytest.raises(DataError, match=r"toy\.toml.*multiclass.*'binary'"):
        load(load_card(path), cache_dir=tmp_path / "cache")


def test_missing_target_column_names_the_columns(tmp_path):
    path = write_csv_card(tmp_path, card=CSV_CARD.replace('target = "label"', 'target = "lable"'))
    with pytest.raises(DataError, match=r"toy\.toml.*'lable'.*size, colour, shape, label"):
        load(load_card(path), cache_dir=tmp_path / "cache")


def test_a_shape_that_does_not_fit_the_features_is_a_data_error(tmp_path):
    path = write_card(tmp_path, source='"sklearn:digits"', modality='"image"', shape="[1, 7, 7]")
    with pytest.raises(DataError, match=r"card\.toml: field 'shape' \[1, 7, 7\] holds 49 values .* 64"):
        load(load_card(path), cache_dir=tmp_path)


def test_dropped_columns_are_not_features(tmp_path):
    path = write_csv_card(tmp_path, card=CSV_CARD + 'drop = ["shape"]\n')
    dataset = load(load_card(path), cache_dir=tmp_path / "cache")
    assert dataset.cat_names == ("colour",) and dataset.num_names == ("size",)
