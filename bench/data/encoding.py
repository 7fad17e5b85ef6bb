"""Encoding: from a source's DataFrame to a ``Dataset`` of arrays.

``build(card)`` reads the card's source, names its columns, drops the card's
``drop`` columns and the rows with a missing target, and encodes what is left:
numeric features as float32 (NaN for missing), categorical codes as int64 (-1
for missing) and the target as int64 class ids, or float64 for regression.

Building a tabular dataset applies the hygiene rules of ``bench.data.hygiene``
(constant and ID-like columns dropped, single features that predict the target
perfectly flagged), each leaving a plain-text note in ``Dataset.notes``.

Two card options act here. ``shuffle = true`` applies one fixed permutation of
positions to every row of an image or sequence dataset (``position_permutation``):
the same values and labels with the locality a CNN relies on removed. ``split =
"published"`` keeps the rows the source marks as its published test set
(``Dataset.published_test``); other cards drop the mark.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from bench.data import hygiene
from bench.data.dataset import DataError, Dataset, DatasetCard
from bench.data.files import is_numeric
from bench.data.sources import PUBLISHED_TEST, SOURCES

log = logging.getLogger(__name__)


def build(card: DatasetCard) -> Dataset:
    """Read the card's source and encode it; no cache involved."""
    kind, argument = card.source_kind, card.source_argument
    if kind not in SOURCES:
        raise DataError(f"{card.path}: source kind '{kind}' unknown; valid kinds are {', '.join(SOURCES)}")
    frame = SOURCES[kind](argument, card)
    test_mark = frame.pop(PUBLISHED_TEST).to_numpy(dtype=bool) if PUBLISHED_TEST in frame else None
    if card.split == "published" and test_mark is None:
        raise DataError(f"{card.path}: split = \"published\" but source '{card.source}' marks no test rows")
    frame = _name_columns(frame, card)
    notes: list[str] = []
    if card.drop:
        frame = frame.drop(columns=list(card.drop))

    missing = frame[card.target].isna().to_numpy()
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} of {len(frame)} rows with a missing target "
                     f"'{card.target}'")
        frame = frame.loc[~missing].reset_index(drop=True)
        test_mark = test_mark[~missing] if test_mark is not None else None
    if len(frame) == 0:
        raise DataError(f"{card.path}: dataset '{card.name}' has no rows with a target")
    if card.modality == "tabular":  # image and sequence columns are positions: never dropped
        frame, dropped = hygiene.drop_useless_columns(frame, card.target)
        notes += dropped

    y, classes = _encode_target(frame[card.target], card)
    features = frame.drop(columns=[card.target])
    cat_names = [c for c in features.columns if c in card.categorical or not is_numeric(features[c])]
    num_names = [c for c in features.columns if c not in cat_names]
    undeclared = [c for c in cat_names if c not in card.categorical]
    if undeclared:
        notes.append(f"encoded non-numeric column(s) {', '.join(undeclared)} as categorical")

    X_num = np.empty((len(frame), len(num_names)), dtype=np.float32)
    for j, name in enumerate(num_names):
        X_num[:, j] = features[name].to_numpy(dtype=np.float32, na_value=np.nan)
    X_cat = np.empty((len(frame), len(cat_names)), dtype=np.int64)
    cardinalities = []
    for j, name in enumerate(cat_names):
        X_cat[:, j], levels = _encode_categories(features[name])
        cardinalities.append(len(levels))

    if card.shape is not None and int(np.prod(card.shape)) != X_num.shape[1]:
        raise DataError(f"{card.path}: field 'shape' {list(card.shape)} holds {int(np.prod(card.shape))} "
                        f"values but the source has {X_num.shape[1]} numeric features")
    if card.shuffle:
        X_num = np.ascontiguousarray(X_num[:, position_permutation(card.shape, card.shuffle_seed)])
        notes.append(f"positions shuffled: one fixed permutation (shuffle_seed {card.shuffle_seed}) "
                     "applied to every row")
    published_test = None
    if card.split == "published":
        published_test = np.flatnonzero(test_mark).astype(np.int64)
        if len(published_test) in (0, len(frame)):
            raise DataError(f"{card.path}: split = \"published\" but source '{card.source}' marks "
                            f"{len(published_test)} of {len(frame)} rows as test")
    if card.modality == "tabular":
        notes += hygiene.leakage_notes(X_num, X_cat, y, card.task, num_names, cat_names, card.target)
    for note in notes:
        log.info("%s: %s", card.name, note)
    return Dataset(
        card=card,
        X_num=X_num,
        X_cat=X_cat,
        y=y,
        classes=classes,
        num_names=tuple(str(n) for n in num_names),
        cat_names=tuple(str(n) for n in cat_names),
        cat_cardinalities=tuple(cardinalities),
        notes=tuple(notes),
        published_test=published_test,
    )


