"""Where deep learning wins: the deep-vs-tree gap by modality, dataset size and meta-feature, and
a depth-2 decision tree over meta-features that predicts when the deep model beats the
tree model, scored by leave-one-dataset-out accuracy against always predicting the majority outcome.

The deep and the tree model of a dataset are the families' declared representatives
(families.py), which had the same tuning budget. The gap is the difference of their normalised
scores (deep minus tree); "deep ahead" means a higher mean test score, and the outcome
(win/tie/loss) asks for more: a tie when the corrected resampled paired t-test of their per-fold
differences (the same folds, Nadeau & Bengio 2003) does not reject at alpha 0.05 (with one fold,
only equal scores tie). A failed or never-run fold counts as the constant predictor's score, as in
section 1, and a cell incomplete even so is left out; datasets that carry no signal (section 2) are
left out. Correlations are Spearman's, with p-values Holm-adjusted over the meta-features.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy import stats as sps

from bench import stats
from bench.report.families import representatives, with_signal
from bench.report.per_dataset import outcome
from bench.report.formatting import fmt, fmt_p

METHOD = __doc__.split("\n\n", 1)[1].replace("\n", " ").strip()
SIZE_BINS = ((0, 1_000, "under 1,000"), (1_000, 10_000, "1,000-10,000"), (10_000, math.inf, "10,000 or more"))
METAFEATURES = {
    "log10_n_train": "training rows (log10)",
    "log10_n_features": "features (log10)",
    "categorical_share": "categorical share",
    "uninformative_share": "irregularity (uninformative-feature share)",
    "skewness_mean_abs": "skewness (mean |g1|)",
    "image": "image modality",
    "sequence": "sequence modality",
}
MIN_CORRELATION_N = 5
MIN_PREDICTOR_N = 6
MODALITY_MARKERS = {"tabular": "o", "image": "s", "sequence": "^"}


def features(info: dict, n_train: int | None) -> dict[str, float | None]:
    """The meta-features the gap is broken down by, from a dataset's recorded info."""
    def log10(value):
        return None if not value else round(math.log10(value), 4)

    return {
        "log10_n_train": log10(n_train),
        "log10_n_features": log10(info.get("n_features")),
        "categorical_share": info.get("categorical_share"),
        "uninformative_share": info.get("uninformative_share"),
        "skewness_mean_abs": info.get("skewness_mean_abs"),
        "image": float(info["modality"] == "image"),
        "sequence": float(info["modality"] == "sequence"),
    }


def gaps(board: dict) -> list[dict]:
    """One row per dataset that carries signal and has both a deep and a tree representative's cell."""
    signal = with_signal(board)
    deep, tree = representatives(board["results"], "deep", signal), representatives(board["results"], "tree", signal)
    rows = []
    for dataset in sorted(set(deep) & set(tree)):
        d, t = deep[dataset], tree[dataset]
        rows.append({
            "dataset": dataset, "modality": d["modality"], "task": d["task"], "n_train": d["n_train"],
            "deep_model": d["model"], "tree_model": t["model"], "deep_score": d["score"], "tree_score": t["score"],
            "gap": round(d["normalized_score"] - t["normalized_score"], 6),
            "deep_beats_tree": d["score"] > t["score"], "outcome": outcome(d, t, board["folds"]),
            "imputed": bool(d["imputed"] or t["imputed"]),
            "features": features(board["datasets"][dataset], d["n_train"]),
        })
    return rows


def _group(rows: list[dict]) -> dict:
    gap = [r["gap"] for r in rows]
    return {"n": len(rows), "deep_wins": sum(r["outcome"] == "win" for r in rows),
            "ties": sum(r["outcome"] == "tie" for r in rows), "tree_wins": sum(r["outcome"] == "loss" for r in rows),
            "deep_ahead": sum(r["deep_beats_tree"] for r in rows),
            "mean_gap": round(float(np.mean(gap)), 4), "median_gap": round(float(np.median(gap)), 4),
            "datasets": [r["dataset"] for r in rows]}


