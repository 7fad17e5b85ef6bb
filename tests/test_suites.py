"""Tests for bench/data/suites.py: suite cards are checked as strictly as dataset cards."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.config import MIN_TRAIN_ROWS
from bench.data.suites import Suite, SuiteError, load_suite, suites
from toy_data import write_fields

GOOD_SUITE = {
    "name": '"mine"',
    "datasets": '["wine", "diabetes"]',
    "models": '["lightgbm", "mlp[norm=none]"]',
    "trials": "3",
}


def write_suite(folder: Path, file_stem: str = "mine", **fields: str | None) -> Path:
    """GOOD_SUITE with some fields replaced by TOML values, or left out where given None."""
    return write_fields(folder / f"{file_stem}.toml", {**GOOD_SUITE, **fields})


def test_every_packaged_suite_loads_under_its_file_name():
    found = suites()
    assert {"quick", "standard", "smoke", "learning-curve"} <= set(found)
    for name, suite in found.items():
        assert isinstance(suite, Suite) and suite.name == name and suite.path.name == f"{name}.toml"
        assert suite.trials or suite.seconds


def test_a_good_suite_keeps_its_values_as_written(tmp_path):
    suite = load_suite(write_suite(tmp_path, seconds="60", train_sizes="[100, 1000]", sampler='"random"'))
    assert suite == Suite(name="mine", description="", datasets=("wine", "diabetes"),
                          models=("lightgbm", "mlp[norm=none]"), trials=3, seconds=60, folds=1, max_train=None,
                          seed=0, sampler="random", train_sizes=(100, 1000))
    assert type(suite.seconds) is int  # as written: the run id hashes it
    assert load_suite(write_suite(tmp_path, train_sizes="[]")).train_sizes is None
    assert load_suite(write_suite(tmp_path, metric='"binary=accuracy"')).metric == "binary=accuracy"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"colour": '"red"'}, r"unknown field\(s\) colour; valid: datasets, description"),
        ({"models": None}, r"missing field 'models'"),
        ({"trials": None}, r"a suite needs a budget: 'trials', 'seconds' or both"),
        ({"name": '"other"'}, r"field 'name' is 'other' but the file is named mine\.toml"),
        ({"name": '""'}, r"field 'name' must be a non-empty string, got ''"),
        ({"description": "3"}, r"field 'description' must be a non-empty string, got 3"),
        ({"datasets": '"wine"'}, r"field 'datasets' must be a list of non-empty strings, got 'wine'"),
        ({"datasets": '["wine", "wine"]'}, r"field 'datasets' repeats a name"),
        ({"models": "[]"}, r"field 'models' is empty; list at least one name"),
        ({"trials": "0"}, r"field 'trials' must be an integer of at least 1, got 0"),
        ({"trials": '"3"'}, r"field 'trials' must be an integer of at least 1, got '3'"),
        ({"trials": "true"}, r"field 'trials' must be an integer of at least 1, got True"),
        ({"trials": "2.5"}, r"field 'trials' must be an integer of at least 1, got 2\.5"),
        ({"seconds": "-5"}, r"field 'seconds' must be a number above 0, got -5"),
        ({"seconds": "inf"}, r"field 'seconds' must be a number above 0, got inf"),
        ({"folds": "0"}, r"field 'folds' must be an integer of at least 1, got 0"),
        ({"max_train": "5"}, rf"field 'max_train' must be an integer of at least {MIN_TRAIN_ROWS}, got 5"),
        ({"seed": "-1"}, r"field 'seed' must be an integer of at least 0, got -1"),
        ({"sampler": '"grid"'}, r"field 'sampler' is 'grid'; valid values are tpe, random"),
        ({"train_sizes": "[100, 5]"}, r"field 'train_sizes' must be a list of integers of at least 10"),
        ({"train_sizes": "100"}, r"field 'train_sizes' must be a list of integers of at least 10, got 100"),
        ({"train_sizes": "[100, 100]"}, r"field 'train_sizes' repeats a value"),
        ({"metric": '"f1"'}, r"field 'metric': unknown metric 'f1'; valid \(per task\): binary: roc_auc"),
        ({"metric": '"images=accuracy"'}, r"field 'metric': metric 'images=accuracy': unknown task 'images'"),
    ],
)
def test_a_bad_suite_names_the_file_and_the_field(tmp_path, fields, message):
    path = write_suite(tmp_path, **fields)
    with pytest.raises(SuiteError, match=r"mine\.toml: " + message):
        load_suite(path)


def test_an_unreadable_suite_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("trials = \n")
    with pytest.raises(SuiteError, match=r"broken\.toml: cannot read suite card"):
        load_suite(path)
    with pytest.raises(SuiteError, match=r"nowhere\.toml: cannot read suite card"):
        load_suite(tmp_path / "nowhere.toml")
