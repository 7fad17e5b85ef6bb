"""Tuning curves (Grinsztajn et al. 2022, figure 1): the test score of the best-validation trial so
far, against the number of trials and against seconds spent.

After each trial the chosen one is the best on validation so far, and its test score is read. The
order of the trials depends on the sampler. Random search draws its trials independently, so any
order is as likely as the one that ran: the order is shuffled many times per unit (the default,
trial 0, stays first) and the band shows how much the luck of the order matters. An adaptive sampler
(TPE) chooses each trial from the ones before it, so a shuffled order is one it could never have run:
its curve follows the order the trials ran in, and the band is over the outer folds (each fold a
replicate of the whole search, with its own split and seed; a dataset with fewer folds, such as one with a
published test split, takes its folds in turn).

Scores are normalised per dataset as in section 1 (its robust low anchor = 0, the best model's final
mean score = 1, each fold's score clipped to [0, 1]), then averaged over datasets within each replicate (a
trial order, or a fold). The line is the mean over replicates, the band its 2.5-97.5 percentiles.
A fold without a scored trial yet (or failed, or never run) counts as the constant predictor's score
on it, as the report imputes it. Each panel averages over one common set of datasets: a model's curve
is drawn in a panel only when it applies to every dataset of the panel, and every curve of the panel
is over the datasets where all those models have a complete cell and that carry signal.
"""
from __future__ import annotations

import zlib

import numpy as np

from bench import stats
from bench.ensembles import CURVE_POINTS
from bench.report.families import FAMILIES, representatives
from bench.report.per_dataset import common_datasets

N_BOOT = 200
N_SECONDS = 30
METHOD = " ".join(p.replace("\n", " ").strip() for p in __doc__.split("\n\n")[1:])
ENSEMBLED_METHOD = (
    "Tuned + ensembled (dashed): each unit's anytime ensemble curve, stored with its ensemble (bench/ensembles.py): "
    "after k trials, greedy ensemble selection with replacement (Caruana et al. 2004) over the first k trials in the "
    f"order they ran, weights chosen on validation only, scored once on test; a study longer than {CURVE_POINTS} "
    f"trials is read at {CURVE_POINTS} log-spaced trial counts, each count between holding the last one read. It is "
    "normalised "
    "and averaged as the tuned curve is, in run order with the band over the outer folds whatever the sampler; "
    "a fold without a scored trial yet (or failed, or never run) counts as the constant predictor. Not recorded "
    "in a store written before ensembles were kept."
)


def shuffles(board: dict) -> bool:
    """Whether the run's trial order may be shuffled: only for random search."""
    return board["sampler"] == "random"


