"""The statistical tests a claim can name (TESTS), the parameters each needs (REQUIRED) and a check of
them (CHECKS). Each test takes the leaderboard, the units, the trial rows by unit and the claim's
parameters, and returns its verdict, statistic, datasets, a one-line summary and its method: the
procedure, where it comes from, and the fewest datasets with which it can reach alpha at all,
computed from the procedure. A test that cannot decide says so and is inconclusive.

A side is one model (a name, or a variant as written: "mlp[norm=none]") or one family
("family:tree"), which is the family's declared representative (bench/report/families.py), never the
best of a pool: every side then has had the same tuning budget.

A claim reads the cells section 1 reads (families.counted): a fold that failed or never ran counts
as the constant predictor's score (per_dataset.IMPUTATION), so that a side that fails on hard
datasets is not flattered, and each test's summary names the datasets where a side's cell holds
imputed folds; a cell incomplete even so is left out. Datasets that carry no signal (section 2) are
left out of every claim. Tuning effort reads the trials of the folds that ran: an imputed fold has no
trials to measure.

Every verdict is a test at level alpha: under the null of no effect at all, the rate of false
"supported" and of false "contradicted" verdicts is each at most alpha (tests/test_claims.py
simulates it).
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import numpy as np

from bench import stats
from bench.contract import Status, best_trial, parse_variant
from bench.report import claim_stats
from bench.report.families import FAMILIES, counted, representatives, with_signal
from bench.report.learning_curves import crossing_text

ALPHA = 0.05
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
WILCOXON = "Wilcoxon signed-rank test (Wilcoxon 1945), zeros dropped"


# ---------------------------------------------------------------------------------------------
# Sides: which rows of the results a claim compares
# ---------------------------------------------------------------------------------------------

def variant_key(name: str) -> tuple[str, dict[str, str]]:
    """A model name as (base, {key: value as lower-case text}), so that `augment=False` and `augment=false`
    (or `dropout=0` and `dropout=0.0`) are one variant; a name the variant parser cannot read stands for
    itself."""
    base, fixed = _variant_id(name)
    return base, dict(fixed)


@lru_cache(maxsize=4096)
def _variant_id(name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    try:
        base, fixed = parse_variant(name)
    except ValueError:
        return name.strip(), ()
    return base, tuple(sorted((key, _text(value)) for key, value in fixed.items()))


def _text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return str(value).lower()


def _same_model(a: str, b: str) -> bool:
    return a == b or _variant_id(a) == _variant_id(b)


def side_token(side) -> str:
    """A side as claims.toml writes it: a string, or a list of one string."""
    return side if isinstance(side, str) else side[0]


def side_rows(results: list[dict], side, datasets=None) -> dict[str, dict]:
    """Per dataset, the counted row (failed folds imputed, families.counted) of the side: the named model, or
    the family's declared representative. `datasets` restricts the datasets returned (the choice of a
    family's representative reads all rows)."""
    token = side_token(side)
    if token.startswith("family:"):
        return representatives(results, token[7:], datasets)
    out = {}
    for row in results:
        if counted(row) and _same_model(row["model"], token):
            if datasets is None or row["dataset"] in datasets:
                out[row["dataset"]] = row
    return out


def normalised_at_sizes(board: dict) -> dict[str, dict[str, dict[int, dict]]]:
    """dataset -> model -> training size -> the counted learning-curve cell with `normalized` set on its size's
    own scale: the constant predictor's score at that size 0, the best model's score at that size 1, clipped
    to [0, 1]. Per size, because section 1's robust anchor is read at the largest size only, and below it
    small-size scores would all clip to 0 and tie; the constant predictor is the floor every anchor of
    section 1 respects. Datasets that carry no signal (section 2) are left out."""
    signal = with_signal(board)
    rows = [r for r in board.get("learning_curve", []) if counted(r) and r["dataset"] in signal]
    best, floor = defaultdict(lambda: -np.inf), defaultdict(list)
    for r in rows:
        key = (r["dataset"], r["train_size"])
        best[key] = max(best[key], r["score"])
        floor[key].append(r["baseline_score"])
    out: dict = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        key = (r["dataset"], r["train_size"])
        low, high = float(np.median(floor[key])), best[key]
        value = stats.normalized_score(r["score"], low, high) if high > low else 0.0
        out[r["dataset"]][r["model"]][r["train_size"]] = r | {"normalized": value}
    return out


def claim_rows(board: dict, params: dict) -> list[dict]:
    """The result rows a claim compares: section 1's rows, or, for a claim with `max_train` on a run with
    training sizes (the learning-curve suite), the learning-curve cells below `max_train` (and at or above
    `min_train`): per dataset and model one row whose normalised score is the mean over those sizes, each on
    its size's own scale (`normalised_at_sizes`). A model counts on a dataset only with a counted cell at
    every such size the dataset has, so that both sides of a comparison are read at the same sizes."""
    low_size, high_size = params.get("min_train", 0), params.get("max_train")
    if high_size is None:
        return board["results"]
    curves = normalised_at_sizes(board)
    out = []
    for dataset, models in sorted(curves.items()):
        wanted = {s for cells in models.values() for s in cells if low_size <= s < high_size}
        for model, cells in sorted(models.items()):
            if not wanted or {s for s in cells if low_size <= s < high_size} != wanted:
                continue
            rows = [cells[s] for s in sorted(wanted)]
            out.append(rows[-1] | {"normalized_score": float(np.mean([r["normalized"] for r in rows])),
                                   "score": float(np.mean([r["score"] for r in rows])),
                                   "imputed": any(r["imputed"] for r in rows), "train_sizes": sorted(wanted)})
    return out or board["results"]


