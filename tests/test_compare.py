import json
import os
import subprocess
import sys
from pathlib import Path

import math

import numpy as np
import pytest
from scipy import stats as sps

from bench.compare import CompareError, compare, load_leaderboard

TESTS = str(Path(__file__).parent)


def board(*cells, seed=0):
    """A leaderboard of (dataset, model, per-fold scores) cells, each with a naive interval as old ones had."""
    results = []
    for dataset, model, folds in cells:
        score = sum(folds) / len(folds)
        results.append({"dataset": dataset, "model": model, "score": score, "ci_low": score - 0.5,
                        "ci_high": score + 0.5, "status": "ok",
                        "folds": [{"fold": i, "trial": 0, "score": s, "imputed": None} for i, s in enumerate(folds)]})
    return {"seed": seed, "folds": len(cells[0][2]) if cells else 0, "results": results}


BASE = board(("magic", "mlp", [0.85, 0.87]), ("magic", "lightgbm", [0.87, 0.89]), ("wine", "mlp", [0.94, 0.96]))


def verdicts(changes):
    return {(c.dataset, c.model): c.verdict for c in changes}


def test_no_change_passes():
    changes = compare(BASE, BASE)
    assert set(verdicts(changes).values()) == {"ok"} and not any(c.is_regression for c in changes)
    assert {c.noise for c in changes} == {"none: deterministic"} and {c.folds for c in changes} == {2}


def test_a_drop_inside_the_tolerance_passes():
    current = board(("magic", "mlp", [0.846, 0.866]), ("magic", "lightgbm", [0.87, 0.89]),
                    ("wine", "mlp", [0.94, 0.96]))
    assert verdicts(compare(BASE, current))[("magic", "mlp")] == "ok"  # -0.004 against a band of 0.005


def test_a_small_drop_is_caught_fold_by_fold_where_the_fold_intervals_hid_it():
    """Old: the band was the two fold intervals combined (here 0.71 wide), so no drop could ever be caught;
    on the same folds and seed a deterministic model reproduces its scores, so the band is the tolerance."""
    base = board(("diabetes", "linear", [0.41, 0.55]))
    current = board(("diabetes", "linear", [0.40, 0.54]))
    change = compare(base, current)[0]
    assert change.verdict == "regressed" and change.delta == pytest.approx(-0.01) and change.band == 0.005


def test_a_drop_outside_the_band_fails_with_that_row_first():
    current = board(("magic", "mlp", [0.79, 0.81]), ("magic", "lightgbm", [0.862, 0.882]),
                    ("wine", "mlp", [0.94, 0.96]))
    changes = compare(BASE, current)
    assert (changes[0].dataset, changes[0].model, changes[0].verdict) == ("magic", "mlp", "regressed")
    assert changes[0].delta == pytest.approx(-0.06)
    assert verdicts(changes)[("magic", "lightgbm")] == "regressed"  # -0.008 beyond the tolerance 0.005
    assert verdicts(compare(BASE, current, tolerance=0.01))[("magic", "lightgbm")] == "ok"


def test_the_band_grows_with_the_baselines_seed_to_seed_variation(tmp_path):
    folder = tmp_path / "baseline"
    (folder / "replicates" / "seed1").mkdir(parents=True)
    (folder / "leaderboard.json").write_text(json.dumps(board(("magic", "mlp", [0.85, 0.87]))))
    (folder / "replicates" / "seed1" / "leaderboard.json").write_text(
        json.dumps(board(("magic", "mlp", [0.83, 0.85]), seed=1)))
    (folder / "replicates" / "seed2.json").write_text(json.dumps(board(("magic", "mlp", [0.86, 0.88]), seed=2)))
    baseline = load_leaderboard(folder)
    assert len(baseline["replicates"]) == 2
    current = board(("magic", "mlp", [0.84, 0.86]))
    change = compare(baseline, current)[0]
    s = np.std([0.86, 0.84, 0.87], ddof=1)
    assert change.band == pytest.approx(sps.t.ppf(0.975, 2) * s * math.sqrt(2) + 0.005)
    assert change.verdict == "ok" and change.noise == "seed-to-seed over 3 baseline runs"
    assert compare(load_leaderboard(folder / "leaderboard.json"), current)[0].verdict == "ok"


def test_runs_on_other_folds_or_seeds_are_not_compared():
    with pytest.raises(CompareError, match="same folds and seed"):
        compare(BASE, board(("magic", "mlp", [0.85, 0.87]), seed=1))


