"""The cache of encoded arrays, and ``load``, the way in for every caller.

Encoded arrays are cached under ``<cache_dir>/datasets/<name>-<hash>/``, where
the hash covers every card field that decides the arrays, so editing those
fields rebuilds the cache while editing the description or citation does not.
For a file source the hash also covers the file's size and modification time.
A cached dataset is read back memory-mapped.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from bench.data.dataset import Dataset, DatasetCard
from bench.data.encoding import build
from bench.data.sources import source_file

log = logging.getLogger(__name__)

# Bump when the encoding (bench.data.encoding) changes, so every cache built by older code is rebuilt.
CACHE_FORMAT = 2  # 2: hygiene rules (constant, ID-like and leaking columns)


def default_cache_dir() -> Path:
    """$BENCH_CACHE if set, else ~/.cache/bench."""
    configured = os.environ.get("BENCH_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "bench"


def load(card: DatasetCard, cache_dir: Path | None = None) -> Dataset:
    """The dataset a card describes: from the cache if built before, else built and cached."""
    entry = cache_entry(card, cache_dir)
    if entry.is_dir():
        try:
            return _read_cache(card, entry)
        except (OSError, ValueError, KeyError) as error:
            log.warning("dataset cache %s is unreadable (%s); rebuilding it", entry, error)
            shutil.rmtree(entry, ignore_errors=True)
    dataset = build(card)
    _write_cache(dataset, entry)
    return _read_cache(card, entry)


def cache_entry(card: DatasetCard, cache_dir: Path | None = None) -> Path:
    """The folder holding the card's encoded arrays (and its meta-features once computed)."""
    folder = Path(cache_dir if cache_dir is not None else default_cache_dir()) / "datasets"
    return folder / f"{card.name}-{card_hash(card)}"


def card_hash(card: DatasetCard) -> str:
    """A hash of every card field that decides the arrays, plus the cache format.

    For a file source it also covers the file's size and modification time, so
    editing the file rebuilds the cache."""
    decisive = {
        "format": CACHE_FORMAT,
        "name": card.name,
        "source": card.source,
        "task": card.task,
        "modality": card.modality,
        "target": card.target,
        "categorical": list(card.categorical),
        "columns": list(card.columns),
        "shape": list(card.shape) if card.shape else None,
    }
    if card.drop:
        decisive["drop"] = list(card.drop)
    if card.shuffle:  # added only when set, so the hashes of every other card stay as they were
        decisive["shuffle_seed"] = card.shuffle_seed
    if card.split != "folds":
        decisive["split"] = card.split
    if card.source_kind in ("csv", "parquet"):
        decisive["file"] = _file_stamp(card)
    return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()[:16]


def _file_stamp(card: DatasetCard) -> list[int] | None:
    try:
        stat = source_file(card.source_argument, card).stat()
    except OSError:
        return None  # build() reports the missing file
    return [stat.st_size, stat.st_mtime_ns]


_ARRAYS = ("X_num", "X_cat", "y")
_PUBLISHED_TEST = "published_test"  # only for a card with split = "published"


def _write_cache(dataset: Dataset, entry: Path) -> None:
    """Write into a temporary folder, then rename it into place: readers never see half a cache."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        for name in _ARRAYS:
            np.save(staging / f"{name}.npy", getattr(dataset, name))
        if dataset.published_test is not None:
            np.save(staging / f"{_PUBLISHED_TEST}.npy", dataset.published_test)
        meta = {
            "name": dataset.card.name,
            "source": dataset.card.source,
            "card_hash": entry.name.rsplit("-", 1)[-1],
            "n_rows": dataset.n_rows,
            "classes": list(dataset.classes),
            "num_names": list(dataset.num_names),
            "cat_names": list(dataset.cat_names),
            "cat_cardinalities": list(dataset.cat_cardinalities),
            "notes": list(dataset.notes),
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            os.rename(staging, entry)
        except OSError:
            if not entry.is_dir():  # not a lost race with another process: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_cache(card: DatasetCard, entry: Path) -> Dataset:
    meta = json.loads((entry / "meta.json").read_text())
    arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    n_rows = meta["n_rows"]
    if any(len(array) != n_rows for array in arrays.values()):
        raise ValueError(f"arrays do not all have {n_rows} rows")
    published_test = None
    if card.split == "published":  # a missing file is a broken entry: load() rebuilds it
        published_test = np.load(entry / f"{_PUBLISHED_TEST}.npy")
    return Dataset(
        card=card,
        classes=tuple(meta["classes"]),
        num_names=tuple(meta["num_names"]),
        cat_names=tuple(meta["cat_names"]),
        cat_cardinalities=tuple(meta["cat_cardinalities"]),
        notes=tuple(meta["notes"]),
        published_test=published_test,
        **arrays,
    )
