"""Suite cards: which datasets and models, under which budget. Declared in TOML, not coded."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

FIELDS = {"name", "description", "datasets", "models", "trials", "seconds", "folds", "max_train", "seed", "sampler",
          "train_sizes"}


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
    path: Path | None = field(default=None, compare=False)


def load_suite(path: Path) -> Suite:
    try:
        raw = tomllib.loads(Path(path).read_text())
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
    return Suite(
        name=raw["name"],
        description=raw.get("description", ""),
        datasets=tuple(raw["datasets"]),
        models=tuple(raw["models"]),
        trials=raw.get("trials"),
        seconds=raw.get("seconds"),
        folds=raw.get("folds", 1),
        max_train=raw.get("max_train"),
        seed=raw.get("seed", 0),
        sampler=raw.get("sampler", "tpe"),
        train_sizes=tuple(raw["train_sizes"]) if raw.get("train_sizes") else None,
        path=Path(path),
    )


def suites() -> dict[str, Suite]:
    """Every packaged suite card, by name."""
    folder = resources.files("bench.datasets") / "suites"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            suite = load_suite(Path(str(entry)))
            found[suite.name] = suite
    return found
