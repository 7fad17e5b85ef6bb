"""Tests for bench/data/dataset.py: a Dataset hands on rows and stays as built."""
from __future__ import annotations

import numpy as np
import pytest

from bench.contract import Part
from bench.data import Dataset, catalogue, load


def test_part_returns_the_chosen_rows_in_memory(tmp_path):
    dataset = load(catalogue()["breast_cancer"], cache_dir=tmp_path)
    index = np.array([5, 0, 568])
    part = dataset.part(index)
    assert isinstance(part, Part) and len(part) == 3
    assert type(part.X_num) is np.ndarray and type(part.y) is np.ndarray
    np.testing.assert_array_equal(part.X_num, np.asarray(dataset.X_num)[index])
    np.testing.assert_array_equal(part.y, np.asarray(dataset.y)[index])
    with pytest.raises(ValueError, match="integer"):
        dataset.part(np.array([0.0, 1.0]))


def test_dataset_is_frozen(tmp_path):
    dataset = load(catalogue()["wine"], cache_dir=tmp_path)
    assert isinstance(dataset, Dataset)
    with pytest.raises(AttributeError):
        dataset.y = None  # type: ignore[misc]
