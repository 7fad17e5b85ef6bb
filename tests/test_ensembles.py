"""bench/ensembles.py on real units: selection sees validation only, never does worse on it than the
best trial, and a unit's stored predictions reproduce its trials' scores and its ensemble."""
import numpy as np
import pytest

from bench import ensembles, metrics
from bench.config import Budget
from bench.data import load
from bench.predictions import PARTS, decode_predictions, encode_predictions
from bench.store import Store
from bench.tuning import run_unit
from test_tuning import task_for

TOLERANCE = 1e-4  # stored (compact) predictions re-score every trial within this (bench/store.py)


@pytest.fixture(scope="module")
def units(cache_dir):
    """One real unit per task: (result, task, targets by part, number of classes)."""
    made = {}
    for dataset, model, trials in (("breast_cancer", "linear", 5), ("wine", "linear", 6), ("diabetes", "linear", 5)):
        task = task_for(dataset, model, cache_dir, Budget(trials=trials))
        data = load(task.card, cache_dir)
        y = {part: data.y[getattr(task, part)] for part in PARTS}
        made[dataset] = (run_unit(task), task, y, data.info.n_classes)
    return made


def decoded(result):
    return {row["number"]: {part: decode_predictions(blob) for part, blob in row["predictions"].items()}
            for row in result["trials"] if row["status"] == "ok"}


def rescore(task, y, prediction, n_classes):
    metric = metrics.DEFAULT_METRICS[task.card.task]
    return metrics.oriented(metric, metrics.score(task.card.task, y, prediction, n_classes)[metric])


@pytest.mark.parametrize("dataset", ["breast_cancer", "wine", "diabetes"])
def test_stored_predictions_reproduce_every_trial_score(units, dataset, tmp_path):
    result, task, y, n_classes = units[dataset]
    store = Store(tmp_path / "r.sqlite")
    store.ensure_run("run", {})
    store.record_unit("run", result["unit"], result["trials"], result["ensemble"])
    stored = store.predictions("k")
    ok = [row for row in result["trials"] if row["status"] == "ok"]
    assert sorted(stored) == [row["number"] for row in ok]
    for row in ok:
        for part in PARTS:
            assert stored[row["number"]][part].shape[0] == len(y[part])
            assert rescore(task, y[part], stored[row["number"]][part], n_classes) == pytest.approx(
                row[f"{part}_score"], abs=TOLERANCE)
    # ... and the unit's ensemble, exactly: selection ran on the stored form
    again = ensembles.ensemble_unit(store.trials("run"), stored, y, task.card.task,
                                    metrics.DEFAULT_METRICS[task.card.task], n_classes)
    (kept,) = store.ensembles("run")
    assert {k: kept[k] for k in again} == again


@pytest.mark.parametrize("dataset", ["breast_cancer", "wine", "diabetes"])
def test_the_ensemble_scores_at_least_the_best_trial_on_validation(units, dataset):
    result, task, y, n_classes = units[dataset]
    ensemble = result["ensemble"]
    best_decoded = max(rescore(task, y["valid"], p["valid"], n_classes) for p in decoded(result).values())
    assert ensemble["valid_score"] >= best_decoded
    assert ensemble["valid_score"] >= max(r["valid_score"] for r in result["trials"] if r["status"] == "ok") - TOLERANCE
    metric = metrics.DEFAULT_METRICS[task.card.task]
    assert ensemble["valid_score"] == metrics.oriented(metric, ensemble["valid_metrics"][metric])
    assert sum(ensemble["weights"].values()) <= ensembles.ROUNDS
    assert set(ensemble["weights"]) <= {r["number"] for r in result["trials"]}


def test_selection_never_sees_test_labels(units):
    result, task, y, _ = units["wine"]
    predictions = decoded(result)
    truth = ensembles.ensemble_unit(result["trials"], predictions, y, "multiclass", "log_loss", 3)
    assert len(truth["weights"]) > 1  # a real ensemble, not one trial
    permuted = {**y, "test": np.random.default_rng(0).permutation(y["test"])}
    assert not np.array_equal(permuted["test"], y["test"])
    shuffled = ensembles.ensemble_unit(result["trials"], predictions, permuted, "multiclass", "log_loss", 3)
    assert shuffled["weights"] == truth["weights"]
    assert shuffled["valid_score"] == truth["valid_score"]
    assert [p["valid_score"] for p in shuffled["curve"]] == [p["valid_score"] for p in truth["curve"]]
    assert shuffled["test_score"] != truth["test_score"]  # test is read, once, after the choice


