"""The statistical tests a claim can name (TESTS, with the parameters each needs in REQUIRED), and
the sides they compare. Each test takes the leaderboard, the units, the trial rows by unit and the
claim's parameters, and returns its verdict, statistic, datasets and a one-line summary.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.contract import best_trial, parse_variant

ALPHA = 0.05
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"


# ---------------------------------------------------------------------------------------------
# Sides: which rows of the results a claim compares
# ---------------------------------------------------------------------------------------------

def variant_key(name: str) -> tuple[str, dict[str, str]]:
    """A model name as (base, {key: value as lower-case text}), so that `augment=False` and `augment=false`
    are one variant; a name the variant parser cannot read stands for itself."""
    try:
        base, fixed = parse_variant(name)
    except ValueError:
        return name.strip(), {}
    return base, {key: _text(value) for key, value in fixed.items()}


def _text(value) -> str:
    return "none" if value is None else str(value).lower()


def _same_model(a: str, b: str) -> bool:
    return variant_key(a) == variant_key(b)


def side_rows(results: list[dict], side: list[str]) -> dict[str, dict]:
    """Per dataset, the row of the side's member with the best mean validation score."""
    best: dict[str, dict] = {}
    for row in results:
        if row["score"] is None:
            continue
        member = any(row["family"] == token.split(":", 1)[1] if token.startswith("family:")
                     else _same_model(row["model"], token) for token in side)
        if not member:
            continue
        current = best.get(row["dataset"])
        if current is None or (row["valid_score"], row["model"]) > (current["valid_score"], current["model"]):
            best[row["dataset"]] = row
    return best


def _filtered(board: dict, params: dict) -> list[dict]:
    """The scored results rows on the datasets a claim is about (failed cells are listed under
    provenance, never imputed into a claim)."""
    out = []
    for row in board["results"]:
        if row["score"] is None:
            continue
        if "modalities" in params and row["modality"] not in params["modalities"]:
            continue
        n_train = row["n_train"]
        if "max_train" in params and (n_train is None or n_train >= params["max_train"]):
            continue
        if "min_train" in params and (n_train is None or n_train < params["min_train"]):
            continue
        if params.get("exclude_suffix") and row["dataset"].endswith(params["exclude_suffix"]):
            continue
        out.append(row)
    return out


FAMILY_WORDS = {"deep": "deep models", "tree": "trees", "classical": "classical models"}


def _side_name(side: list[str]) -> str:
    """["family:tree", "family:classical"] -> "trees or classical models"."""
    return " or ".join(FAMILY_WORDS.get(token[7:], token[7:]) if token.startswith("family:") else token
                       for token in side)


def _wilcoxon_verdict(test: dict, p_value: float | None, alpha: float) -> str:
    if not test["testable"]:
        return INCONCLUSIVE
    if p_value is not None and p_value < alpha:
        return SUPPORTED if test["direction"] > 0 else CONTRADICTED
    return INCONCLUSIVE


def _why(test: dict, p_value: float | None, alpha: float) -> str:
    if test["n_pairs"] == 0:
        return "no dataset has both sides"
    if not test["testable"]:
        return (f"{test['n']} dataset(s) with a difference; a Wilcoxon test needs at least "
                f"{stats.min_wilcoxon_n(alpha)} to reach p < {alpha}")
    return f"Wilcoxon p = {p_value:.3g} over {test['n']} dataset(s)"


