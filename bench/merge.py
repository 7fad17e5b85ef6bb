"""Merging one run's pieces: stores or exports made on several machines (`bench run --shard I/N`) or in
several sittings, into one store or one export, keyed by unit.

A team with several machines but no cluster splits a study as AMLB and TabArena users do with job arrays:
each machine runs a deterministic share of the units into its own store, and `bench merge` combines them.
Every piece must hold the same run, that is the same run id, the hash of what was asked (bench/config.py);
pieces of different runs are refused with the fields in which they differ. A unit found in several pieces
is taken once: a finished unit over a failed one, else the first piece's.
"""
from __future__ import annotations

import tempfile
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

from bench.export import EXPORT_NAME, export_run, import_export
from bench.store import Store, StoreError

# The fields of a run's config that say what was asked (bench/config.py RunConfig); the rest (dataset
# meta-features, model sources) follows from them.
ASKED = ("suite", "datasets", "models", "trials", "seconds", "folds", "seed", "max_train", "sampler", "device",
         "train_sizes", "startup_trials", "metrics")


class MergeError(StoreError):
    """Pieces that cannot be merged: unreadable, several runs in one piece, or different runs."""


def is_export(path: Path) -> bool:
    return str(path).endswith(".jsonl.gz")


def merge(sources: list[Path], out: Path) -> dict:
    """Merge the run held by every source (a store or an export) into `out` (a store, created or added to, or
    an export when its name ends in .jsonl.gz). Returns counts: units taken, duplicates skipped, sources."""
    if not sources:
        raise MergeError("bench merge: name at least one store or export to merge")
    out = Path(out)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-merge-")))
        pieces = [(path, *_open_piece(Path(path), scratch, i, stack)) for i, path in enumerate(sources)]
        run_id, config = _one_run(pieces)
        target_path = scratch / "merged.sqlite" if is_export(out) else out
        if target_path == out and out.exists():
            existing = Store(out, create=False)
            stack.callback(existing.close)
            if existing.runs():
                pieces.insert(0, (out, existing, existing.runs()[0]["run_id"]))
                run_id, config = _one_run(pieces)
            target = existing
        else:
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target = Store(target_path)
            stack.callback(target.close)
        counts = _copy(pieces, target, run_id, config)
        if is_export(out):
            export_run(target, run_id, out)
    return {**counts, "run_id": run_id, "out": str(out)}


def _open_piece(path: Path, scratch: Path, index: int, stack: ExitStack) -> tuple[Store, str]:
    """A source as an open store and its one run id; an export is loaded into a scratch store."""
    if not path.exists():
        raise MergeError(f"{path}: no such store or export")
    # A run folder's store is fuller than its export (splits, predictions): take the store when both are there.
    if is_export(path) or path.is_dir() and not (path / "results.sqlite").exists() and (path / EXPORT_NAME).exists():
        export = path / EXPORT_NAME if path.is_dir() else path
        store = Store(scratch / f"piece-{index}.sqlite")
        stack.callback(store.close)
        return store, import_export(export, store)
    if path.is_dir():
        path = path / "results.sqlite"
    store = Store(path, create=False)
    stack.callback(store.close)
    runs = store.runs()
    if len(runs) != 1:
        raise MergeError(f"{path}: holds {len(runs)} runs; merge takes stores of one run each "
                         f"({', '.join(r['run_id'] for r in runs) or 'none'})")
    return store, runs[0]["run_id"]


def _one_run(pieces: list[tuple[Path, Store, str]]) -> tuple[str, dict]:
    """The run every piece holds, or a MergeError naming the pieces and the asked fields that differ."""
    first_path, first_store, run_id = pieces[0]
    config = first_store.run(run_id)["config"]
    for path, store, other in pieces[1:]:
        if other == run_id:
            continue
        theirs = store.run(other)["config"]
        differ = [f"{key}: {config.get(key)!r} vs {theirs.get(key)!r}" for key in ASKED
                  if config.get(key) != theirs.get(key)]
        raise MergeError(f"{first_path} and {path} hold different runs ({run_id} and {other}): they differ in "
                         + ("; ".join(differ) if differ else "what their datasets hold (same fields, other data)")
                         + ". Merge only the shards and sittings of one run.")
    return run_id, config


def _copy(pieces: list[tuple[Path, Store, str]], target: Store, run_id: str, config: dict) -> dict:
    """Copy every piece's units (with trials, predictions, ensembles), splits and sittings into `target`."""
    target.ensure_run(run_id, config)
    taken = {u["unit_key"]: u["status"] for u in target.units(run_id)}
    seen_sittings = {(s["started"], s["workers"]) for s in target.sittings(run_id)}
    counts = {"units": 0, "duplicates": 0, "sources": len(pieces)}
    for path, store, _ in pieces:
        if store is target:
            continue
        trials = defaultdict(list)
        for trial in store.trials(run_id):
            trials[trial["unit_key"]].append(trial)
        ensembles = {e["unit_key"]: e for e in store.ensembles(run_id)}
        for unit in store.units(run_id):
            key = unit["unit_key"]
            if key in taken and (taken[key] == "done" or unit["status"] != "done"):
                counts["duplicates"] += 1
                continue
            blobs = store.prediction_blobs(key)
            rows = [t | {"predictions": blobs.get(t["number"], {})} for t in trials[key]]
            target.record_unit(run_id, unit, rows, ensembles.get(key))
            taken[key] = unit["status"]
            counts["units"] += 1
        for part in store.split_parts(run_id):
            split = store.load_split(run_id, part["dataset"], part["fold"], part["train_size"])
            target.save_split(run_id, part["dataset"], part["fold"], split["train"], split["valid"], split["test"],
                              train_size=part["train_size"])
        new = [s for s in store.sittings(run_id) if (s["started"], s["workers"]) not in seen_sittings]
        target.record_sittings(run_id, new)
        seen_sittings |= {(s["started"], s["workers"]) for s in new}
    return counts
