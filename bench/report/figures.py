"""The report's figures, drawn with matplotlib from the leaderboard data alone, as PNG and SVG.

Each `draw_*` function takes the leaderboard and returns a figure, or None when the run has
nothing to show; `write_figures` saves them and returns their paths and captions.
"""
from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

from bench.threads import cores  # noqa: E402

FAMILY_COLORS = {"deep": "#d62728", "tree": "#2ca02c", "classical": "#1f77b4"}
MODALITY_MARKERS = {"tabular": "o", "image": "s", "sequence": "^"}
MAX_PANELS = 24
MAX_DIAGNOSTIC_PANELS = 16
MAX_CONFUSION_PANELS = 4
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 110, "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9,
    "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "bench-report",
}


def _color(family: str) -> str:
    return FAMILY_COLORS.get(family, "#7f7f7f")


def _grid(n: int, columns: int, width: float = 3.2, height: float = 2.5):
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def draw_ratings(board: dict):
    """Elo with its bootstrap interval per model, and the mean normalised score beside it."""
    models = [m for m in board["models"] if m.get("elo") is not None]
    if not models:
        return None
    models = sorted(models, key=lambda m: m["elo"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.45 * len(models) + 1.2), sharey=True)
    y = np.arange(len(models))
    for i, m in enumerate(models):
        left.errorbar(m["elo"], i, xerr=[[m["elo"] - m["elo_low"]], [m["elo_high"] - m["elo"]]], fmt="o",
                      color=_color(m["family"]), capsize=3)
        right.barh(i, m["mean_normalized_score"] or 0, color=_color(m["family"]), alpha=0.8)
        right.text((m["mean_normalized_score"] or 0) + 0.01, i, f"{m['n_datasets']} ds", va="center", fontsize=7)
    left.axvline(1000, color="#999", lw=0.8, ls="--")
    left.set_yticks(y, [m["name"] for m in models])
    left.set_xlabel("Elo (95% bootstrap interval over datasets)")
    right.set_xlabel("mean normalised score (over the model's datasets)")
    right.set_xlim(0, 1.15)
    right.legend(handles=[Patch(color=c, label=f) for f, c in FAMILY_COLORS.items()], loc="lower right",
                 frameon=False)
    fig.tight_layout()
    return fig


def draw_critical_difference(board: dict):
    """Demsar's diagram: mean ranks on an axis, bars joining models within the critical difference."""
    cd = board["critical_difference"]
    if not cd["mean_ranks"] or cd["cd"] is None:
        return None
    ranks = cd["mean_ranks"]
    k = len(ranks)
    order = sorted(ranks, key=lambda m: (ranks[m], m))
    fig, ax = plt.subplots(figsize=(7.5, 1.5 + 0.25 * k))
    ax.set_xlim(k + 0.3, 0.7)  # rank 1 (best) on the right, as in Demsar (2006)
    ax.set_ylim(-(math.ceil(k / 2) - 1) * 0.45 - 0.9, 1.7)
    ax.axis("off")
    ax.hlines(0, 1, k, color="black", lw=1)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.15, color="black", lw=1)
        ax.text(r, 0.3, str(r), ha="center", va="bottom")
    half = math.ceil(k / 2)
    for i, model in enumerate(order):
        right = i < half
        level = -(i if right else k - 1 - i) * 0.45 - 0.5
        x_text = 0.8 if right else k + 0.2
        ax.plot([ranks[model], ranks[model], x_text], [0, level, level], color="black", lw=0.8)
        ax.text(x_text, level, f"  {model} ({ranks[model]:.2f})  ", ha="left" if right else "right", va="center")
    for j, clique in enumerate(cd["cliques"]):
        low, high = min(ranks[m] for m in clique), max(ranks[m] for m in clique)
        y = -0.25 - 0.12 * j
        ax.hlines(y, low - 0.03, high + 0.03, color="#444", lw=3)
    ax.hlines(1.2, 1, 1 + cd["cd"], color="black", lw=1.5)
    ax.text(1 + cd["cd"] / 2, 1.3, f"CD = {cd['cd']:.2f}", ha="center", va="bottom")
    friedman = cd["friedman"]
    ax.set_title(f"Friedman p = {friedman['p_value']:.3g} over {friedman['n_datasets']} datasets; "
                 f"Nemenyi alpha = {cd['alpha']}", fontsize=8)
    fig.tight_layout()
    return fig


def draw_tuning(board: dict):
    """Best-so-far normalised test score (chosen by validation) against trials and seconds, per family."""
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
                ax.plot(x, mean, color=_color(family), label=f"{family} ({curve['n_datasets']} ds)",
                        marker="o" if key == "trials" and len(x) < 12 else None, ms=3)
                ax.fill_between(x, low, high, color=_color(family), alpha=0.2, lw=0)
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


