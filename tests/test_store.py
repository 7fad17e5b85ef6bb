import sqlite3

import numpy as np
import pytest

from bench.store import Store, StoreError


def unit(key, status="done"):
    return {"unit_key": key, "dataset": "d", "model": "m", "fold": 0, "status": status,
            "n_train": 10, "baseline_score": 0.5, "wall_s": 1.0, "threads": 1}


def trial(number, valid=0.8):
    return {"number": number, "status": "ok", "params": {"lr": 0.1}, "valid_score": valid, "test_score": 0.7,
            "valid_metrics": {"accuracy": valid}, "test_metrics": {"accuracy": 0.7}, "fit_s": 0.1,
            "predict_s": 0.01, "started_s": 0.0, "n_iter": 3, "curves": {"train_loss": [1.0, 0.5]}}


def test_recorded_units_are_finished_whatever_their_outcome_and_rewriting_does_not_duplicate(tmp_path):
    store = Store(tmp_path / "r.sqlite")
    store.ensure_run("run", {"x": 1})
    store.record_unit("run", unit("u1"), [trial(0), trial(1)])
    store.record_unit("run", unit("u1"), [trial(0), trial(1)])
    store.record_unit("run", unit("u2", status="crashed"), [])
    assert store.finished_units("run") == {"u1", "u2"}
    assert store.finished_units("other run") == set()
    rows = store.trials("run")
    assert [r["number"] for r in rows] == [0, 1]
    assert rows[0]["curves"] == {"train_loss": [1.0, 0.5]}


def test_store_survives_reopening(tmp_path):
    path = tmp_path / "r.sqlite"
    store = Store(path)
    store.ensure_run("run", {"x": 1})
    store.ensure_run("run", {"x": 2})  # the first config stays
    store.record_unit("run", unit("u1"), [trial(0)])
    store.save_split("run", "d", 0, np.array([3, 1]), np.array([2]), np.array([0]))
    store.close()
    again = Store(path, create=False)
    assert again.runs()[0]["config"] == {"x": 1}
    assert again.finished_units("run") == {"u1"}
    assert again.load_split("run", "d", 0)["train"].tolist() == [3, 1]


def test_missing_or_foreign_files_are_refused(tmp_path):
    with pytest.raises(StoreError, match="no results store"):
        Store(tmp_path / "absent.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match="not a readable results store"):
        Store(junk)


def test_a_failed_transaction_leaves_no_partial_unit(tmp_path):
    store = Store(tmp_path / "r.sqlite")
    store.ensure_run("run", {})
    bad = trial(0)
    del bad["params"]  # makes the trial insert fail after the unit insert
    with pytest.raises(KeyError):
        store.record_unit("run", unit("u1"), [bad])
    assert store.units("run") == [] and store.trials("run") == []
    assert isinstance(store.db, sqlite3.Connection)


def test_every_column_is_written_and_read_by_name(tmp_path):
    store = Store(tmp_path / "r.sqlite")
    store.ensure_run("run", {"x": 1})
    store.record_unit("run", {**unit("u1"), "train_size": 100, "error": "e", "started": 5.0, "finished": 6.0},
                      [{**trial(0, valid=0.9), "stopped_by_deadline": True, "error": "late"}])
    assert store.units("run") == [{
        "unit_key": "u1", "run_id": "run", "dataset": "d", "model": "m", "fold": 0, "train_size": 100,
        "status": "done", "error": "e", "n_train": 10, "baseline_score": 0.5, "wall_s": 1.0, "threads": 1,
        "started": 5.0, "finished": 6.0}]
    row = store.trials("run")[0]
    assert {k: row[k] for k in ("unit_key", "number", "status", "params", "valid_score", "test_score",
                                "valid_metrics", "test_metrics", "fit_s", "predict_s", "started_s", "n_iter",
                                "stopped_by_deadline", "curves", "error")} == {
        "unit_key": "u1", "number": 0, "status": "ok", "params": {"lr": 0.1}, "valid_score": 0.9,
        "test_score": 0.7, "valid_metrics": {"accuracy": 0.9}, "test_metrics": {"accuracy": 0.7}, "fit_s": 0.1,
        "predict_s": 0.01, "started_s": 0.0, "n_iter": 3, "stopped_by_deadline": 1,
        "curves": {"train_loss": [1.0, 0.5]}, "error": "late"}
    store.save_split("run", "d", 1, np.array([3, 1]), np.array([2]), np.array([0]), train_size=100)
    assert store.split_parts("run") == [{"dataset": "d", "fold": 1, "train_size": 100}]
    assert store.split_parts("other run") == []
    assert store.run("run")["config"] == {"x": 1}
    with pytest.raises(KeyError, match="no run 'other run'"):
        store.run("other run")
    sitting = {"started": 1.0, "finished": None, "workers": 2, "environment": {"b": 1, "a": 2}}
    store.record_sittings("run", [sitting])
    assert store.sittings("run") == [sitting]
