import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.compare import CompareError, compare, load_leaderboard

TESTS = str(Path(__file__).parent)


def board(*cells):
    return {"results": [{"dataset": d, "model": m, "score": s, "ci_low": None if hw is None else s - hw,
                         "ci_high": None if hw is None else s + hw} for d, m, s, hw in cells]}


BASE = board(("magic", "mlp", 0.86, 0.01), ("magic", "lightgbm", 0.88, 0.01), ("wine", "mlp", 0.95, 0.02))


def verdicts(changes):
    return {(c.dataset, c.model): c.verdict for c in changes}


def test_no_change_passes():
    changes = compare(BASE, BASE)
    assert set(verdicts(changes).values()) == {"ok"} and not any(c.is_regression for c in changes)


def test_a_drop_inside_the_band_passes():
    current = board(("magic", "mlp", 0.85, 0.01), ("magic", "lightgbm", 0.88, 0.01), ("wine", "mlp", 0.95, 0.02))
    assert verdicts(compare(BASE, current))[("magic", "mlp")] == "ok"  # band = hypot(.01, .01) + .005 = .019


def test_a_drop_outside_the_band_fails_with_that_row_first():
    current = board(("magic", "mlp", 0.80, 0.01), ("magic", "lightgbm", 0.87, 0.01), ("wine", "mlp", 0.95, 0.02))
    changes = compare(BASE, current)
    assert (changes[0].dataset, changes[0].model, changes[0].verdict) == ("magic", "mlp", "regressed")
    assert changes[0].delta == pytest.approx(-0.06)
    assert verdicts(changes)[("magic", "lightgbm")] == "ok"


def test_a_missing_cell_is_reported_not_ignored():
    current = board(("magic", "mlp", 0.86, 0.01), ("magic", "lightgbm", 0.88, 0.01))
    changes = compare(BASE, current)
    assert verdicts(changes)[("wine", "mlp")] == "missing" and changes[0].is_regression


def test_guards_select_cells():
    current = board(("magic", "mlp", 0.50, 0.01), ("magic", "lightgbm", 0.88, 0.01), ("wine", "mlp", 0.95, 0.02))
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
    bad.write_text(json.dumps(board(("magic", "mlp", 0.70, 0.01))))
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
