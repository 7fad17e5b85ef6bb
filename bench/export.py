"""Exports of a run: the committable results and, for analysis elsewhere, the predictions.

The SQLite store is a working file; the export is what a repository keeps
(reports/standard/results.jsonl.gz): runs, sittings, units, trials and ensembles as
gzipped JSON lines. Split indices and predictions are left out: the indices are
reproducible from the seed, and the predictions are most of the store's bytes
(`export_predictions` writes them to Parquet instead).
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from bench.predictions import decode_predictions, prediction_shape
from bench.store import Store, StoreError

EXPORT_NAME = "results.jsonl.gz"


def export_run(store: Store, run_id: str, path: Path) -> Path:
    """Write one run of the store to `path` (gzipped JSON lines, one record per line)."""
    lines = [{"kind": "run", **store.run(run_id)}]
    lines += [{"kind": "sitting", **s} for s in store.sittings(run_id)]
    lines += [{"kind": "unit", **u} for u in store.units(run_id)]
    for trial in store.trials(run_id):
        for joined in ("dataset", "model", "fold", "train_size"):  # belong to the unit
            trial.pop(joined, None)
        lines.append({"kind": "trial", **trial})
    lines += [{"kind": "ensemble", **_own(e)} for e in store.ensembles(run_id)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same run exports to the same bytes, so a re-export shows no diff.
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode())
    return path


def read_export(path: Path) -> dict[str, list[dict]]:
    """An export's records by kind ("run", "sitting", "unit", "trial", "ensemble"), holding exactly one run;
    what needs only a run's rows (the cost model) reads them here without building a store."""
    records: dict[str, list[dict]] = {"run": [], "sitting": [], "unit": [], "trial": [], "ensemble": []}
    try:
        with gzip.open(path, "rt") as handle:
            for line in handle:
                record = json.loads(line)
                records.setdefault(record.get("kind"), []).append(record)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
        raise StoreError(f"{path}: not a results export ({error})") from None
    if len(records["run"]) != 1:
        raise StoreError(f"{path}: not a results export (expected one run, found {len(records['run'])})")
    return records


def import_export(path: Path, store: Store) -> str:
    """Load an export into a store; returns its run id."""
    records = read_export(path)
    run_id = records["run"][0]["run_id"]
    store.ensure_run(run_id, records["run"][0]["config"])
    store.record_sittings(run_id, records["sitting"])
    trials_by_unit: dict[str, list] = {}
    for t in records["trial"]:
        trials_by_unit.setdefault(t["unit_key"], []).append(t)
    # An export written before ensembles were kept has none: its units import without one.
    ensemble_by_unit = {r["unit_key"]: r for r in records["ensemble"]}
    for unit in records["unit"]:
        store.record_unit(run_id, unit, trials_by_unit.get(unit["unit_key"], []),
                          ensemble_by_unit.get(unit["unit_key"]))
    return run_id


def _own(row: dict) -> dict:
    """A row without the columns it joins from its unit."""
    return {k: v for k, v in row.items() if k not in ("dataset", "model", "fold", "train_size")}


PREDICTION_KEYS = ("dataset", "model", "fold", "train_size", "trial", "part", "row")


def export_predictions(store: Store, run_id: str, path: Path) -> dict:
    """Write every stored prediction of a run to Parquet, one row per (dataset, model, fold,
    train_size, trial, part, row): `row` is the dataset row's index (as bench.data.load orders
    the rows; the store keeps split indices, not targets, so join the target yourself), then
    `proba_0`.. `proba_{K-1}` (class ids as the data layer encodes them; empty past a dataset's
    classes) or `value` (regression), as float32. Returns {"rows": ..., "trials": ...}.

    One row group per unit, read and written one unit at a time, so that a large run needs no
    more memory than its largest unit.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    units = store.units(run_id)
    shapes = [prediction_shape(blob) for u in units for by_part in store.prediction_blobs(u["unit_key"]).values()
              for blob in by_part.values()]
    if not shapes:
        raise StoreError(f"run {run_id} in {store.path} has no stored predictions "
                         "(it was recorded before predictions were kept, or rebuilt from an export)")
    n_classes = max((shape[1] for shape in shapes if len(shape) == 2), default=0)
    has_values = any(len(shape) == 1 for shape in shapes)
    fields = [("dataset", pa.string()), ("model", pa.string()), ("fold", pa.int32()), ("train_size", pa.int64()),
              ("trial", pa.int32()), ("part", pa.string()), ("row", pa.int64())]
    fields += [(f"proba_{k}", pa.float32()) for k in range(n_classes)]
    fields += [("value", pa.float32())] if has_values else []
    schema = pa.schema(fields)
    counts = {"rows": 0, "trials": 0}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for unit in units:
            blobs = store.prediction_blobs(unit["unit_key"])
            if not blobs:
                continue
            split = store.load_split(run_id, unit["dataset"], unit["fold"], unit["train_size"] or 0)
            tables = [_prediction_table(schema, unit, number, part, decode_predictions(blob), split)
                      for number, by_part in sorted(blobs.items()) for part, blob in sorted(by_part.items())]
            writer.write_table(pa.concat_tables(tables))
            counts["trials"] += len(blobs)
            counts["rows"] += sum(len(t) for t in tables)
    return counts


def _prediction_table(schema, unit: dict, number: int, part: str, prediction, split: dict | None):
    """One trial's predictions of one part as rows of the `export_predictions` schema."""
    import numpy as np
    import pyarrow as pa

    n = len(prediction)
    if split is None or len(split[part]) != n:
        raise StoreError(f"the {part} indices of {unit['dataset']} fold {unit['fold']} are missing from the store "
                         f"or do not match its {n} stored predictions")
    prediction = prediction.astype(np.float32)
    columns = {"dataset": pa.array([unit["dataset"]] * n), "model": pa.array([unit["model"]] * n),
               "fold": np.full(n, unit["fold"], dtype=np.int32),
               "train_size": np.full(n, unit["train_size"] or 0, dtype=np.int64),
               "trial": np.full(n, number, dtype=np.int32), "part": pa.array([part] * n), "row": split[part]}
    for name in schema.names[len(PREDICTION_KEYS):]:
        if name == "value":
            columns[name] = prediction if prediction.ndim == 1 else pa.nulls(n, pa.float32())
        else:
            k = int(name.removeprefix("proba_"))
            columns[name] = prediction[:, k] if prediction.ndim == 2 and k < prediction.shape[1] else pa.nulls(n, pa.float32())
    return pa.table(columns, schema=schema)
