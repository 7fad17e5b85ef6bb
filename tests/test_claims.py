"""The claim tests (bench/report/claim_tests.py) on light boards: plain dicts shaped like the leaderboard's
results rows, units and trial rows, no store.

First a null simulation: scores with no effect at all, 40 datasets, 500 repetitions, every packaged claim;
each claim's rate of false "supported" and of false "contradicted" verdicts must be at most alpha (with
Monte Carlo slack). Then, per defect of issue 13, a test that the old behaviour fails.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bench import stats
from bench.report import claim_stats
from bench.report.claim_learning_rates import in_range_test, poisson_binomial
from bench.report.claim_tests import ALPHA, side_rows, tuning_effort, variant_key
from bench.report.claims import TESTS, ClaimError, check_claim, evaluate_claims, load_claims
from bench.report.families import REPRESENTATIVES, family_comparison, representatives
from bench.report.leaderboard import mark_signal

FAMILY_OF = {"lightgbm": "tree", "xgboost": "tree", "catboost": "tree", "hgb": "tree", "random_forest": "tree",
             "linear": "classical", "svm": "classical", "mlp": "deep", "resnet": "deep", "cnn": "deep"}
REPETITIONS, N_DATASETS = 500, 40
SLACK = 2 * math.sqrt(ALPHA * (1 - ALPHA) / REPETITIONS)  # two Monte Carlo standard errors


def family(model: str) -> str:
    return FAMILY_OF[variant_key(model)[0]]


def cell(dataset: str, model: str, family_: str, modality: str, n_train: int, folds: list[float],
         valid: float, baseline: float = 0.5) -> dict:
    """A complete results row as per_dataset.results makes it, every fold its own (nothing imputed)."""
    score = sum(folds) / len(folds)
    return {"dataset": dataset, "model": model, "family": family_, "modality": modality, "n_train": n_train,
            "train_size": None, "score": score, "ci_low": score, "ci_high": score, "valid_score": valid,
            "baseline_score": baseline, "status": "ok", "imputed": False, "complete": True,
            "folds_done": len(folds), "score_ran": score,
            "folds": [{"fold": i, "score": s, "imputed": None} for i, s in enumerate(folds)]}


def row(dataset: str, model: str, score: float, valid: float | None = None, modality: str = "tabular",
        n_train: int = 5000, baseline: float = 0.5, folds: list[float] | None = None) -> dict:
    """A results row as the leaderboard has it (normalized_score is set by `board`)."""
    return cell(dataset, model, family(model), modality, n_train, folds if folds is not None else [score],
                score if valid is None else valid, baseline) | {"score": score}


def failed(r: dict, imputed_folds: int | None = None) -> dict:
    """The row with its last `imputed_folds` folds (default all) failed: imputed with the constant predictor's
    score, as per_dataset.results imputes them."""
    n = len(r["folds"]) if imputed_folds is None else imputed_folds
    folds = [f if i < len(r["folds"]) - n else {"fold": f["fold"], "score": r["baseline_score"], "imputed": "failed"}
             for i, f in enumerate(r["folds"])]
    own = [f["score"] for f in folds if not f["imputed"]]
    return r | {"folds": folds, "score": float(np.mean([f["score"] for f in folds])), "imputed": True,
                "status": "partial" if own else "failed", "folds_done": len(own),
                "score_ran": float(np.mean(own)) if own else None}


def board(rows: list[dict], no_signal=None) -> dict:
    """A light leaderboard: per dataset the best score is 1 and, standing in for section 1's robust low anchor,
    the constant predictor is 0 (clipped); signal marked by the leaderboard's own rule unless `no_signal` is
    given."""
    best, datasets = {}, {}
    for r in rows:
        if r["score"] is not None:
            best[r["dataset"]] = max(best.get(r["dataset"], -math.inf), r["score"])
    for r in rows:
        if r["score"] is not None:
            span = best[r["dataset"]] - r["baseline_score"]
            r["normalized_score"] = (min(1.0, max(0.0, (r["score"] - r["baseline_score"]) / span)) if span > 0
                                     else 0.0)
            datasets[r["dataset"]] = {"modality": r["modality"], "metric": "accuracy",
                                      "low_anchor": r["baseline_score"], "best_score": best[r["dataset"]]}
    folds = max((len(r["folds"]) for r in rows), default=1)
    if no_signal is None:
        no_signal = mark_signal(rows, datasets, folds)
    return {"results": rows, "datasets": datasets, "folds": folds, "no_signal_datasets": sorted(no_signal)}


def claim(test: str, **params) -> dict:
    entry = {"id": test, "statement": test, "test": test, "params": params}
    check_claim(entry)
    return entry


def run(entry: dict, rows: list[dict], units=(), trials=None, no_signal=None) -> dict:
    return TESTS[entry["test"]](board(rows, no_signal), list(units), trials or {}, entry["params"])


# ---------------------------------------------------------------------------------------------
# The null simulation
# ---------------------------------------------------------------------------------------------

def _names(value) -> list[str]:
    """Every model name a claim's parameters mention (family tokens and option values excluded)."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _names(v)]
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    if isinstance(value, str) and not value.startswith("family:") and variant_key(value)[0] in FAMILY_OF:
        return [value]
    return []


