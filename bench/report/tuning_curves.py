"""Tuning curves (Grinsztajn et al. 2022, figure 1): the test score of the best-validation trial so
far, against the number of trials and against seconds spent, with bands from random trial orders.

Per unit, the trial order is shuffled many times (the default, trial 0, stays first); after
each trial the chosen one is the best on validation so far, and its test score is read. Scores
are normalised per dataset (constant predictor = 0, the best model's final mean score = 1, not
clipped above), averaged over folds, then over datasets, within each replicate. The line is the
mean over replicates, the band its 2.5-97.5 percentiles: it shows how much the luck of the trial
order matters, not the spread over datasets. Until a unit's first trial is scored it has no model,
so it counts as the constant predictor (0): every point of a curve averages over the same datasets.
"""
from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from bench import stats
from bench.report.families import FAMILIES, representatives

N_BOOT = 200
N_SECONDS = 30
METHOD = __doc__.split("\n\n", 1)[1].replace("\n", " ").strip()


def _unit_curves(units: list[dict], trials_by_unit: dict[str, list[dict]], cells: set) -> dict:
    """(dataset, model) -> list over folds of (scores, elapsed) arrays, both (N_BOOT, n_trials)."""
    curves = defaultdict(list)
    for unit in units:
        key = (unit["dataset"], unit["model"])
        if unit["status"] != "done" or (unit["dataset"], unit["model"], unit["train_size"] or None) not in cells:
            continue
        rows = sorted(trials_by_unit.get(unit["unit_key"], []), key=lambda t: t["number"])
        ok = [t["status"] == "ok" for t in rows]
        scores, elapsed = stats.anytime_curves(
            [t["valid_score"] if good else None for t, good in zip(rows, ok)],
            [t["test_score"] if good else None for t, good in zip(rows, ok)],
            [(t["fit_s"] or 0.0) + (t["predict_s"] or 0.0) for t in rows],
            n_boot=N_BOOT, seed=zlib.crc32(unit["unit_key"].encode()),
        )
        curves[key].append((scores, elapsed))
    return curves


def _pad(scores: np.ndarray, length: int) -> np.ndarray:
    """Carry the last value forward: after its budget a unit's choice no longer changes."""
    if scores.shape[1] >= length:
        return scores[:, :length]
    return np.concatenate([scores, np.repeat(scores[:, -1:], length - scores.shape[1], axis=1)], axis=1)


