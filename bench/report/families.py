"""Family against family: deep vs tree vs classical, win/tie/loss with a paired test.

A family is compared through one declared representative, not through the best of its members: on
each modality the family is the first model of REPRESENTATIVES[family] that the run has on that
modality (then any other member, alphabetically). Taking the best-validation member of a pool would
give a family of five models five times the search of a family of one; a representative gets the
same budget as every other model. Variants (names with brackets, e.g. mlp[norm=none]) are ablations
of a model and never stand for its family.

A representative's cell is read as section 1 reads it (`counted`): a fold that failed or never ran
counts as the constant predictor's score (per_dataset.IMPUTATION), so that a representative that
fails on hard datasets is not flattered, and a cell still incomplete is left out, with no other
member standing in.
"""
from __future__ import annotations

import math
from itertools import combinations

from bench import stats
from bench.report import per_dataset
from bench.report.formatting import fmt_p

FAMILIES = ("deep", "tree", "classical")
# Declared once, used by every section that speaks of a family. The CNN applies only to images and
# sequences, so the deep family is the CNN there and the MLP on tabular data.
REPRESENTATIVES = {
    "tree": ("lightgbm", "xgboost", "catboost", "hgb", "random_forest"),
    "deep": ("cnn", "mlp", "resnet"),
    "classical": ("linear", "svm", "knn"),
}
ALPHA = 0.05


def is_variant(model: str) -> bool:
    """Whether a model name fixes parameters of a base model (``mlp[norm=none]``)."""
    return "[" in model


def representative_text() -> str:
    """The declared representatives in words, for the method texts."""
    return "; ".join(f"{family}: {' > '.join(REPRESENTATIVES[family])}" for family in FAMILIES)


OUTCOME = (
    "a dataset is a tie when the corrected resampled paired t-test of the two models' per-fold differences "
    f"(the same folds, imputed folds included; Nadeau & Bengio 2003) does not reject at alpha {stats.ALPHA} "
    "(with one fold, only equal scores tie), else a win for the higher mean score"
)
CELLS = (
    "A failed or never-run fold counts as the constant predictor's score, as in section 1 (a representative "
    "that fails on hard datasets is not flattered); a cell incomplete even so is left out, and no other member "
    "stands in. Datasets that carry no signal (section 2: every model within noise of the others) are left out."
)
METHOD = (
    "Per dataset, each family is one declared representative, the same model on every dataset of a modality "
    f"(the first the run has on that modality, in this order: {representative_text()}); variants never stand "
    "for a family. Every model has the same tuning budget, so each family gets the same search, where "
    "the best-validation member of a pool would give a family of k models k times the search. Win / tie / "
    f"loss: {OUTCOME}. " + CELLS + " The test over datasets is a two-sided Wilcoxon signed-rank test of "
    "normalised-score differences over the datasets both families have, Holm-adjusted over the family pairs "
    f"(Holm 1979), at alpha {ALPHA}."
)


def _single(families) -> str:
    if isinstance(families, str):
        return families
    families = list(families)
    if len(families) != 1:
        raise ValueError(f"a family comparison takes one family, got {families}: the best of several "
                         "families would give that side several searches")
    return families[0]


def members(results: list[dict], family: str) -> dict[str, str]:
    """modality -> the family's representative on it: the first declared member with a result row (scored
    or failed) on a dataset of that modality, else the first other non-variant member by name."""
    order = REPRESENTATIVES.get(family, ())
    present: dict[str, set[str]] = {}
    for row in results:
        if row["family"] == family and not is_variant(row["model"]):
            present.setdefault(row["modality"], set()).add(row["model"])
    chosen = {}
    for modality, models in present.items():
        declared = [m for m in order if m in models]
        chosen[modality] = declared[0] if declared else min(models)
    return chosen


def counted(row: dict) -> bool:
    """Whether a result row counts in a family comparison or a claim: a complete cell, every planned fold
    scored or imputed with the constant predictor's score (per_dataset.IMPUTATION), as section 1 counts it."""
    return row["score"] is not None and row["complete"]


