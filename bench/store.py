"""The SQLite results store: runs, units, trials, their predictions, ensembles, splits and the
environment of each sitting.

The driver is the only writer. A unit's trial rows, their predictions, its ensemble and its
`done` status are written in one transaction, so a killed driver leaves either the whole unit
or nothing, and a rerun of the same command skips exactly the finished units.

Predictions are kept compact, as zlib-compressed NumPy arrays (bench/predictions.py):
class probabilities as float16 *log*-probabilities, regression values as float32 (about 1.7 and
3.6 bytes per value). Measured on real trials (tests/test_ensembles.py holds it): re-scoring
decoded predictions reproduces every trial's score within 1e-4; accuracy-type metrics can differ
by a row whose two top classes were within 1e-3 of each other. Log-probabilities rather than
probabilities, because float16 probabilities flush anything below 6e-8 to zero, and a confident
wrong prediction then costs log loss 34.5 (the 1e-15 clip) instead of its true 17-20; a float16
log-probability is off by at most 2^-11 (0.05%) of itself, so a row's log loss term keeps that
relative error at any size (a probability p: |ln p| * 2^-11 relative, 0.3% at p = 1e-3).
Regression values are float32 because float16 overflows above 65504 (house prices) and its 3
significant digits would move R2 on targets with a large mean.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from bench.predictions import decode_predictions

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sittings (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    started REAL NOT NULL,
    finished REAL,
    workers INTEGER NOT NULL,
    environment TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS splits (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    dataset TEXT NOT NULL,
    fold INTEGER NOT NULL,
    train_size INTEGER NOT NULL,  -- 0: the whole (capped) inner train part
    train BLOB NOT NULL,
    valid BLOB NOT NULL,
    test BLOB NOT NULL,
    PRIMARY KEY (run_id, dataset, fold, train_size)
);
CREATE TABLE IF NOT EXISTS units (
    unit_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    fold INTEGER NOT NULL,
    train_size INTEGER NOT NULL,  -- 0: the whole (capped) inner train part
    status TEXT NOT NULL,
    error TEXT,
    n_train INTEGER,
    baseline_score REAL,
    wall_s REAL,
    threads INTEGER,
    started REAL,   -- wall-clock time the unit started on its worker
    finished REAL   -- wall-clock time the driver recorded it
);
CREATE TABLE IF NOT EXISTS trials (
    unit_key TEXT NOT NULL REFERENCES units(unit_key),
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    valid_score REAL,
    test_score REAL,
    valid_metrics TEXT,
    test_metrics TEXT,
    fit_s REAL,
    predict_s REAL,
    started_s REAL,
    n_iter INTEGER,
    stopped_by_deadline INTEGER,
    curves TEXT,
    error TEXT,
    PRIMARY KEY (unit_key, number)
);
CREATE TABLE IF NOT EXISTS predictions (
    unit_key TEXT NOT NULL REFERENCES units(unit_key),
    number INTEGER NOT NULL,  -- the trial
    part TEXT NOT NULL,       -- valid or test; rows in the order of the split's indices
    data BLOB NOT NULL,       -- encode_predictions
    PRIMARY KEY (unit_key, number, part)
);
CREATE TABLE IF NOT EXISTS ensembles (
    unit_key TEXT PRIMARY KEY REFERENCES units(unit_key),
    weights TEXT NOT NULL,    -- {trial number: times chosen}
    valid_score REAL,
    test_score REAL,
    valid_metrics TEXT,
    test_metrics TEXT,
    curve TEXT                -- [{trials, valid_score, test_score}, ...]
);
"""


class StoreError(Exception):
    """The store file cannot be opened, is not a results store, or is in use by another run."""


def _to_blob(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.int64), allow_pickle=False)
    return buffer.getvalue()


