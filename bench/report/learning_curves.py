"""Learning curves: score against training-set size, per model and per family, from runs with
training sizes (the `learning-curve` suite). Where the deep line crosses the tree line is where
deep learning starts to pay.

A family at a size is its member with the best mean validation score at that size. The
aggregate normalises each dataset's scores (constant predictor = 0, the best score of any model
at any size on that dataset = 1) and averages over the datasets that reach the size; the number
of datasets behind each point is given, because large sizes are reached by fewer datasets.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench.report.families import FAMILIES, outcome, representatives

METHOD = __doc__.split("\n\n", 1)[1].replace("\n", " ").strip()


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
    rows = [r for r in board["learning_curve"] if r["score"] is not None]
    if not rows:
        return {"available": False, "method": METHOD,
                "note": "this run has no training sizes; run a suite with train_sizes (e.g. learning-curve)"}
    sizes = sorted({r["train_size"] for r in rows})
    by_dataset = defaultdict(list)
    for row in rows:
        by_dataset[row["dataset"]].append(row)
    datasets_out = {}
    normalized = defaultdict(lambda: defaultdict(list))  # family -> size -> values
    duel = defaultdict(lambda: {"win": 0, "tie": 0, "loss": 0})  # size -> deep vs tree outcomes
    for dataset, cells in sorted(by_dataset.items()):
        best = max(r["score"] for r in cells)
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
                    low = chosen["baseline_score"]
                    if best > low:
                        normalized[family][size].append(max(0.0, (chosen["score"] - low) / (best - low)))
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
                                   representatives(at_size, "tree")[dataset])] += 1
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
    }