def correlations(rows: list[dict]) -> dict:
    out = {}
    for name in METAFEATURES:
        pairs = [(r["features"][name], r["gap"]) for r in rows if r["features"][name] is not None]
        entry = {"label": METAFEATURES[name], "n": len(pairs), "spearman_rho": None, "p_value": None}
        values = [p[0] for p in pairs]
        if len(pairs) < MIN_CORRELATION_N:
            entry["note"] = f"inconclusive: {len(pairs)} dataset(s), at least {MIN_CORRELATION_N} needed"
        elif len(set(values)) < 2 or len({p[1] for p in pairs}) < 2:
            entry["note"] = "inconclusive: no spread in the feature or the gap"
        else:
            rho, p = sps.spearmanr(values, [p[1] for p in pairs])
            entry.update({"spearman_rho": round(float(rho), 4), "p_value": round(float(p), 6)})
        out[name] = entry
    adjusted = stats.holm([entry["p_value"] for entry in out.values()])
    for entry, p in zip(out.values(), adjusted):
        entry["p_holm"] = None if p is None else round(p, 6)
    return out


def _matrix(rows: list[dict], medians: dict[str, float] | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """Feature matrix with a missing value imputed by the median of the given rows (or `medians`)."""
    if medians is None:
        medians = {}
        for name in METAFEATURES:
            present = [r["features"][name] for r in rows if r["features"][name] is not None]
            medians[name] = float(np.median(present)) if present else 0.0
    X = np.array([[r["features"][n] if r["features"][n] is not None else medians[n] for n in METAFEATURES]
                  for r in rows], dtype=float)
    return X, medians


def fit_predictor(rows: list[dict]):
    """A depth-2 decision tree: meta-features -> is the deep representative ahead of the tree's?"""
    from sklearn.tree import DecisionTreeClassifier

    X, medians = _matrix(rows)
    y = np.array([r["deep_beats_tree"] for r in rows], dtype=int)
    return DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), medians


def predictor(rows: list[dict]) -> dict:
    from sklearn.tree import export_text

    y = [r["deep_beats_tree"] for r in rows]
    out = {"kind": "decision tree, depth 2", "features": list(METAFEATURES), "n": len(rows),
           "deep_ahead": sum(y), "rules": None, "lodo_accuracy": None, "majority_lodo_accuracy": None,
           "predictions": [], "verdict": None}
    if len(rows) < MIN_PREDICTOR_N:
        out["verdict"] = f"inconclusive: {len(rows)} dataset(s); at least {MIN_PREDICTOR_N} needed"
        return out
    if len(set(y)) < 2:
        side = "deep" if y[0] else "trees"
        out["verdict"] = f"nothing to predict: {side} ahead on every dataset"
        return out
    model, _ = fit_predictor(rows)
    out["rules"] = export_text(model, feature_names=list(METAFEATURES), decimals=3)
    correct, majority_correct = 0, 0
    for i, held_out in enumerate(rows):
        rest = rows[:i] + rows[i + 1:]
        labels = [r["deep_beats_tree"] for r in rest]
        majority = sum(labels) * 2 > len(labels)
        if len(set(labels)) < 2:
            guess = labels[0]
        else:
            fitted, medians = fit_predictor(rest)
            X, _ = _matrix([held_out], medians)
            guess = bool(fitted.predict(X)[0])
        correct += guess == held_out["deep_beats_tree"]
        majority_correct += majority == held_out["deep_beats_tree"]
        out["predictions"].append({"dataset": held_out["dataset"], "predicted_deep_ahead": bool(guess),
                                   "deep_ahead": held_out["deep_beats_tree"]})
    out["lodo_accuracy"] = round(correct / len(rows), 4)
    out["majority_lodo_accuracy"] = round(majority_correct / len(rows), 4)
    p = sps.binomtest(correct, len(rows), max(0.5, out["majority_lodo_accuracy"]), alternative="greater").pvalue
    out["p_value_vs_majority"] = round(float(p), 6)
    better = out["lodo_accuracy"] > out["majority_lodo_accuracy"]
    out["verdict"] = (
        f"leave-one-dataset-out accuracy {out['lodo_accuracy']:.0%} against {out['majority_lodo_accuracy']:.0%} "
        f"for always predicting the majority outcome; "
        + ("the meta-features carry signal" if better and p < 0.05 else
           "better than the majority guess, but not significantly" if better else
           "no better than the majority guess")
        + f" (one-sided binomial p = {p:.3g})"
    )
    return out