def _fold_curve(unit: dict | None, trials: list[dict], baseline: float, shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
    """(scores, elapsed) of one fold, (N_BOOT or 1, n_trials), a trial not yet chosen counting as `baseline`."""
    replicates = N_BOOT if shuffle else 1
    rows = sorted(trials, key=lambda t: t["number"])
    if unit is None or not rows:
        return np.full((replicates, 1), baseline), np.zeros((replicates, 1))
    ok = [t["status"] == "ok" for t in rows]
    scores, elapsed = stats.anytime_curves(
        [t["valid_score"] if good else None for t, good in zip(rows, ok)],
        [t["test_score"] if good else None for t, good in zip(rows, ok)],
        [(t["fit_s"] or 0.0) + (t["predict_s"] or 0.0) for t in rows],
        n_boot=replicates, seed=zlib.crc32(unit["unit_key"].encode()), shuffle=shuffle,
    )
    return np.where(np.isnan(scores), baseline, scores), elapsed


def _cell_curves(rows: list[dict], units: list[dict], trials_by_unit: dict[str, list[dict]],
                 shuffle: bool) -> dict:
    """(dataset, model) -> list over folds of (scores, elapsed, baseline)."""
    by_key = {(u["dataset"], u["model"], u["fold"], u["train_size"] or None): u for u in units}
    curves = {}
    for row in rows:
        folds = []
        for fold in row["folds"]:
            unit = by_key.get((row["dataset"], row["model"], fold["fold"], row["train_size"]))
            trials = trials_by_unit.get(unit["unit_key"], []) if unit else []
            folds.append((*_fold_curve(unit, trials, fold["baseline_score"], shuffle), fold["baseline_score"]))
        curves[(row["dataset"], row["model"])] = folds
    return curves


def _ensembled_curve(ensemble: dict | None, fold: dict, length: int) -> np.ndarray | None:
    """(1, length): the fold's ensemble test score after each number of trials (run order), a count between
    two stored points holding the last one; the constant predictor before the first scored trial. None when a
    fold that ran has no ensemble recorded."""
    baseline = fold["baseline_score"]
    if fold["imputed"]:
        return np.full((1, length), baseline)
    if ensemble is None or not ensemble["curve"]:
        return None
    values = np.full(length, baseline)
    for point in sorted(ensemble["curve"], key=lambda p: p["trials"]):
        if point["trials"] <= length:
            values[point["trials"] - 1:] = baseline if point["test_score"] is None else point["test_score"]
    return values[None, :]


def _ensembled_curves(rows: list[dict], units: list[dict], ensembles: dict[str, dict], length: int) -> dict:
    """(dataset, model) -> (folds, length) ensembled anytime scores, or None when some fold has none recorded."""
    by_key = {(u["dataset"], u["model"], u["fold"], u["train_size"] or None): u for u in units}
    curves = {}
    for row in rows:
        folds = []
        for fold in row["folds"]:
            unit = by_key.get((row["dataset"], row["model"], fold["fold"], row["train_size"]))
            folds.append(_ensembled_curve(ensembles.get(unit["unit_key"]) if unit else None, fold, length))
        curves[(row["dataset"], row["model"])] = None if any(f is None for f in folds) else np.vstack(folds)
    return curves


def _pad(scores: np.ndarray, length: int) -> np.ndarray:
    """Carry the last value forward: after its budget a unit's choice no longer changes."""
    if scores.shape[1] >= length:
        return scores[:, :length]
    return np.concatenate([scores, np.repeat(scores[:, -1:], length - scores.shape[1], axis=1)], axis=1)


def _at_seconds(scores: np.ndarray, elapsed: np.ndarray, grid: np.ndarray, baseline: float) -> np.ndarray:
    """(replicates, len(grid)): the best-so-far score once `grid` seconds are spent (`baseline` before the first)."""
    counts = (elapsed[:, None, :] <= grid[None, :, None]).sum(axis=2)
    rows = np.arange(scores.shape[0])[:, None]
    values = scores[rows, np.maximum(counts - 1, 0)]
    return np.where(counts > 0, values, baseline)


def _combine(folds: list[np.ndarray], shuffle: bool) -> np.ndarray:
    """Replicates of a cell: the mean over folds per trial order (shuffled), or one replicate per fold."""
    return np.mean(folds, axis=0) if shuffle else np.vstack(folds)


def _summary(stack: list[np.ndarray]) -> dict | None:
    """Mean over datasets per replicate, then mean and 2.5-97.5% band over replicates. Where the replicates are
    the outer folds, a dataset with fewer folds (a published test split is its one fold) takes its folds in
    turn, so that it counts in every replicate."""
    if not stack:
        return None
    replicates = max(s.shape[0] for s in stack)
    stack = [np.take(s, np.arange(replicates) % s.shape[0], axis=0) for s in stack]
    per_replicate = np.mean(np.stack(stack), axis=0)
    mean = per_replicate.mean(axis=0)
    low = np.percentile(per_replicate, 2.5, axis=0)
    high = np.percentile(per_replicate, 97.5, axis=0)
    return {key: [round(float(v), 4) for v in values] for key, values in (("mean", mean), ("low", low), ("high", high))}


def _normalise(scores: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip((scores - low) / (high - low), 0.0, 1.0)


def _panel_models(board: dict, datasets: list[str]) -> list[str]:
    """The models that apply to every dataset of a panel."""
    coverage = board["provenance"]["coverage"]
    return [m for m, c in coverage.items() if not set(datasets) & set(c["not_applicable"])]


def tuning_curves(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]],
                  ensembles: dict[str, dict] | None = None) -> dict:
    """Per panel, each model's and family's curves: `trials` and `seconds` (tuned, best-so-far) and
    `ensembled_trials` (tuned + ensembled, None when not recorded); `ensembles` maps unit keys to
    Store.ensembles rows."""
    ensembles = ensembles or {}
    shuffle = shuffles(board)
    results = board["results"]
    info = board["datasets"]
    no_signal = set(board["no_signal_datasets"])
    modalities = sorted({r["modality"] for r in results})
    panels_out = {}
    for panel in ["all", *modalities] if len(modalities) > 1 else modalities:
        panel_datasets = sorted({r["dataset"] for r in results if panel == "all" or r["modality"] == panel})
        models = _panel_models(board, panel_datasets)
        common, _ = common_datasets(results, models, panel_datasets, no_signal)
        common = [d for d in common if info[d]["best_score"] > info[d]["low_anchor"]]
        rows = [r for r in results if r["dataset"] in common and r["complete"]]
        if not common or not models:
            continue
        groups = {("model", m): [(d, m) for d in common] for m in models}
        for family in FAMILIES:
            chosen = representatives(rows, family)
            if chosen and set(chosen) == set(common):
                groups[("family", family)] = [(d, chosen[d]["model"]) for d in common]
        needed = {key for members in groups.values() for key in members}
        raw = _cell_curves([r for r in rows if (r["dataset"], r["model"]) in needed], units, trials_by_unit, shuffle)
        length = max(s.shape[1] for folds in raw.values() for s, _, _ in folds)
        first = [e[:, 0] for folds in raw.values() for _, e, _ in folds]
        spent = [e[:, -1] for folds in raw.values() for _, e, _ in folds]
        start = max(1e-3, float(np.min(np.concatenate(first))))
        stop = max(start * 1.01, float(np.max(np.concatenate(spent))))
        grid = np.geomspace(start, stop, N_SECONDS)
        by_trials, by_seconds = {}, {}
        ensembled = _ensembled_curves([r for r in rows if (r["dataset"], r["model"]) in raw], units, ensembles,
                                      length)
        by_ensembled = {key: None if curve is None else _normalise(curve, info[key[0]]["low_anchor"],
                                                                   info[key[0]]["best_score"])
                        for key, curve in ensembled.items()}
        for key, folds in raw.items():
            low, high = info[key[0]]["low_anchor"], info[key[0]]["best_score"]
            by_trials[key] = _normalise(_combine([_pad(s, length) for s, _, _ in folds], shuffle), low, high)
            by_seconds[key] = _normalise(_combine([_at_seconds(s, e, grid, b) for s, e, b in folds], shuffle),
                                         low, high)
        entry = {"trials_x": list(range(1, length + 1)), "seconds_x": [round(float(g), 4) for g in grid],
                 "models_shown": models, "datasets": common, "models": {}, "families": {}}
        family_of = {r["model"]: r["family"] for r in rows}
        for (kind, name), members in groups.items():
            curve = {
                "n_datasets": len(members),
                "trials": _summary([by_trials[k] for k in members]),
                "seconds": _summary([by_seconds[k] for k in members]),
                "ensembled_trials": (None if any(by_ensembled[k] is None for k in members)
                                     else _summary([by_ensembled[k] for k in members])),
            }
            if kind == "model":
                entry["models"][name] = {"family": family_of[name], **curve}
            else:
                entry["families"][name] = {"members": sorted({k[1] for k in members}), **curve}
        panels_out[panel] = entry
    return {"method": METHOD, "ensembled_method": ENSEMBLED_METHOD, "order": "shuffled" if shuffle else "run order",
            "replicates": f"{N_BOOT} trial orders per unit" if shuffle else "the outer folds",
            "sampler": board["sampler"], "sampler_settings": board.get("sampler_settings"),
            "n_boot": N_BOOT if shuffle else None, "panels": panels_out}


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
            ensembled = curve.get("ensembled_trials")
            rows.append([panel, name, ", ".join(curve["members"]), str(curve["n_datasets"]),
                         _at(curve["trials"], 0), _at(curve["trials"], -1),
                         _at(ensembled, -1) if ensembled else "not recorded", f"{entry['seconds_x'][-1]:.1f}"])
    if not rows:
        return [("p", "No common datasets with scored trials: no tuning curves.")]
    settings = tc.get("sampler_settings")
    sampler = f"This run's sampler: {tc['sampler']}" + (
        " (" + ", ".join(f"{k} {v}" for k, v in settings.items()) + ")" if settings else "")
    order = ("its trial order is shuffled" if tc["order"] == "shuffled" else
             "its curves follow the order the trials ran in")
    return [("table", ["panel", "family", "members", "datasets", "default (trial 1)", "after all trials",
                       "tuned + ensembled, after all trials", "seconds axis ends at"], rows, "lllrrrrr"),
            ("p", tc["method"] + f" {sampler}: {order}; bands over {tc['replicates']}. A family's curve follows, "
                  "on each dataset, the family's declared representative, the model that stands for it in "
                  "section 3 (never the best of its members). Curves per model, and each "
                  "panel's datasets and models, are in leaderboard.json. " + tc.get("ensembled_method", "")),
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
                ax.plot(x, data["mean"], color=family_color(family), label=f"{family} ({curve['n_datasets']} ds)",
                        marker="o" if key == "trials" and len(x) < 12 else None, ms=3)
                ax.fill_between(x, data["low"], data["high"], color=family_color(family), alpha=0.2, lw=0)
                if key == "trials" and curve.get("ensembled_trials"):
                    ax.plot(x, curve["ensembled_trials"]["mean"], color=family_color(family), ls="--", lw=1.2)
            if key == "trials" and any(c.get("ensembled_trials") for c in panel["families"].values()):
                ax.plot([], [], color="#555", ls="--", lw=1.2, label="tuned + ensembled")
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
    "tuning_curves": (draw, "Best-so-far normalised test score, chosen by validation, against trials and seconds "
                            "(dashed, against trials: tuned + ensembled over the first k trials); "
                            "bands: 2.5-97.5% over random trial orders (random search) or over outer folds (TPE, "
                            "in the order the trials ran)."),
}
