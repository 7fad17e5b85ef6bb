"""The smoke suite through the real CLI on a real Dask LocalCluster, then a resume."""
import io
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

LEADERBOARD_FIELDS = {"suite", "budget", "folds", "models", "results", "timing", "environment"}
RESULT_FIELDS = {"dataset", "modality", "task", "metric", "n_train", "model", "family", "score", "ci_low",
                 "ci_high", "folds_done", "status"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, cache_dir):
    out = tmp_path_factory.mktemp("smoke")
    command = [sys.executable, "-m", "bench", "run", "--suite", "smoke", "--workers", "2", "--out", str(out),
               "--cache", str(cache_dir), "--no-progress"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    board = json.loads((out / "leaderboard.json").read_text())
    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    return out, first, second, board


def test_smoke_writes_a_complete_leaderboard(smoke_run):
    out, first, _, board = smoke_run
    assert LEADERBOARD_FIELDS <= set(board)
    assert board["budget"] == {"trials": 2, "seconds": None}
    assert board["folds"] == 2
    assert {m["name"] for m in board["models"]} == {"lightgbm", "linear", "mlp", "cnn"}
    for model in board["models"]:
        assert {"name", "family", "mean_rank", "mean_normalized_score", "n_datasets"} <= set(model)
    modalities = {r["modality"] for r in board["results"]}
    assert modalities == {"tabular", "image", "sequence"}
    for row in board["results"]:
        assert RESULT_FIELDS <= set(row)
        assert row["status"] == "ok", row
        assert row["folds_done"] == 2
        assert row["ci_low"] <= row["score"] <= row["ci_high"]
    assert not any(r["model"] == "cnn" and r["modality"] == "tabular" for r in board["results"])
    timing = board["timing"]
    assert timing["wall_s"] > 0 and 0 < timing["model_s"]
    env = board["environment"]
    assert env["cores"] >= 1 and "torch" in env["packages"] and "git_revision" in env
    markdown = (out / "leaderboard.md").read_text()
    assert "# Leaderboard: suite `smoke`" in markdown and "| mnist1d |" in markdown
    assert "lightgbm" in first.stdout


def test_store_holds_every_trial_and_the_splits(smoke_run):
    out, _, _, board = smoke_run
    db = sqlite3.connect(out / "results.sqlite")
    units = db.execute("SELECT COUNT(*) FROM units WHERE status = 'done'").fetchone()[0]
    assert units == len(board["results"]) * 2
    per_unit = db.execute("SELECT unit_key, COUNT(*) FROM trials GROUP BY unit_key").fetchall()
    assert len(per_unit) == units and all(count == 2 for _, count in per_unit)
    n_splits = db.execute("SELECT COUNT(*) FROM splits").fetchone()[0]
    assert n_splits == len(board["datasets"]) * 2
    sittings = db.execute("SELECT COUNT(*) FROM sittings").fetchone()[0]
    assert sittings == 2


def test_rerun_resumes_and_repeats_nothing(smoke_run):
    out, _, second, board = smoke_run
    assert second.returncode == 0, second.stderr[-3000:]
    assert "ran 0 unit(s)" in second.stderr
    again = json.loads((out / "leaderboard.json").read_text())
    assert [(r["dataset"], r["model"], r["score"]) for r in again["results"]] == [
        (r["dataset"], r["model"], r["score"]) for r in board["results"]]


def test_report_rebuilds_from_the_store(smoke_run, tmp_path):
    out, _, _, board = smoke_run
    result = subprocess.run([sys.executable, "-m", "bench", "report", "--store", str(out / "results.sqlite"),
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rebuilt = json.loads((tmp_path / "leaderboard.json").read_text())
    assert rebuilt["results"] == json.loads((out / "leaderboard.json").read_text())["results"]


def test_training_sizes_give_learning_curves(tmp_path, cache_dir):
    """Each size is its own unit on a nested subset; sizes above what a dataset holds are skipped."""
    out = tmp_path / "curves"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--datasets", "wine,breast_cancer", "--models", "linear",
         "--trials", "1", "--train-sizes", "30,100,300", "--workers", "0", "--out", str(out), "--no-progress",
         "--cache", str(cache_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    board = json.loads((out / "leaderboard.json").read_text())
    sizes = {(r["dataset"], r["train_size"]) for r in board["learning_curve"]}
    # wine's inner train part holds 113 rows: 300 is skipped there
    assert sizes == {("wine", 30), ("wine", 100), ("breast_cancer", 30), ("breast_cancer", 100),
                     ("breast_cancer", 300)}
    assert {(r["dataset"], r["train_size"]) for r in board["results"]} == {("wine", 100), ("breast_cancer", 300)}
    db = sqlite3.connect(out / "results.sqlite")
    train = {size: set(np.load(io.BytesIO(blob)).tolist()) for size, blob in db.execute(
        "SELECT train_size, train FROM splits WHERE dataset = 'breast_cancer'")}
    assert train[30] < train[100] < train[300]