def test_a_unit_with_one_trial_gives_that_trial_back(cache_dir):
    result = run_unit(task_for("wine", "linear", cache_dir, Budget(trials=1)))
    (trial,) = result["trials"]
    ensemble = result["ensemble"]
    assert ensemble["weights"] == {0: 1}
    for part in PARTS:
        assert ensemble[f"{part}_score"] == pytest.approx(trial[f"{part}_score"], abs=TOLERANCE)
    assert ensemble["curve"] == [{"trials": 1, "valid_score": ensemble["valid_score"],
                                  "test_score": ensemble["test_score"]}]


def test_the_anytime_curve_ensembles_the_first_k_trials(units):
    result, task, y, n_classes = units["wine"]
    ensemble, predictions = result["ensemble"], decoded(result)
    assert [p["trials"] for p in ensemble["curve"]] == list(range(1, len(result["trials"]) + 1))
    assert ensemble["curve"][0]["test_score"] == rescore(task, y["test"], predictions[0]["test"], n_classes)
    assert ensemble["curve"][-1] == {"trials": len(result["trials"]), "valid_score": ensemble["valid_score"],
                                     "test_score": ensemble["test_score"]}
    # a failed trial adds nothing to the pool, and no scored trial yet means no score
    trials = [{"number": 0, "status": "failed"}, *({**r, "number": r["number"] + 1} for r in result["trials"][:2])]
    shifted = {n + 1: p for n, p in predictions.items() if n < 2}
    curve = ensembles.ensemble_unit(trials, shifted, y, "multiclass", "log_loss", 3)["curve"]
    assert curve[0] == {"trials": 1, "valid_score": None, "test_score": None}
    assert curve[1]["test_score"] == ensemble["curve"][0]["test_score"]


def test_no_scored_trial_means_no_ensemble():
    assert ensembles.ensemble_unit([{"number": 0, "status": "failed"}], {}, {}, "binary", "roc_auc") is None


def test_long_studies_read_the_curve_at_log_spaced_counts():
    assert ensembles.curve_points(3) == [1, 2, 3]
    points = ensembles.curve_points(1000)
    assert points[0] == 1 and points[-1] == 1000 and len(points) <= ensembles.CURVE_POINTS + 1
    assert points == sorted(set(points))


def test_compact_form_keeps_the_tails_that_metrics_read():
    # A confident wrong prediction: float16 probabilities would flush 1e-12 to 0 (log loss 34.5, the
    # clip); float16 log-probabilities keep it.
    proba = np.array([[1 - 1e-12, 1e-12], [0.3, 0.7], [0.5, 0.5], [1e-30, 1.0]])
    y = np.array([1, 1, 0, 1])
    restored = decode_predictions(encode_predictions(proba))
    assert restored.shape == proba.shape
    assert metrics.score("binary", y, restored)["log_loss"] == pytest.approx(
        metrics.score("binary", y, proba)["log_loss"], rel=1e-3)
    # Regression values past float16's 65504 (house prices) keep float32's precision.
    values = np.array([215000.5, 105000.25, 3.0e6, -12.5])
    assert np.allclose(decode_predictions(encode_predictions(values)), values, rtol=1e-7)
    with pytest.raises(ValueError, match="shape"):
        encode_predictions(np.zeros((2, 2, 2)))


def test_predictions_and_the_ensemble_come_back_from_an_isolated_unit(cache_dir):
    from bench.isolation import Limits, run_unit_isolated

    result = run_unit_isolated(task_for("wine", "linear", cache_dir, Budget(trials=2)), Limits(wall_s=120))
    assert result["unit"]["status"] == "done"
    assert all(isinstance(blob, bytes) for row in result["trials"] for blob in row["predictions"].values())
    assert result["ensemble"]["weights"] and len(result["ensemble"]["curve"]) == 2
