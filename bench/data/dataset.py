"""What the data layer hands on: a card (``DatasetCard``), the dataset built from it
(``Dataset``), and ``DataError`` for every problem a user can fix.

Everything else in ``bench.data`` imports these types from here, and this module
imports nothing of the data layer, so the hygiene rules and the meta-features can
name ``Dataset`` without an import loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.contract import DataInfo, Part


class DataError(Exception):
    """A problem a user can fix: a card, a source argument or a column."""


@dataclass(frozen=True)
class DatasetCard:
    """A dataset card as read and checked by ``bench.data.cards.load_card`` (or made from a file)."""

    name: str
    source: str  # "<kind>:<argument>", e.g. "keel:magic"; kinds are the keys of SOURCES
    task: str  # one of TASKS
    modality: str  # one of MODALITIES
    target: str
    categorical: tuple[str, ...] = ()
    shape: tuple[int, ...] | None = None  # (C, H, W) for image, (C, L) for sequence
    licence: str = ""
    citation: str = ""
    description: str = ""
    benchmarks: tuple[str, ...] = ()  # well-known benchmarks that use this dataset
    columns: tuple[str, ...] = ()  # names for every column of a header-less source, in order
    drop: tuple[str, ...] = ()  # source columns that are not features (other outcomes, identifiers)
    shuffle: bool = False  # image/sequence only: one fixed permutation of positions for every row
    shuffle_seed: int = 0  # seeds that permutation (numpy default_rng)
    split: str = "folds"  # "folds": the harness's own splits; "published": the source's test rows
    path: Path | None = field(default=None, compare=False)  # the card file, or the data file of card_from_file

    @property
    def source_kind(self) -> str:
        return self.source.partition(":")[0]

    @property
    def source_argument(self) -> str:
        return self.source.partition(":")[2]


@dataclass(frozen=True, eq=False)
class Dataset:
    """The encoded arrays of one card; read from the cache they are memory-mapped."""

    card: DatasetCard
    X_num: np.ndarray  # (n, d_num) float32, NaN for missing; images and sequences flattened
    X_cat: np.ndarray  # (n, d_cat) int64 codes, -1 for missing
    y: np.ndarray  # (n,) int64 class ids 0..K-1, or float64 for regression
    classes: tuple[str, ...]  # class labels in id order; () for regression
    num_names: tuple[str, ...]
    cat_names: tuple[str, ...]
    cat_cardinalities: tuple[int, ...]
    notes: tuple[str, ...] = ()  # what building changed, e.g. rows dropped for a missing target
    # Sorted row positions of the source's published test rows, for a card with
    # split = "published" (bench.splits uses them as the one outer test fold); else None.
    published_test: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def info(self) -> DataInfo:
        return DataInfo(
            task=self.card.task,
            modality=self.card.modality,
            n_classes=len(self.classes),
            num_names=self.num_names,
            cat_names=self.cat_names,
            cat_cardinalities=self.cat_cardinalities,
            shape=self.card.shape,
        )

    def part(self, index: np.ndarray) -> Part:
        """The rows at the given integer positions, copied into memory."""
        index = np.asarray(index)
        if index.ndim != 1 or index.dtype.kind not in "iu":
            raise ValueError(f"index must be a 1-D integer array of row positions, "
                             f"got dtype {index.dtype} and shape {index.shape}")
        return Part(
            X_num=np.ascontiguousarray(self.X_num[index]),
            X_cat=np.ascontiguousarray(self.X_cat[index]),
            y=np.ascontiguousarray(self.y[index]),
        )
