"""Suite cards: which datasets and models, under which budget. Declared in TOML, not coded.

A suite card (``datasets/suites/<name>.toml``) is checked as strictly as a
dataset card: an unknown field, a value of the wrong type or a value out of
range is a ``SuiteError`` that names the file, the field and what would be
valid. Whether its datasets and models exist is checked when a run is
configured (``bench.config``), against the catalogue and the registry asked for.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bench.config import MIN_TRAIN_ROWS, SAMPLERS  # a suite is checked by the run's own rules
from bench.data.fields import check_choice, check_integer, check_integers, check_positive, check_string, check_strings
from bench.metrics import parse_metrics

FIELDS = {"name", "description", "datasets", "models", "trials", "seconds", "folds", "max_train", "seed", "sampler",
          "train_sizes", "metric"}


class SuiteError(Exception):
    """A suite card is missing, malformed or names something unknown."""


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    trials: int | None = None
    seconds: float | None = None
    folds: int = 1
    max_train: int | None = None
    seed: int = 0
    sampler: str = "tpe"
    train_sizes: tuple[int, ...] | None = None  # learning curves: one unit per training size
    metric: str | None = None  # as --metric reads it: "accuracy" or "binary=roc_auc,..."; None: the defaults
    path: Path | None = field(default=None, compare=False)


def load_suite(path: Path | str) -> Suite:
    """Read and check one suite card; every problem raises SuiteError naming the file and the field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SuiteError(f"{path}: cannot read suite card ({error})") from None
    unknown = set(raw) - FIELDS
    if unknown:
        raise SuiteError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(FIELDS))}")
    for required in ("name", "datasets", "models"):
        if required not in raw:
            raise SuiteError(f"{path}: missing field {required!r}")
    if "trials" not in raw and "seconds" not in raw:
        raise SuiteError(f"{path}: a suite needs a budget: 'trials', 'seconds' or both")

    name = check_string(path, raw, "name", error=SuiteError)
    if name != path.stem:
        raise SuiteError(f"{path}: field 'name' is '{name}' but the file is named {path.name}; "
                         f"name the file {name}.toml or the suite '{path.stem}'")
    datasets = check_strings(path, raw, "datasets", error=SuiteError)
    models = check_strings(path, raw, "models", error=SuiteError)
    for what, names in (("datasets", datasets), ("models", models)):
        if not names:
            raise SuiteError(f"{path}: field '{what}' is empty; list at least one name")
    return Suite(
        name=name,
        description=check_string(path, raw, "description", default="", error=SuiteError),
        datasets=datasets,
        models=models,
        trials=check_integer(path, raw, "trials", minimum=1, error=SuiteError),
        seconds=check_positive(path, raw, "seconds", error=SuiteError),
        folds=check_integer(path, raw, "folds", minimum=1, default=1, error=SuiteError),
        max_train=check_integer(path, raw, "max_train", minimum=MIN_TRAIN_ROWS, error=SuiteError),
        seed=check_integer(path, raw, "seed", minimum=0, default=0, error=SuiteError),
        sampler=check_choice(path, raw, "sampler", SAMPLERS, default="tpe", error=SuiteError),
        # An empty list asks for no learning curve, as an absent field does.
        train_sizes=check_integers(path, raw, "train_sizes", minimum=MIN_TRAIN_ROWS, error=SuiteError) or None,
        metric=_check_metric(path, raw),
        path=path,
    )


def _check_metric(path: Path, raw: dict) -> str | None:
    text = check_string(path, raw, "metric", default="", error=SuiteError) or None
    try:
        parse_metrics(text)
    except ValueError as error:
        raise SuiteError(f"{path}: field 'metric': {error}") from None
    return text


def suites() -> dict[str, Suite]:
    """Every packaged suite card, by name."""
    folder = resources.files("bench.datasets") / "suites"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            suite = load_suite(Path(str(entry)))
            found[suite.name] = suite
    return found