def test_a_missing_cell_or_failed_fold_is_reported_not_ignored():
    current = board(("magic", "mlp", [0.85, 0.87]), ("magic", "lightgbm", [0.87, 0.89]))
    changes = compare(BASE, current)
    assert verdicts(changes)[("wine", "mlp")] == "missing" and changes[0].is_regression
    failed = board(("magic", "mlp", [0.85, 0.5]), ("magic", "lightgbm", [0.87, 0.89]), ("wine", "mlp", [0.94, 0.96]))
    failed["results"][0]["folds"][1]["imputed"] = "failed"  # imputed with the constant predictor's score
    assert verdicts(compare(BASE, failed))[("magic", "mlp")] == "failed"


def test_old_leaderboards_without_fold_scores_use_their_intervals():
    old = {"results": [{"dataset": "magic", "model": "mlp", "score": 0.86, "ci_low": 0.85, "ci_high": 0.87}]}
    new = {"results": [{"dataset": "magic", "model": "mlp", "score": 0.85, "ci_low": 0.84, "ci_high": 0.86}]}
    change = compare(old, new)[0]
    assert change.verdict == "ok" and change.band == pytest.approx(math.hypot(0.01, 0.01) + 0.005)


def test_guards_select_cells():
    current = board(("magic", "mlp", [0.50, 0.50]), ("magic", "lightgbm", [0.87, 0.89]),
                    ("wine", "mlp", [0.94, 0.96]))
    assert not any(c.is_regression for c in compare(BASE, current, models={"lightgbm"}))
    assert any(c.is_regression for c in compare(BASE, current, datasets={"magic"}))


def test_bad_files_are_refused(tmp_path):
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"models": []}))
    for name, message in [("absent.json", "no such file"), ("junk.json", "not a leaderboard.json"),
                          ("other.json", "no 'results' list")]:
        with pytest.raises(CompareError, match=message):
            load_leaderboard(tmp_path / name)


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_cli_exit_codes(tmp_path):
    base, good, bad = tmp_path / "base.json", tmp_path / "good.json", tmp_path / "bad.json"
    base.write_text(json.dumps(BASE))
    good.write_text(json.dumps(BASE))
    bad.write_text(json.dumps(board(("magic", "mlp", [0.70, 0.70]))))
    assert run_cli("compare", str(base), str(good)).returncode == 0
    failed = run_cli("compare", str(base), str(bad))
    assert failed.returncode == 1 and "magic/mlp (regressed)" in failed.stderr and "wine/mlp (missing)" in failed.stderr
    broken = run_cli("compare", str(base), str(tmp_path / "absent.json"))
    assert broken.returncode == 2 and "no such file" in broken.stderr and "Traceback" not in broken.stderr


def test_the_ci_recipe_catches_a_broken_model_and_passes_an_untouched_one(tmp_path, cache_dir):
    """The README's recipe, with a model whose regularisation a bad commit forced absurd."""
    args = ["--datasets", "wine,breast_cancer", "--models", "linear", "--trials", "1", "--folds", "3",
            "--workers", "0", "--no-progress"]
    env = {**os.environ, "BENCH_CACHE": str(cache_dir)}
    for name, extra in (("baseline", {}), ("untouched", {}),
                        ("broken", {"BENCH_MODEL_MODULES": "broken_models",
                                    "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))})):
        result = run_cli("run", *args, "--out", str(tmp_path / name), env={**env, **extra})
        assert result.returncode == 0, result.stderr[-2000:]
    assert run_cli("compare", str(tmp_path / "baseline"), str(tmp_path / "untouched")).returncode == 0
    caught = run_cli("compare", str(tmp_path / "baseline"), str(tmp_path / "broken"))
    assert caught.returncode == 1 and "(regressed)" in caught.stderr


def test_export_rebuilds_the_same_leaderboard(tmp_path, cache_dir):
    env = {**os.environ, "BENCH_CACHE": str(cache_dir)}
    out = tmp_path / "run"
    result = run_cli("run", "--datasets", "wine", "--models", "linear", "--trials", "2", "--folds", "2",
                     "--workers", "0", "--no-progress", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    exported = run_cli("export", "--store", str(out / "results.sqlite"), "--out", str(tmp_path / "e.jsonl.gz"))
    assert exported.returncode == 0, exported.stderr
    rebuilt = run_cli("report", "--export", str(tmp_path / "e.jsonl.gz"), "--out", str(tmp_path / "rebuilt"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    original = json.loads((out / "leaderboard.json").read_text())
    again = json.loads((tmp_path / "rebuilt" / "leaderboard.json").read_text())
    assert again == original
