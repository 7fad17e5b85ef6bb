"""Summaries: one catalogue row per dataset, with meta-features kept beside the cached arrays."""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.data import hygiene
from bench.data.cache import cache_entry, load
from bench.data.dataset import Dataset, DatasetCard
from bench.data.metafeatures import METAFEATURES_VERSION, metafeatures

log = logging.getLogger(__name__)

METAFEATURES_FILE = "metafeatures.json"


def dataset_summary(card: DatasetCard, cache_dir: Path | None = None) -> dict[str, Any]:
    """One catalogue row for `bench datasets --json`: what the card says plus the computed
    meta-features and hygiene counts. Meta-features are computed once and kept beside the
    cached arrays, so a second call reads a small JSON file."""
    dataset = load(card, cache_dir)
    computed = _cached_metafeatures(dataset, cache_entry(card, cache_dir))
    return {
        "name": card.name,
        "task": card.task,
        "modality": card.modality,
        "source": card.source,
        **computed,
        "shape": list(card.shape) if card.shape else None,
        "shuffle": card.shuffle,
        "split": card.split,
        "licence": card.licence,
        "citation": card.citation,
        "benchmarks": list(card.benchmarks),
        "notes": list(dataset.notes),
    }


def _cached_metafeatures(dataset: Dataset, entry: Path) -> dict[str, Any]:
    path = entry / METAFEATURES_FILE
    try:
        stored = json.loads(path.read_text())
        if stored.get("version") == METAFEATURES_VERSION:
            return stored["values"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    values = {**metafeatures(dataset), "duplicate_rows": hygiene.duplicate_rows(dataset)}
    _write_json_atomically(path, {"version": METAFEATURES_VERSION, "values": values})
    return values


def _write_json_atomically(path: Path, content: dict) -> None:
    try:
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w") as out:
            json.dump(content, out, indent=1)
        os.replace(staging, path)
    except OSError as error:  # a read-only cache still gets its summary, just not kept
        log.warning("cannot keep meta-features in %s (%s)", path, error)