def _datasets(board: dict, params: dict, rows: list[dict]) -> set[str]:
    """The datasets a claim is about: those that carry signal, with a counted cell (failed folds imputed, as
    in section 1) among `rows` (the claim's rows, `claim_rows`) that passes the claim's filters."""
    signal = claimed(board, params)
    out = set()
    for row in rows:
        if not counted(row) or row["dataset"] not in signal:
            continue
        if "modalities" in params and row["modality"] not in params["modalities"]:
            continue
        n_train = row["n_train"]
        if "max_train" in params and (n_train is None or n_train >= params["max_train"]):
            continue
        if "min_train" in params and (n_train is None or n_train < params["min_train"]):
            continue
        out.add(row["dataset"])
    return out


FAMILY_WORDS = {"deep": "deep models", "tree": "trees", "classical": "classical models"}


def _side_name(side, rows: dict[str, dict] | None = None) -> str:
    """"family:tree" -> "trees (lightgbm)": the family in words and the representatives it stood for."""
    token = side_token(side)
    if not token.startswith("family:"):
        return token
    words = FAMILY_WORDS.get(token[7:], token[7:])
    used = sorted({r["model"] for r in (rows or {}).values()})
    return f"{words} ({', '.join(used)})" if used else words


def _imputed(datasets, *sides: dict[str, dict]) -> list[str]:
    """The datasets among `datasets` where some side's cell holds imputed folds."""
    return sorted(d for d in datasets if any(side[d]["imputed"] for side in sides if d in side))


def _imputed_note(imputed: list[str], where: str = "a side's cell on") -> str:
    """'; imputed folds (constant predictor) in a side's cell on 2: d1, d4', or nothing."""
    if not imputed:
        return ""
    return f"; imputed folds (constant predictor) in {where} {len(imputed)}: " + ", ".join(imputed)


def _paired(first: dict[str, dict], second: dict[str, dict]) -> tuple[list[str], list[float]]:
    common = sorted(set(first) & set(second))
    return common, [first[d]["normalized_score"] - second[d]["normalized_score"] for d in common]


def _round(values: list[float]):
    return round(float(np.mean(values)), 4) if len(values) else None


# ---------------------------------------------------------------------------------------------
# Verdicts from paired tests
# ---------------------------------------------------------------------------------------------

def _decide(test: dict, p_value: float | None, alpha: float, needed: int, sign: int = 1) -> str:
    """supported when the test rejects in the claim's direction (`sign`), contradicted when it rejects the
    other way; inconclusive below `needed` differences, where the procedure cannot reach alpha."""
    if test["n"] < needed or p_value is None or p_value >= alpha or test["direction"] == 0:
        return INCONCLUSIVE
    return SUPPORTED if test["direction"] == sign else CONTRADICTED


def _why(test: dict, p_value: float | None, alpha: float, needed: int, what: str = "dataset(s)") -> str:
    if test["n_pairs"] == 0:
        return "no dataset has both sides"
    if test["n"] < needed:
        return (f"{test['n']} {what} with a difference; this test needs at least {needed} to reach "
                f"p < {alpha}: it cannot decide")
    return f"Wilcoxon p = {p_value:.3g} over {test['n']} {what}"


