"""Tests for bench/data/cache.py: the dataset cache, its key and its rebuilds."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bench.data import catalogue, load, load_card
from bench.data.cache import _read_cache, _write_cache, default_cache_dir
from bench.data.encoding import build
from bench.data.files import card_from_file
from bench.data.sources import SOURCES
from toy_data import CSV_CARD, write_csv_card, write_user_csv


def count_calls(monkeypatch, kind: str) -> list[str]:
    """Wrap one source so a test can see how often the dataset was built from it."""
    calls: list[str] = []
    source = SOURCES[kind]

    def counted(argument, card):
        calls.append(argument)
        return source(argument, card)

    monkeypatch.setitem(SOURCES, kind, counted)
    return calls


def test_second_load_reads_the_cache(tmp_path, monkeypatch):
    calls = count_calls(monkeypatch, "sklearn")
    card = catalogue()["breast_cancer"]
    first = load(card, cache_dir=tmp_path)
    second = load(card, cache_dir=tmp_path)
    assert calls == ["breast_cancer"]
    assert isinstance(second.X_num, np.memmap) and isinstance(second.y, np.memmap)
    np.testing.assert_array_equal(first.X_num, second.X_num)
    assert second.classes == first.classes and second.num_names == first.num_names


def test_editing_the_card_rebuilds_the_cache(tmp_path, monkeypatch):
    calls = count_calls(monkeypatch, "csv")
    path = write_csv_card(tmp_path)
    cache = tmp_path / "cache"
    assert load(load_card(path), cache_dir=cache).cat_names == ("colour", "shape")
    # Text that does not change the arrays keeps the cache.
    path.write_text(CSV_CARD + 'description = "now described"\n')
    load(load_card(path), cache_dir=cache)
    assert len(calls) == 1
    # Declaring another categorical column changes the arrays: rebuilt.
    path.write_text(CSV_CARD.replace('["colour"]', '["colour", "size"]'))
    dataset = load(load_card(path), cache_dir=cache)
    assert len(calls) == 2
    assert dataset.cat_names == ("size", "colour", "shape") and dataset.X_num.shape == (4, 0)


def test_a_lost_race_to_write_the_cache_keeps_the_winner(tmp_path):
    card = load_card(write_csv_card(tmp_path))
    built = build(card)
    entry = tmp_path / "cache" / "toy-x"
    _write_cache(built, entry)
    _write_cache(built, entry)  # a second process finishing later
    assert [p.name for p in entry.parent.iterdir()] == ["toy-x"]
    np.testing.assert_array_equal(_read_cache(card, entry).y, built.y)


def test_an_unreadable_cache_is_rebuilt(tmp_path, monkeypatch):
    calls = count_calls(monkeypatch, "csv")
    card = load_card(write_csv_card(tmp_path))
    load(card, cache_dir=tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / "datasets").iterdir()
    (entry / "meta.json").write_text("{not json")
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 4
    assert len(calls) == 2


def test_default_cache_dir_follows_bench_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("BENCH_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "bench"


def test_editing_the_data_file_rebuilds_the_cache(tmp_path):
    path = write_user_csv(tmp_path)
    card = card_from_file(path, "bought")
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 40
    write_user_csv(tmp_path, rows=30)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 30
