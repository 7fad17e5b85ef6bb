"""A run's configuration: every check in one place, and a run id that depends only on what was asked."""
import pytest

from bench.config import ConfigError, RunConfig, sampler_settings

GOOD = dict(suite="quick", datasets=("magic", "wine"), models=("mlp", "lightgbm"), trials=3, seconds=None, folds=1,
            seed=0, max_train=2000, sampler="tpe", device="cpu", train_sizes=None)


def test_run_id_names_what_was_asked():
    # A fixed value: the id must not depend on where, when or in which process the config was made.
    assert RunConfig(**GOOD).run_id == "ad05db4a6cc1"
    assert RunConfig(**{**GOOD, "seed": 1}).run_id != RunConfig(**GOOD).run_id
    assert RunConfig(**{**GOOD, "startup_trials": 3}).run_id != RunConfig(**GOOD).run_id


@pytest.mark.parametrize("sampler, trials, seconds, expected", [
    ("tpe", 3, None, 2), ("tpe", 10, None, 2), ("tpe", 30, None, 6), ("tpe", 200, None, 10),
    ("tpe", None, 60.0, 5), ("random", 10, None, 0),
])
def test_tpe_models_the_search_within_the_budget(sampler, trials, seconds, expected):
    # Optuna's own default (10 random trials first) would make a budget of 10 trials random search.
    config = RunConfig(**{**GOOD, "sampler": sampler, "trials": trials, "seconds": seconds})
    assert config.startup_trials == expected
    if sampler == "tpe":
        assert config.startup_trials < trials if trials else True
        assert sampler_settings(config)["n_startup_trials"] == expected


@pytest.mark.parametrize("change, message", [
    ({"trials": 0}, "--trials must be above 0"),
    ({"trials": None, "seconds": -1.0}, "--seconds must be above 0"),
    ({"trials": None}, "a budget needs trials or seconds"),
    ({"folds": 0}, "--folds must be at least 1"),
    ({"max_train": 5}, "--max-train must be at least 10"),
    ({"sampler": "grid"}, "unknown sampler 'grid'; valid: tpe, random"),
    ({"device": "tpu"}, "device must be cpu or cuda"),
    ({"train_sizes": (5, 100)}, "--train-sizes must be at least 10 rows each"),
])
def test_bad_configuration_is_refused_with_its_flag(change, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**{**GOOD, **change})


def test_metrics_are_resolved_for_every_task_and_checked():
    config = RunConfig(**{**GOOD, "metrics": "accuracy"})
    assert config.metric("binary") == "accuracy" and config.metric("regression") == "r2"
    assert RunConfig(**GOOD).metric("multiclass") == "log_loss"
    assert RunConfig(**{**GOOD, "metrics": "accuracy"}).run_id != RunConfig(**GOOD).run_id
    with pytest.raises(ConfigError, match="--metric: unknown metric 'f1'"):
        RunConfig(**{**GOOD, "metrics": "f1"})