def _at_seconds(scores: np.ndarray, elapsed: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(N_BOOT, len(grid)): the best-so-far score once `grid` seconds are spent (NaN before the first)."""
    counts = (elapsed[:, None, :] <= grid[None, :, None]).sum(axis=2)
    rows = np.arange(scores.shape[0])[:, None]
    values = scores[rows, np.maximum(counts - 1, 0)]
    return np.where(counts > 0, values, np.nan)


def _summary(stack: list[np.ndarray]) -> dict | None:
    """Mean over datasets per replicate (NaN unless every dataset has a value), then mean and band."""
    if not stack:
        return None
    per_replicate = np.mean(np.stack(stack), axis=0)  # NaN propagates: no mixing of dataset sets
    defined = ~np.isnan(per_replicate).any(axis=0)
    mean = np.full(per_replicate.shape[1], np.nan)
    low, high = mean.copy(), mean.copy()
    if defined.any():
        mean[defined] = per_replicate[:, defined].mean(axis=0)
        low[defined] = np.percentile(per_replicate[:, defined], 2.5, axis=0)
        high[defined] = np.percentile(per_replicate[:, defined], 97.5, axis=0)
    return {key: [None if np.isnan(v) else round(float(v), 4) for v in values]
            for key, values in (("mean", mean), ("low", low), ("high", high))}


def _normalise(scores: np.ndarray, low: float, high: float) -> np.ndarray:
    """Normalised scores; before a unit's first scored trial there is no model yet, so the score is
    the constant predictor's, 0."""
    return np.nan_to_num(np.maximum(0.0, (scores - low) / (high - low)), nan=0.0)


def tuning_curves(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> dict:
    results = [r for r in board["results"] if r["score"] is not None]
    cells = {(r["dataset"], r["model"], r["train_size"]) for r in results}
    anchors = {}
    for row in results:
        low, high = anchors.get(row["dataset"], (row["baseline_score"], row["score"]))
        anchors[row["dataset"]] = (low, max(high, row["score"]))
    raw = _unit_curves(units, trials_by_unit, cells)
    panels_out = {}
    modalities = sorted({r["modality"] for r in results})
    for panel in ["all", *modalities] if len(modalities) > 1 else modalities:
        rows = [r for r in results if panel == "all" or r["modality"] == panel]
        keys = [(r["dataset"], r["model"]) for r in rows
                if (r["dataset"], r["model"]) in raw and anchors[r["dataset"]][1] > anchors[r["dataset"]][0]]
        if not keys:
            continue
        length = max(s.shape[1] for k in keys for s, _ in raw[k])
        spent = [e[:, -1] for k in keys for _, e in raw[k]]
        first = [e[:, 0] for k in keys for _, e in raw[k]]
        start = max(1e-3, float(np.min(np.concatenate(first))))
        stop = max(start * 1.01, float(np.max(np.concatenate(spent))))
        grid = np.geomspace(start, stop, N_SECONDS)
        by_trials, by_seconds = {}, {}
        for key in keys:
            low, high = anchors[key[0]]
            folds = raw[key]
            by_trials[key] = _normalise(np.mean([_pad(s, length) for s, _ in folds], axis=0), low, high)
            by_seconds[key] = _normalise(np.mean([_at_seconds(s, e, grid) for s, e in folds], axis=0), low, high)
        groups = {}
        for model in sorted({k[1] for k in keys}):
            mine = [k for k in keys if k[1] == model]
            groups[("model", model)] = mine
        for family in FAMILIES:
            chosen = representatives(rows, family)
            mine = [(d, r["model"]) for d, r in sorted(chosen.items()) if (d, r["model"]) in by_trials]
            if mine:
                groups[("family", family)] = mine
        entry = {"trials_x": list(range(1, length + 1)), "seconds_x": [round(float(g), 4) for g in grid],
                 "models": {}, "families": {}}
        family_of = {r["model"]: r["family"] for r in rows}
        for (kind, name), mine in groups.items():
            curve = {
                "n_datasets": len(mine),
                "trials": _summary([by_trials[k] for k in mine]),
                "seconds": _summary([by_seconds[k] for k in mine]),
            }
            if kind == "model":
                entry["models"][name] = {"family": family_of[name], **curve}
            else:
                entry["families"][name] = {"members": sorted({k[1] for k in mine}), **curve}
        panels_out[panel] = entry
    return {"method": METHOD, "n_boot": N_BOOT, "panels": panels_out}


def _at(curve: dict, index: int):
    value = curve["mean"][index]
    if value is None:
        return "—"
    return f"{value:.3f} [{curve['low'][index]:.3f}, {curve['high'][index]:.3f}]"


def render(board: dict) -> list:
    """Section 4: first and last point of each family's tuning curve per panel."""
    tc = board["tuning_curves"]
    rows = []
    for panel, entry in tc["panels"].items():
        for name, curve in entry["families"].items():
            rows.append([panel, name, ", ".join(curve["members"]), str(curve["n_datasets"]),
                         _at(curve["trials"], 0), _at(curve["trials"], -1), f"{entry['seconds_x'][-1]:.1f}"])
    if not rows:
        return [("p", "No scored trials: no tuning curves.")]
    return [("table", ["panel", "family", "members", "datasets", "default (trial 1)", "after all trials",
                       "seconds axis ends at"], rows, "lllrrrr"),
            ("p", tc["method"] + f" {tc['n_boot']} trial orders per unit; a family is, on each dataset, its member "
                  "with the best final validation score. Curves per model are in leaderboard.json."),
            ("figure", "tuning_curves")]


def draw(board: dict):
    """Best-so-far normalised test score (chosen by validation) against trials and seconds, per family."""
    from matplotlib.ticker import MaxNLocator

    from bench.report.figures import family_color, plt

    panels = board["tuning_curves"]["panels"]
    if not panels:
        return None
    names = list(panels)
    fig, axes = plt.subplots(2, len(names), figsize=(3.3 * len(names), 5.2), squeeze=False)
    for j, name in enumerate(names):
        panel = panels[name]
        for row, (key, x) in enumerate((("trials", panel["trials_x"]), ("seconds", panel["seconds_x"]))):
            ax = axes[row][j]
            for family, curve in panel["families"].items():
                data = curve[key]
                mean = np.array([np.nan if v is None else v for v in data["mean"]])
                low = np.array([np.nan if v is None else v for v in data["low"]])
                high = np.array([np.nan if v is None else v for v in data["high"]])
                ax.plot(x, mean, color=family_color(family), label=f"{family} ({curve['n_datasets']} ds)",
                        marker="o" if key == "trials" and len(x) < 12 else None, ms=3)
                ax.fill_between(x, low, high, color=family_color(family), alpha=0.2, lw=0)
            if key == "seconds":
                ax.set_xscale("log")
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("trials" if key == "trials" else "seconds of fit + predict (log)")
            if j == 0:
                ax.set_ylabel("normalised test score")
            ax.set_title(f"{name}: vs {key}")
            ax.legend(frameon=False, loc="best")
    fig.tight_layout()
    return fig


FIGURES = {
    "tuning_curves": (draw, "Best-so-far normalised test score, chosen by validation, against trials and seconds; "
                            "bands: 2.5-97.5% over random trial orders."),
}
