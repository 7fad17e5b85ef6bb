"""Learning curves: score against training-set size, per model and per family, from runs with
training sizes (the `learning-curve` suite). Where the deep line crosses the tree line is where
deep learning starts to pay.

A family at a size is its declared representative (families.py) at that size; deep against
tree at a size is a tie when the corrected resampled paired t-test over the same folds does not
reject at alpha 0.05 (with one fold, only equal scores tie). The aggregate normalises each
dataset's scores with section 1's robust low anchor = 0 (the 10% quantile of the test scores of
every trial on the dataset; the leaderboard reads the largest training size, so the anchor is
computed over the trials at that size only, not over every size) and the best score of any model
at any size on that dataset = 1, clipped to [0, 1], so that a size whose score is below the anchor
counts 0; it averages over the datasets that reach the size, and the number of datasets behind
each point is given, because large sizes are reached by fewer datasets.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.report.families import FAMILIES, counted, representatives
from bench.report.per_dataset import outcome
from bench.report.formatting import fmt

METHOD = __doc__.split("\n\n", 1)[1].replace("\n", " ").strip()
MAX_PANELS = 24  # the aggregate and the first 23 datasets
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "v", "D")


def crossing(sizes: list[int], differences: list[float]) -> tuple[int | None, str]:
    """The smallest size from which deep stays ahead of trees at every larger size, and a phrase."""
    if not sizes:
        return None, "no size has both families"
    for i in range(len(sizes)):
        if all(d > 0 for d in differences[i:]):
            if i == 0:
                return sizes[0], "deep ahead at every size"
            return sizes[i], f"deep ahead from {sizes[i]} rows on"
    if all(d < 0 for d in differences):
        return None, "trees ahead at every size"
    return None, "deep never stays ahead up to the largest size"


def learning_curves(board: dict) -> dict:
    rows = [r for r in board["learning_curve"] if counted(r)]
    if not rows:
        return {"available": False, "method": METHOD,
                "note": "this run has no training sizes; run a suite with train_sizes (e.g. learning-curve)"}
    sizes = sorted({r["train_size"] for r in rows})
    cells_by_dataset = defaultdict(list)
    for row in rows:
        cells_by_dataset[row["dataset"]].append(row)
    datasets_out = {}
    normalized = defaultdict(lambda: defaultdict(list))  # family -> size -> values
    by_dataset = defaultdict(lambda: defaultdict(dict))  # dataset -> family -> size -> value
    duel = defaultdict(lambda: {"win": 0, "tie": 0, "loss": 0})  # size -> deep vs tree outcomes
    for dataset, cells in sorted(cells_by_dataset.items()):
        best, low = max(r["score"] for r in cells), board["datasets"][dataset]["low_anchor"]
        models = {}
        for row in sorted(cells, key=lambda r: (r["model"], r["train_size"])):
            entry = models.setdefault(row["model"], {"family": row["family"], "sizes": [], "scores": [],
                                                     "ci_low": [], "ci_high": []})
            entry["sizes"].append(row["train_size"])
            for key, name in (("scores", "score"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
                entry[key].append(row[name])
        families_out = {}
        for family in FAMILIES:
            points = []
            for size in sizes:
                at_size = [r for r in cells if r["train_size"] == size]
                chosen = representatives(at_size, family).get(dataset)
                if chosen is not None:
                    points.append((size, chosen))
                    if best > low:
                        value = stats.normalized_score(chosen["score"], low, best)
                        normalized[family][size].append(value)
                        by_dataset[dataset][family][size] = value
            if points:
                families_out[family] = {"sizes": [s for s, _ in points], "scores": [c["score"] for _, c in points],
                                        "models": [c["model"] for _, c in points]}
        shared = []
        if "deep" in families_out and "tree" in families_out:
            deep = dict(zip(families_out["deep"]["sizes"], families_out["deep"]["scores"]))
            tree = dict(zip(families_out["tree"]["sizes"], families_out["tree"]["scores"]))
            shared = [s for s in sizes if s in deep and s in tree]
            for size in shared:
                at_size = [r for r in cells if r["train_size"] == size]
                duel[size][outcome(representatives(at_size, "deep")[dataset],
                                   representatives(at_size, "tree")[dataset], board["folds"])] += 1
            size, phrase = crossing(shared, [deep[s] - tree[s] for s in shared])
        else:
            size, phrase = None, "needs both a deep and a tree model"
        datasets_out[dataset] = {"modality": cells[0]["modality"], "models": models, "families": families_out,
                                 "crossing": size, "crossing_note": phrase}
    aggregate = {}
    for family in FAMILIES:
        if normalized[family]:
            points = sorted(normalized[family].items())
            aggregate[family] = {"sizes": [s for s, _ in points],
                                 "mean_normalized": [round(float(np.mean(v)), 4) for _, v in points],
                                 "n_datasets": [len(v) for _, v in points]}
    return {
        "available": True,
        "method": METHOD,
        "sizes": sizes,
        "datasets": datasets_out,
        "families": aggregate,
        "deep_vs_tree_by_size": [{"train_size": s, "deep_wins": duel[s]["win"], "ties": duel[s]["tie"],
                                  "tree_wins": duel[s]["loss"]} for s in sizes if s in duel],
        "crossing": crossing_interval(by_dataset),
    }


BOOTSTRAP_DRAWS = 2000


def crossing_interval(by_dataset: dict, draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> dict:
    """Where the deep line crosses the tree line over all datasets, with an interval: the mean normalised
    deep - tree difference at each size (over the datasets with both families there), its crossing
    (`crossing`), and the 2.5% and 97.5% quantiles of the crossing over a bootstrap of datasets (Efron &
    Tibshirani 1993; percentile interval, seeded), a crossing that never happens counting as beyond the
    largest size."""
    differences = {d: {s: f["deep"][s] - f["tree"][s] for s in f["deep"] if s in f.get("tree", {})}
                   for d, f in by_dataset.items() if "deep" in f and "tree" in f}
    differences = {d: v for d, v in differences.items() if v}
    if not differences:
        return {"available": False, "note": "no dataset has both a deep and a tree model at some size"}
    names = sorted(differences)
    sizes = sorted({s for v in differences.values() for s in v})

    def crossing_of(sample: list[str]) -> float:
        means = [(s, [differences[d][s] for d in sample if s in differences[d]]) for s in sizes]
        means = [(s, float(np.mean(v))) for s, v in means if v]
        found, _ = crossing([s for s, _ in means], [m for _, m in means])
        return float(found) if found is not None else np.inf

    point = crossing_of(names)
    rng = np.random.default_rng(seed)
    boot = np.array([crossing_of([names[i] for i in rng.integers(0, len(names), len(names))]) for _ in range(draws)])
    low, high = np.quantile(boot, [0.025, 0.975], method="lower"), np.quantile(boot, [0.025, 0.975], method="higher")
    return {"available": True, "datasets": len(names), "sizes": sizes,
            "crossing": None if np.isinf(point) else int(point),
            "interval": [None if np.isinf(low[0]) else int(low[0]), None if np.isinf(high[1]) else int(high[1])],
            "never_share": round(float(np.isinf(boot).mean()), 3), "draws": draws}


def crossing_text(c: dict) -> str:
    """The aggregate crossing in words."""
    if not c.get("available"):
        return c.get("note", "")
    beyond = f"beyond {c['sizes'][-1]:,} rows"
    lead = (f"deep stays ahead from {c['crossing']:,} rows" if c["crossing"] is not None
            else f"deep never stays ahead up to {c['sizes'][-1]:,} rows")
    low, high = (f"{v:,}" if v is not None else beyond for v in c["interval"])
    return (f"Over {c['datasets']} datasets, on the mean deep - tree normalised difference {lead} "
            f"(95% bootstrap interval over datasets: {low} to {high}; {c['never_share']:.0%} of {c['draws']} "
            f"resamples never cross up to the largest size).")


def render(board: dict) -> list:
    """Section 5: where deep starts to stay ahead per dataset, wins by size, family means by size."""
    lc = board["learning_curves"]
    if not lc.get("available"):
        return [("p", "Not available: " + lc["note"] + ".")]
    rows = [[d, e["modality"], fmt(e["crossing"]), e["crossing_note"]] for d, e in lc["datasets"].items()]
    blocks = [("table", ["dataset", "modality", "deep ahead from (rows)", "reading"], rows, "llrl")]
    if lc["deep_vs_tree_by_size"]:
        blocks.append(("table", ["training rows", "deep wins", "ties", "tree wins"],
                       [[str(r["train_size"]), str(r["deep_wins"]), str(r["ties"]), str(r["tree_wins"])]
                        for r in lc["deep_vs_tree_by_size"]], "rrrr"))
    family_rows = [[f, ", ".join(f"{s}: {v:.3f} (n={n})" for s, v, n in zip(d["sizes"], d["mean_normalized"],
                                                                         d["n_datasets"]))]
                   for f, d in lc["families"].items()]
    if family_rows:
        blocks.append(("table", ["family", "mean normalised score by training rows"], family_rows, "ll"))
    if lc.get("crossing"):
        blocks.append(("p", crossing_text(lc["crossing"])))
    blocks += [("p", lc["method"]), ("figure", "learning_curves")]
    return blocks


def draw(board: dict):
    """Score against training-set size: normalised per family over datasets, then per dataset."""
    from bench.report.figures import family_color, grid

    curves = board["learning_curves"]
    if not curves.get("available"):
        return None
    datasets = list(curves["datasets"])[: MAX_PANELS - 1]
    fig, axes = grid(1 + len(datasets), 4)
    ax = axes[0]
    for family, data in curves["families"].items():
        ax.plot(data["sizes"], data["mean_normalized"], marker="o", color=family_color(family), label=family)
        for x, y, n in zip(data["sizes"], data["mean_normalized"], data["n_datasets"]):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(0, 4), fontsize=6, ha="center",
                        color=family_color(family))
    ax.set_xscale("log")
    ax.set_title("all datasets (n per point)")
    ax.set_ylabel("mean normalised score")
    ax.legend(frameon=False)
    for ax, dataset in zip(axes[1:], datasets):
        entry = curves["datasets"][dataset]
        # Colour says the family; line style and marker tell apart the models in one family (the
        # learning-curve suite's four MLP depths would otherwise be one red line over another).
        seen: dict[str, int] = {}
        for model, data in entry["models"].items():
            k = seen[data["family"]] = seen.get(data["family"], -1) + 1
            ax.plot(data["sizes"], data["scores"], color=family_color(data["family"]), alpha=0.9, label=model,
                    ls=LINE_STYLES[k % len(LINE_STYLES)], marker=MARKERS[k % len(MARKERS)], markersize=4)
        if entry["crossing"]:
            ax.axvline(entry["crossing"], color="#999", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(f"{dataset} ({entry['modality']})")
        ax.legend(frameon=False, fontsize=6)
    for ax in axes:
        ax.set_xlabel("training rows (log)")
    fig.tight_layout()
    return fig


FIGURES = {
    "learning_curves": (draw, "Score against training-set size; dashed line: where deep starts to stay ahead of "
                              "trees."),
}
