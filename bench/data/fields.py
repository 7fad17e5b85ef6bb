"""Checks of one field of a TOML card, shared by dataset cards and suite cards.

Each check returns the field's value or raises ``error`` (``DataError`` for a
dataset card, ``SuiteError`` for a suite card) with a message that names the
file, the field and what would be valid. Booleans are never numbers here,
although Python counts ``True`` as the integer 1.
"""
from __future__ import annotations

import math
from pathlib import Path

from bench.data.dataset import DataError


def check_string(path: Path, raw: dict, name: str, default: str | None = None, *,
                 error: type[Exception] = DataError) -> str:
    """The field as a stripped string; it may be empty only when it has a default."""
    value = raw.get(name, default)
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise error(f"{path}: field '{name}' must be a non-empty string, got {value!r}")
    return value.strip()


def check_choice(path: Path, raw: dict, name: str, valid: tuple[str, ...], default: str | None = None, *,
                 error: type[Exception] = DataError) -> str:
    """The field, which must be one of `valid`."""
    value = raw.get(name, default)
    if value not in valid:
        raise error(f"{path}: field '{name}' is {value!r}; valid values are {', '.join(valid)}")
    return value


def check_strings(path: Path, raw: dict, name: str, *, error: type[Exception] = DataError) -> tuple[str, ...]:
    """The field as a tuple of non-empty strings, none repeated; () when absent."""
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise error(f"{path}: field '{name}' must be a list of non-empty strings, got {value!r}")
    if len(set(value)) != len(value):
        raise error(f"{path}: field '{name}' repeats a name: {value!r}")
    return tuple(value)


def check_integer(path: Path, raw: dict, name: str, minimum: int, default: int | None = None, *,
                  error: type[Exception] = DataError) -> int | None:
    """The field as an integer of at least `minimum`; `default` when absent."""
    value = raw.get(name, default)
    if value is not None and not (_is_integer(value) and value >= minimum):
        raise error(f"{path}: field '{name}' must be an integer of at least {minimum}, got {value!r}")
    return value


def check_integers(path: Path, raw: dict, name: str, minimum: int, *,
                   error: type[Exception] = DataError) -> tuple[int, ...]:
    """The field as a tuple of integers of at least `minimum`, none repeated; () when absent."""
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(_is_integer(v) and v >= minimum for v in value):
        raise error(f"{path}: field '{name}' must be a list of integers of at least {minimum}, got {value!r}")
    if len(set(value)) != len(value):
        raise error(f"{path}: field '{name}' repeats a value: {value!r}")
    return tuple(value)


def check_positive(path: Path, raw: dict, name: str, *, error: type[Exception] = DataError) -> int | float | None:
    """The field as a finite number above 0, kept as written (an integer stays an integer); None when absent."""
    value = raw.get(name)
    if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                  and math.isfinite(value) and value > 0):
        raise error(f"{path}: field '{name}' must be a number above 0, got {value!r}")
    return value


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
