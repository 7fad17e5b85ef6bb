"""A user's own table: reading a CSV or Parquet file, and the card it implies.

``read_table`` is used by the csv and parquet sources and by ``card_from_file``,
so a file that passes ``card_from_file`` loads the same way later. ``is_numeric``
and ``infer_task`` are the rules that decide, from the values alone, which
columns are categorical and which task a target poses.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from bench.contract import TASKS
from bench.data.dataset import DataError, DatasetCard

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


def is_numeric(column: pd.Series) -> bool:
    """True for a numeric column that is not a pandas categorical; everything else is a category."""
    return pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)


MAX_INFERRED_CLASSES = 20


def infer_task(column: pd.Series) -> str:
    """binary for 2 distinct values; multiclass for text or for 3-20 distinct integers;
    otherwise regression."""
    values = column.dropna()
    distinct = values.nunique()
    if distinct == 2:
        return "binary"
    if not is_numeric(values) or pd.api.types.is_bool_dtype(values):
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
    categorical = tuple(c for c in columns if c != target and not is_numeric(frame[c]))
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
    if task == "regression" and not is_numeric(column):
        raise DataError(f"{path}: task 'regression' needs a numeric target but '{target}' holds text; "
                        "use binary or multiclass")
    if task == "binary" and distinct != 2:
        raise DataError(f"{path}: task 'binary' needs 2 classes but target '{target}' has {distinct}; "
                        "use multiclass or regression")
    if task == "multiclass" and distinct < 3:
        raise DataError(f"{path}: task 'multiclass' needs 3 or more classes but target '{target}' "
                        f"has {distinct}; use binary")