def _combine(verdicts: list[str]) -> str:
    """All supported -> supported; any contradicted -> contradicted; else inconclusive."""
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return CONTRADICTED if CONTRADICTED in verdicts else INCONCLUSIVE


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_beats(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    rows = claim_rows(board, params)
    datasets = _datasets(board, params, rows)
    first = side_rows(rows, params["first"], datasets)
    second = side_rows(rows, params["second"], datasets)
    common, differences = _paired(first, second)
    test = claim_stats.wilcoxon(differences, alpha)
    needed = claim_stats.min_n_two_sided(alpha)
    ahead, behind = sum(d > 0 for d in differences), sum(d < 0 for d in differences)
    a, b = _side_name(params["first"], first), _side_name(params["second"], second)
    imputed = _imputed(common, first, second)
    return {
        "verdict": _decide(test, test["p_value"], alpha, needed),
        "statistic": {"wilcoxon": test, "min_datasets": needed, "first_ahead": ahead, "first_behind": behind,
                      "mean_normalized_difference": _round(differences), "imputed": imputed},
        "datasets": common,
        "summary": f"{a} ahead of {b} on {ahead}, behind on {behind} of {len(common)} dataset(s); "
                   + _why(test, test["p_value"], alpha, needed) + _imputed_note(imputed),
        "method": (f"Two-sided {WILCOXON}, of normalised-score differences ({a} - {b}) over the datasets both "
                   f"were scored on; supported or contradicted at p < {alpha}, which needs at least {needed} "
                   f"datasets with a difference (smallest exact p = 2 / 2^n)." + excluded_note(params)),
    }


def _each(board: dict, params: dict, sign: int) -> dict:
    """`first` against every rival, Holm-adjusted (Holm 1979): the claim holds when every comparison
    rejects in its direction (`sign` +1: first ahead, -1: first behind), fails when any rejects the other way."""
    alpha = params.get("alpha", ALPHA)
    rows = claim_rows(board, params)
    datasets = _datasets(board, params, rows)
    first = side_rows(rows, params["first"], datasets)
    k = len(params["rivals"])
    needed = claim_stats.min_n_two_sided(alpha, k)
    per_rival = []
    for rival in params["rivals"]:
        rival_rows = side_rows(rows, rival, datasets)
        common, differences = _paired(first, rival_rows)
        per_rival.append({"rival": _side_name(rival, rival_rows), "datasets": common,
                          "imputed": _imputed(common, first, rival_rows),
                          "wilcoxon": claim_stats.wilcoxon(differences, alpha),
                          "ahead": sum(d > 0 for d in differences), "behind": sum(d < 0 for d in differences)})
    adjusted = stats.holm([r["wilcoxon"]["p_value"] for r in per_rival])
    for entry, p in zip(per_rival, adjusted):
        entry["p_holm"] = p
        entry["verdict"] = _decide(entry["wilcoxon"], p, alpha, needed, sign)
    verdict = _combine([e["verdict"] for e in per_rival])
    parts = [f"ahead of {e['rival']} on {e['ahead']}, behind on {e['behind']} of {len(e['datasets'])} "
             f"({_why(e['wilcoxon'], e['p_holm'], alpha, needed)}"
             + (", Holm-adjusted)" if e["wilcoxon"]["n"] >= needed else ")") for e in per_rival]
    relation = "ahead of" if sign > 0 else "behind"
    imputed = sorted({d for e in per_rival for d in e["imputed"]})
    sizes = sorted({s for r in first.values() for s in r.get("train_sizes", ())})
    read_at = f"; read at training sizes {', '.join(map(str, sizes))} of the learning curve" if sizes else ""
    curve = board.get("learning_curves", {}).get("crossing")
    if sizes and curve and curve.get("available"):  # the small-data claim read as a curve (section 5)
        read_at += ". " + crossing_text(curve)
    return {"verdict": verdict,
            "statistic": {"rivals": per_rival, "min_datasets": needed, "imputed": imputed, "train_sizes": sizes},
            "datasets": sorted({d for e in per_rival for d in e["datasets"]}),
            "summary": f"{_side_name(params['first'], first)}: " + "; ".join(parts) + read_at
                       + _imputed_note(imputed),
            "method": (f"One two-sided {WILCOXON}, of normalised-score differences per rival, Holm-adjusted over "
                       f"the {k} rival(s) (Holm 1979): supported when the first side "
                       f"({side_token(params['first'])}) is "
                       f"significantly {relation} every rival, contradicted when significantly on the other "
                       f"side of any, at alpha {alpha}. Holm's first step needs p < {alpha}/{k}, so at least "
                       f"{needed} datasets with a difference." + excluded_note(params))}


def test_beats_each(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    return _each(board, params, +1)


def test_loses_to_each(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    return _each(board, params, -1)


def _unit_index(units: list[dict]) -> dict:
    index = defaultdict(list)
    for unit in units:
        index[(unit["dataset"], unit["model"], unit["train_size"] or None)].append(unit)
    return index


MIN_TUNING_TRIALS = 2  # the default and one tuned trial: the least from which a gain can be read


def tuning_effort(row: dict, units: list[dict], trials_by_unit: dict, anchors: tuple[float, float],
                  within: float, prefix: int | None = None) -> tuple[float, float] | None:
    """Mean over the folds that ran of (normalised gain from trial 0 to the chosen trial, trials until the
    best-so-far test score, in the order the trials ran, is within `within` of the final one), on the
    normalised scale of section 1: `anchors` = (the dataset's robust low anchor, its best mean score), each
    test score normalised and clipped to [0, 1] as the leaderboard normalises. With `prefix`, only the first
    `prefix` trials of each fold count, the chosen one among them. None when no fold ran."""
    low, high = anchors

    def normalised(score: float) -> float:
        return stats.normalized_score(score, low, high)

    gains, needed = [], []
    for unit in units:
        rows = sorted(trials_by_unit.get(unit["unit_key"], []), key=lambda t: t["number"])[:prefix]
        chosen = best_trial(rows) if unit["status"] == "done" else None
        default = next((t for t in rows if t["number"] == 0 and t["status"] == "ok"), None)
        if chosen is None or default is None:
            continue
        gains.append(normalised(chosen["test_score"]) - normalised(default["test_score"]))
        final, so_far = normalised(chosen["test_score"]), None
        for k, trial in enumerate(rows, 1):  # so_far = best_trial(rows[:k]), kept as the trials come
            if trial["status"] == Status.OK and trial.get("valid_score") is not None and (
                    so_far is None or trial["valid_score"] > so_far["valid_score"]):
                so_far = trial
            if so_far is not None and abs(final - normalised(so_far["test_score"])) <= within:
                needed.append(k)
                break
    if not gains:
        return None
    return sum(gains) / len(gains), sum(needed) / len(needed)


def test_less_tuning(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha, within = params.get("alpha", ALPHA), params.get("within", 0.01)
    datasets = _datasets(board, params, claim_rows(board, params))
    index = _unit_index(units)
    anchors = {d: (board["datasets"][d]["low_anchor"], board["datasets"][d]["best_score"]) for d in datasets}
    used = {name: side_rows(board["results"], params[name], datasets) for name in ("less", "more")}
    # An equal budget: a time cap can stop one side's units after a trial or two, and a side that barely tuned
    # would read as needing no tuning. Both sides are read over the first k trials, k the fewest that any
    # finished fold of either side ran on the dataset; with fewer than 2 there is no tuning to compare.
    prefix = {}
    for dataset in datasets:
        counts = [len(trials_by_unit.get(unit["unit_key"], [])) for side in used.values() if dataset in side
                  for unit in index[(dataset, side[dataset]["model"], side[dataset]["train_size"])]
                  if unit["status"] == "done"]
        prefix[dataset] = min(counts, default=0)
    short = sorted(d for d in datasets if 0 < prefix[d] < MIN_TUNING_TRIALS)
    effort = {}
    for name in ("less", "more"):
        effort[name] = {}
        for dataset, row in used[name].items():
            if anchors[dataset][1] <= anchors[dataset][0] or dataset in short:
                continue
            value = tuning_effort(row, index[(dataset, row["model"], row["train_size"])], trials_by_unit,
                                  anchors[dataset], within, prefix[dataset] or None)
            if value is not None:
                effort[name][dataset] = value
    common = sorted(set(effort["less"]) & set(effort["more"]))
    gain_diff = [effort["more"][d][0] - effort["less"][d][0] for d in common]
    trials_diff = [effort["more"][d][1] - effort["less"][d][1] for d in common]
    tests = [claim_stats.wilcoxon(gain_diff, alpha), claim_stats.wilcoxon(trials_diff, alpha)]
    adjusted = stats.holm([t["p_value"] for t in tests])
    # Supported: both conditions hold, each at alpha (an intersection-union test, Berger 1982, needs no
    # adjustment). Contradicted: either is reversed, Holm-adjusted over the two.
    need_support, need_contradict = claim_stats.min_n_two_sided(alpha), claim_stats.min_n_two_sided(alpha, 2)
    holds = [_decide(t, t["p_value"], alpha, need_support) == SUPPORTED for t in tests]
    reversed_ = [_decide(t, p, alpha, need_contradict) == CONTRADICTED for t, p in zip(tests, adjusted)]
    verdict = SUPPORTED if all(holds) else CONTRADICTED if any(reversed_) else INCONCLUSIVE

    def mean(name: str, i: int):
        return _round([effort[name][d][i] for d in common])

    less, more = _side_name(params["less"], used["less"]), _side_name(params["more"], used["more"])
    imputed = _imputed(common, used["less"], used["more"])
    return {
        "verdict": verdict,
        "statistic": {
            "mean_gain": {less: mean("less", 0), more: mean("more", 0)},
            "mean_trials_to_within": {less: mean("less", 1), more: mean("more", 1)},
            "within": within, "min_datasets_supported": need_support, "min_datasets_contradicted": need_contradict,
            "gain_test": {**tests[0], "p_holm": adjusted[0], "holds": holds[0]},
            "trials_test": {**tests[1], "p_holm": adjusted[1], "holds": holds[1]},
            "imputed": imputed, "trials_compared": {d: prefix[d] for d in common}, "too_few_trials": short,
        },
        "datasets": common,
        "summary": (f"normalised gain from default to tuned: {less} {mean('less', 0)}, {more} {mean('more', 0)} "
                    f"({_why(tests[0], tests[0]['p_value'], alpha, need_support)}); trials to come within "
                    f"{within:g} (normalised) of the final score: {less} {mean('less', 1)}, {more} "
                    f"{mean('more', 1)} ({_why(tests[1], tests[1]['p_value'], alpha, need_support)}); "
                    + ("both conditions hold" if all(holds) else
                       f"{sum(holds)} of 2 conditions hold at p < {alpha}"
                       + ("; reversed after Holm" if any(reversed_) else ""))
                    + _imputed_note(imputed, "a side's cell (effort over the folds that ran) on")
                    + (f"; {len(short)} dataset(s) left out, where a side's fold ran fewer than "
                       f"{MIN_TUNING_TRIALS} trials within the budget" if short else "")),
        "method": (f"Per dataset and side, the mean over the folds that ran (an imputed fold has no trials) of "
                   f"the normalised gain from the default (trial 0) to the tuned choice, and of the trials until "
                   f"the best-so-far test score is within {within:g} of the final one, on section 1's "
                   f"normalised scale (the dataset's robust low anchor 0, its best mean score 1, each test score "
                   f"clipped to [0, 1]). Both sides are read over the same first k trials of each fold, k the "
                   f"fewest trials any finished fold of either side ran on the dataset (equal to the trial budget "
                   f"unless a time budget cut folds short); a dataset with k below {MIN_TUNING_TRIALS} is left out. "
                   f"A two-sided {WILCOXON}, on each ({more} - {less}). Supported when both "
                   f"conditions hold at p < {alpha} (an intersection-union test, Berger 1982: at least "
                   f"{need_support} datasets); contradicted when either is significantly reversed, "
                   f"Holm-adjusted over the two (at least {need_contradict} datasets)." + excluded_note(params)),
    }


def test_shuffle_control(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha, suffix, margin = params.get("alpha", ALPHA), params.get("suffix", "_shuffled"), params.get("margin", 0.05)
    rivals = [params["rival"]] if isinstance(params["rival"], str) else list(params["rival"])
    results = board["results"]
    first = side_rows(results, params["first"])
    candidates = [side_rows(results, rival) for rival in rivals]
    no_signal = set(board["no_signal_datasets"])
    pairs, skipped = [], []
    for shuffled in sorted(d for d in first if d.endswith(suffix)):
        original = shuffled[: -len(suffix)]
        options = [rows[original] for rows in candidates if original in rows]
        if original in no_signal:  # the copy is kept whatever its signal: losing it is what the control expects
            skipped.append(f"{original}: no signal")
            continue
        if original not in first or not options:
            skipped.append(f"{original}: no rival scored on it" if original in first else f"{original}: not scored")
            continue
        # The rival is chosen once per pair, on the original (best mean validation score), and kept for both.
        rival = max(options, key=lambda r: (r["valid_score"], r["model"]))
        on_shuffled = next((r for r in results if r["dataset"] == shuffled and r["model"] == rival["model"]
                            and counted(r)), None)
        if on_shuffled is None:
            skipped.append(f"{original}: {rival['model']} not scored on {shuffled}")
            continue
        pairs.append({"original": original, "shuffled": shuffled, "rival_model": rival["model"],
                      "original_advantage": round(first[original]["normalized_score"] - rival["normalized_score"], 6),
                      "shuffled_advantage": round(first[shuffled]["normalized_score"] - on_shuffled["normalized_score"],
                                                  6),
                      "imputed": any(r["imputed"] for r in (first[original], rival, first[shuffled], on_shuffled))})
    original = [p["original_advantage"] for p in pairs]
    shuffled = [p["shuffled_advantage"] for p in pairs]
    drop = [o - s for o, s in zip(original, shuffled)]
    need_two, need_one = claim_stats.min_n_two_sided(alpha), claim_stats.min_n_one_sided(alpha)
    needed = max(need_two, need_one)
    tests = {"original_advantage": claim_stats.wilcoxon(original, alpha), "drop": claim_stats.wilcoxon(drop, alpha),
             "shuffled_equivalent": claim_stats.equivalence(shuffled, margin, alpha),
             "shuffled_above_margin": claim_stats.signed_rank_one_sided([s - margin for s in shuffled], "greater")}
    advantage = _decide(tests["original_advantage"], tests["original_advantage"]["p_value"], alpha, need_two)
    dropped = _decide(tests["drop"], tests["drop"]["p_value"], alpha, need_two)
    above = tests["shuffled_above_margin"]
    survives = above["n"] >= need_one and above["p_value"] is not None and above["p_value"] < alpha
    if advantage == SUPPORTED and dropped == SUPPORTED and tests["shuffled_equivalent"]["equivalent"]:
        verdict, why = SUPPORTED, ("an advantage on the originals, a significant drop, and a shuffled advantage "
                                   "within the margin")
    elif advantage == SUPPORTED and survives:
        verdict, why = CONTRADICTED, f"the advantage survives the shuffle (significantly above +{margin:g})"
    elif len(pairs) < needed:
        verdict, why = INCONCLUSIVE, (f"{len(pairs)} pair(s); this test needs at least {needed} pairs to reach "
                                      f"p < {alpha}: it cannot decide")
    else:
        verdict, why = INCONCLUSIVE, "not every condition holds"
    eq = tests["shuffled_equivalent"]
    name = _side_name(params["first"])
    if pairs:
        summary = (f"over {len(pairs)} pair(s): {name}'s advantage on the original "
                   f"{_fmt_test(tests['original_advantage'], np.median(original))}, drop to the shuffled "
                   f"{_fmt_test(tests['drop'], np.median(drop))}, shuffled advantage median "
                   f"{np.median(shuffled):+.4f} (within ±{margin:g}: TOST p = {_fmt_p(eq['p_value'])}); {why}. "
                   + "; ".join(f"{p['original']}: {name} - {p['rival_model']} = {p['original_advantage']:+.4f}, "
                               f"shuffled {p['shuffled_advantage']:+.4f}" for p in pairs))
    else:
        summary = f"no dataset has a `{suffix}` control with both sides scored on it"
    if skipped:
        summary += " (left out: " + "; ".join(skipped) + ")"
    imputed = [p["original"] for p in pairs if p["imputed"]]
    summary += _imputed_note(imputed, "a cell of the pairs of")
    return {
        "verdict": verdict,
        "statistic": {"pairs": pairs, "margin": margin, "min_pairs": needed, "imputed": imputed, **tests},
        "datasets": sorted({d for p in pairs for d in (p["original"], p["shuffled"])}),
        "summary": summary,
        "method": (f"Over the pairs of datasets X and X{suffix}: the rival is chosen once per pair, on the "
                   f"original (the best mean validation score of {', '.join(_side_name(r) for r in rivals)}), and "
                   f"used on both; the advantage is {name}'s normalised score minus the rival's. Supported "
                   f"needs (a) a significant advantage on the originals and (b) a significant drop from "
                   f"original to shuffled (two-sided {WILCOXON}, over pairs, each at p < {alpha}), and (c) the "
                   f"shuffled advantage within ±{margin:g} by an equivalence test (TOST, Schuirmann 1987, with "
                   f"one-sided Wilcoxon tests, each at p < {alpha}); an intersection-union test needs no "
                   f"adjustment. Contradicted: (a) and a shuffled advantage significantly above +{margin:g} "
                   f"(one-sided Wilcoxon). At least {needed} pairs are needed to reach alpha. A pair whose "
                   f"original carries no signal is left out; its shuffled copy counts whatever its signal, since "
                   f"losing the signal is what the control expects."),
    }


def _fmt_p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3g}"


def _fmt_test(test: dict, median: float) -> str:
    return f"median {median:+.4f} (Wilcoxon p = {_fmt_p(test['p_value'])})"


def _by_model(board: dict, params: dict) -> dict[str, dict[str, dict]]:
    """model -> dataset -> its counted row (failed folds imputed), on the claim's datasets (`claimed`)."""
    signal = claimed(board, params)
    out = defaultdict(dict)
    for row in board["results"]:
        if counted(row) and row["dataset"] in signal:
            out[row["model"]][row["dataset"]] = row
    return out


def claimed(board: dict, params: dict) -> set[str]:
    """The datasets a claim may read: those that carry signal, less those named with its `exclude_suffix`
    (claims.toml says why the ablations claims leave out the shuffled controls)."""
    suffix = params.get("exclude_suffix")
    return {d for d in with_signal(board) if not (suffix and d.endswith(suffix))}


def excluded_note(params: dict) -> str:
    """The sentence a claim's method adds when it leaves datasets out by suffix."""
    suffix = params.get("exclude_suffix")
    return f" Datasets named *{suffix} are left out (controls for another claim)." if suffix else ""


def test_presence_vs_flavour(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha, key, absent = params.get("alpha", ALPHA), params["key"], _text(params["absent"])
    scored = _by_model(board, params)
    variants = {}
    for model in scored:
        base, fixed = variant_key(model)
        if base == params["base"] and set(fixed) == {key}:
            variants[fixed[key]] = model
    flavours = sorted(v for v in variants if v != absent)
    labels = len(flavours) + 1
    needed = claim_stats.min_n_relabel(alpha, max(labels, 3))
    method = (f"Per dataset, the variants {params['base']}[{key}=...] with the layer absent ({absent}) and each "
              "flavour; statistic: how much farther the absent variant lies from the flavours than the flavours "
              "lie from each other (mean |flavour - absent| - mean |flavour - flavour|, over the mean distance "
              "between all variants, on normalised scores), summed over datasets. A two-sided randomisation test "
              "(Fisher 1935; Pitman 1937): under the null every variant of a dataset is equally likely to be the "
              f"absent one, so relabelling which one is absent gives the null distribution (exact up to "
              f"{claim_stats.EXACT_LIMIT:,} relabellings, else {claim_stats.N_RESAMPLES} seeded draws). Supported "
              f"when presence matters more at p < {alpha}, contradicted when flavour does; with {labels} "
              f"variants at least {needed} datasets (smallest p = 2 / {labels}^n)." + excluded_note(params))
    if absent not in variants or len(flavours) < 2:
        return {"verdict": INCONCLUSIVE, "statistic": {"variants": variants}, "datasets": [],
                "summary": (f"needs {params['base']}[{key}={absent}] and at least two other "
                            f"{params['base']}[{key}=...] "
                            f"variants in the run; found: {', '.join(sorted(variants.values())) or 'none'}"),
                "method": method}
    models = [variants[absent]] + [variants[f] for f in flavours]
    datasets = sorted(set.intersection(*(set(scored[m]) for m in models)))
    values = np.array([[scored[m][d]["normalized_score"] for m in models] for d in datasets]).reshape(-1, labels)
    presence = (values[:, 1:].mean(axis=1) - values[:, 0]).tolist()
    spread = np.ptp(values[:, 1:], axis=1).tolist()
    test = claim_stats.relabel_test(claim_stats.presence_relabellings(values), labels, alpha)
    imputed = _imputed(datasets, *(scored[m] for m in models))
    if test["n"] < needed or test["p_value"] is None or test["p_value"] >= alpha or test["direction"] == 0:
        verdict = INCONCLUSIVE
    else:
        verdict = SUPPORTED if test["direction"] > 0 else CONTRADICTED
    if not datasets:
        why = "no dataset has every variant"
    elif test["n"] < needed:
        why = f"{test['n']} dataset(s) where the variants differ; this test needs at least {needed}: it cannot decide"
    else:
        why = f"randomisation p = {test['p_value']:.3g} over {test['n']} dataset(s)"
    return {
        "verdict": verdict,
        "statistic": {"variants": variants, "randomisation": test, "min_datasets": needed,
                      "mean_presence_effect": _round(presence), "mean_flavour_spread": _round(spread),
                      "imputed": imputed},
        "datasets": datasets,
        "summary": (f"mean effect of having the layer {np.mean(presence) if presence else float('nan'):+.4f}, "
                    f"mean spread between {', '.join(flavours)} {np.mean(spread) if spread else float('nan'):.4f} "
                    f"(normalised); " + why + _imputed_note(imputed, "a variant's cell on")),
        "method": method,
    }


def ablation_problem(pair: dict, where: str) -> str | None:
    """Why `with`/`without` of an ablation do not isolate one key, or None: both must be variants of one base
    that fix the same keys and differ in exactly one (a key left to the tuner measures having the option)."""
    if not isinstance(pair, dict) or not {"with", "without"} <= set(pair):
        return f"`{where}` must be a table with `with` and `without`"
    (base_a, fixed_a), (base_b, fixed_b) = variant_key(pair["with"]), variant_key(pair["without"])
    if base_a != base_b:
        return f"`{where}`: {pair['with']} and {pair['without']} are different models"
    if set(fixed_a) != set(fixed_b):
        tuned = sorted(set(fixed_a) ^ set(fixed_b))
        return (f"`{where}`: {pair['with']} and {pair['without']} do not fix the same keys ({', '.join(tuned)} is "
                f"tuned on one side only, which measures having the option); fix it on both sides")
    differ = [k for k in fixed_a if fixed_a[k] != fixed_b[k]]
    if len(differ) != 1:
        return f"`{where}`: {pair['with']} and {pair['without']} must differ in exactly one key, not {len(differ)}"
    return None


def test_effect_larger(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    alpha = params.get("alpha", ALPHA)
    scored = _by_model(board, params)
    needed = claim_stats.min_n_two_sided(alpha)

    def find(name: str) -> str | None:
        return next((m for m in scored if _same_model(m, name)), None)

    names = {part: {side: find(params[part][side]) for side in ("with", "without")} for part in ("larger", "smaller")}

    def key_of(part: str) -> str:
        a, b = variant_key(params[part]["with"])[1], variant_key(params[part]["without"])[1]
        return next((k for k in a if a[k] != b.get(k)), "?")

    method = (f"Each effect is the normalised score of `with` minus `without`, two variants that fix the same keys "
              f"and differ in one ({key_of('larger')}; {key_of('smaller')}), so that neither side tunes the "
              f"key it measures. A two-sided {WILCOXON}, of (larger effect - smaller effect) over the datasets "
              f"every variant was scored on; at least {needed} datasets with a difference to reach p < {alpha}."
              + excluded_note(params))
    wanted = [params[p][s] for p in names for s in names[p] if names[p][s] is None]
    if wanted:
        every = dict.fromkeys(params[p][s] for p in names for s in names[p])
        return {"verdict": INCONCLUSIVE, "statistic": {}, "datasets": [], "method": method,
                "summary": (f"needs the variants {', '.join(every)} in the run; it has no "
                            f"{', '.join(dict.fromkeys(wanted))}")}
    models = [names[p][s] for p in names for s in names[p]]
    datasets = sorted(set.intersection(*(set(scored[m]) for m in models)))

    def effect(part: str, dataset: str) -> float:
        return (scored[names[part]["with"]][dataset]["normalized_score"]
                - scored[names[part]["without"]][dataset]["normalized_score"])

    larger = [effect("larger", d) for d in datasets]
    smaller = [effect("smaller", d) for d in datasets]
    test = claim_stats.wilcoxon([a - b for a, b in zip(larger, smaller)], alpha)
    imputed = _imputed(datasets, *(scored[m] for m in models))
    return {
        "verdict": _decide(test, test["p_value"], alpha, needed),
        "statistic": {"wilcoxon": test, "min_datasets": needed, "mean_larger_effect": _round(larger),
                      "mean_smaller_effect": _round(smaller), "imputed": imputed},
        "datasets": datasets,
        "summary": (f"{names['larger']['with']} vs {names['larger']['without']}: mean effect "
                    f"{np.mean(larger) if larger else float('nan'):+.4f}; {names['smaller']['with']} vs "
                    f"{names['smaller']['without']}: {np.mean(smaller) if smaller else float('nan'):+.4f} "
                    f"(normalised); " + _why(test, test["p_value"], alpha, needed)
                    + _imputed_note(imputed, "a variant's cell on")),
        "method": method,
    }


def test_improves_each(board: dict, units: list[dict], trials_by_unit: dict, params: dict) -> dict:
    """Each ablation pair's `with` against its `without` (one key switched), Holm-adjusted over the pairs."""
    alpha = params.get("alpha", ALPHA)
    scored = _by_model(board, params)
    pairs = params["pairs"]
    k = len(pairs)
    needed = claim_stats.min_n_two_sided(alpha, k)
    method = (f"Per pair, the normalised score of `with` minus `without`, two variants that fix the same keys and "
              f"differ in one, so that neither side tunes the key it measures; one two-sided {WILCOXON} per pair "
              f"over the datasets both were scored on, Holm-adjusted over the {k} pair(s) (Holm 1979). Supported "
              f"when every `with` is significantly ahead of its `without`, contradicted when any is significantly "
              f"behind, at alpha {alpha}; Holm's first step needs p < {alpha}/{k}, so at least {needed} datasets "
              f"with a difference." + excluded_note(params))
    found = {name: next((m for m in scored if _same_model(m, name)), None)
             for pair in pairs for name in (pair["with"], pair["without"])}
    missing = [name for name, model in found.items() if model is None]
    if missing:
        return {"verdict": INCONCLUSIVE, "statistic": {}, "datasets": [], "method": method,
                "summary": f"needs the variants {', '.join(found)} in the run; it has no {', '.join(missing)}"}
    per_pair = []
    for pair in pairs:
        with_, without = scored[found[pair["with"]]], scored[found[pair["without"]]]
        common, differences = _paired(with_, without)
        per_pair.append({"with": pair["with"], "without": pair["without"], "datasets": common,
                         "imputed": _imputed(common, with_, without),
                         "mean_effect": _round(differences), "wilcoxon": claim_stats.wilcoxon(differences, alpha)})
    for entry, p in zip(per_pair, stats.holm([e["wilcoxon"]["p_value"] for e in per_pair])):
        entry["p_holm"] = p
        entry["verdict"] = _decide(entry["wilcoxon"], p, alpha, needed)
    imputed = sorted({d for e in per_pair for d in e["imputed"]})
    parts = [f"{e['with']} vs {e['without']}: mean effect {e['mean_effect']:+.4f} "
             f"({_why(e['wilcoxon'], e['p_holm'], alpha, needed)}"
             + (", Holm-adjusted)" if e["wilcoxon"]["n"] >= needed else ")")
             if e["mean_effect"] is not None else f"{e['with']} vs {e['without']}: no dataset has both"
             for e in per_pair]
    return {"verdict": _combine([e["verdict"] for e in per_pair]),
            "statistic": {"pairs": per_pair, "min_datasets": needed, "imputed": imputed},
            "datasets": sorted({d for e in per_pair for d in e["datasets"]}),
            "summary": "; ".join(parts) + " (normalised)" + _imputed_note(imputed, "a variant's cell on"),
            "method": method}


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------

def side_problem(side, where: str) -> str | None:
    """Why `side` is not one model or one family, or None."""
    if isinstance(side, list) and len(side) > 1:
        return (f"`{where}` lists {len(side)} sides {side}; a side is one model or one family (its declared "
                "representative), since the best of several would have several times the search; compare them "
                "one by one (rivals of beats_each or loses_to_each)")
    token = side[0] if isinstance(side, list) and side else side
    if not isinstance(token, str) or not token.strip():
        return f"`{where}` must be a model name or \"family:<{'|'.join(FAMILIES)}>\", got {side!r}"
    if token.startswith("family:") and token[7:] not in FAMILIES:
        return f"`{where}`: unknown family {token[7:]!r}; valid: {', '.join(FAMILIES)}"
    return None


def _check_sides(*names: str):
    def check(params: dict) -> list[str]:
        return [m for name in names if (m := side_problem(params[name], name))]
    return check


def _check_each(params: dict) -> list[str]:
    problems = [m for m in [side_problem(params["first"], "first")] if m]
    if not isinstance(params["rivals"], list) or not params["rivals"]:
        return problems + ["`rivals` must be a list of sides"]
    return problems + [m for i, r in enumerate(params["rivals"]) if (m := side_problem(r, f"rivals[{i}]"))]


def _check_less_tuning(params: dict) -> list[str]:
    problems = _check_sides("less", "more")(params)
    within = params.get("within", 0.01)
    if not isinstance(within, (int, float)) or not 0 < within < 1:
        problems.append(f"`within` is a share of the normalised scale, in (0, 1); got {within!r}")
    return problems


def _check_shuffle(params: dict) -> list[str]:
    problems = _check_sides("first")(params)
    rivals = [params["rival"]] if isinstance(params["rival"], str) else params["rival"]
    problems += [m for r in rivals if (m := side_problem(r, "rival"))]
    margin = params.get("margin", 0.05)
    if not isinstance(margin, (int, float)) or not margin > 0:
        problems.append(f"`margin` (normalised score) must be > 0; got {margin!r}")
    return problems


def _check_ablations(params: dict) -> list[str]:
    return [m for part in ("larger", "smaller") if (m := ablation_problem(params[part], part))]


def _check_pairs(params: dict) -> list[str]:
    pairs = params["pairs"]
    if not isinstance(pairs, list) or not pairs:
        return ["`pairs` must be a list of tables with `with` and `without`"]
    return [m for i, pair in enumerate(pairs) if (m := ablation_problem(pair, f"pairs[{i}]"))]


REQUIRED = {
    "beats": ("first", "second"),
    "beats_each": ("first", "rivals"),
    "loses_to_each": ("first", "rivals"),
    "less_tuning": ("less", "more"),
    "shuffle_control": ("first", "rival"),
    "presence_vs_flavour": ("base", "key", "absent"),
    "effect_larger": ("larger", "smaller"),
    "improves_each": ("pairs",),
}
CHECKS = {
    "beats": _check_sides("first", "second"),
    "beats_each": _check_each,
    "loses_to_each": _check_each,
    "less_tuning": _check_less_tuning,
    "shuffle_control": _check_shuffle,
    "presence_vs_flavour": lambda params: [],
    "effect_larger": _check_ablations,
    "improves_each": _check_pairs,
}
TESTS = {
    "beats": test_beats,
    "beats_each": test_beats_each,
    "loses_to_each": test_loses_to_each,
    "less_tuning": test_less_tuning,
    "shuffle_control": test_shuffle_control,
    "presence_vs_flavour": test_presence_vs_flavour,
    "effect_larger": test_effect_larger,
    "improves_each": test_improves_each,
}
