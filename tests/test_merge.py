"""Studies in sittings and shards (bench/merge.py, bench/runner.py shard_units, bench/cost_model.py): real runs
of the real CLI into real stores, split into shards, merged back, and compared with the unsharded run."""
import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cost_model import UnitShape, fit, stored_samples, wall_seconds
from bench.export import export_run
from bench.merge import MergeError, merge
from bench.runner import shard_units
from bench.store import Store

RUN = ("run", "--datasets", "wine,diabetes", "--models", "linear,lightgbm", "--trials", "2", "--folds", "2",
       "--max-train", "100", "--workers", "0", "--no-progress")


def bench(*args):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, timeout=300)


def unit_keys(path: Path) -> set[str]:
    store = Store(path, create=False)
    try:
        return {u["unit_key"] for run in store.runs() for u in store.units(run["run_id"])}
    finally:
        store.close()


def scores(folder: Path) -> dict:
    board = json.loads((folder / "leaderboard.json").read_text())
    return {(r["dataset"], r["model"]): [f["score"] for f in r["folds"]] for r in board["results"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same run whole and in two shards."""
    root = tmp_path_factory.mktemp("shards")
    for name, extra in (("whole", ()), ("s1", ("--shard", "1/2")), ("s2", ("--shard", "2/2"))):
        result = bench(*RUN, *extra, "--out", str(root / name))
        assert result.returncode == 0, result.stderr[-3000:]
    return root


def test_shards_split_the_units_and_merge_back_into_the_whole_run(runs, tmp_path):
    whole, first, second = (unit_keys(runs / n / "results.sqlite") for n in ("whole", "s1", "s2"))
    assert first and second and not first & second and first | second == whole
    merged = tmp_path / "merged"
    result = bench("merge", str(runs / "s1" / "results.sqlite"), str(runs / "s2"), "--out",
                   str(merged / "results.sqlite"))
    assert result.returncode == 0 and f"{len(whole)} unit(s) added" in result.stdout, result.stderr
    report = bench("report", "--store", str(merged / "results.sqlite"), "--out", str(merged))
    assert report.returncode == 0, report.stderr[-3000:]
    assert scores(merged) == scores(runs / "whole")
    sittings = json.loads((merged / "leaderboard.json").read_text())["provenance"]["sittings"]
    assert sorted(s["shard"] for s in sittings) == ["1/2", "2/2"]


def test_a_shard_resumes_only_its_own_units(runs):
    again = bench(*RUN, "--shard", "1/2", "--out", str(runs / "s1"))
    assert again.returncode == 0 and "ran 0 unit(s)" in again.stderr and "skipped" in again.stderr


def test_merging_twice_or_into_an_export_keeps_each_unit_once(runs, tmp_path):
    out = tmp_path / "merged.jsonl.gz"
    counts = merge([runs / "s1" / "results.sqlite", runs / "whole" / "results.sqlite"], out)
    assert counts["units"] == len(unit_keys(runs / "whole" / "results.sqlite"))
    assert counts["duplicates"] == len(unit_keys(runs / "s1" / "results.sqlite"))
    with gzip.open(out, "rt") as handle:
        kinds = [json.loads(line)["kind"] for line in handle]
    assert kinds.count("unit") == counts["units"] and kinds.count("run") == 1
    again = merge([out, runs / "s2" / "results.sqlite"], tmp_path / "again.sqlite")
    assert again["units"] == counts["units"] and again["duplicates"] == len(unit_keys(runs / "s2" / "results.sqlite"))


def test_runs_that_differ_in_what_was_asked_are_refused(runs, tmp_path):
    other = tmp_path / "other"
    result = bench(*RUN[:-5], "--seed", "1", "--max-train", "100", "--workers", "0", "--no-progress", "--out",
                   str(other))
    assert result.returncode == 0, result.stderr[-3000:]
    with pytest.raises(MergeError, match="seed: 0 vs 1"):
        merge([runs / "whole" / "results.sqlite", other / "results.sqlite"], tmp_path / "merged.sqlite")
    refused = bench("merge", str(runs / "whole"), str(other), "--out", str(tmp_path / "m.sqlite"))
    assert refused.returncode == 2 and "differ in" in refused.stderr and "Traceback" not in refused.stderr
    missing = bench("merge", str(tmp_path / "nowhere.sqlite"), "--out", str(tmp_path / "m2.sqlite"))
    assert missing.returncode == 2 and "no such store or export" in missing.stderr


def test_bad_shards_are_one_clear_line():
    for shard, message in (("3/2", "between 1 and N"), ("two", "write it as I/N")):
        result = bench(*RUN, "--shard", shard, "--out", "unused")
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_dry_run_lists_the_units_and_an_estimate_and_writes_nothing(runs, tmp_path):
    out = tmp_path / "dry"
    result = bench(*RUN, "--dry-run", "--out", str(out), "--cost-from", str(runs / "whole"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "0 of" not in result.stdout.splitlines()[0] and "nothing was run or written" in result.stdout
    assert "estimate:" in result.stdout and "wine" in result.stdout
    assert not out.exists()
    # On a finished run's store it has nothing left to run.
    done = bench(*RUN, "--dry-run", "--out", str(runs / "whole"))
    assert done.returncode == 0 and "dry run of" in done.stdout and ": 0 of" in done.stdout


def test_the_cost_model_reads_a_store_and_its_export_alike(runs, tmp_path):
    # Exports are read line by line, stores through SQLite: the samples must not depend on which.
    store = Store(runs / "whole" / "results.sqlite", create=False)
    try:
        export = export_run(store, store.runs()[0]["run_id"], tmp_path / "results.jsonl.gz")
    finally:
        store.close()
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip")
    from_store, used_store = stored_samples([runs / "whole"])
    from_export, used_export = stored_samples([export, broken, tmp_path / "missing"])
    assert len(from_store) == 8 and sorted(map(repr, from_store)) == sorted(map(repr, from_export))
    assert used_store == [str(runs / "whole" / "results.sqlite")] and used_export == [str(export)]


def test_shards_are_balanced_deterministic_and_complete():
    rng = np.random.default_rng(0)
    tasks = [f"unit{i}" for i in range(50)]
    costs = sorted(rng.lognormal(0, 1, 50).tolist(), reverse=True)
    shares = [shard_units(tasks, costs, i, 3) for i in (1, 2, 3)]
    assert sorted(sum(shares, [])) == sorted(tasks)
    assert shares == [shard_units(tasks, costs, i, 3) for i in (1, 2, 3)]
    loads = [sum(costs[tasks.index(t)] for t in share) for share in shares]
    assert max(loads) - min(loads) <= max(costs)  # greedy LPT: within one unit of each other


def test_the_cost_model_recovers_how_time_grows_with_rows():
    rng = np.random.default_rng(1)
    samples = []
    for _ in range(60):
        rows, features = int(rng.integers(100, 10_000)), int(rng.integers(5, 100))
        seconds = 1e-4 * rows * features ** 0.5 * float(np.exp(0.05 * rng.standard_normal()))
        samples.append((UnitShape("mlp", "deep", rows, features, 2, 3, None), seconds))
    model = fit(samples)
    assert model.family_slopes["deep"][0] == pytest.approx(1.0, abs=0.1)
    shape = UnitShape("mlp", "deep", 1000, 16, 2, 10, None)
    assert model.unit_seconds(shape) == pytest.approx(10 * 1e-4 * 1000 * 4, rel=0.2)
    assert model.unit_seconds(UnitShape("mlp", "deep", 1000, 16, 2, 10, 1.0)) == 1.0  # the budget's seconds cap it
    model.unit_seconds(UnitShape("tabm", "deep", 1000, 16, 2, 1, None))
    assert model.unseen == {"tabm"}
    assert fit(samples[:3]) is None
    assert wall_seconds([4, 3, 3, 2], 2) == 6 and wall_seconds([5], 4) == 5


def test_hours_left_scale_the_estimate_by_how_far_off_it_was_so_far():
    from bench.estimate import hours_left

    # The units done were estimated at 100 s and took 150: the 7,200 s estimated for the rest become 3 h on
    # 2 workers; before any unit is done the estimate stands as it is.
    assert hours_left({"units": 4, "estimated_unit_s": 100.0, "unit_s": 150.0}, 7200.0, 2) == pytest.approx(1.5)
    assert hours_left({"units": 0, "estimated_unit_s": 0.0, "unit_s": 0.0}, 7200.0, 2) == pytest.approx(1.0)


def test_a_sitting_stopped_early_is_compared_on_the_units_it_finished():
    from bench.report.provenance import _estimate_text

    estimate = {"units": 2335, "unit_s": 65000.0, "wall_s": 32500.0}
    stopped = {"wall_s": 8000.0, "estimate": estimate,
               "progress": {"units": 300, "estimated_unit_s": 12000.0, "unit_s": 15000.0}}
    text = _estimate_text(stopped)
    assert "finished 300 of them" in text and "1.25x the estimate" in text and "took 8000" not in text
    whole = {"wall_s": 130.0, "estimate": {"units": 40, "unit_s": 200.0, "wall_s": 100.0},
             "progress": {"units": 40, "estimated_unit_s": 200.0, "unit_s": 250.0}}
    assert _estimate_text(whole) == ", estimated 100 s for 40 unit(s), took 130 s (1.30x the estimate)"
    assert _estimate_text({"wall_s": None, "estimate": estimate}) == ", estimated 32500 s for 2335 unit(s)"
