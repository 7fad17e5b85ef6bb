"""Faults, kill-and-resume, concurrent runs and an external Dask cluster, through the real CLI."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = str(Path(__file__).parent)


def bench_command(out, *args):
    return [sys.executable, "-m", "bench", "run", "--out", str(out), "--no-progress", *args]


@pytest.fixture
def env(cache_dir):
    """Environment of a CLI run that can see the fault models in tests/fault_models.py."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")])),
            "BENCH_MODEL_MODULES": "fault_models", "BENCH_CACHE": str(cache_dir)}


def scores(out):
    board = json.loads((Path(out) / "leaderboard.json").read_text())
    return {(r["dataset"], r["model"]): (r["score"], r["status"]) for r in board["results"]}, board


def done_units(store):
    if not Path(store).exists():
        return 0
    try:
        return sqlite3.connect(store).execute("SELECT COUNT(*) FROM units").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_every_fault_is_recorded_and_the_run_goes_on(tmp_path, env):
    models = "fault_raises,fault_nan,fault_hangs,fault_hog,fault_aborts,prior,linear"
    result = subprocess.run(
        bench_command(tmp_path, "--datasets", "wine", "--models", models, "--trials", "2", "--workers", "2",
                      "--unit-timeout", "8", "--unit-memory", "6"),
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    table, board = scores(tmp_path)
    statuses = {f["model"]: f["status"] for f in board["failures"]}
    assert statuses == {"fault_raises": "failed", "fault_nan": "nan", "fault_hangs": "timeout",
                        "fault_hog": "oom", "fault_aborts": "crashed"}
    assert all(f["error"] for f in board["failures"])
    assert table[("wine", "prior")][1] == "ok" and table[("wine", "linear")][1] == "ok"
    # A failed cell is scored as the constant predictor and flagged, never as the model's own score.
    row = next(r for r in board["results"] if (r["dataset"], r["model"]) == ("wine", "fault_aborts"))
    assert row["status"] == "failed" and row["imputed"] and row["score_ran"] is None
    assert row["score"] == pytest.approx(row["baseline_score"])
    markdown = (tmp_path / "leaderboard.md").read_text()
    assert "Failures" in markdown and "SIGABRT" in markdown


@pytest.mark.parametrize("workers, threads_arg", [(2, None), (1, "1")])
def test_a_unit_sees_its_threads_and_a_unit_friendly_environment(tmp_path, env, workers, threads_arg):
    """With K workers on this machine's cores, each unit gets cores // K threads, or --threads;
    the OpenMP spin limit is set; Dask's worker memory-trim setting is not inherited; torch is
    not imported by a run of models that do not use it."""
    from bench.threads import cores

    probe = tmp_path / "probe.json"
    args = ("--datasets", "wine", "--models", "probe", "--trials", "1", "--workers", str(workers))
    result = subprocess.run(bench_command(tmp_path, *args, *(["--threads", threads_arg] if threads_arg else [])),
                            capture_output=True, text=True, env={**env, "BENCH_PROBE_FILE": str(probe)}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(probe.read_text())
    threads = threads_arg or str(max(1, cores() // workers))
    assert seen["ctx_threads"] == int(threads)
    assert seen["env"] == {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
                           "GOMP_SPINCOUNT": "1000", "MALLOC_TRIM_THRESHOLD_": None}
    assert seen["torch_imported"] is False


def test_kill_minus_nine_then_resume_keeps_every_unit_once(tmp_path, env):
    args = ("--datasets", "wine,breast_cancer", "--models", "linear,lightgbm", "--trials", "2",
            "--folds", "3", "--workers", "1")
    reference = subprocess.run(bench_command(tmp_path / "reference", *args), capture_output=True, text=True,
                               env=env, timeout=600)
    assert reference.returncode == 0, reference.stderr[-3000:]

    out = tmp_path / "killed"
    store = out / "results.sqlite"
    driver = subprocess.Popen(bench_command(out, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    deadline = time.monotonic() + 300
    while done_units(store) < 2 and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.05)
    assert driver.poll() is None, "the run finished before it could be killed"
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    killed_at = done_units(store)
    assert 2 <= killed_at < 12

    resumed = subprocess.run(bench_command(out, *args), capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"skipped {killed_at} finished" in resumed.stderr
    db = sqlite3.connect(store)
    assert db.execute("SELECT COUNT(*) FROM units").fetchone()[0] == 12
    per_unit = db.execute("SELECT COUNT(*) FROM trials GROUP BY unit_key").fetchall()
    assert len(per_unit) == 12 and {count for (count,) in per_unit} == {2}
    assert scores(out)[0] == scores(tmp_path / "reference")[0]


def test_sigterm_ends_the_sitting_like_ctrl_c_and_records_how_far_off_the_estimate_was(tmp_path, env):
    """A job scheduler or the end of a working session stops a run with SIGTERM: the finished units stay, the
    sitting records its end and its progress against the cost model's estimate, and no unit outlives it."""
    pid_file = tmp_path / "hang.pid"
    args = ("--datasets", "wine,breast_cancer", "--models", "linear,fault_hangs", "--trials", "1", "--workers", "1",
            "--unit-timeout", "15")
    out = tmp_path / "run"
    driver = subprocess.Popen(bench_command(out, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, env={**env, "BENCH_HANG_PID_FILE": str(pid_file)})
    deadline = time.monotonic() + 120
    while not (done_units(out / "results.sqlite") >= 1 and pid_file.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert driver.poll() is None and pid_file.exists(), "no unit finished and none hung within 120 s"
    driver.send_signal(signal.SIGTERM)
    _, stderr = driver.communicate(timeout=120)  # the exit waits for the hanging unit's 15 s timeout
    assert driver.returncode == 130 and "interrupted; rerun the same command to resume" in stderr
    assert "Traceback" not in stderr, stderr[-3000:]
    hung = int(pid_file.read_text())
    assert not Path(f"/proc/{hung}").exists() or Path(f"/proc/{hung}/stat").read_text().split()[2] == "Z", (
        f"the hanging unit (pid {hung}) outlived its run")
    (finished, environment), = sqlite3.connect(out / "results.sqlite").execute(
        "SELECT finished, environment FROM sittings").fetchall()
    progress = json.loads(environment)["progress"]
    assert finished is not None and progress["units"] == done_units(out / "results.sqlite") >= 1
    assert progress["estimated_unit_s"] > 0 and progress["unit_s"] > 0


def test_a_second_run_on_the_same_store_is_refused(tmp_path, env):
    args = ("--datasets", "wine", "--models", "fault_hangs", "--trials", "1", "--workers", "1",
            "--unit-timeout", "20")
    first = subprocess.Popen(bench_command(tmp_path, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env)
    lock = tmp_path / "results.sqlite.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(bench_command(tmp_path, *args), capture_output=True, text=True, env=env, timeout=120)
    first.kill()
    first.wait()
    assert second.returncode == 2
    assert f"in use by another bench run (pid {first.pid})" in second.stderr
    assert "Traceback" not in second.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_external_dask_cluster_gives_the_local_results(tmp_path, env):
    args = ("--datasets", "wine,breast_cancer", "--models", "linear,lightgbm", "--trials", "2", "--folds", "2")
    local = subprocess.run(bench_command(tmp_path / "local", *args, "--workers", "2"), capture_output=True,
                           text=True, env=env, timeout=600)
    assert local.returncode == 0, local.stderr[-3000:]

    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
                               "--nthreads", "1", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        remote = subprocess.run(bench_command(tmp_path / "remote", *args, "--scheduler", address),
                                capture_output=True, text=True, env=env, timeout=600)
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert scores(tmp_path / "remote")[0] == scores(tmp_path / "local")[0]


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, env):
    result = subprocess.run(bench_command(tmp_path, "--datasets", "wine", "--models", "linear", "--trials", "1",
                                          "--scheduler", f"tcp://127.0.0.1:{free_port()}"),
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert "cannot reach the Dask scheduler" in result.stderr and "Traceback" not in result.stderr