def where_deep_wins(board: dict) -> dict:
    rows = gaps(board)
    by_modality = defaultdict(list)
    for row in rows:
        by_modality[row["modality"]].append(row)
    by_size = []
    for low, high, label in SIZE_BINS:
        inside = [r for r in rows if r["n_train"] is not None and low <= r["n_train"] < high]
        by_size.append({"bin": label, **(_group(inside) if inside else {"n": 0})})
    return {
        "method": METHOD,
        "no_signal": sorted(board["no_signal_datasets"]),
        "datasets": rows,
        "by_modality": {m: _group(v) for m, v in sorted(by_modality.items())},
        "by_size": by_size,
        "by_metafeature": correlations(rows),
        "predictor": predictor(rows),
    }


def _group_row(label: str, g: dict) -> list:
    if not g.get("n"):
        return [label, "0", "—", "—", "—", "—"]
    return [label, str(g["n"]), f"{g['deep_wins']} / {g['ties']} / {g['tree_wins']}", str(g["deep_ahead"]),
            fmt(g["mean_gap"], 3), fmt(g["median_gap"], 3)]


def render(board: dict) -> list:
    """Section 7: the deep-vs-tree gap by modality, size and meta-feature, the predictor, the gap per dataset."""
    w = board["where_deep_wins"]
    if not w["datasets"]:
        return [("p", "No dataset that carries signal has both a deep and a tree representative's cell.")]
    headers = ["group", "datasets", "deep win / tie / tree win", "deep ahead on mean", "mean gap", "median gap"]
    left_out = f" Left out, no signal: {', '.join(w['no_signal'])}." if w["no_signal"] else ""
    blocks = [("p", w["method"] + left_out),
              ("table", headers, [_group_row(m, g) for m, g in w["by_modality"].items()], "lrrrrr"),
              ("table", ["training rows"] + headers[1:], [_group_row(g["bin"], g) for g in w["by_size"]], "lrrrrr")]
    meta_rows = [[e["label"], str(e["n"]), fmt(e["spearman_rho"], 3), fmt_p(e["p_value"]), fmt_p(e["p_holm"]),
                  e.get("note", "")] for e in w["by_metafeature"].values()]
    blocks.append(("table", ["meta-feature", "datasets", "Spearman rho with the gap", "p", "Holm p", "note"],
                   meta_rows, "lrrrrl"))
    pred = w["predictor"]
    blocks.append(("p", f"**When is the deep representative ahead of the tree's?** A {pred['kind']} over "
                        f"{', '.join(pred['features'])} on {pred['n']} datasets (deep ahead on {pred['deep_ahead']}): "
                        f"{pred['verdict']}."))
    if pred["rules"]:
        blocks.append(("code", pred["rules"].rstrip() + "\n(class 1 = deep ahead)"))
    gap_rows = [[r["dataset"], r["modality"], fmt(r["n_train"]), f"{r['deep_model']} {fmt(r['deep_score'])}",
                 f"{r['tree_model']} {fmt(r['tree_score'])}", fmt(r["gap"], 3),
                 r["outcome"] + (" (imputed folds)" if r["imputed"] else "")] for r in w["datasets"]]
    blocks += [("table", ["dataset", "modality", "train rows", "deep", "tree", "gap", "deep outcome"], gap_rows,
                "llrrrrl"),
               ("figure", "deep_vs_tree")]
    return blocks


def draw(board: dict):
    """The deep-minus-tree gap in normalised score against meta-features, by modality."""
    from bench.report.figures import grid

    rows = board["where_deep_wins"]["datasets"]
    if not rows:
        return None
    features = ("log10_n_train", "categorical_share", "uninformative_share", "skewness_mean_abs")
    labels = board["where_deep_wins"]["by_metafeature"]
    fig, axes = grid(len(features), 4, 3.0, 2.7)
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


FIGURES = {
    "deep_vs_tree": (draw, "Deep minus tree representative (normalised score) per dataset against meta-features; "
                           "above zero, the deep model is ahead."),
}
