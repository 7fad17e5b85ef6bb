import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from bench import tuning
from bench.data import catalogue, load
from bench.contract import ModelSpec
from bench.models import registry
from bench.splits import make_splits
from bench.config import Budget
from bench.tuning import UnitTask, run_unit


def task_for(dataset, model, cache_dir, budget, seed=0, sampler="tpe", metric=""):
    card = catalogue()[dataset]
    data = load(card, cache_dir)
    split = make_splits(data.y, card.task, folds=1, seed=seed)[0]
    return UnitTask(unit_key="k", card=card, cache_dir=cache_dir, model=model, fold=0, train=split.train,
                    valid=split.valid, test=split.test, budget=budget, seed=seed, sampler=sampler,
                    metric=metric)


@dataclass
class Constant:
    """A fitted stand-in that predicts class shares; enough to exercise the harness."""

    n_classes: int
    n_iter: int = 1
    stopped_by_deadline: bool = False
    curves: dict = field(default_factory=dict)
    value: float = 0.5

    def predict(self, part):
        return np.tile(np.full(self.n_classes, 1.0 / self.n_classes), (len(part), 1)) * self.value * 2


def fake_model(fit, name="fake"):
    return ModelSpec(name=name, family="classical", tasks=frozenset({"binary"}), modalities=frozenset({"tabular"}),
                     defaults={"a": 1.0}, space=lambda trial: {"a": trial.suggest_float("a", 0.0, 2.0)}, fit=fit,
                     source="test")


@pytest.fixture
def with_model(monkeypatch):
    def install(spec):
        monkeypatch.setattr(tuning, "registry", lambda: {**registry(), spec.name: spec})
    return install


def test_trial_zero_is_the_default_and_trials_budget_is_exact(cache_dir):
    result = run_unit(task_for("breast_cancer", "linear", cache_dir, Budget(trials=3)))
    rows = result["trials"]
    assert [r["number"] for r in rows] == [0, 1, 2]
    assert rows[0]["params"] == registry()["linear"].defaults
    assert rows[1]["params"] != rows[0]["params"]
    assert result["unit"]["status"] == "done"
    for row in rows:
        assert row["status"] == "ok"
        assert {"accuracy", "balanced_accuracy", "log_loss", "roc_auc"} <= set(row["test_metrics"])
        # Binary tasks are scored and selected by ROC AUC unless asked otherwise (bench/metrics.py)
        assert row["valid_score"] == row["valid_metrics"]["roc_auc"]
        assert row["fit_s"] > 0 and row["predict_s"] > 0


def test_same_seed_gives_the_same_trials(cache_dir):
    a = run_unit(task_for("breast_cancer", "linear", cache_dir, Budget(trials=3), seed=5))["trials"]
    b = run_unit(task_for("breast_cancer", "linear", cache_dir, Budget(trials=3), seed=5))["trials"]
    assert [(r["params"], r["test_score"]) for r in a] == [(r["params"], r["test_score"]) for r in b]


def test_seconds_budget_stops_the_running_trial_at_the_deadline(cache_dir, with_model):
    def slow_fit(params, train, valid, info, ctx):
        while time.monotonic() < ctx.deadline:  # a model that trains until told to stop
            time.sleep(0.01)
        return Constant(info.n_classes, stopped_by_deadline=True)

    with_model(fake_model(slow_fit, "slow"))
    start = time.monotonic()
    result = run_unit(task_for("breast_cancer", "slow", cache_dir, Budget(seconds=0.5)))
    assert time.monotonic() - start < 5
    assert len(result["trials"]) == 1 and result["trials"][0]["stopped_by_deadline"]
    assert result["unit"]["wall_s"] >= 0.5


def test_seconds_budget_runs_trials_until_time_is_up(cache_dir, with_model):
    def quick_fit(params, train, valid, info, ctx):
        time.sleep(0.05)
        return Constant(info.n_classes)

    with_model(fake_model(quick_fit, "quick"))
    rows = run_unit(task_for("breast_cancer", "quick", cache_dir, Budget(seconds=1.0)))["trials"]
    assert 5 <= len(rows) <= 25


def test_failures_and_nan_are_recorded_and_the_study_goes_on(cache_dir, with_model):
    def flaky_fit(params, train, valid, info, ctx):
        if ctx.seed % 3 == 0:
            raise RuntimeError("boom")
        if ctx.seed % 3 == 1:
            raise FloatingPointError("loss became nan")
        return Constant(info.n_classes, value=float("nan") if params["a"] > 1.5 else 0.5)

    with_model(fake_model(flaky_fit, "flaky"))
    result = run_unit(task_for("breast_cancer", "flaky", cache_dir, Budget(trials=9)))
    statuses = {r["status"] for r in result["trials"]}
    assert {"failed", "nan"} <= statuses
    assert len(result["trials"]) == 9
    failed = next(r for r in result["trials"] if r["status"] == "failed")
    assert "RuntimeError: boom" in failed["error"]


def test_the_tpe_sampler_gets_the_configured_startup():
    from bench.tuning import _make_sampler

    assert _make_sampler("tpe", seed=0, startup_trials=2)._n_startup_trials == 2


def test_the_chosen_metric_scores_and_selects_with_losses_negated(cache_dir):
    result = run_unit(task_for("breast_cancer", "linear", cache_dir, Budget(trials=2), metric="log_loss"))
    for row in result["trials"]:
        assert row["valid_score"] == -row["valid_metrics"]["log_loss"]
        assert row["test_score"] == -row["test_metrics"]["log_loss"]
    # The constant predictor is scored the same way: the class prior's log loss, negated.
    assert -0.7 < result["unit"]["baseline_score"] < -0.6


def test_library_warnings_are_one_line_per_unit(cache_dir, with_model, capsys):
    import warnings

    def noisy(params, train, valid, info, ctx):
        for _ in range(50):
            warnings.warn("Ill-conditioned matrix (rcond=1e-18)", RuntimeWarning)
        return Constant(2)

    with_model(fake_model(noisy, name="noisy"))
    result = run_unit(task_for("breast_cancer", "noisy", cache_dir, Budget(trials=2)))
    assert result["unit"]["status"] == "done"
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == ["unit breast_cancer/noisy/fold0: 100 library warning(s), 100 x RuntimeWarning: "
                     "Ill-conditioned matrix (rcond=1e-18)"]
