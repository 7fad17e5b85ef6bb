"""A compact, committable export of a run: runs, sittings, units and trials as gzipped JSON lines.

The SQLite store is a working file; the export is what a repository keeps
(reports/standard/results.jsonl.gz). Split indices are left out: they are
reproducible from the seed, and they are most of the store's bytes.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same run exports to the same bytes, so a re-export shows no diff.
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode())
    return path


def import_export(path: Path, store: Store) -> str:
    """Load an export into a store; returns its run id."""
    try:
        with gzip.open(path, "rt") as handle:
            records = [json.loads(line) for line in handle]
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise StoreError(f"{path}: not a results export ({error})") from None
    runs = [r for r in records if r.get("kind") == "run"]
    if len(runs) != 1:
        raise StoreError(f"{path}: not a results export (expected one run, found {len(runs)})")
    run_id = runs[0]["run_id"]
    store.ensure_run(run_id, runs[0]["config"])
    store.record_sittings(run_id, [r for r in records if r["kind"] == "sitting"])
    trials_by_unit: dict[str, list] = {}
    for t in (r for r in records if r["kind"] == "trial"):
        trials_by_unit.setdefault(t["unit_key"], []).append(t)
    for unit in (r for r in records if r["kind"] == "unit"):
        store.record_unit(run_id, unit, trials_by_unit.get(unit["unit_key"], []))
    return run_id
