"""Regression checks: compare two leaderboards cell by cell, fold by fold, each change against its noise band.

Both runs must have run the same folds with the same seed (the same splits, the same model seeds), so
that a (dataset, model) cell is compared like with like: its change is the mean, over the folds both
runs scored, of the current fold score minus the baseline's. A model that is deterministic on a given
split and seed reproduces its scores exactly, so any change is real: the band is the tolerance the
user sets. Where the model is not deterministic, the band adds the run-to-run noise measured from the
baseline's seed-to-seed variation: when replicate runs of the baseline's configuration at other seeds
lie beside it (`replicates/*/leaderboard.json` or `replicates/*.json` next to the baseline's
leaderboard.json), the band is tolerance + t(0.975, S-1) x s x sqrt(2), with s the standard deviation
of the cell's score over the S runs (the baseline and its replicates) and sqrt(2) because a change is
the difference of two runs. Without replicates the model is taken as deterministic, as the suite's
models are on CPU.

A cell regresses when its change is below minus its band; a cell that disappears, or has a fold the
baseline scored that failed or is missing now, counts as a regression too, so a broken model cannot
pass by vanishing. Leaderboards written before per-fold scores were kept fall back to the two cell
scores and their intervals' half-widths combined.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as sps

DEFAULT_TOLERANCE = 0.005
REPLICATES = "replicates"


class CompareError(Exception):
    """A leaderboard file is missing or malformed, or two runs cannot be compared fold by fold."""


@dataclass(frozen=True)
class Change:
    dataset: str
    model: str
    baseline: float | None
    current: float | None
    delta: float | None
    band: float | None
    verdict: str  # "ok", "improved", "regressed", "missing", "failed", "new"
    folds: int | None = None  # folds compared
    noise: str | None = None  # where the band's noise comes from

    @property
    def is_regression(self) -> bool:
        return self.verdict in ("regressed", "missing", "failed")


def _read(path: Path) -> dict:
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


def load_leaderboard(path: Path) -> dict:
    """A leaderboard.json, or the one in a folder that holds it. Replicate runs found beside it (see the
    module's docstring) come under the key "replicates", one leaderboard each."""
    path = Path(path)
    if path.is_dir():
        path = path / "leaderboard.json"
    board = _read(path)
    folder = path.parent / REPLICATES
    if folder.is_dir():
        files = sorted(folder.glob("*/leaderboard.json")) + sorted(folder.glob("*.json"))
        board["replicates"] = [_read(f) for f in files]
    return board


def _check_like_with_like(baseline: dict, current: dict) -> None:
    for key in ("seed", "folds"):
        if key in baseline and key in current and baseline[key] != current[key]:
            raise CompareError(f"the baseline ran {key} {baseline[key]}, the current run {key} {current[key]}: "
                               "bench compare compares fold by fold, so both need the same folds and seed")
    for replicate in baseline.get("replicates", []):
        if "folds" in replicate and "folds" in baseline and replicate["folds"] != baseline["folds"]:
            raise CompareError(f"a baseline replicate ran {replicate['folds']} folds, the baseline "
                               f"{baseline['folds']}: replicates need the baseline's folds")


def _own_folds(row: dict) -> dict[int, float] | None:
    """{fold: score} of the folds a row scored itself (None for a leaderboard without per-fold scores)."""
    if not isinstance(row.get("folds"), list) or not all(isinstance(f, dict) and "fold" in f for f in row["folds"]):
        return None
    return {f["fold"]: f["score"] for f in row["folds"] if not f.get("imputed") and f.get("score") is not None}


def _half_width(row: dict) -> float:
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return 0.0
    return (row["ci_high"] - row["ci_low"]) / 2


def seed_noise(scores: list[float]) -> float:
    """The noise of a change between two runs from S runs' scores of one cell: t(0.975, S-1) x s x sqrt(2);
    0 with fewer than 2 runs."""
    if len(scores) < 2:
        return 0.0
    return float(sps.t.ppf(0.975, len(scores) - 1) * np.std(scores, ddof=1) * math.sqrt(2))


def _runs_of(baseline: dict) -> dict[tuple[str, str], list[float]]:
    """Per cell, the scores of the baseline and of each replicate that scored it on every fold."""
    runs: dict[tuple[str, str], list[float]] = {}
    for board in [baseline] + baseline.get("replicates", []):
        for row in board["results"]:
            own = _own_folds(row)
            if row["score"] is not None and (own is None or len(own) == len(row["folds"])):
                runs.setdefault((row["dataset"], row["model"]), []).append(row["score"])
    return runs


def _compare_cell(old: dict, new: dict, tolerance: float, runs: list[float]) -> Change:
    key = (old["dataset"], old["model"])
    before, after = _own_folds(old), _own_folds(new)
    if new["score"] is None or (after is not None and not after):
        return Change(*key, old["score"], None, None, None, "failed")
    if before is None or after is None:  # an old leaderboard: cell scores and their intervals
        delta = new["score"] - old["score"]
        band = math.hypot(_half_width(old), _half_width(new)) + tolerance
        noise, folds = "the two fold intervals (no per-fold scores)", None
    else:
        lost = [f for f in before if f not in after]
        if lost:
            imputed = {f["fold"]: f.get("imputed") for f in new["folds"]}
            verdict = "missing" if all(imputed.get(f, "missing") == "missing" for f in lost) else "failed"
            return Change(*key, old["score"], new["score"], None, None, verdict, len(before))
        common = sorted(before)
        delta = float(np.mean([after[f] - before[f] for f in common]))
        spread = seed_noise(runs)
        band = spread + tolerance
        noise = f"seed-to-seed over {len(runs)} baseline runs" if len(runs) >= 2 else "none: deterministic"
        folds = len(common)
    verdict = "regressed" if delta < -band else ("improved" if delta > band else "ok")
    return Change(*key, old["score"], new["score"], delta, band, verdict, folds, noise)


def compare(baseline: dict, current: dict, tolerance: float = DEFAULT_TOLERANCE,
            datasets: set[str] | None = None, models: set[str] | None = None) -> list[Change]:
    """Every guarded cell of the baseline against the current run, fold by fold, worst first."""
    _check_like_with_like(baseline, current)

    def guarded(row):
        return (datasets is None or row["dataset"] in datasets) and (models is None or row["model"] in models)

    now = {(r["dataset"], r["model"]): r for r in current["results"] if guarded(r)}
    runs = _runs_of(baseline)
    changes = []
    for old in baseline["results"]:
        own = _own_folds(old)
        if not guarded(old) or old["score"] is None or (own is not None and not own):
            continue  # nothing the baseline scored itself to guard
        key = (old["dataset"], old["model"])
        new = now.pop(key, None)
        if new is None:
            changes.append(Change(*key, old["score"], None, None, None, "missing"))
            continue
        changes.append(_compare_cell(old, new, tolerance, runs.get(key, [])))
    changes += [Change(d, m, None, r["score"], None, None, "new") for (d, m), r in now.items()]
    order = {"missing": 0, "failed": 0, "regressed": 1, "ok": 2, "improved": 3, "new": 4}
    return sorted(changes, key=lambda c: (order[c.verdict], (c.delta or 0) + (c.band or 0), c.dataset, c.model))