def _paired(first: dict[str, dict], second: dict[str, dict]) -> tuple[list[str], list[float]]:
    common = sorted(set(first) & set(second))
    return common, [first[d]["normalized_score"] - second[d]["normalized_score"] for d in common]


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_beats(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    rows = _filtered(board, params)
    first, second = side_rows(rows, params["first"]), side_rows(rows, params["second"])
    datasets, differences = _paired(first, second)
    test = stats.wilcoxon(differences, alpha)
    ahead = sum(d > 0 for d in differences)
    behind = sum(d < 0 for d in differences)
    return {
        "verdict": _wilcoxon_verdict(test, test["p_value"], alpha),
        "statistic": {"wilcoxon": test, "first_ahead": ahead, "first_behind": behind,
                      "mean_normalized_difference": round(float(np.mean(differences)), 4) if differences else None},
        "datasets": datasets,
        "summary": (f"{_side_name(params['first'])} ahead of {_side_name(params['second'])} on {ahead}, behind on "
                    f"{behind} of {len(datasets)} dataset(s); " + _why(test, test["p_value"], alpha)),
    }


def test_beats_each(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    rows = _filtered(board, params)
    first = side_rows(rows, params["first"])
    per_rival = []
    for rival in params["rivals"]:
        datasets, differences = _paired(first, side_rows(rows, rival))
        per_rival.append({"rival": _side_name(rival), "datasets": datasets,
                          "wilcoxon": stats.wilcoxon(differences, alpha),
                          "ahead": sum(d > 0 for d in differences), "behind": sum(d < 0 for d in differences)})
    adjusted = stats.holm([r["wilcoxon"]["p_value"] for r in per_rival])
    verdicts = []
    for entry, p in zip(per_rival, adjusted):
        entry["p_holm"] = p
        verdicts.append(_wilcoxon_verdict(entry["wilcoxon"], p, alpha))
    if per_rival and all(v == SUPPORTED for v in verdicts):
        verdict = SUPPORTED
    elif CONTRADICTED in verdicts:
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    parts = [f"ahead of {e['rival']} on {e['ahead']}, behind on {e['behind']} of {len(e['datasets'])} "
             f"({_why(e['wilcoxon'], e['p_holm'], alpha)}, Holm-adjusted)" for e in per_rival]
    return {"verdict": verdict, "statistic": {"rivals": per_rival},
            "datasets": sorted({d for e in per_rival for d in e["datasets"]}),
            "summary": f"{_side_name(params['first'])}: " + "; ".join(parts)}


def _unit_index(units: list[dict]) -> dict:
    index = defaultdict(list)
    for unit in units:
        index[(unit["dataset"], unit["model"], unit["train_size"] or None)].append(unit)
    return index


def tuning_effort(row: dict, units: list[dict], trials_by_unit: dict, anchors: tuple[float, float],
                  within: float) -> tuple[float, float] | None:
    """Mean over folds of (normalised gain from trial 0 to the chosen trial, trials until the best-so-far
    test score, in the order the trials ran, is within `within` of the final one)."""
    low, high = anchors
    gains, needed = [], []
    for unit in units:
        rows = sorted(trials_by_unit.get(unit["unit_key"], []), key=lambda t: t["number"])
        chosen = best_trial(rows) if unit["status"] == "done" else None
        default = next((t for t in rows if t["number"] == 0 and t["status"] == "ok"), None)
        if chosen is None or default is None:
            continue
        gains.append((chosen["test_score"] - default["test_score"]) / (high - low))
        final = chosen["test_score"]
        for k in range(1, len(rows) + 1):
            so_far = best_trial(rows[:k])
            if so_far is not None and abs(final - so_far["test_score"]) <= within * abs(final):
                needed.append(k)
                break
    if not gains:
        return None
    return float(np.mean(gains)), float(np.mean(needed))


def test_less_tuning(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha, within = params.get("alpha", ALPHA), params.get("within", 0.01)
    rows = _filtered(board, params)
    index = _unit_index(units)
    anchors = {}
    for row in rows:
        low, high = anchors.get(row["dataset"], (row["baseline_score"], row["score"]))
        anchors[row["dataset"]] = (low, max(high, row["score"]))
    effort = {}
    for name in ("less", "more"):
        effort[name] = {}
        for dataset, row in side_rows(rows, params[name]).items():
            if anchors[dataset][1] <= anchors[dataset][0]:
                continue
            value = tuning_effort(row, index[(dataset, row["model"], row["train_size"])], trials_by_unit,
                                  anchors[dataset], within)
            if value is not None:
                effort[name][dataset] = value
    datasets = sorted(set(effort["less"]) & set(effort["more"]))
    gain_diff = [effort["more"][d][0] - effort["less"][d][0] for d in datasets]
    trials_diff = [effort["more"][d][1] - effort["less"][d][1] for d in datasets]
    tests = [stats.wilcoxon(gain_diff, alpha), stats.wilcoxon(trials_diff, alpha)]
    adjusted = stats.holm([t["p_value"] for t in tests])
    verdicts = [_wilcoxon_verdict(t, p, alpha) for t, p in zip(tests, adjusted)]
    if SUPPORTED in verdicts and CONTRADICTED not in verdicts:
        verdict = SUPPORTED
    elif CONTRADICTED in verdicts and SUPPORTED not in verdicts:
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE

    def mean(name: str, i: int):
        values = [effort[name][d][i] for d in datasets]
        return round(float(np.mean(values)), 4) if values else None

    less, more = _side_name(params["less"]), _side_name(params["more"])
    return {
        "verdict": verdict,
        "statistic": {
            "mean_gain": {less: mean("less", 0), more: mean("more", 0)},
            "mean_trials_to_within": {less: mean("less", 1), more: mean("more", 1)},
            "within": within,
            "gain_test": {**tests[0], "p_holm": adjusted[0]},
            "trials_test": {**tests[1], "p_holm": adjusted[1]},
        },
        "datasets": datasets,
        "summary": (f"normalised gain from default to tuned: {less} {mean('less', 0)}, {more} {mean('more', 0)} "
                    f"({_why(tests[0], adjusted[0], alpha)}); trials to come within {within:.0%} of the final "
                    f"score: {less} {mean('less', 1)}, {more} {mean('more', 1)} "
                    f"({_why(tests[1], adjusted[1], alpha)}); Holm-adjusted over the two"),
    }


def _fold_advantage(first: dict, rival: dict) -> list[float]:
    rival_folds = {f["fold"]: f["score"] for f in rival["folds"]}
    return [f["score"] - rival_folds[f["fold"]] for f in first["folds"] if f["fold"] in rival_folds]


def test_shuffle_control(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    suffix = params.get("suffix", "_shuffled")
    first, rival = side_rows(board["results"], params["first"]), side_rows(board["results"], params["rival"])
    pairs = []
    for shuffled in sorted(d for d in first if d.endswith(suffix)):
        original = shuffled[: -len(suffix)]
        if original not in first or original not in rival or shuffled not in rival:
            continue
        entry = {"original": original, "shuffled": shuffled}
        for name, dataset in (("original", original), ("shuffled", shuffled)):
            advantage = _fold_advantage(first[dataset], rival[dataset])
            mean, low, high = stats.mean_ci(advantage) if advantage else (None, None, None)
            entry[name + "_advantage"] = {"rival_model": rival[dataset]["model"], "folds": len(advantage),
                                          "mean": mean, "ci_low": low, "ci_high": high}
        orig, shuf = entry["original_advantage"], entry["shuffled_advantage"]
        if min(orig["folds"], shuf["folds"]) < 2:
            entry["verdict"], entry["why"] = INCONCLUSIVE, "fewer than 2 folds: no interval"
        elif shuf["ci_low"] > 0:
            entry["verdict"], entry["why"] = CONTRADICTED, "the advantage survives the shuffle"
        elif orig["ci_low"] > 0:
            entry["verdict"], entry["why"] = SUPPORTED, "an advantage on the original that the shuffle removes"
        else:
            entry["verdict"], entry["why"] = INCONCLUSIVE, "no significant advantage on the original to lose"
        pairs.append(entry)
    verdicts = [p["verdict"] for p in pairs]
    if not pairs:
        verdict = INCONCLUSIVE
        summary = f"no dataset has a `{suffix}` control with both sides scored on it"
    else:
        verdict = (CONTRADICTED if CONTRADICTED in verdicts else SUPPORTED if all(v == SUPPORTED for v in verdicts)
                   else INCONCLUSIVE)
        summary = "; ".join(
            f"{p['original']}: {_side_name(params['first'])} - {p['original_advantage']['rival_model']} = "
            f"{_fmt_advantage(p['original_advantage'])}, shuffled: {_fmt_advantage(p['shuffled_advantage'])} "
            f"({p['why']})" for p in pairs)
    return {"verdict": verdict, "statistic": {"pairs": pairs},
            "datasets": sorted({d for p in pairs for d in (p["original"], p["shuffled"])}), "summary": summary}


def _fmt_advantage(advantage: dict) -> str:
    if advantage["mean"] is None:
        return "n/a"
    return f"{advantage['mean']:+.4f} [{advantage['ci_low']:+.4f}, {advantage['ci_high']:+.4f}]"


def _by_model(board: dict) -> dict[str, dict[str, dict]]:
    out = defaultdict(dict)
    for row in board["results"]:
        if row["score"] is not None:
            out[row["model"]][row["dataset"]] = row
    return out


def test_presence_vs_flavour(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha, key, absent = params.get("alpha", ALPHA), params["key"], str(params["absent"]).lower()
    scored = _by_model(board)
    variants = {}
    for model in scored:
        base, fixed = variant_key(model)
        if base == params["base"] and set(fixed) == {key}:
            variants[fixed[key]] = model
    flavours = sorted(v for v in variants if v != absent)
    if absent not in variants or len(flavours) < 2:
        return {"verdict": INCONCLUSIVE, "statistic": {"variants": variants}, "datasets": [],
                "summary": (f"needs {params['base']}[{key}={absent}] and at least two other "
                            f"{params['base']}[{key}=...] "
                            f"variants in the run; found: {', '.join(sorted(variants.values())) or 'none'}")}
    models = [variants[absent]] + [variants[f] for f in flavours]
    datasets = sorted(set.intersection(*(set(scored[m]) for m in models)))
    presence, spread, differences = [], [], []
    for dataset in datasets:
        values = {f: scored[variants[f]][dataset]["normalized_score"] for f in flavours}
        with_layer = float(np.mean(list(values.values())))
        presence.append(with_layer - scored[variants[absent]][dataset]["normalized_score"])
        spread.append(max(values.values()) - min(values.values()))
        differences.append(abs(presence[-1]) - spread[-1])
    test = stats.wilcoxon(differences, alpha)
    return {
        "verdict": _wilcoxon_verdict(test, test["p_value"], alpha),
        "statistic": {"variants": variants, "wilcoxon": test,
                      "mean_presence_effect": round(float(np.mean(presence)), 4) if presence else None,
                      "mean_flavour_spread": round(float(np.mean(spread)), 4) if spread else None},
        "datasets": datasets,
        "summary": (f"mean effect of having the layer {np.mean(presence) if presence else float('nan'):+.4f}, "
                    f"mean spread between {', '.join(flavours)} {np.mean(spread) if spread else float('nan'):.4f} "
                    f"(normalised); " + _why(test, test["p_value"], alpha)),
    }


def test_effect_larger(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    scored = _by_model(board)

    def find(name: str) -> str | None:
        return next((m for m in scored if _same_model(m, name)), None)

    names = {part: {side: find(params[part][side]) for side in ("with", "without")} for part in ("larger", "smaller")}
    wanted = [params[p][s] for p in names for s in names[p] if names[p][s] is None]
    if wanted:
        return {"verdict": INCONCLUSIVE, "statistic": {}, "datasets": [],
                "summary": f"the run has no {', '.join(sorted(set(wanted)))}"}
    models = [names[p][s] for p in names for s in names[p]]
    datasets = sorted(set.intersection(*(set(scored[m]) for m in models)))

    def effect(part: str, dataset: str) -> float:
        return (scored[names[part]["with"]][dataset]["normalized_score"]
                - scored[names[part]["without"]][dataset]["normalized_score"])

    larger = [effect("larger", d) for d in datasets]
    smaller = [effect("smaller", d) for d in datasets]
    test = stats.wilcoxon([a - b for a, b in zip(larger, smaller)], alpha)
    return {
        "verdict": _wilcoxon_verdict(test, test["p_value"], alpha),
        "statistic": {"wilcoxon": test, "mean_larger_effect": round(float(np.mean(larger)), 4) if larger else None,
                      "mean_smaller_effect": round(float(np.mean(smaller)), 4) if smaller else None},
        "datasets": datasets,
        "summary": (f"{names['larger']['with']} vs {names['larger']['without']}: mean effect "
                    f"{np.mean(larger) if larger else float('nan'):+.4f}; {names['smaller']['with']} vs "
                    f"{names['smaller']['without']}: {np.mean(smaller) if smaller else float('nan'):+.4f} "
                    f"(normalised); " + _why(test, test["p_value"], alpha)),
    }


REQUIRED = {
    "beats": ("first", "second"),
    "beats_each": ("first", "rivals"),
    "less_tuning": ("less", "more"),
    "shuffle_control": ("first", "rival"),
    "presence_vs_flavour": ("base", "key", "absent"),
    "effect_larger": ("larger", "smaller"),
}
TESTS = {
    "beats": test_beats,
    "beats_each": test_beats_each,
    "less_tuning": test_less_tuning,
    "shuffle_control": test_shuffle_control,
    "presence_vs_flavour": test_presence_vs_flavour,
    "effect_larger": test_effect_larger,
}
