"""Each fault a model can cause, injected through tests/fault_models.py, in a forked unit."""
import sys
from pathlib import Path

import pytest

from bench.data import catalogue, load
from bench.isolation import Limits, run_unit_isolated
from bench.splits import make_splits
from bench.tuning import Budget, UnitTask

TESTS = str(Path(__file__).parent)


@pytest.fixture(autouse=True)
def fault_models(monkeypatch):
    monkeypatch.syspath_prepend(TESTS)
    monkeypatch.setenv("BENCH_MODEL_MODULES", "fault_models")


def unit(model, cache_dir, trials=2):
    card = catalogue()["wine"]
    split = make_splits(load(card, cache_dir).y, card.task, folds=1, seed=0)[0]
    return UnitTask(unit_key=model, card=card, cache_dir=cache_dir, model=model, fold=0, train=split.train,
                    valid=split.valid, test=split.test, budget=Budget(trials=trials), seed=0)


def test_a_healthy_unit_returns_its_trials(cache_dir):
    result = run_unit_isolated(unit("prior", cache_dir), Limits(wall_s=60))
    assert result["unit"]["status"] == "done"
    assert [t["status"] for t in result["trials"]] == ["ok", "ok"]


@pytest.mark.parametrize("model, status, message", [
    ("fault_raises", "failed", "ValueError: this model always raises"),
    ("fault_nan", "nan", "NaN"),
])
def test_raising_and_nan_are_recorded_per_trial(cache_dir, model, status, message):
    result = run_unit_isolated(unit(model, cache_dir), Limits(wall_s=60))
    assert result["unit"]["status"] == status
    assert [t["status"] for t in result["trials"]] == [status, status]
    assert message in result["trials"][0]["error"]


def test_a_hang_is_killed_at_the_wall_clock_limit(cache_dir):
    result = run_unit_isolated(unit("fault_hangs", cache_dir), Limits(wall_s=3))
    assert result["unit"]["status"] == "timeout"
    assert "wall-clock limit of 3 s" in result["unit"]["error"]
    assert [t["status"] for t in result["trials"]] == ["timeout"]
    assert result["trials"][0]["params"] == {"x": 0.5}
    assert result["unit"]["wall_s"] < 10


def test_memory_past_the_limit_is_oom(cache_dir):
    result = run_unit_isolated(unit("fault_hog", cache_dir), Limits(memory_bytes=6 * 2**30, wall_s=60))
    assert result["unit"]["status"] == "oom"
    assert result["trials"][0]["status"] == "oom"


def test_an_aborting_process_is_crashed(cache_dir):
    result = run_unit_isolated(unit("fault_aborts", cache_dir), Limits(wall_s=60))
    assert result["unit"]["status"] == "crashed"
    assert "SIGABRT" in result["unit"]["error"]
    assert [t["status"] for t in result["trials"]] == ["crashed"]


def test_an_error_outside_any_trial_is_failed_with_its_message(cache_dir):
    task = unit("prior", cache_dir)
    task = UnitTask(**{**task.__dict__, "model": "no_such_model"})  # fails in the child, before any trial
    result = run_unit_isolated(task, Limits(wall_s=60))
    assert result["unit"]["status"] == "failed"
    assert "no_such_model" in result["unit"]["error"]
    assert result["trials"] == []


def test_warm_up_preloads_the_modules_asked_for(cache_dir):
    import multiprocessing.forkserver

    from bench.isolation import warm_up

    warm_up(["json"])
    assert multiprocessing.forkserver._forkserver._forkserver_pid is not None
    assert "json" in multiprocessing.forkserver._forkserver._preload_modules
    assert run_unit_isolated(unit("prior", cache_dir), Limits(wall_s=60))["unit"]["status"] == "done"


def test_the_fork_server_stops_with_the_executor_and_a_later_run_starts_a_new_one(cache_dir):
    import multiprocessing.forkserver
    import os
    import time

    from bench.executor import open_executor, run_units

    for _ in range(2):
        results = []
        with open_executor(workers=1, threads=1, scheduler=None, preload=["json"]) as (client, threads):
            server = multiprocessing.forkserver._forkserver._forkserver_pid
            run_units(client, [unit("prior", cache_dir)], Limits(wall_s=60), results.append)
        assert [r["unit"]["status"] for r in results] == ["done"]
        deadline = time.monotonic() + 30
        while multiprocessing.forkserver._forkserver._forkserver_pid is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert multiprocessing.forkserver._forkserver._forkserver_pid is None
        with pytest.raises(ProcessLookupError):  # exited and reaped, not a zombie
            os.kill(server, 0)


def test_exit_waits_for_the_fork_servers_stop(tmp_path):
    """The stop runs in a thread; the interpreter's exit joins it, before multiprocessing removes its temporary
    folder (the stop removes the server's socket there: the two raced, a traceback after a SIGTERM'd run)."""
    import subprocess

    marker = tmp_path / "stopped"
    script = f"""
import time
from multiprocessing import forkserver
from bench.isolation import shut_down, warm_up
warm_up()
forkserver.ensure_running()
stop = forkserver._forkserver._stop
def slow_stop():  # as a server holding torch and a unit's child takes to exit
    time.sleep(0.5)
    stop()
    open({str(marker)!r}, "w").close()
forkserver._forkserver._stop = slow_stop
shut_down()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert marker.exists()  # the exit waited for the stop to finish