def with_signal(board: dict) -> set[str]:
    """The datasets of the results that carry signal (section 2): the others are out of every family test."""
    return {r["dataset"] for r in board["results"]} - set(board["no_signal_datasets"])


def representatives(results: list[dict], families, datasets=None) -> dict[str, dict]:
    """Per dataset, the counted result row (`counted`: failed folds imputed) of the family's declared
    representative (`members`); a dataset where the representative's cell is incomplete has no row: no other
    member stands in. `families` is one family (a name, or a list of one); `datasets` restricts the datasets
    returned, never the choice of member."""
    family = _single(families)
    chosen = members(results, family)
    out: dict[str, dict] = {}
    for row in results:
        if not counted(row) or chosen.get(row["modality"]) != row["model"] or row["family"] != family:
            continue
        if datasets is not None and row["dataset"] not in datasets:
            continue
        out[row["dataset"]] = row
    return out


def compare(results: list[dict], first, second, folds: int, datasets=None) -> dict:
    """Win/tie/loss (see OUTCOME; `folds` is the run's fold count) of `first` against `second` over the
    datasets both have, with Wilcoxon."""
    a, b = representatives(results, first, datasets), representatives(results, second, datasets)
    common = sorted(set(a) & set(b))
    counts = {"win": 0, "tie": 0, "loss": 0}
    rows = []
    for dataset in common:
        result = per_dataset.outcome(a[dataset], b[dataset], folds)
        counts[result] += 1
        rows.append({
            "dataset": dataset, "modality": a[dataset]["modality"], "first_model": a[dataset]["model"],
            "second_model": b[dataset]["model"], "first_score": a[dataset]["score"],
            "second_score": b[dataset]["score"],
            "normalized_difference": a[dataset]["normalized_score"] - b[dataset]["normalized_score"],
            "outcome": result, "imputed": bool(a[dataset]["imputed"] or b[dataset]["imputed"]),
        })
    test = stats.wilcoxon([d["normalized_difference"] for d in rows], ALPHA)
    return {"first": first, "second": second, "n_datasets": len(common), **counts, "wilcoxon": test,
            "imputed": [d["dataset"] for d in rows if d["imputed"]], "datasets": rows}


def family_comparison(board: dict) -> dict:
    """Every pair of families over the datasets that carry signal, then by modality."""
    results, folds = board["results"], board["folds"]
    signal = with_signal(board)
    present = [f for f in FAMILIES if representatives(results, f, signal)]
    pairs = [compare(results, a, b, folds, signal) for a, b in combinations(present, 2)]
    adjusted = stats.holm([p["wilcoxon"]["p_value"] for p in pairs])
    for pair, p_holm in zip(pairs, adjusted):
        pair["p_holm"] = p_holm
        pair["verdict"] = verdict(pair["wilcoxon"], p_holm, pair["first"], pair["second"])
    modalities = sorted({r["modality"] for r in results})
    by_modality = {}
    for modality in modalities:
        datasets = {r["dataset"] for r in results if r["modality"] == modality} & signal
        by_modality[modality] = [
            {key: value for key, value in compare(results, a, b, folds, datasets).items() if key != "datasets"}
            for a, b in combinations(present, 2)
        ]
    return {"method": METHOD, "alpha": ALPHA, "representatives": {f: members(results, f) for f in present},
            "no_signal": sorted(board["no_signal_datasets"]), "pairs": pairs, "by_modality": by_modality}


def verdict(test: dict, p_value: float | None, first: str, second: str, alpha: float = ALPHA) -> str:
    """Plain words for a paired test: who is ahead and whether it is significant, or why not."""
    if test["n"] == 0:
        return "no difference: no dataset separates them" if test["n_pairs"] else "no common datasets"
    if not test["testable"]:
        return (f"inconclusive: {test['n']} dataset(s) with a difference; a Wilcoxon test needs at least "
                f"{stats.min_wilcoxon_n(alpha)} to reach p < {alpha}")
    ahead = {1: first, -1: second, 0: "neither"}[test["direction"]]
    if p_value is not None and p_value < alpha:
        return f"{ahead} significantly ahead (p = {p_value:.3g})"
    return f"no significant difference (p = {p_value:.3g}); {ahead} ahead on the median"