def _null_setup(entry: dict) -> tuple[list[str], list[str], str, int]:
    """The models, datasets, modality and training rows of a null board every part of the claim applies to."""
    params = entry["params"]
    named = _names(params)
    if entry["test"] == "presence_vs_flavour":
        named = [f"{params['base']}[{params['key']}={v}]" for v in (params["absent"], "batchnorm", "layernorm")]
    grid = any(variant_key(n)[0] == "cnn" for n in named)
    modality = params.get("modalities", ["image" if grid else "tabular"])[0]
    models = ["lightgbm", "xgboost", "linear", "mlp", "resnet"] + (["cnn"] if grid else [])
    models += [n for n in named if n not in models]
    if entry["test"] == "shuffle_control":
        suffix = params.get("suffix", "_shuffled")
        datasets = [f"d{i}" for i in range(N_DATASETS // 2)] + [f"d{i}{suffix}" for i in range(N_DATASETS // 2)]
    else:
        datasets = [f"d{i}" for i in range(N_DATASETS)]
    return models, datasets, modality, (500 if "max_train" in params else 5000)


def no_signal(datasets: list[str], scores: np.ndarray) -> list[str]:
    """leaderboard.mark_signal's rule (no sampling error) on scores[dataset, model, fold], vectorised for the
    null simulation: no signal when the best model's mean lead over the worst's is within the corrected
    standard error of that lead (tests/test_claims.py checks it against mark_signal)."""
    means = scores.mean(axis=2)
    picks = np.arange(len(datasets))
    lead = scores[picks, means.argmax(axis=1)] - scores[picks, means.argmin(axis=1)]
    k = scores.shape[2]
    se = np.sqrt(stats.corrected_variance_factor(k, stats.split_ratio(k)) * lead.var(axis=1, ddof=1))
    return [d for d, quiet in zip(datasets, lead.mean(axis=1) <= se) if quiet]


def null_rows(rng, models, datasets, modality, n_train, folds=3) -> tuple[list[dict], list[str]]:
    """No effect: on each dataset every model's fold scores come from one distribution (its validation
    score tracks its own test score, so that choosing by validation is informative, as in a real run).
    Returns the rows and the datasets the leaderboard would mark as carrying no signal, which every claim
    leaves out."""
    level = rng.uniform(0.6, 0.9, size=len(datasets))
    test = level[:, None, None] + 0.03 * rng.standard_normal((len(datasets), len(models), folds))
    valid = (test + 0.01 * rng.standard_normal(test.shape)).mean(axis=2).tolist()
    test_list, families = test.tolist(), [family(m) for m in models]
    rows = [cell(dataset, model, families[m], modality, n_train, test_list[d][m], valid[d][m])
            for d, dataset in enumerate(datasets) for m, model in enumerate(models)]
    return rows, no_signal(datasets, test)


def null_tuning(rng, models, datasets, modality, n_train, tuned=("lightgbm", "mlp"), folds=2, n_trials=4):
    """No effect, for less_tuning: every unit's trials drawn from one distribution; rows from the trials, units
    and trial rows for the `tuned` models only (the others count in the signal rule, as in a run)."""
    rows, units, trials = [], [], {}
    level = rng.uniform(0.6, 0.9, size=len(datasets))
    test = level[:, None, None, None] + 0.03 * rng.standard_normal((len(datasets), len(models), folds, n_trials))
    valid = test + 0.01 * rng.standard_normal(test.shape)
    chosen = valid.argmax(axis=3)[..., None]
    fold_array = np.take_along_axis(test, chosen, 3)[..., 0]
    fold_scores = fold_array.tolist()
    valid_scores = np.take_along_axis(valid, chosen, 3)[..., 0].mean(axis=2).tolist()
    test_list, valid_list, families = test.tolist(), valid.tolist(), [family(m) for m in models]
    for d, dataset in enumerate(datasets):
        for m, model in enumerate(models):
            rows.append(cell(dataset, model, families[m], modality, n_train, fold_scores[d][m], valid_scores[d][m]))
            for f in range(folds if model in tuned else 0):
                key = f"{dataset}/{model}/{f}"
                units.append({"unit_key": key, "dataset": dataset, "model": model, "fold": f, "train_size": 0,
                              "status": "done"})
                trials[key] = [{"number": t, "status": "ok", "valid_score": valid_list[d][m][f][t],
                                "test_score": test_list[d][m][f][t]} for t in range(n_trials)]
    return rows, units, trials, no_signal(datasets, fold_array)


SIZES = (100, 300, 1000, 3000, 10000)


def null_curves(rng, models, datasets, modality, sizes=SIZES) -> tuple[list[dict], list[dict], list[str]]:
    """No effect along the learning curve: at each size every model's score comes from one distribution,
    whose level rises with the size. Returns the largest size's rows, every size's rows and the datasets
    without signal at the largest size."""
    level = rng.uniform(0.6, 0.8, size=len(datasets))
    curve, largest = [], None
    for i, size in enumerate(sizes):
        rows, quiet = null_rows(rng, models, datasets, modality, size, folds=2)
        for r, d in zip(rows, np.repeat(level, len(models))):
            shift = d - 0.75 + 0.03 * i
            r["score"] += shift
            r["train_size"] = size
            r["folds"] = [f | {"score": f["score"] + shift} for f in r["folds"]]
        curve += rows
        largest = (rows, quiet)
    return largest[0], curve, largest[1]


def null_learning_rates(rng, models, datasets, n_trials=6, folds=2) -> tuple[list[dict], list[dict], dict]:
    """No effect of the learning rate: log-uniform rates in [1e-4, 1e-2] as the MLP's space draws them, and
    validation scores that ignore them."""
    rows, _ = null_rows(rng, models, datasets, "tabular", 5000)
    units, trials = [], {}
    for dataset in datasets:
        for model in models:
            for f in range(folds):
                key = f"{dataset}/{model}/{f}"
                units.append({"unit_key": key, "dataset": dataset, "model": model, "fold": f, "train_size": 0,
                              "status": "done"})
                scores = 0.8 + 0.02 * rng.standard_normal(n_trials)
                trials[key] = [{"number": t, "status": "ok", "valid_score": float(scores[t]),
                                "test_score": float(scores[t]), "params": {"lr": float(10 ** rng.uniform(-4, -2))}}
                               for t in range(n_trials)]
    return rows, units, trials


def null_rates(entry: dict, repetitions: int = REPETITIONS, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    models, datasets, modality, n_train = _null_setup(entry)
    counts = {"supported": 0, "contradicted": 0, "inconclusive": 0}
    for _ in range(repetitions):
        if entry["test"] == "less_tuning":
            rows, units, trials, quiet = null_tuning(rng, models, datasets, modality, n_train)
            result = run(entry, rows, units, trials, no_signal=quiet)
        elif entry["test"] == "grows_with_size" or (entry["params"].get("max_train") and entry["test"] != "beats"):
            rows, curve, quiet = null_curves(rng, models, datasets[:12], modality)
            result = TESTS[entry["test"]](board(rows, quiet) | {"learning_curve": curve}, [], {}, entry["params"])
        elif entry["test"] == "range_is_known_good":
            rows, units, trials = null_learning_rates(rng, ["mlp", "cnn"], datasets[:10])
            result = run(entry, rows, units, trials, no_signal=[])
        else:
            rows, quiet = null_rows(rng, models, datasets, modality, n_train)
            result = run(entry, rows, no_signal=quiet)
        counts[result["verdict"]] += 1
    return {verdict: count / repetitions for verdict, count in counts.items()}


def test_the_null_boards_leave_out_what_the_leaderboard_marks_as_carrying_no_signal():
    rng = np.random.default_rng(7)
    for _ in range(5):
        rows, quiet = null_rows(rng, ["lightgbm", "linear", "mlp"], [f"d{i}" for i in range(N_DATASETS)], "tabular",
                                5000)
        assert board(rows)["no_signal_datasets"] == sorted(quiet) and 0 < len(quiet) < N_DATASETS
        rows, _, _, quiet = null_tuning(rng, ["lightgbm", "linear", "mlp"], [f"d{i}" for i in range(N_DATASETS)],
                                        "tabular", 5000)
        assert board(rows)["no_signal_datasets"] == sorted(quiet)


@pytest.mark.parametrize("entry", load_claims(), ids=lambda c: c["id"])
def test_no_claim_is_decided_more_often_than_alpha_when_nothing_differs(entry):
    rates = null_rates(entry)
    alpha = entry["params"].get("alpha", ALPHA)
    assert rates["supported"] <= alpha + SLACK, rates
    assert rates["contradicted"] <= alpha + SLACK, rates


# ---------------------------------------------------------------------------------------------
# 1. Shuffle control
# ---------------------------------------------------------------------------------------------

SHUFFLE = claim("shuffle_control", first="cnn", rival=["mlp", "family:tree"], suffix="_shuffled", margin=0.05)


def _pair(i: int, original: float, shuffled: float, rival: float = 0.6, seq: str = "sequence") -> list[dict]:
    """cnn, mlp and lightgbm on d<i> and d<i>_shuffled; the cnn's score is rival + the advantage."""
    out = []
    for name, advantage in ((f"d{i}", original), (f"d{i}_shuffled", shuffled)):
        out += [row(name, "cnn", rival + advantage, modality=seq, baseline=0.1),
                row(name, "lightgbm", rival, modality=seq, baseline=0.1),
                row(name, "mlp", rival - 0.05, modality=seq, baseline=0.1)]
    return out


def test_shuffle_control_on_the_reference_numbers_is_not_supported():
    # The committed reference: cnn - lightgbm = +0.41 [+0.27, +0.55] on mnist1d and -0.006 [-0.087, +0.076]
    # on mnist1d_shuffled over 3 folds, reported "supported" because the shuffled interval includes 0.
    seq = dict(modality="sequence", baseline=0.1)
    rows = [row("mnist1d", "cnn", 0.96, folds=[0.96, 0.94, 0.98], **seq),
            row("mnist1d", "lightgbm", 0.55, folds=[0.55, 0.54, 0.56], **seq),
            row("mnist1d", "mlp", 0.50, folds=[0.50, 0.49, 0.51], **seq),
            row("mnist1d_shuffled", "cnn", 0.544, folds=[0.55, 0.51, 0.572], **seq),
            row("mnist1d_shuffled", "lightgbm", 0.55, folds=[0.56, 0.53, 0.56], **seq),
            row("mnist1d_shuffled", "mlp", 0.50, folds=[0.50, 0.49, 0.51], **seq)]
    result = run(SHUFFLE, rows)
    assert result["verdict"] == "inconclusive"
    assert "1 pair(s); this test needs at least 6 pairs" in result["summary"]
    assert result["statistic"]["min_pairs"] == 6


def test_shuffle_control_needs_the_shuffled_advantage_shown_small():
    rng = np.random.default_rng(1)
    # An advantage on every original and a drop on every pair, but the shuffled advantage scatters by +-0.15:
    # its interval includes 0 on most pairs, yet it is not shown to lie within the margin.
    noisy = [r for i in range(8) for r in _pair(i, 0.3, float(rng.normal(0, 0.15)))]
    result = run(SHUFFLE, noisy)
    assert result["statistic"]["original_advantage"]["p_value"] < ALPHA
    assert not result["statistic"]["shuffled_equivalent"]["equivalent"]
    assert result["verdict"] == "inconclusive"
    small = [r for i in range(8) for r in _pair(i, 0.3 + 0.01 * i, 0.004 * (i - 3.5))]
    assert run(SHUFFLE, small)["verdict"] == "supported"
    survives = [r for i in range(8) for r in _pair(i, 0.3 + 0.01 * i, 0.2 + 0.01 * i)]
    assert run(SHUFFLE, survives)["verdict"] == "contradicted"
    no_advantage = [r for i in range(8) for r in _pair(i, 0.002 * (i - 3.5), 0.001 * (i - 3.5))]
    assert run(SHUFFLE, no_advantage)["verdict"] == "inconclusive"


def test_shuffle_control_keeps_the_rival_chosen_on_the_original():
    rows = []
    for i in range(8):
        seq = dict(modality="sequence", baseline=0.1)
        rows += [row(f"d{i}", "cnn", 0.9, **seq), row(f"d{i}", "lightgbm", 0.6, 0.7, **seq),
                 row(f"d{i}", "mlp", 0.5, 0.5, **seq),
                 # on the shuffled copy the MLP validates better and scores far above the cnn
                 row(f"d{i}_shuffled", "cnn", 0.6 + 0.001 * i, **seq),
                 row(f"d{i}_shuffled", "lightgbm", 0.6, 0.6, **seq),
                 row(f"d{i}_shuffled", "mlp", 0.8, 0.9, **seq)]
    result = run(SHUFFLE, rows)
    assert {p["rival_model"] for p in result["statistic"]["pairs"]} == {"lightgbm"}
    assert all(abs(p["shuffled_advantage"]) < 0.02 for p in result["statistic"]["pairs"])
    assert result["verdict"] == "supported"


# ---------------------------------------------------------------------------------------------
# 2. Normalisation presence vs flavour
# ---------------------------------------------------------------------------------------------

PRESENCE = claim("presence_vs_flavour", base="mlp", key="norm", absent="none")


def _norm_rows(none: float, batchnorm: float, layernorm: float, n: int = 8) -> list[dict]:
    out = []
    for i in range(n):
        jitter = 0.001 * ((i * 7) % 5 - 2)
        out += [row(f"t{i}", "lightgbm", 0.95), row(f"t{i}", "mlp[norm=none]", none + jitter),
                row(f"t{i}", "mlp[norm=batchnorm]", batchnorm - jitter), row(f"t{i}", "mlp[norm=layernorm]", layernorm)]
    return out


def test_presence_vs_flavour_decides_both_ways():
    assert run(PRESENCE, _norm_rows(0.70, 0.85, 0.853))["verdict"] == "supported"
    assert run(PRESENCE, _norm_rows(0.85, 0.80, 0.90))["verdict"] == "contradicted"  # none lies between
    few = run(PRESENCE, _norm_rows(0.70, 0.85, 0.853, n=3))
    assert few["verdict"] == "inconclusive" and "needs at least 4" in few["summary"]
    missing = run(PRESENCE, [r for r in _norm_rows(0.7, 0.8, 0.9) if r["model"] != "mlp[norm=layernorm]"])
    assert missing["verdict"] == "inconclusive" and "at least two other" in missing["summary"]


def test_relabel_test_is_exact_on_a_small_case():
    # Two datasets, three labellings each: 9 equally likely sums; the observed (3 + 3) is the unique maximum.
    values = [[3.0, 0.0, -3.0], [3.0, 1.0, -1.0]]
    result = claim_stats.relabel_test(values, 3, alpha=0.05)
    assert result["exact"] and result["p_value"] == pytest.approx(2 / 9) and result["direction"] == 1
    assert claim_stats.presence_statistic(0.0, [1.0, 1.0]) > 0 > claim_stats.presence_statistic(0.5, [0.0, 1.0])


# ---------------------------------------------------------------------------------------------
# 3. Ablations compare variants that differ in one fixed key
# ---------------------------------------------------------------------------------------------

ABLATION = next(c for c in load_claims() if c["id"] == "augmentation-over-dropout")


def test_ablations_that_leave_a_key_to_the_tuner_are_refused():
    old = {"larger": {"with": "cnn", "without": "cnn[augment=false]"},
           "smaller": {"with": "cnn", "without": "cnn[dropout=0]"}}
    with pytest.raises(ClaimError, match="augment is tuned on one side only"):
        check_claim({"id": "old", "statement": "x", "test": "effect_larger", "params": old})
    two_keys = {"larger": {"with": "cnn[augment=true,dropout=0.1]", "without": "cnn[augment=false,dropout=0]"},
                "smaller": {"with": "cnn[augment=false,dropout=0.1]", "without": "cnn[augment=false,dropout=0]"}}
    with pytest.raises(ClaimError, match="differ in exactly one key"):
        check_claim({"id": "two", "statement": "x", "test": "effect_larger", "params": two_keys})
    for part in ("larger", "smaller"):
        (_, a), (_, b) = variant_key(ABLATION["params"][part]["with"]), variant_key(ABLATION["params"][part]["without"])
        assert set(a) == set(b) == {"augment", "dropout", "mixup"} and sum(a[k] != b[k] for k in a) == 1


def test_ablation_claim_is_decided_on_its_variants_and_names_them_when_missing():
    plain, augmented = "cnn[augment=false,dropout=0,mixup=0]", "cnn[augment=true,dropout=0,mixup=0]"
    dropped = "cnn[augment=false,dropout=0.1,mixup=0]"
    rows = []
    for i in range(8):
        jitter = 0.002 * ((i * 3) % 4)
        rows += [row(f"i{i}", "lightgbm", 0.80, modality="image", baseline=0.1),
                 row(f"i{i}", plain, 0.85 + jitter, modality="image", baseline=0.1),
                 row(f"i{i}", augmented, 0.93, modality="image", baseline=0.1),
                 row(f"i{i}", dropped, 0.87 + jitter / 2, modality="image", baseline=0.1)]
    assert run(ABLATION, rows)["verdict"] == "supported"
    without = run(ABLATION, [r for r in rows if r["model"] != dropped] + [row("i0", "cnn", 0.9, modality="image")])
    assert without["verdict"] == "inconclusive"
    assert f"it has no {dropped}" in without["summary"] and augmented in without["summary"]


# ---------------------------------------------------------------------------------------------
# 4. "Trees need less tuning" tests both of its conditions, on the normalised scale
# ---------------------------------------------------------------------------------------------

LESS_TUNING = claim("less_tuning", less="family:tree", more="family:deep", within=0.01)


def _tuning_board(offsets: dict[str, tuple[float, ...]], n: int = 8):
    """Per dataset one fold per model; trial t scores final + offsets[model][t], validation follows test."""
    rows, units, trials = [], [], {}
    for i in range(n):
        for model, offset in offsets.items():
            final = 0.8 + 0.01 * i
            key = f"{i}/{model}"
            units.append({"unit_key": key, "dataset": f"t{i}", "model": model, "fold": 0, "train_size": 0,
                          "status": "done"})
            trials[key] = [{"number": t, "status": "ok", "test_score": final + o, "valid_score": final + o}
                           for t, o in enumerate(offset)]
            rows.append(row(f"t{i}", model, final))
    return rows, units, trials


def test_less_tuning_needs_both_conditions():
    # Trees gain less from tuning, but both families need two trials to come within 0.01: one condition only.
    rows, units, trials = _tuning_board({"lightgbm": (-0.02, 0.0), "mlp": (-0.10 - 0.001, 0.0)})
    result = run(LESS_TUNING, rows, units, trials)
    assert result["statistic"]["gain_test"]["holds"] and not result["statistic"]["trials_test"]["holds"]
    assert result["verdict"] == "inconclusive" and "1 of 2 conditions hold" in result["summary"]
    both = _tuning_board({"lightgbm": (-0.001, 0.0, 0.0), "mlp": (-0.10, -0.05, 0.0)})
    assert run(LESS_TUNING, *both)["verdict"] == "supported"
    reversed_ = _tuning_board({"lightgbm": (-0.10, -0.05, 0.0), "mlp": (-0.001, 0.0, 0.0)})
    assert run(LESS_TUNING, *reversed_)["verdict"] == "contradicted"


def test_a_side_cut_short_by_the_time_budget_is_compared_at_an_equal_trial_count():
    """A time cap that stops the nets after one trial must not read as nets needing no tuning: with 20 trees'
    trials against 1 of the nets' there is nothing to compare (left out); with 3 against 20, both sides are read
    over their first 3 trials."""
    trees = (-0.10, -0.05, 0.0) + (0.0,) * 17  # trees gain 0.10 from tuning and need 3 trials
    one = _tuning_board({"lightgbm": trees, "mlp": (0.0,)})  # the nets' fold stopped after its default
    result = run(LESS_TUNING, *one)
    assert result["datasets"] == [] and len(result["statistic"]["too_few_trials"]) == 8
    assert result["verdict"] == "inconclusive" and "8 dataset(s) left out" in result["summary"]
    three = _tuning_board({"lightgbm": (-0.001, 0.0) + (0.0,) * 18, "mlp": (-0.10, -0.05, 0.0)})
    result = run(LESS_TUNING, *three)
    assert set(result["statistic"]["trials_compared"].values()) == {3} and result["verdict"] == "supported"
    # Read over all 20 trials, the trees' later trials would not change their effort; cut to 1 trial the nets
    # would have looked untuned: the old reading called the trees' claim contradicted on board `one`.


def test_within_is_on_the_normalised_scale():
    # R2 near 0: 1% of the final R2 (0.0002) is nothing; 0.01 of the achievable gain (0.5 - 0) is 0.005.
    trials = {"u": [{"number": t, "status": "ok", "test_score": s, "valid_score": s}
                    for t, s in enumerate((0.010, 0.018, 0.020))]}
    unit = {"unit_key": "u", "status": "done"}
    gain, needed = tuning_effort({}, [unit], trials, anchors=(0.0, 0.5), within=0.01)
    assert needed == 2.0 and gain == pytest.approx(0.02)
    # Clipped to [0, 1] as section 1 clips: a default below the anchor counts 0 (unclipped the gain would be 2).
    gain, needed = tuning_effort({}, [unit], trials, anchors=(0.015, 0.02), within=0.01)
    assert gain == pytest.approx(1.0) and needed == 3.0


def test_tuning_effort_is_on_section_1s_scale_not_the_constant_predictors():
    """Old: the constant predictor's score (0.5 here) was the zero of the scale, not section 1's robust anchor."""
    rows, units, trials = _tuning_board({"lightgbm": (-0.001, 0.0, 0.0), "mlp": (-0.10, -0.05, 0.0)})
    light = board(rows, no_signal=[])
    for info in light["datasets"].values():
        info["low_anchor"] = info["best_score"] - 0.2
    gain = TESTS["less_tuning"](light, units, trials, LESS_TUNING["params"])["statistic"]["mean_gain"]
    assert gain == {"trees (lightgbm)": pytest.approx(0.005), "deep models (mlp)": pytest.approx(0.5)}
    for info in light["datasets"].values():
        info["low_anchor"] = info["best_score"] - 0.05  # the mlp's default lies below it: 0, not -1
    gain = TESTS["less_tuning"](light, units, trials, LESS_TUNING["params"])["statistic"]["mean_gain"]
    assert gain["deep models (mlp)"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# 5. The fewest datasets, computed from each procedure
# ---------------------------------------------------------------------------------------------

def test_minimum_datasets_come_from_the_procedure():
    assert claim_stats.min_n_two_sided(0.05) == 6 and claim_stats.min_n_two_sided(0.05, 2) == 7
    assert claim_stats.min_n_two_sided(0.01) == 8 and claim_stats.min_n_one_sided(0.05) == 5
    assert claim_stats.min_n_relabel(0.05, 3) == 4
    for alpha, k in ((0.05, 1), (0.05, 2), (0.01, 1), (0.05, 3)):  # the exact test agrees
        n = claim_stats.min_n_two_sided(alpha, k)
        assert sps.wilcoxon(np.arange(1, n + 1)).pvalue < alpha / k <= sps.wilcoxon(np.arange(1, n)).pvalue


def test_each_test_says_how_many_datasets_it_needs():
    rows = [r for i in range(6) for r in (row(f"s{i}", "mlp", 0.7 + 0.01 * i), row(f"s{i}", "lightgbm", 0.9),
                                          row(f"s{i}", "linear", 0.85))]
    loses = claim("loses_to_each", first="family:deep", rivals=["family:tree", "family:classical"])
    result = run(loses, rows)  # behind both on all 6: p = 0.031 each, but Holm's first step needs p < 0.025
    assert result["verdict"] == "inconclusive" and result["statistic"]["min_datasets"] == 7
    assert "this test needs at least 7" in result["summary"] and "at least 7 datasets" in result["method"]
    strict = claim("beats", first="family:tree", second="family:deep", alpha=0.01)
    assert "needs at least 8" in run(strict, rows)["summary"]
    seven = rows + [row("s6", "mlp", 0.6), row("s6", "lightgbm", 0.9), row("s6", "linear", 0.85)]
    assert run(loses, seven)["verdict"] == "supported"


# ---------------------------------------------------------------------------------------------
# 6. Families at equal budget: one declared representative, never a pool, never a variant
# ---------------------------------------------------------------------------------------------

def test_a_family_is_its_declared_representative_not_the_best_of_its_pool():
    rng = np.random.default_rng(3)
    models = ["lightgbm", "xgboost", "catboost", "random_forest", "hgb", "mlp", "linear"]
    rows = []
    for i in range(30):  # no effect; validation = test, so the best of five trees would always look ahead
        scores = 0.8 + 0.03 * rng.standard_normal(len(models))
        rows += [row(f"t{i}", m, float(s)) for m, s in zip(models, scores)]
    tree = representatives(board(rows)["results"], "tree")
    assert {r["model"] for r in tree.values()} == {REPRESENTATIVES["tree"][0]} == {"lightgbm"}
    beats = claim("beats", first="family:tree", second="family:deep")
    result = run(beats, rows)
    assert result["verdict"] != "supported" and "trees (lightgbm)" in result["summary"]
    assert "deep models (mlp)" in result["summary"]


def test_variants_never_stand_for_a_family_and_a_failed_representative_is_imputed_not_replaced():
    """Old: a failed representative had no score and dropped out of its family; now its folds count as the
    constant predictor's, as in section 1, and a cell incomplete even so is left out: no other member stands in."""
    rows = [row("t0", "mlp", 0.80, 0.80), row("t0", "mlp[norm=none]", 0.90, 0.99), row("t0", "resnet", 0.85, 0.95),
            row("i0", "cnn", 0.95, modality="image"), row("i0", "mlp", 0.90, modality="image"),
            failed(row("i1", "cnn", 0.97, modality="image")), row("i1", "mlp", 0.90, modality="image"),
            row("i2", "cnn", 0.97, modality="image") | {"complete": False}, row("i2", "mlp", 0.90, modality="image"),
            row("t0", "lightgbm", 0.82)] + [row(f"i{i}", "lightgbm", 0.9, modality="image") for i in range(3)]
    deep = representatives(board(rows)["results"], "deep")
    assert {d: r["model"] for d, r in deep.items()} == {"t0": "mlp", "i0": "cnn", "i1": "cnn"}  # i2: incomplete
    assert deep["i1"]["score"] == 0.5 and deep["i1"]["normalized_score"] == 0.0 and deep["i1"]["status"] == "failed"
    assert side_rows(rows, "family:deep").keys() == deep.keys()
    assert "i2" not in side_rows(rows, "cnn")
    comparison = family_comparison(board(rows))
    assert comparison["representatives"]["deep"] == {"tabular": "mlp", "image": "cnn"}
    assert "declared representative" in comparison["method"]
    pair = next(p for p in comparison["pairs"] if {p["first"], p["second"]} == {"deep", "tree"})
    assert pair["n_datasets"] == 3 and pair["imputed"] == ["i1"]


def test_failed_folds_count_as_the_constant_predictor_in_a_claim_and_are_named():
    """Old: the claims' comment said failed cells are never imputed, and a claim did not say which of its
    datasets rest on imputed folds; an incomplete cell was counted."""
    rows = []
    for i in range(9):
        tree = row(f"t{i}", "lightgbm", 0.9, folds=[0.9, 0.9])
        deep = 0.85 + 0.001 * i
        rows += [failed(tree, 1) if i >= 5 else tree, row(f"t{i}", "mlp", deep, folds=[deep, deep])]
    rows[-2]["complete"] = False  # t8: some planned fold has neither a score nor a constant predictor's
    result = run(claim("beats", first="family:tree", second="family:deep"), rows, no_signal=[])
    assert result["datasets"] == [f"t{i}" for i in range(8)]
    assert result["statistic"]["imputed"] == ["t5", "t6", "t7"]
    assert result["statistic"]["first_behind"] == 3  # 0.7 against 0.85: trees are not flattered by failing
    assert "imputed folds (constant predictor) in a side's cell on 3: t5, t6, t7" in result["summary"]
    each = run(claim("loses_to_each", first="family:deep", rivals=["family:tree", "lightgbm"]), rows, no_signal=[])
    assert each["statistic"]["imputed"] == ["t5", "t6", "t7"] and "t8" not in each["datasets"]


def test_datasets_without_signal_are_out_of_every_claim():
    beats = claim("beats", first="family:tree", second="family:deep")
    rows = [r for i in range(8) for r in (row(f"t{i}", "lightgbm", 0.9), row(f"t{i}", "mlp", 0.8 + 0.001 * i))]
    assert run(beats, rows, no_signal=[])["verdict"] == "supported"
    quiet = run(beats, rows, no_signal=["t0", "t1", "t2"])
    assert quiet["datasets"] == [f"t{i}" for i in range(3, 8)] and quiet["verdict"] == "inconclusive"
    few = run(PRESENCE, _norm_rows(0.70, 0.85, 0.853), no_signal=[f"t{i}" for i in range(5)])
    assert few["datasets"] == ["t5", "t6", "t7"] and few["verdict"] == "inconclusive"
    small = [r for i in range(8) for r in _pair(i, 0.3 + 0.01 * i, 0.004 * (i - 3.5))]
    originals = run(SHUFFLE, small, no_signal=["d0", "d1", "d2"])
    assert len(originals["statistic"]["pairs"]) == 5 and "d0: no signal" in originals["summary"]
    # A shuffled copy without signal is what the control expects: it stays.
    copies = run(SHUFFLE, small, no_signal=[f"d{i}_shuffled" for i in range(8)])
    assert len(copies["statistic"]["pairs"]) == 8 and copies["verdict"] == "supported"


def test_a_side_is_one_model_or_one_family():
    with pytest.raises(ClaimError, match="a side is one model or one family"):
        check_claim({"id": "pool", "statement": "x", "test": "beats",
                     "params": {"first": ["family:tree", "family:classical"], "second": "family:deep"}})
    with pytest.raises(ClaimError, match="unknown family 'forest'"):
        check_claim({"id": "bad", "statement": "x", "test": "beats", "params": {"first": "family:forest",
                                                                              "second": "mlp"}})
    check_claim({"id": "listed", "statement": "x", "test": "beats", "params": {"first": ["mlp"], "second": "cnn"}})


def test_every_packaged_claim_states_its_method():
    rows, _ = null_rows(np.random.default_rng(0), ["lightgbm", "linear", "mlp"], [f"d{i}" for i in range(8)],
                     "tabular", 500)
    out = evaluate_claims(board(rows), [], {})
    assert len(out["claims"]) == len(load_claims())
    for entry in out["claims"]:
        assert entry["method"] and entry["verdict"] in ("supported", "contradicted", "inconclusive")
    assert "lightgbm" in out["method"]


def test_the_cached_wilcoxon_is_bench_stats_wilcoxon():
    from bench import stats

    rng = np.random.default_rng(5)
    for n in (1, 3, 6, 7, 20, 50, 60):
        for draw in (rng.normal(0.1, 1, n), np.round(rng.normal(0.1, 1, n), 1)):  # untied, then tied
            fast, slow = claim_stats.wilcoxon(draw), stats.wilcoxon(draw)
            assert fast.keys() == slow.keys()
            for key in fast:
                assert fast[key] == pytest.approx(slow[key], rel=1e-9), (n, key)
            for alternative in ("greater", "less"):
                expected = sps.wilcoxon(draw[draw != 0], alternative=alternative).pvalue
                assert claim_stats.signed_rank_one_sided(draw, alternative)["p_value"] == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Issue 17: claims read along training sizes, ablation pairs, learning rates
# ---------------------------------------------------------------------------------------------

DEPTH = next(c for c in load_claims() if c["id"] == "deeper-wins-with-data")
REGULARISERS = next(c for c in load_claims() if c["id"] == "regularisers-are-effective")
RATES = next(c for c in load_claims() if c["id"] == "adamw-lr-known-good")
SMALL = next(c for c in load_claims() if c["id"] == "small-data-deep-loses")


def _depth_board(growth: float, n: int = 8) -> dict:
    """Depth's effect (4 layers - 1 layer) rising by `growth` per tenfold more rows, from -0.1 at 100 rows."""
    rows, curve = [], []
    for i in range(n):
        for size in SIZES:
            effect = -0.1 + growth * math.log10(size / 100) + 0.001 * i
            for model, score in ((DEPTH["params"]["larger"], 0.7 + effect / 2), (DEPTH["params"]["smaller"], 0.7 - effect / 2),
                                 ("lightgbm", 0.75)):
                r = row(f"d{i}", model, score, n_train=size) | {"train_size": size}
                curve.append(r)
                if size == SIZES[-1]:
                    rows.append(dict(r))
    return board(rows, no_signal=[]) | {"learning_curve": curve}


def test_depth_claim_reads_the_learning_curve_and_decides_both_ways():
    assert TESTS["grows_with_size"](_depth_board(0.05), [], {}, DEPTH["params"])["verdict"] == "supported"
    assert TESTS["grows_with_size"](_depth_board(-0.05), [], {}, DEPTH["params"])["verdict"] == "contradicted"
    flat = TESTS["grows_with_size"](_depth_board(0.0), [], {}, DEPTH["params"])
    assert flat["verdict"] == "inconclusive" and flat["statistic"]["mean_slope_per_decade"] == pytest.approx(0, abs=1e-9)
    no_curve = TESTS["grows_with_size"](board([row("d0", "mlp", 0.8)]), [], {}, DEPTH["params"])
    assert no_curve["verdict"] == "inconclusive" and "learning-curve" in no_curve["summary"]


def test_small_data_claim_reads_the_sizes_below_its_cap_on_a_learning_curve_run():
    rows, curve = [], []
    for i in range(8):
        for size in SIZES:
            small = size < 1000
            for model, score in (("mlp", 0.6 if small else 0.9), ("lightgbm", 0.8), ("linear", 0.7 if small else 0.5)):
                r = row(f"d{i}", model, score + 0.001 * i, n_train=size) | {"train_size": size}
                curve.append(r)
                if size == SIZES[-1]:
                    rows.append(dict(r))
    result = TESTS["loses_to_each"](board(rows, no_signal=[]) | {"learning_curve": curve}, [], {}, SMALL["params"])
    assert result["verdict"] == "supported", result["summary"]
    assert result["statistic"]["train_sizes"] == [100, 300] and "100, 300" in result["summary"]
    # without sizes below the cap, the largest size's rows (10,000 rows here) are over it: nothing to read
    assert TESTS["loses_to_each"](board(rows, no_signal=[]), [], {}, SMALL["params"])["verdict"] == "inconclusive"


def _regulariser_rows(effects: tuple[float, float, float], n: int = 9) -> list[dict]:
    out = []
    for i in range(n):
        base = 0.7 + 0.001 * i
        for pair, effect in zip(REGULARISERS["params"]["pairs"], effects):
            out.append(row(f"d{i}", pair["without"], base, modality="image"))
            out.append(row(f"d{i}", pair["with"], base + effect + (0.0001 * i if effect else 0), modality="image"))
        out.append(row(f"d{i}", "lightgbm", 0.5, modality="image"))
    # the CNN pairs share their `without`: keep one row per (dataset, model)
    return list({(r["dataset"], r["model"]): r for r in out}.values())


def test_regulariser_claim_needs_every_pair_ahead_and_fails_on_any_behind():
    test = TESTS["improves_each"]
    assert test(board(_regulariser_rows((0.05, 0.03, 0.02)), []), [], {}, REGULARISERS["params"])["verdict"] == "supported"
    assert test(board(_regulariser_rows((0.05, -0.03, 0.02)), []), [], {}, REGULARISERS["params"])["verdict"] == "contradicted"
    partial = test(board(_regulariser_rows((0.05, 0.0, 0.02)), []), [], {}, REGULARISERS["params"])
    assert partial["verdict"] == "inconclusive"
    missing = test(board([row("d0", "mlp", 0.8)], []), [], {}, REGULARISERS["params"])
    assert missing["verdict"] == "inconclusive" and "needs the variants" in missing["summary"]
    with pytest.raises(ClaimError, match="differ in exactly one key|do not fix the same keys"):
        check_claim({"id": "x", "statement": "x", "test": "improves_each",
                     "params": {"pairs": [{"with": "cnn[augment=true]", "without": "cnn[augment=false,mixup=0]"}]}})


def test_the_shuffled_controls_are_left_out_of_the_ablation_claims_that_exclude_them():
    # the originals show every regulariser helping; their shuffled copies show each hurting
    originals = _regulariser_rows((0.05, 0.03, 0.02))
    controls = [r | {"dataset": r["dataset"] + "_shuffled"} for r in _regulariser_rows((-0.05, -0.03, -0.02))]
    params = REGULARISERS["params"]
    assert params["exclude_suffix"] == "_shuffled"
    result = TESTS["improves_each"](board(originals + controls, []), [], {}, params)
    assert result["verdict"] == "supported" and not any(d.endswith("_shuffled") for d in result["datasets"])
    assert "left out" in result["method"]
    pooled = TESTS["improves_each"](board(originals + controls, []), [], {},
                                    {k: v for k, v in params.items() if k != "exclude_suffix"})
    assert pooled["verdict"] == "inconclusive" and any(d.endswith("_shuffled") for d in pooled["datasets"])


def _rate_run(winner_in_range: bool, n_units: int = 12):
    rows = [row(f"d{i}", "mlp", 0.8) for i in range(n_units)] + [row(f"d{i}", "lightgbm", 0.7) for i in range(n_units)]
    units, trials = [], {}
    for i in range(n_units):
        key = f"d{i}/mlp/0"
        units.append({"unit_key": key, "dataset": f"d{i}", "model": "mlp", "fold": 0, "train_size": 0, "status": "done"})
        lrs = [1e-3, 5e-3, 3e-4, 2e-3]  # half the trials in [1e-4, 1e-3]
        best = 2 if winner_in_range else 1
        trials[key] = [{"number": t, "status": "ok", "valid_score": 0.9 if t == best else 0.8,
                        "test_score": 0.8 if t == best else 0.7, "params": {"lr": lr}} for t, lr in enumerate(lrs)]
    return board(rows, []), units, trials


def test_learning_rate_claim_decides_both_ways_and_says_how_far_the_default_is():
    test = TESTS["range_is_known_good"]
    supported = test(*_rate_run(True), RATES["params"])
    assert supported["verdict"] == "supported" and supported["statistic"]["test"]["hits"] == 12
    assert supported["statistic"]["per_model"]["mlp"]["mean_default_gap"] > 0
    assert test(*_rate_run(False), RATES["params"])["verdict"] == "contradicted"
    few = test(*_rate_run(True, n_units=3), RATES["params"])
    assert few["verdict"] == "inconclusive" and "cannot decide" in few["summary"]
    controls = test(*_rate_run(True), RATES["params"] | {"exclude_suffix": "3"})  # d3 is left out
    assert controls["statistic"]["test"]["hits"] == 11 and "d3" not in controls["datasets"]


def test_poisson_binomial_is_exact():
    pmf = poisson_binomial([0.5, 0.5, 0.5])
    assert pmf.tolist() == pytest.approx([1 / 8, 3 / 8, 3 / 8, 1 / 8])
    assert pmf.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    p = rng.uniform(0.2, 0.8, 10)
    assert poisson_binomial(p) @ np.arange(11) == pytest.approx(p.sum())
    assert in_range_test([True] * 5, [0.5] * 5)["p_value"] == pytest.approx(2 / 32)


def test_every_packaged_claim_names_a_packaged_suite_that_has_what_it_needs():
    from bench.data.suites import suites

    packaged = suites()
    for entry in load_claims():
        suite = packaged[entry["suite"]]
        for name in _names(entry["params"]):
            assert any(variant_key(m) == variant_key(name) for m in suite.models), (entry["id"], name)
        if entry["test"] in ("grows_with_size",) or entry["params"].get("max_train"):
            assert suite.train_sizes and min(suite.train_sizes) < 1000, entry["id"]


def test_each_verdict_says_which_suite_it_rests_on(tmp_path):
    from bench.report.claims import rests_on

    assert rests_on("ablations", "ablations") == "this run (suite `ablations`), the suite that decides it"
    assert rests_on("ablations", "quick") == "this run (suite `quick`); the suite that decides it is `ablations`"
    rows, _ = null_rows(np.random.default_rng(0), ["lightgbm", "mlp"], [f"d{i}" for i in range(8)], "tabular", 500)
    out = evaluate_claims(board(rows) | {"suite": "tabular"}, [], {})
    by_id = {c["id"]: c for c in out["claims"]}
    assert by_id["trees-beat-nets-on-tabular"]["rests_on"].endswith("the suite that decides it")
    assert by_id["deeper-wins-with-data"]["rests_on"].endswith("is `learning-curve`")
    path = tmp_path / "claims.toml"
    path.write_text('[[claim]]\nid = "x"\nstatement = "x"\ntest = "beats"\nsuite = 3\n'
                    'params = { first = "mlp", second = "lightgbm" }\n')
    with pytest.raises(ClaimError, match="`suite` must be a string"):
        load_claims(path)
