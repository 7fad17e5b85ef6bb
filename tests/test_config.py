"""A run's configuration: every check in one place, and a run id that depends only on what was asked."""
import pytest

from bench.config import ConfigError, RunConfig

GOOD = dict(suite="quick", datasets=("magic", "wine"), models=("mlp", "lightgbm"), trials=3, seconds=None, folds=1,
            seed=0, max_train=2000, sampler="tpe", device="cpu", train_sizes=None)


def test_run_id_names_what_was_asked():
    # The value the run id had before RunConfig moved here: stores made then must resume.
    assert RunConfig(**GOOD).run_id == "7fad9f97dc2d"
    assert RunConfig(**{**GOOD, "seed": 1}).run_id != RunConfig(**GOOD).run_id


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
