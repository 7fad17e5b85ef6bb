"""Tests for bench/data/summary.py: a catalogue row, with meta-features computed once and then read."""
from __future__ import annotations

from bench.data import catalogue, dataset_summary


def test_dataset_summary_has_the_catalogue_fields_and_is_cached(cache_dir, monkeypatch):
    card = catalogue()["penguins"]
    summary = dataset_summary(card, cache_dir=cache_dir)
    for key in ("name", "task", "modality", "source", "n_rows", "n_features", "n_categorical",
                "missing_share", "n_numeric", "n_classes", "class_balance", "skewness_mean_abs",
                "kurtosis_mean", "uninformative_share", "duplicate_rows", "shape", "licence",
                "benchmarks", "notes"):
        assert key in summary, key
    assert (summary["n_rows"], summary["n_features"], summary["n_categorical"]) == (344, 7, 2)
    assert summary["missing_share"] > 0 and summary["shape"] is None

    def fail(dataset):
        raise AssertionError("meta-features should have been read from the cache")

    monkeypatch.setattr("bench.data.summary.metafeatures", fail)
    assert dataset_summary(card, cache_dir=cache_dir) == summary