def _from_blob(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def _insert(verb: str, columns: tuple[str, ...]) -> str:
    """`verb` (e.g. "INSERT INTO trials") with named columns and a named parameter for each."""
    return f"{verb} ({', '.join(columns)}) VALUES ({', '.join(':' + column for column in columns)})"


INSERT_UNIT = _insert("INSERT OR REPLACE INTO units", (
    "unit_key", "run_id", "dataset", "model", "fold", "train_size", "status", "error", "n_train", "baseline_score",
    "wall_s", "threads", "started", "finished"))
INSERT_TRIAL = _insert("INSERT INTO trials", (
    "unit_key", "number", "status", "params", "valid_score", "test_score", "valid_metrics", "test_metrics", "fit_s",
    "predict_s", "started_s", "n_iter", "stopped_by_deadline", "curves", "error"))
INSERT_PREDICTION = _insert("INSERT INTO predictions", ("unit_key", "number", "part", "data"))
INSERT_ENSEMBLE = _insert("INSERT INTO ensembles", (
    "unit_key", "weights", "valid_score", "test_score", "valid_metrics", "test_metrics", "curve"))
JSON_COLUMNS = {
    "trials": ("params", "valid_metrics", "test_metrics", "curves"),
    "ensembles": ("weights", "valid_metrics", "test_metrics", "curve"),
}


def _with_json(row: sqlite3.Row, columns: tuple[str, ...]) -> dict[str, Any]:
    """The row as a dict, its JSON text `columns` read ({} where empty)."""
    result: dict[str, Any] = dict(row)
    for column in columns:
        result[column] = json.loads(result[column]) if result[column] else {}
    return result


def _run(row: sqlite3.Row) -> dict:
    return {"run_id": row["run_id"], "created": row["created"], "config": json.loads(row["config"])}


class Store:
    """A results store in one SQLite file."""

    def __init__(self, path: Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"no results store at {self.path}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a readable results store ({error})") from None
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def exclusive(self):
        """Hold the store for one `bench run`; a second run on the same store is refused.

        An advisory lock on `<store>.lock`: the kernel drops it when the
        holder dies, even by `kill -9`, so a killed run never blocks its resume.
        """
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StoreError(
                f"{self.path} is in use by another bench run (pid {holder}); "
                "wait for it to finish or pass another --store"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield self
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    # runs and sittings
    def ensure_run(self, run_id: str, config: dict) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO runs (run_id, created, config) VALUES (:run_id, :created, :config)",
                {"run_id": run_id, "created": time.time(), "config": json.dumps(config, sort_keys=True)},
            )

    def start_sitting(self, run_id: str, workers: int, environment: dict) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO sittings (run_id, started, workers, environment) VALUES (?, ?, ?, ?)",
                (run_id, time.time(), workers, json.dumps(environment, sort_keys=True)),
            )
        return int(cursor.lastrowid)

    def record_sittings(self, run_id: str, sittings: Iterable[dict]) -> None:
        """Add sittings recorded elsewhere (started, finished, workers, environment), as an import does."""
        with self.db:
            self.db.executemany(
                "INSERT INTO sittings (run_id, started, finished, workers, environment) "
                "VALUES (:run_id, :started, :finished, :workers, :environment)",
                [{"run_id": run_id, "started": s["started"], "finished": s["finished"], "workers": s["workers"],
                  "environment": json.dumps(s["environment"])} for s in sittings],
            )

    def finish_sitting(self, sitting: int, recorded: dict | None = None) -> None:
        """The sitting's end, and what it learned while running (`recorded`, added to its environment)."""
        with self.db:
            if recorded:
                (text,) = self.db.execute("SELECT environment FROM sittings WHERE rowid = ?", (sitting,)).fetchone()
                self.db.execute("UPDATE sittings SET environment = ? WHERE rowid = ?",
                                (json.dumps({**json.loads(text), **recorded}, sort_keys=True), sitting))
            self.db.execute("UPDATE sittings SET finished = ? WHERE rowid = ?", (time.time(), sitting))

    def runs(self) -> list[dict]:
        rows = self.db.execute("SELECT run_id, created, config FROM runs ORDER BY created").fetchall()
        return [_run(r) for r in rows]

    def run(self, run_id: str) -> dict:
        """One run (run_id, created, config); KeyError when the store has no such run."""
        row = self.db.execute("SELECT run_id, created, config FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in {self.path}")
        return _run(row)

    def sittings(self, run_id: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT started, finished, workers, environment FROM sittings WHERE run_id = ? ORDER BY started",
            (run_id,),
        ).fetchall()
        return [
            {
                "started": r["started"],
                "finished": r["finished"],
                "workers": r["workers"],
                "environment": json.loads(r["environment"]),
            }
            for r in rows
        ]

    # splits
    def save_split(self, run_id: str, dataset: str, fold: int, train, valid, test, train_size: int = 0) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO splits (run_id, dataset, fold, train_size, train, valid, test) "
                "VALUES (:run_id, :dataset, :fold, :train_size, :train, :valid, :test)",
                {"run_id": run_id, "dataset": dataset, "fold": fold, "train_size": train_size,
                 "train": _to_blob(train), "valid": _to_blob(valid), "test": _to_blob(test)},
            )

    def load_split(self, run_id: str, dataset: str, fold: int, train_size: int = 0) -> dict[str, np.ndarray] | None:
        row = self.db.execute(
            "SELECT train, valid, test FROM splits WHERE run_id = ? AND dataset = ? AND fold = ? AND train_size = ?",
            (run_id, dataset, fold, train_size),
        ).fetchone()
        if row is None:
            return None
        return {part: _from_blob(row[part]) for part in ("train", "valid", "test")}

    def split_parts(self, run_id: str) -> list[dict]:
        """The (dataset, fold, train_size) of every split saved for a run; a store rebuilt from an export has none."""
        rows = self.db.execute("SELECT dataset, fold, train_size FROM splits WHERE run_id = ?", (run_id,)).fetchall()
        return [dict(r) for r in rows]

    # units and trials
    def finished_units(self, run_id: str) -> set[str]:
        """Units with an outcome, good or bad: rerunning a unit that failed would fail again."""
        rows = self.db.execute("SELECT unit_key FROM units WHERE run_id = ?", (run_id,)).fetchall()
        return {r["unit_key"] for r in rows}

    def record_unit(self, run_id: str, unit: dict, trials: Iterable[dict], ensemble: dict | None = None) -> None:
        """Write a finished (or failed) unit, its trials, their predictions (a trial's
        `predictions`: {part: encode_predictions bytes}) and its ensemble (bench/ensembles.py)
        atomically, replacing any earlier attempt."""
        trials = list(trials)
        key = unit["unit_key"]
        with self.db:
            for table in ("trials", "predictions", "ensembles"):
                self.db.execute(f"DELETE FROM {table} WHERE unit_key = ?", (key,))
            self.db.execute(INSERT_UNIT, {
                "unit_key": unit["unit_key"], "run_id": run_id, "dataset": unit["dataset"], "model": unit["model"],
                "fold": unit["fold"], "train_size": unit.get("train_size") or 0, "status": unit["status"],
                "error": unit.get("error"), "n_train": unit.get("n_train"),
                "baseline_score": unit.get("baseline_score"), "wall_s": unit.get("wall_s"),
                "threads": unit.get("threads"), "started": unit.get("started"),
                "finished": unit.get("finished") or time.time(),  # an imported unit keeps its own time
            })
            self.db.executemany(INSERT_TRIAL, [
                {
                    "unit_key": unit["unit_key"], "number": t["number"], "status": t["status"],
                    "params": json.dumps(t["params"], sort_keys=True),
                    "valid_score": t.get("valid_score"), "test_score": t.get("test_score"),
                    "valid_metrics": json.dumps(t.get("valid_metrics") or {}),
                    "test_metrics": json.dumps(t.get("test_metrics") or {}),
                    "fit_s": t.get("fit_s"), "predict_s": t.get("predict_s"), "started_s": t.get("started_s"),
                    "n_iter": t.get("n_iter"), "stopped_by_deadline": int(bool(t.get("stopped_by_deadline"))),
                    "curves": json.dumps(t.get("curves") or {}), "error": t.get("error"),
                }
                for t in trials
            ])
            self.db.executemany(INSERT_PREDICTION, [
                {"unit_key": key, "number": t["number"], "part": part, "data": blob}
                for t in trials for part, blob in sorted((t.get("predictions") or {}).items())
            ])
            if ensemble is not None:
                self.db.execute(INSERT_ENSEMBLE, {
                    "unit_key": key,
                    # JSON object keys are strings; `ensembles` turns them back into trial numbers
                    "weights": json.dumps({str(n): c for n, c in ensemble["weights"].items()}, sort_keys=True),
                    "valid_score": ensemble.get("valid_score"), "test_score": ensemble.get("test_score"),
                    "valid_metrics": json.dumps(ensemble.get("valid_metrics") or {}),
                    "test_metrics": json.dumps(ensemble.get("test_metrics") or {}),
                    "curve": json.dumps(ensemble.get("curve") or []),
                })

    def units(self, run_id: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT * FROM units WHERE run_id = ? ORDER BY dataset, model, train_size, fold", (run_id,)
        ).fetchall()
        return [dict(r) for r in rows]

    def trials(self, run_id: str) -> list[dict]:
        rows = self.db.execute(
            """SELECT t.*, u.dataset, u.model, u.fold, u.train_size FROM trials t JOIN units u USING (unit_key)
               WHERE u.run_id = ? ORDER BY u.dataset, u.model, u.train_size, u.fold, t.number""",
            (run_id,),
        ).fetchall()
        return [_with_json(r, JSON_COLUMNS["trials"]) for r in rows]

    # predictions and ensembles
    def prediction_blobs(self, unit_key: str) -> dict[int, dict[str, bytes]]:
        """{trial number: {part: the stored bytes}} of one unit, undecoded (decode_predictions)."""
        rows = self.db.execute(
            "SELECT number, part, data FROM predictions WHERE unit_key = ? ORDER BY number, part", (unit_key,)
        ).fetchall()
        blobs: dict[int, dict[str, bytes]] = {}
        for r in rows:
            blobs.setdefault(r["number"], {})[r["part"]] = r["data"]
        return blobs

    def predictions(self, unit_key: str) -> dict[int, dict[str, np.ndarray]]:
        """{trial number: {"valid": array, "test": array}} of one unit's scored trials; rows follow
        the order of the split's indices (load_split); (n, K) probabilities or (n,) values."""
        return {number: {part: decode_predictions(blob) for part, blob in parts.items()}
                for number, parts in self.prediction_blobs(unit_key).items()}

    def prediction_bytes(self, run_id: str) -> dict:
        """How much the run's predictions take: trials with predictions and their stored bytes."""
        row = self.db.execute(
            """SELECT COUNT(DISTINCT p.unit_key || '/' || p.number) AS trials, COALESCE(SUM(LENGTH(p.data)), 0) AS bytes
               FROM predictions p JOIN units u USING (unit_key) WHERE u.run_id = ?""", (run_id,)
        ).fetchone()
        return {"trials": row["trials"], "bytes": row["bytes"]}

    def ensembles(self, run_id: str) -> list[dict]:
        """Each unit's post-hoc ensemble, with the unit's dataset, model, fold and train size;
        `weights` maps trial numbers to the times each was chosen."""
        rows = self.db.execute(
            """SELECT e.*, u.dataset, u.model, u.fold, u.train_size FROM ensembles e JOIN units u USING (unit_key)
               WHERE u.run_id = ? ORDER BY u.dataset, u.model, u.train_size, u.fold""",
            (run_id,),
        ).fetchall()
        result = []
        for r in rows:
            row = _with_json(r, JSON_COLUMNS["ensembles"])
            row["weights"] = {int(number): count for number, count in row["weights"].items()}
            row["curve"] = row["curve"] or []
            result.append(row)
        return result
