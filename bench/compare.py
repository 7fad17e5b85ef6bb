"""Regression checks: compare two leaderboards cell by cell, each change against its noise band.

The band of a (dataset, model) cell is the half-width of the two fold
confidence intervals combined in quadrature (the scores are independent runs),
plus a tolerance the user sets for what a single fold cannot show. A cell
regresses when its score drops by more than its band; a cell that disappears
or fails counts as a regression too, so a broken model cannot pass by
vanishing.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TOLERANCE = 0.005


class CompareError(Exception):
    """A leaderboard file is missing or malformed."""


@dataclass(frozen=True)
class Change:
    dataset: str
    model: str
    baseline: float | None
    current: float | None
    delta: float | None
    band: float | None
    verdict: str  # "ok", "improved", "regressed", "missing", "failed", "new"

    @property
    def is_regression(self) -> bool:
        return self.verdict in ("regressed", "missing", "failed")


def load_leaderboard(path: Path) -> dict:
    """A leaderboard.json, or the one in a folder that holds it."""
    path = Path(path)
    if path.is_dir():
        path = path / "leaderboard.json"
    try:
        board = json.loads(path.read_text())
    except FileNotFoundError:
        raise CompareError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CompareError(f"{path}: not a leaderboard.json ({error})") from None
    if not isinstance(board, dict) or not isinstance(board.get("results"), list):
        raise CompareError(f"{path}: not a leaderboard.json (no 'results' list)")
    for row in board["results"]:
        if not isinstance(row, dict) or not {"dataset", "model", "score"} <= set(row):
            raise CompareError(f"{path}: a result row lacks 'dataset', 'model' or 'score'")
    return board


def _half_width(row: dict) -> float:
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return 0.0
    return (row["ci_high"] - row["ci_low"]) / 2


def compare(baseline: dict, current: dict, tolerance: float = DEFAULT_TOLERANCE,
            datasets: set[str] | None = None, models: set[str] | None = None) -> list[Change]:
    """Every guarded cell of the baseline against the current run, worst first."""
    def guarded(row):
        return (datasets is None or row["dataset"] in datasets) and (models is None or row["model"] in models)

    now = {(r["dataset"], r["model"]): r for r in current["results"] if guarded(r)}
    changes = []
    for old in baseline["results"]:
        if not guarded(old) or old["score"] is None:
            continue
        key = (old["dataset"], old["model"])
        new = now.pop(key, None)
        if new is None:
            changes.append(Change(*key, old["score"], None, None, None, "missing"))
            continue
        if new["score"] is None:
            changes.append(Change(*key, old["score"], None, None, None, "failed"))
            continue
        delta = new["score"] - old["score"]
        band = math.hypot(_half_width(old), _half_width(new)) + tolerance
        verdict = "regressed" if delta < -band else ("improved" if delta > band else "ok")
        changes.append(Change(*key, old["score"], new["score"], delta, band, verdict))
    changes += [Change(d, m, None, r["score"], None, None, "new") for (d, m), r in now.items()]
    order = {"missing": 0, "failed": 0, "regressed": 1, "ok": 2, "improved": 3, "new": 4}
    return sorted(changes, key=lambda c: (order[c.verdict], (c.delta or 0) + (c.band or 0), c.dataset, c.model))
