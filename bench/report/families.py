"""Family against family: deep vs tree vs classical, win/tie/loss with a paired test.

On each dataset a family is represented by its member with the best mean *validation*
score (never test), so that picking the family's best model does not peek at the test set.
"""
from __future__ import annotations

import math
from itertools import combinations

from bench import stats
from bench.report.formatting import fmt_p

FAMILIES = ("deep", "tree", "classical")
ALPHA = 0.05
METHOD = (
    "Per dataset, each family is its member with the best mean validation score; its test score and "
    "normalised score are that member's. A win needs a higher mean score and fold intervals that do not "
    "overlap, otherwise a tie (with one fold: only equal scores tie). The paired test is a two-sided "
    "Wilcoxon signed-rank test of normalised-score differences over the datasets both families were "
    f"scored on, Holm-adjusted over the family pairs, at alpha {ALPHA}."
)


def representatives(results: list[dict], families, datasets=None) -> dict[str, dict]:
    """Per dataset, the result row of the member of `families` (a name or a list) with the best mean
    validation score; `datasets` restricts the datasets considered."""
    wanted = {families} if isinstance(families, str) else set(families)
    best: dict[str, dict] = {}
    for row in results:
        if row["family"] not in wanted or row["score"] is None:
            continue
        if datasets is not None and row["dataset"] not in datasets:
            continue
        current = best.get(row["dataset"])
        key = (row["valid_score"], row["model"])
        if current is None or key > (current["valid_score"], current["model"]):
            best[row["dataset"]] = row
    return best


def outcome(a: dict, b: dict) -> str:
    """'win', 'tie' or 'loss' of row a against row b: a tie when their fold intervals overlap."""
    if a["score"] == b["score"] or (a["ci_high"] >= b["ci_low"] and b["ci_high"] >= a["ci_low"]):
        return "tie"
    return "win" if a["score"] > b["score"] else "loss"


def compare(results: list[dict], first, second, datasets=None) -> dict:
    """Win/tie/loss of `first` against `second` over the datasets both were scored on, with Wilcoxon."""
    a, b = representatives(results, first, datasets), representatives(results, second, datasets)
    common = sorted(set(a) & set(b))
    counts = {"win": 0, "tie": 0, "loss": 0}
    per_dataset = []
    for dataset in common:
        result = outcome(a[dataset], b[dataset])
        counts[result] += 1
        per_dataset.append({
            "dataset": dataset, "modality": a[dataset]["modality"], "first_model": a[dataset]["model"],
            "second_model": b[dataset]["model"], "first_score": a[dataset]["score"],
            "second_score": b[dataset]["score"],
            "normalized_difference": a[dataset]["normalized_score"] - b[dataset]["normalized_score"],
            "outcome": result,
        })
    test = stats.wilcoxon([d["normalized_difference"] for d in per_dataset], ALPHA)
    return {"first": first, "second": second, "n_datasets": len(common), **counts, "wilcoxon": test,
            "datasets": per_dataset}


def family_comparison(board: dict) -> dict:
    results = board["results"]
    present = [f for f in FAMILIES if any(r["family"] == f and r["score"] is not None for r in results)]
    pairs = [compare(results, a, b) for a, b in combinations(present, 2)]
    adjusted = stats.holm([p["wilcoxon"]["p_value"] for p in pairs])
    for pair, p_holm in zip(pairs, adjusted):
        pair["p_holm"] = p_holm
        pair["verdict"] = verdict(pair["wilcoxon"], p_holm, pair["first"], pair["second"])
    modalities = sorted({r["modality"] for r in results})
    by_modality = {}
    for modality in modalities:
        datasets = {r["dataset"] for r in results if r["modality"] == modality}
        by_modality[modality] = [
            {key: value for key, value in compare(results, a, b, datasets).items() if key != "datasets"}
            for a, b in combinations(present, 2)
        ]
    return {"method": METHOD, "alpha": ALPHA, "pairs": pairs, "by_modality": by_modality}


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


def render(board: dict) -> list:
    """Section 3: family pairs with win/tie/loss and Wilcoxon, by modality, and the critical-difference diagram."""
    fam = board["families"]
    rows = [[f"{p['first']} vs {p['second']}", str(p["n_datasets"]), f"{p['win']} / {p['tie']} / {p['loss']}",
             fmt_p(p["wilcoxon"]["p_value"]), fmt_p(p["p_holm"]), p["verdict"]] for p in fam["pairs"]]
    blocks = [("table", ["pair", "datasets", "win / tie / loss", "Wilcoxon p", "Holm p", "verdict"], rows, "lrrrrl"),
              ("p", fam["method"])]
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