def draw_learning(board: dict):
    """Score against training-set size: normalised per family over datasets, then per dataset."""
    curves = board["learning_curves"]
    if not curves.get("available"):
        return None
    datasets = list(curves["datasets"])[: MAX_PANELS - 1]
    fig, axes = _grid(1 + len(datasets), 4)
    ax = axes[0]
    for family, data in curves["families"].items():
        ax.plot(data["sizes"], data["mean_normalized"], marker="o", color=_color(family), label=family)
        for x, y, n in zip(data["sizes"], data["mean_normalized"], data["n_datasets"]):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(0, 4), fontsize=6, ha="center",
                        color=_color(family))
    ax.set_xscale("log")
    ax.set_title("all datasets (n per point)")
    ax.set_ylabel("mean normalised score")
    ax.legend(frameon=False)
    for ax, dataset in zip(axes[1:], datasets):
        entry = curves["datasets"][dataset]
        for model, data in entry["models"].items():
            ax.plot(data["sizes"], data["scores"], marker=".", color=_color(data["family"]), alpha=0.9,
                    label=model)
        if entry["crossing"]:
            ax.axvline(entry["crossing"], color="#999", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(f"{dataset} ({entry['modality']})")
        ax.legend(frameon=False, fontsize=6)
    for ax in axes:
        ax.set_xlabel("training rows (log)")
    fig.tight_layout()
    return fig


def draw_pareto(board: dict):
    """Mean tuning seconds per unit against mean normalised score, front joined, per modality."""
    panels = board["cost"]["pareto"]
    if not panels:
        return None
    family = {m["name"]: m["family"] for m in board["models"]}
    fig, axes = _grid(len(panels), 4, 3.4, 2.9)
    for ax, (name, panel) in zip(axes, panels.items()):
        points = panel["points"]
        for model, p in points.items():
            ax.scatter(p["tuning_s"], p["mean_normalized_score"], color=_color(family[model]), zorder=3)
            ax.annotate(f"{model} ({p['n_datasets']})", (p["tuning_s"], p["mean_normalized_score"]),
                        textcoords="offset points", xytext=(4, 3), fontsize=7)
        front = panel["front"]
        ax.plot([points[m]["tuning_s"] for m in front], [points[m]["mean_normalized_score"] for m in front],
                color="#555", ls="--", lw=0.8, zorder=2)
        ax.set_xscale("log")
        ax.set_xlabel("mean tuning seconds per unit (log)")
        ax.set_ylabel("mean normalised score")
        ax.set_title(name)
    fig.tight_layout()
    return fig


def draw_deep_vs_tree(board: dict):
    """The deep-minus-tree gap in normalised score against meta-features, by modality."""
    rows = board["where_deep_wins"]["datasets"]
    if not rows:
        return None
    features = ("log10_n_train", "categorical_share", "uninformative_share", "skewness_mean_abs")
    labels = board["where_deep_wins"]["by_metafeature"]
    fig, axes = _grid(len(features), 4, 3.0, 2.7)
    for ax, feature in zip(axes, features):
        for modality, marker in MODALITY_MARKERS.items():
            points = [(r["features"][feature], r["gap"]) for r in rows
                      if r["modality"] == modality and r["features"][feature] is not None]
            if points:
                ax.scatter(*zip(*points), marker=marker, s=22, alpha=0.8, label=modality)
        ax.axhline(0, color="#999", lw=0.8)
        entry = labels[feature]
        rho = ("" if entry["spearman_rho"] is None else
               f"\nSpearman rho {entry['spearman_rho']:.2f} (p {entry['p_value']:.2g})")
        ax.set_title(entry["label"] + rho, fontsize=8)
        ax.set_ylabel("deep - tree (normalised)")
    axes[0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def draw_diagnostics(board: dict):
    """Train and validation loss of the chosen trial, for the first fold of each deep model and dataset;
    the suspicious, overfit and underfit ones first when there are more than fit."""
    seen, chosen = set(), []
    for entry in board["diagnostics"]["units"]:
        key = (entry["dataset"], entry["model"])
        if key not in seen and entry.get("curves", {}).get("train_loss"):
            seen.add(key)
            chosen.append(entry)
    priority = {"suspicious": 0, "overfit": 1, "underfit": 2}
    chosen = sorted(chosen, key=lambda e: priority.get(e["diagnosis"], 3))[:MAX_DIAGNOSTIC_PANELS]
    if not chosen:
        return None
    fig, axes = _grid(len(chosen), 4, 2.8, 2.1)
    for ax, entry in zip(axes, chosen):
        epochs = np.arange(1, len(entry["curves"]["train_loss"]) + 1)
        ax.plot(epochs, entry["curves"]["train_loss"], label="train", color="#1f77b4")
        ax.plot(epochs, entry["curves"]["valid_loss"], label="valid", color="#ff7f0e")
        if entry.get("constant_loss"):
            ax.axhline(entry["constant_loss"], color="#999", ls=":", lw=0.8)
        if entry.get("best_epoch"):
            ax.axvline(entry["best_epoch"], color="#999", ls="--", lw=0.6)
        ax.set_title(f"{entry['dataset']} / {entry['model']} f{entry['fold']}: {entry['diagnosis']}", fontsize=7)
        ax.set_xlabel("epoch", fontsize=7)
    axes[0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def draw_confusion(board: dict):
    """Confusion matrices of the chosen trials, when the trial rows recorded them."""
    entries = [e for e in board["diagnostics"]["units"] if e.get("confusion_matrix")][:MAX_CONFUSION_PANELS]
    if not entries:
        return None
    fig, axes = _grid(len(entries), 4, 2.6, 2.5)
    for ax, entry in zip(axes, entries):
        matrix = np.asarray(entry["confusion_matrix"], dtype=float)
        ax.imshow(matrix, cmap="Blues")
        if len(matrix) <= 10:
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=6)
        ax.set_title(f"{entry['dataset']} / {entry['model']} f{entry['fold']}", fontsize=7)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    fig.tight_layout()
    return fig


def draw_misclassified(board: dict):
    """A few misclassified test images, when the trial rows recorded them (pixels, true, predicted)."""
    examples = []
    for entry in board["diagnostics"]["units"]:
        if entry["modality"] == "image":
            for example in (entry.get("misclassified") or [])[:4]:
                examples.append((entry, example))
    examples = examples[:16]
    if not examples:
        return None
    fig, axes = _grid(len(examples), 8, 1.3, 1.5)
    for ax, (entry, example) in zip(axes, examples):
        pixels = np.asarray(example["pixels"], dtype=float)
        shape = example.get("shape")
        if shape:
            pixels = pixels.reshape(shape)
        if pixels.ndim == 3:
            pixels = pixels[0] if pixels.shape[0] in (1, 3) and pixels.shape[0] != pixels.shape[-1] else pixels
        ax.imshow(pixels, cmap="gray")
        ax.set_title(f"{entry['dataset']}\ntrue {example['true']} pred {example['predicted']}", fontsize=6)
        ax.axis("off")
    fig.tight_layout()
    return fig


FIGURES = {
    "ratings": (draw_ratings, "Elo rating per model with its 95% bootstrap interval over datasets, and the mean "
                              "normalised score with the number of datasets behind it."),
    "critical_difference": (draw_critical_difference,
                            "Critical-difference diagram: mean rank per model (1 = best); bars join models whose ranks "
                            "differ by less than the Nemenyi CD."),
    "tuning_curves": (draw_tuning, "Best-so-far normalised test score, chosen by validation, against trials and "
                                   "seconds; bands: 2.5-97.5% over random trial orders."),
    "learning_curves": (draw_learning, "Score against training-set size; dashed line: where deep starts to stay ahead "
                                       "of trees."),
    "pareto": (draw_pareto, "Mean tuning time per unit against mean normalised score; dashed: the Pareto front; "
                            "in brackets, the number of datasets."),
    "deep_vs_tree": (draw_deep_vs_tree, "Best deep minus best tree model (normalised score) per dataset against "
                                        "meta-features; above zero, deep learning wins."),
    "diagnostics": (draw_diagnostics, "Train (blue) and validation (orange) loss of the chosen trial (first fold; "
                                      "problem cases first); dotted: the constant predictor's loss; dashed: the "
                                      "epoch kept."),
    "confusion": (draw_confusion, "Test confusion matrices of the chosen trials."),
    "misclassified": (draw_misclassified, "Misclassified test images with their true and predicted classes."),
}


def _write_figure(name: str, board: dict, folder: Path) -> bool:
    """Draw one figure into `folder` as PNG and SVG; False when the run has nothing to show for it."""
    draw, _ = FIGURES[name]
    with plt.rc_context(STYLE):
        fig = draw(board)
        if fig is None:
            return False
        fig.savefig(folder / f"{name}.png", metadata={"Software": None})
        fig.savefig(folder / f"{name}.svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    return True


def write_figures(board: dict, out_dir: Path) -> dict[str, dict]:
    """Draw every figure the run has data for into out_dir/figures as PNG and SVG.

    Figures are drawn in parallel, one process per core: drawing and saving them takes
    seconds (about 7 for the quick suite on one core), all of it after the run's last unit.
    """
    folder = Path(out_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    names = list(FIGURES)
    processes = min(len(names), cores())
    if processes > 1:
        # Forked, so that no process imports matplotlib again. The report is drawn after the run's
        # cluster has closed; the children draw and write files only, and touch no lock a thread holds.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            drawn = list(pool.map(_write_figure, names, repeat(board), repeat(folder)))
    else:
        drawn = [_write_figure(name, board, folder) for name in names]
    return {name: {"png": f"figures/{name}.png", "svg": f"figures/{name}.svg", "caption": FIGURES[name][1]}
            for name, done in zip(names, drawn) if done}
