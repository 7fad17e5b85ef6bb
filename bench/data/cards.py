"""Dataset cards: the TOML schema, its strict checks, and the catalogue of cards.

A card (``datasets/<name>.toml``) says where a dataset comes from and what it
is: source, task, modality, target, categorical columns, image or sequence
shape, licence and citation. ``load_card`` reads one and checks every field,
so that each problem a user can cause is a ``DataError`` naming the file, the
field and what would be valid. ``catalogue`` reads the packaged cards and,
optionally, a folder of the team's own.
"""
from __future__ import annotations

import importlib.resources
import tomllib
from pathlib import Path

from bench.contract import MODALITIES, TASKS
from bench.data.dataset import DataError, DatasetCard
from bench.data.fields import check_choice, check_integer, check_string, check_strings
from bench.data.sources import SOURCES

REQUIRED_FIELDS = ("source", "task", "modality", "target", "licence", "citation")
OPTIONAL_FIELDS = ("name", "categorical", "columns", "drop", "shape", "description", "benchmarks",
                   "shuffle", "shuffle_seed", "split")
SHAPE_LENGTHS = {"image": 3, "sequence": 2}  # (C, H, W) and (C, L)
# "folds": the harness makes its outer folds; "published": the source's own test rows are the
# one outer test fold (sources that mark them: PUBLISHED_SPLIT_SOURCES).
SPLITS = ("folds", "published")
PUBLISHED_SPLIT_SOURCES = ("mnist1d", "sktime")


def load_card(path: Path | str) -> DatasetCard:
    """Read and check one dataset card; every problem raises DataError naming the file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DataError(f"{path}: cannot read dataset card ({error})") from error
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{path}: not valid TOML ({error})") from error

    unknown = sorted(set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        valid = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
        raise DataError(f"{path}: unknown field(s) {', '.join(unknown)}; valid fields are {valid}")
    for name in REQUIRED_FIELDS:
        if name not in raw:
            raise DataError(f"{path}: missing required field '{name}'")

    name = check_string(path, raw, "name", default=path.stem)
    if name != path.stem:
        raise DataError(f"{path}: field 'name' is '{name}' but the file is named {path.name}; "
                        f"name the file {name}.toml or drop the 'name' field")
    task = check_choice(path, raw, "task", TASKS)
    modality = check_choice(path, raw, "modality", MODALITIES)
    source = check_string(path, raw, "source")
    kind, colon, argument = source.partition(":")
    if not colon or not argument or kind not in SOURCES:
        raise DataError(f"{path}: field 'source' is '{source}'; expected '<kind>:<argument>' "
                        f"with kind one of {', '.join(SOURCES)}")
    target = check_string(path, raw, "target")
    categorical = check_strings(path, raw, "categorical")
    if target in categorical:
        raise DataError(f"{path}: field 'categorical' lists the target '{target}'; "
                        "list only feature columns")
    columns = check_strings(path, raw, "columns")
    if columns and target not in columns:
        raise DataError(f"{path}: field 'columns' does not name the target '{target}'")
    drop = check_strings(path, raw, "drop")
    if target in drop:
        raise DataError(f"{path}: field 'drop' lists the target '{target}'")
    both = sorted(set(drop) & set(categorical))
    if both:
        raise DataError(f"{path}: column(s) {', '.join(both)} are both in 'drop' and in 'categorical'")
    shape = _check_shape(path, raw, modality)
    if shape is not None and categorical:
        raise DataError(f"{path}: a {modality} dataset cannot have 'categorical' columns")
    shuffle, shuffle_seed = _check_shuffle(path, raw, modality)
    split = check_choice(path, raw, "split", SPLITS, default="folds")
    if split == "published" and kind not in PUBLISHED_SPLIT_SOURCES:
        raise DataError(f"{path}: field 'split' is 'published' but source kind '{kind}' has no "
                        f"published test split; sources with one: {', '.join(PUBLISHED_SPLIT_SOURCES)}")

    return DatasetCard(
        name=name,
        source=source,
        task=task,
        modality=modality,
        target=target,
        categorical=categorical,
        shape=shape,
        licence=check_string(path, raw, "licence"),
        citation=check_string(path, raw, "citation"),
        description=check_string(path, raw, "description", default=""),
        benchmarks=check_strings(path, raw, "benchmarks"),
        columns=columns,
        drop=drop,
        shuffle=shuffle,
        shuffle_seed=shuffle_seed,
        split=split,
        path=path,
    )


def _check_shape(path: Path, raw: dict, modality: str) -> tuple[int, ...] | None:
    value = raw.get("shape")
    if modality not in SHAPE_LENGTHS:
        if value is not None:
            raise DataError(f"{path}: field 'shape' is only for image (C, H, W) "
                            f"and sequence (C, L) data, not {modality}")
        return None
    length = SHAPE_LENGTHS[modality]
    layout = "[C, H, W]" if modality == "image" else "[C, L]"
    if (not isinstance(value, list) or len(value) != length
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise DataError(f"{path}: field 'shape' must be {layout} of positive integers "
                        f"for a {modality} dataset, got {value!r}")
    return tuple(value)


def _check_shuffle(path: Path, raw: dict, modality: str) -> tuple[bool, int]:
    """shuffle (true/false) and shuffle_seed (an integer >= 0, only beside shuffle = true)."""
    shuffle = raw.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise DataError(f"{path}: field 'shuffle' must be true or false, got {shuffle!r}")
    if shuffle and modality not in SHAPE_LENGTHS:
        raise DataError(f"{path}: field 'shuffle' permutes pixel or time positions: only for image "
                        f"and sequence data (with a 'shape'), not {modality}")
    if "shuffle_seed" in raw and not shuffle:
        raise DataError(f"{path}: field 'shuffle_seed' is only used with shuffle = true")
    return shuffle, check_integer(path, raw, "shuffle_seed", 0, default=0)


def packaged_cards_dir() -> Path:
    """The folder of the cards that ship with the suite (the bench.datasets package)."""
    return Path(str(importlib.resources.files("bench.datasets")))


def catalogue(extra_dir: Path | None = None) -> dict[str, DatasetCard]:
    """Every packaged card plus the cards in extra_dir (suites/ is not read), by name."""
    folders = [packaged_cards_dir()]
    if extra_dir is not None:
        extra_dir = Path(extra_dir)
        if not extra_dir.is_dir():
            raise DataError(f"{extra_dir}: not a folder of dataset cards")
        folders.append(extra_dir)
    cards: dict[str, DatasetCard] = {}
    for folder in folders:
        for card_path in sorted(folder.glob("*.toml")):
            card = load_card(card_path)
            if card.name in cards:
                raise DataError(f"{card_path}: dataset '{card.name}' is already defined by "
                                f"{cards[card.name].path}; give one of them another name")
            cards[card.name] = card
    return dict(sorted(cards.items()))
