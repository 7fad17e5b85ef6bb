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


def with_predictions(row, rows=3, classes=2, seed=0):
    from bench.predictions import encode_predictions

    rng = np.random.default_rng(seed + row["number"])
    proba = {part: rng.dirichlet(np.ones(classes), size=rows) for part in ("valid", "test")}
    return {**row, "predictions": {part: encode_predictions(p) for part, p in proba.items()}}, proba


def ensemble(weights=None):
    return {"weights": weights or {0: 2, 1: 1}, "valid_score": 0.91, "test_score": 0.88,
            "valid_metrics": {"accuracy": 0.91}, "test_metrics": {"accuracy": 0.88},
            "curve": [{"trials": 1, "valid_score": 0.9, "test_score": 0.87},
                      {"trials": 2, "valid_score": 0.91, "test_score": 0.88}]}


def test_predictions_and_ensembles_round_trip_with_the_unit(tmp_path):
    store = Store(tmp_path / "r.sqlite")
    store.ensure_run("run", {})
    (t0, p0), (t1, p1) = with_predictions(trial(0)), with_predictions(trial(1))
    failed = {**trial(2), "status": "failed", "valid_score": None, "test_score": None}  # no predictions
    store.record_unit("run", unit("u1"), [t0, t1, failed], ensemble())
    stored = store.predictions("u1")
    assert sorted(stored) == [0, 1] and sorted(stored[0]) == ["test", "valid"]
    for number, proba in ((0, p0), (1, p1)):
        for part in ("valid", "test"):
            # float16 log-probabilities: each off by at most 2^-11 of itself (float16 unit roundoff) (bench/store.py)
            log_p = np.log(proba[part])
            assert np.all(np.abs(np.log(stored[number][part]) - log_p) <= np.abs(log_p) * 2.0**-11 + 1e-7)
    assert store.ensembles("run") == [{
        "unit_key": "u1", "dataset": "d", "model": "m", "fold": 0, "train_size": 0, **ensemble()}]
    assert store.prediction_bytes("run") == {"trials": 2, "bytes": sum(
        len(b) for t in (t0, t1) for b in t["predictions"].values())}
    # a rerun of the unit replaces its predictions and its ensemble; a faulted rerun has none
    store.record_unit("run", unit("u1"), [t0], ensemble({0: 1}))
    assert sorted(store.predictions("u1")) == [0]
    assert store.ensembles("run")[0]["weights"] == {0: 1}
    store.record_unit("run", unit("u1", status="crashed"), [t0])
    assert store.ensembles("run") == [] and sorted(store.predictions("u1")) == [0]
    assert store.ensembles("other run") == [] and store.predictions("absent") == {}


def test_a_failed_transaction_leaves_no_predictions_or_ensemble(tmp_path):
    store = Store(tmp_path / "r.sqlite")
    store.ensure_run("run", {})
    good, _ = with_predictions(trial(0))
    with pytest.raises(KeyError):
        store.record_unit("run", unit("u1"), [good], {"valid_score": 1.0})  # an ensemble without weights
    assert store.units("run") == [] and store.predictions("u1") == {} and store.ensembles("run") == []


def test_a_store_from_before_predictions_opens_and_gains_the_tables(tmp_path):
    path = tmp_path / "old.sqlite"
    store = Store(path)
    store.ensure_run("run", {})
    store.record_unit("run", unit("u1"), [trial(0)])
    store.db.executescript("DROP TABLE predictions; DROP TABLE ensembles;")
    store.close()
    again = Store(path, create=False)
    assert again.finished_units("run") == {"u1"}
    assert again.predictions("u1") == {} and again.ensembles("run") == []