def used_text(used: dict[str, dict[str, str]]) -> str:
    """'Representatives in this run: deep cnn (image, sequence), mlp (tabular); ...'."""
    parts = []
    for family, by_modality in used.items():
        models = {}
        for modality, model in sorted(by_modality.items()):
            models.setdefault(model, []).append(modality)
        parts.append(f"{family} " + ", ".join(f"{m} ({', '.join(ms)})" for m, ms in sorted(models.items())))
    return "Representatives in this run: " + ("; ".join(parts) or "none") + "."


def _left_out_text(fam: dict) -> str:
    """The datasets left out for want of signal, and the pairs resting on imputed cells, in words."""
    text = f" Left out, no signal: {', '.join(fam['no_signal'])}." if fam["no_signal"] else ""
    imputed = [f"{p['first']} vs {p['second']} on {len(p['imputed'])} ({', '.join(p['imputed'])})"
               for p in fam["pairs"] if p["imputed"]]
    if imputed:
        text += " A representative's cell holds imputed folds: " + "; ".join(imputed) + "."
    return text


def render(board: dict) -> list:
    """Section 3: family pairs with win/tie/loss and Wilcoxon, by modality, and the critical-difference diagram."""
    fam = board["families"]
    rows = [[f"{p['first']} vs {p['second']}", str(p["n_datasets"]), f"{p['win']} / {p['tie']} / {p['loss']}",
             fmt_p(p["wilcoxon"]["p_value"]), fmt_p(p["p_holm"]), p["verdict"]] for p in fam["pairs"]]
    blocks = [("table", ["pair", "datasets", "win / tie / loss", "Wilcoxon p", "Holm p", "verdict"], rows, "lrrrrl"),
              ("p", fam["method"] + " " + used_text(fam["representatives"]) + _left_out_text(fam))]
    modality_rows = []
    for modality, pairs in fam["by_modality"].items():
        for p in pairs:
            if p["n_datasets"]:
                modality_rows.append([modality, f"{p['first']} vs {p['second']}", str(p["n_datasets"]),
                                      f"{p['win']} / {p['tie']} / {p['loss']}", fmt_p(p["wilcoxon"]["p_value"])])
    if modality_rows:
        blocks += [("p", "By modality (Wilcoxon p unadjusted):"),
                   ("table", ["modality", "pair", "datasets", "win / tie / loss", "Wilcoxon p"], modality_rows,
                    "llrrr")]
    cd = board["critical_difference"]
    blocks.append(("p", "**Critical-difference diagram.** " + cd["verdict"] + "."))
    if cd["friedman"]:
        f = cd["friedman"]
        blocks.append(("p", f"Friedman chi2 = {f['chi2']:.3f} (p = {fmt_p(f['p_value'])}); Iman-Davenport F = "
                            f"{f['iman_davenport_f']:.3f} (p = {fmt_p(f['iman_davenport_p'])}); {f['n_models']} models "
                            f"on {f['n_datasets']} common datasets; Nemenyi CD = {cd['cd']:.3f} at alpha "
                            f"{cd['alpha']}. "
                            "Mean ranks: " + ", ".join(f"{m} {r:.2f}" for m, r in sorted(
                                cd["mean_ranks"].items(), key=lambda kv: kv[1])) + "."))
    if cd["left_out_models"]:
        blocks.append(("p", f"Left out of the diagram (scored on under half of the datasets): "
                            f"{', '.join(cd['left_out_models'])}."))
    blocks.append(("figure", "critical_difference"))
    return blocks


def draw(board: dict):
    """Demsar's diagram: mean ranks on an axis, bars joining models within the critical difference."""
    from bench.report.figures import plt

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


FIGURES = {
    "critical_difference": (draw, "Critical-difference diagram: mean rank per model (1 = best); bars join models whose "
                                  "ranks differ by less than the Nemenyi CD."),
}