def position_permutation(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """The column order of a shuffled image or sequence: flat columns are (C, H, W) or (C, L)
    row-major, so one permutation of the H*W (or L) positions, numpy default_rng(seed), is
    applied inside every channel alike; a pixel keeps its channels together.

    Column j of the shuffled data is column order[j] of the original. For shape (1, 40) and
    seed 0 this is mnist1d_shuffled's default_rng(0).permutation(40).
    """
    channels, positions = shape[0], int(np.prod(shape[1:]))
    permutation = np.random.default_rng(seed).permutation(positions)
    return (np.arange(channels)[:, None] * positions + permutation[None, :]).ravel()


def _name_columns(frame: pd.DataFrame, card: DatasetCard) -> pd.DataFrame:
    if card.columns:
        if len(card.columns) != frame.shape[1]:
            raise DataError(f"{card.path}: field 'columns' names {len(card.columns)} columns but "
                            f"source '{card.source}' has {frame.shape[1]}")
        frame = frame.set_axis(list(card.columns), axis=1)
    frame.columns = [str(c) for c in frame.columns]
    available = ", ".join(frame.columns)
    if card.target not in frame.columns:
        raise DataError(f"{card.path}: target '{card.target}' is not a column of source "
                        f"'{card.source}'; columns are {available}")
    for field_name, names in (("categorical", card.categorical), ("drop", card.drop)):
        absent = [c for c in names if c not in frame.columns]
        if absent:
            raise DataError(f"{card.path}: {field_name} column(s) {', '.join(absent)} not in source "
                            f"'{card.source}'; columns are {available}")
    return frame


def _encode_target(column: pd.Series, card: DatasetCard) -> tuple[np.ndarray, tuple[str, ...]]:
    if card.task == "regression":
        if not is_numeric(column):
            raise DataError(f"{card.path}: target '{card.target}' of a regression dataset must be "
                            f"numeric, got {column.dtype}; use task binary or multiclass for labels")
        return column.to_numpy(dtype=np.float64), ()
    codes, levels = _encode_categories(column)
    if card.task == "binary" and len(levels) != 2:
        raise DataError(f"{card.path}: task 'binary' needs 2 classes but target '{card.target}' "
                        f"has {len(levels)}; use task 'multiclass'")
    if card.task == "multiclass" and len(levels) < 3:
        raise DataError(f"{card.path}: task 'multiclass' needs 3 or more classes but target "
                        f"'{card.target}' has {len(levels)}; use task 'binary'")
    return codes, levels


def _encode_categories(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes 0..K-1 (-1 for missing) and the K labels: a categorical's own order, else sorted."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categorical = column.array.remove_unused_categories()
    else:
        present = column.dropna().unique()
        try:
            levels = sorted(present)
        except TypeError:  # mixed types: order by their text
            levels = sorted(present, key=str)
        categorical = pd.Categorical(column, categories=levels)
    return categorical.codes.astype(np.int64), tuple(str(level) for level in categorical.categories)
