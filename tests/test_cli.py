"""The CLI as a user meets it: list commands, and one clear line with exit code 2 on bad input."""
import json
import subprocess
import sys

import pytest


def bench(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.mark.parametrize("command", ["datasets", "models", "suites"])
def test_list_commands_print_json(command):
    result = bench(command, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and all("name" in row for row in rows)


def test_models_lists_every_family():
    rows = json.loads(bench("models", "--json").stdout)
    assert {"lightgbm", "linear", "mlp", "cnn"} <= {r["name"] for r in rows}
    assert {r["family"] for r in rows} >= {"deep", "tree", "classical"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--suite", "nope"], "unknown suite 'nope'; valid:"),
        (["run", "--datasets", "nope", "--models", "linear"], "unknown dataset 'nope'; valid:"),
        (["run", "--datasets", "wine", "--models", "nope"], "unknown model 'nope'; valid:"),
        (["run", "--suite", "smoke", "--trials", "0"], "--trials must be above 0"),
        (["run", "--suite", "smoke", "--seconds", "-5"], "--seconds must be above 0"),
        (["run", "--suite", "smoke", "--folds", "0"], "--folds must be at least 1"),
        (["run", "--datasets", "wine", "--models", "cnn"], "model 'cnn' supports none of the datasets"),
        (["run", "--suite", "smoke", "--workers", "1", "--threads", "999"], "--threads must be 1 to"),
        (["run", "--suite", "smoke", "--threads", "1", "--scheduler", "tcp://127.0.0.1:1"], "--threads is for local"),
    ],
)
def test_bad_run_input_is_one_clear_line(tmp_path, args, message):
    result = bench(*args, "--out", str(tmp_path / "out"), "--no-progress")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unreadable_store_is_refused(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 200)
    result = bench("report", "--store", str(junk))
    assert result.returncode == 2 and "not a readable results store" in result.stderr
    assert "Traceback" not in result.stderr
    missing = bench("report", "--store", str(tmp_path / "absent.sqlite"))
    assert missing.returncode == 2 and "no results store" in missing.stderr


def test_help_for_every_command():
    for command in ("run", "report", "datasets", "models", "suites"):
        result = bench(command, "--help")
        assert result.returncode == 0 and "usage: bench" in result.stdout


def write_own_csv(path):
    """A user's file: text columns, missing values and an ID column, from real data (wine)."""
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True).frame
    data.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(data))])
    data["region"] = ["north" if i % 3 else "south" for i in range(len(data))]
    data.loc[::7, "alcohol"] = None
    data["target"] = data["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    data.to_csv(path, index=False)


def test_own_csv_runs_through_and_appears_in_the_leaderboard(tmp_path):
    csv = tmp_path / "my wines.csv"
    write_own_csv(csv)
    out = tmp_path / "out"
    result = bench("run", "--datasets", str(csv), "--target", "target", "--models", "linear,lightgbm",
                   "--trials", "2", "--workers", "0", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    # A custom run says what it inherits from the default suite (quick: one fold, 2,000 training rows).
    first = result.stderr.splitlines()[0]
    assert "training rows capped at 2,000 (folds, cap from suite quick)" in first
    board = json.loads((out / "leaderboard.json").read_text())
    rows = {r["model"]: r for r in board["results"]}
    assert set(rows) == {"linear", "lightgbm"} and all(r["dataset"] == "my wines" for r in rows.values())
    # Multiclass tasks are scored by log loss, negated so that higher is better (bench/metrics.py).
    assert all(r["task"] == "multiclass" and r["metric"] == "log_loss" and r["status"] == "ok"
               and -0.5 < r["score"] < 0 for r in rows.values())
    info = board["datasets"]["my wines"]
    assert any("customer_id" in note for note in info["notes"])  # the ID column was dropped, with a note


@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("a,b,target\n", "header only, no data rows"),
])
def test_bad_own_files_are_one_line_and_write_nothing(tmp_path, content, message):
    csv = tmp_path / "bad.csv"
    csv.write_text(content)
    out = tmp_path / "out"
    result = bench("run", "--datasets", str(csv), "--target", "target", "--models", "linear", "--out", str(out))
    assert result.returncode == 2 and str(csv) in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_file_without_target_flag_is_refused(tmp_path):
    csv = tmp_path / "mine.csv"
    write_own_csv(csv)
    result = bench("run", "--datasets", str(csv), "--models", "linear", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "needs --target COLUMN" in result.stderr


def test_max_train_zero_means_no_cap(tmp_path):
    result = bench("run", "--datasets", "wine", "--models", "linear", "--trials", "1", "--max-train", "0",
                   "--workers", "0", "--out", str(tmp_path / "out"), "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no cap on training rows" in result.stderr.splitlines()[0]
    board = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert board["max_train"] is None
