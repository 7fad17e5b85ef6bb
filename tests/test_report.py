"""The report, end to end on synthetic stores: every section, claims that flip with the data, a
partial store, learning curves, determinism, Markdown = JSON, and the HTML in headless Chromium.

The stores are synthetic but shaped like real ones (bench.store.Store, the runner's config keys):
each model has a designed quality per kind of dataset, and `flip` turns every claim around.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from bench import stats
from bench.report import write_report
from bench.contract import parse_variant
from bench.report.claim_tests import variant_key
from bench.report.claims import ClaimError, load_claims
from bench.report.diagnostics import diagnose
from bench.report.formatting import fmt
from bench.report.leaderboard import build_leaderboard, elo_text
from bench.report.learning_curves import crossing
from bench.report.markdown import render_markdown
from bench.report.sections import SECTIONS
from bench.store import Store

TABULAR_MODELS = ["lightgbm", "linear", "mlp", "mlp[norm=none]", "mlp[norm=batchnorm]", "mlp[norm=layernorm]"]
GRID_MODELS = ["lightgbm", "linear", "mlp", "cnn", "cnn[augment=false]", "cnn[dropout=0]"]
FAMILY = {"lightgbm": "tree", "linear": "classical"}
# Designed quality (share of the way from the constant predictor to a perfect score) per kind of dataset.
QUALITY = {
    False: {
        "tabular": {"lightgbm": .90, "linear": .84, "mlp": .86, "mlp[norm=none]": .78, "mlp[norm=batchnorm]": .855,
                    "mlp[norm=layernorm]": .857},
        "image": {"lightgbm": .92, "linear": .90, "mlp": .93, "cnn": .97, "cnn[augment=false]": .90,
                  "cnn[dropout=0]": .96},
        "sequence": {"lightgbm": .72, "linear": .60, "mlp": .70, "cnn": .90, "cnn[augment=false]": .85,
                     "cnn[dropout=0]": .89},
        "shuffled": {"lightgbm": .72, "linear": .60, "mlp": .70, "cnn": .65, "cnn[augment=false]": .62,
                     "cnn[dropout=0]": .64},
    },
    True: {
        "tabular": {"lightgbm": .80, "linear": .78, "mlp": .88, "mlp[norm=none]": .86, "mlp[norm=batchnorm]": .83,
                    "mlp[norm=layernorm]": .89},
        "image": {"lightgbm": .96, "linear": .85, "mlp": .95, "cnn": .90, "cnn[augment=false]": .895,
                  "cnn[dropout=0]": .85},
        "sequence": {"lightgbm": .72, "linear": .60, "mlp": .70, "cnn": .65, "cnn[augment=false]": .64,
                     "cnn[dropout=0]": .60},
        "shuffled": {"lightgbm": .72, "linear": .60, "mlp": .70, "cnn": .90, "cnn[augment=false]": .85,
                     "cnn[dropout=0]": .85},
    },
}
# Test-score offsets of trials 0..3 from the final quality: quick tuners (default near the best) and slow ones.
QUICK, SLOW = (-0.002, -0.01, 0.0, -0.02), (-0.06, -0.03, -0.015, 0.0)
# (designed, flipped) verdict of each packaged claim. The synthetic run has 6 small datasets (Holm over two
# rivals needs 7), one shuffled pair (the control needs 6) and none of the cnn ablation variants, so those
# claims cannot be decided here; tests/test_claims.py decides them on boards that can.
EXPECTED_VERDICTS = {
    "trees-beat-nets-on-tabular": ("supported", "contradicted"),
    "trees-need-less-tuning": ("supported", "contradicted"),
    "small-data-deep-loses": ("inconclusive", "inconclusive"),
    "cnn-prior-on-images-and-sequences": ("supported", "contradicted"),
    "cnn-prior-needs-spatial-structure": ("inconclusive", "inconclusive"),
    "normalisation-presence-over-flavour": ("supported", "contradicted"),
    "augmentation-over-dropout": ("inconclusive", "inconclusive"),
    # decided on runs of their suites (learning-curve, ablations), which this synthetic run is not
    "deeper-wins-with-data": ("inconclusive", "inconclusive"),
    "regularisers-are-effective": ("inconclusive", "inconclusive"),
    "adamw-lr-known-good": ("inconclusive", "inconclusive"),
}
CANNOT_DECIDE = {
    "small-data-deep-loses": "this test needs at least 7 to reach p < 0.05",
    "cnn-prior-needs-spatial-structure": "this test needs at least 6 pairs",
    "augmentation-over-dropout": "needs the variants cnn[augment=true,dropout=0,mixup=0], "
                                 "cnn[augment=false,dropout=0,mixup=0], cnn[augment=false,dropout=0.1,mixup=0] in the run",
    "deeper-wins-with-data": "this run has no training sizes",
}
ENVIRONMENT = {"python": "3.11.7", "platform": "Linux", "cpu": "test cpu", "cores": 2, "threads_per_unit": 1,
               "device": "cpu", "cuda_device": None, "git_revision": "abc123", "packages": {"numpy": "2.0"}}


def _family(model: str) -> str:
    return FAMILY.get(parse_variant(model)[0], "deep")


def _jitter(*parts) -> float:
    """A fixed pseudo-random number in [-1, 1] per key."""
    return zlib.crc32("/".join(map(str, parts)).encode()) / 2**31 - 1.0


def _datasets() -> dict[str, dict]:
    info = {}
    for i, n in enumerate([150, 250, 400, 550, 700, 900, 3000, 8000, 15000, 30000]):
        regression = i == 9
        info[f"tab{i}"] = {
            "modality": "tabular", "task": "regression" if regression else "binary",
            "metric": "r2" if regression else "accuracy", "n_rows": int(n * 1.6), "n_features": 8 + 3 * i,
            "categorical_share": [0.0, 0.6, 0.1, 0.8, 0.0, 0.3, 0.5, 0.0, 0.2, 0.7][i],
            "uninformative_share": [0.0, 0.4, 0.1, 0.35, 0.05, 0.2, 0.5, 0.0, 0.3, 0.1][i],
            "skewness_mean_abs": None if i == 3 else 0.3 * i, "n_classes": 0 if regression else 2,
            "class_entropy": None if regression else 1.0, "_n_train": n, "_kind": "tabular",
            "_baseline": 0.0 if regression else 0.5,
        }
    for i in range(6):
        info[f"img{i}"] = {"modality": "image", "task": "multiclass", "metric": "accuracy", "n_rows": 4000 + 1500 * i,
                           "n_features": 64 + 64 * i, "categorical_share": 0.0, "uninformative_share": 0.2,
                           "skewness_mean_abs": 2.0 + i, "n_classes": 10, "class_entropy": 0.99,
                           "_n_train": 2000 + 1000 * i, "_kind": "image", "_baseline": 0.1}
    for name, kind in (("seq", "sequence"), ("seq_shuffled", "shuffled")):
        info[name] = {"modality": "sequence", "task": "multiclass", "metric": "accuracy", "n_rows": 5000,
                      "n_features": 40, "categorical_share": 0.0, "uninformative_share": 0.3,
                      "skewness_mean_abs": 0.1, "n_classes": 10, "class_entropy": 1.0, "_n_train": 3000,
                      "_kind": kind, "_baseline": 0.1}
    return info


def _curves(model: str, epochs: int = 20) -> dict:
    e = np.arange(1, epochs + 1)
    train = 2.3 * np.exp(-e / 5) + 0.05
    valid = 2.3 * np.exp(-e / 5) + 0.09 + 0.002 * np.maximum(0, e - 15) ** 2
    return {"train_loss": train.round(5).tolist(), "valid_loss": valid.round(5).tolist()}


def _trials(model: str, info: dict, quality: float, fold: int, flip: bool, unit: str) -> list[dict]:
    base = info["_baseline"]
    deep = _family(model) == "deep"
    profile = (QUICK if deep else SLOW) if flip else (SLOW if deep else QUICK)
    rows = []
    for number, offset in enumerate(profile):
        q = quality + offset + 0.004 * _jitter(unit, "model") + 0.002 * (-1) ** fold * (1 + _jitter(unit))
        test = base + (1 - base) * q
        row = {"number": number, "status": "ok", "params": {"trial": number}, "valid_score": test + 0.01,
               "test_score": test, "valid_metrics": {}, "test_metrics": {info["metric"]: test},
               "fit_s": (4.0 if deep else 0.2) * (1 + 0.3 * _jitter(unit, number)),
               "predict_s": 0.01, "started_s": 5.0 * number, "n_iter": 20, "curves": {}}
        if deep:
            row["curves"] = _curves(model)
            if info["task"] != "regression":
                row["test_metrics"]["log_loss"] = 0.2
        if model == "cnn" and info["modality"] == "image":  # where the tuner records it
            row["curves"]["confusion_matrix"] = (np.eye(10, dtype=int) * 50 + 1).tolist()
        rows.append(row)
    return rows


def _ensemble(trials: list[dict], unit: str) -> dict | None:
    """An ensemble row shaped like bench/ensembles.py's: over the scored trials among the first k, the best
    on validation twice and the runner-up once, a little above the best on validation (selection never does
    worse there) and near it on test, with the anytime curve over k; None when no trial was scored."""
    def over(pool: list[dict]) -> tuple[dict, float, float]:
        ranked = sorted(pool, key=lambda t: (-t["valid_score"], t["number"]))
        if len(ranked) == 1:
            return {ranked[0]["number"]: 1}, ranked[0]["valid_score"], ranked[0]["test_score"]
        return ({ranked[0]["number"]: 2, ranked[1]["number"]: 1}, ranked[0]["valid_score"] + 0.002,
                ranked[0]["test_score"] + 0.003 * _jitter(unit, "ensemble", len(pool)))

    scored = [t for t in sorted(trials, key=lambda t: t["number"]) if t["status"] == "ok"]
    if not scored:
        return None
    weights, valid, test = over(scored)
    curve = []
    for k in range(1, len(trials) + 1):
        pool = [t for t in scored if t["number"] < k]
        point = {"trials": k, "valid_score": None, "test_score": None}
        if pool:
            _, point["valid_score"], point["test_score"] = over(pool)
        curve.append(point)
    return {"weights": weights, "valid_score": valid, "test_score": test, "valid_metrics": {}, "test_metrics": {},
            "curve": curve}


def _save_run(store: Store, config: dict, units: list[tuple[dict, list[dict]]], parts,
              ensembles: bool = False) -> str:
    run_id = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    store.ensure_run(run_id, config)
    sitting = store.start_sitting(run_id, 2, ENVIRONMENT)
    for dataset, fold, size in parts:
        store.save_split(run_id, dataset, fold, np.arange(10), np.arange(10, 15), np.arange(15, 20), train_size=size)
    for unit, trials in units:
        store.record_unit(run_id, unit, trials, _ensemble(trials, unit["unit_key"]) if ensembles else None)
    store.finish_sitting(sitting)
    return run_id


def synthetic_store(path: Path, flip: bool = False, missing=(), failed=(), flat=(), sampler: str = "tpe",
                    sampler_settings: dict | None = None, ensembles: bool = True) -> tuple[Store, str]:
    """The main synthetic run: 18 datasets, 9 models, 2 folds, 4 trials per unit, each unit's ensemble
    (`ensembles=False`: none, as a store written before they were kept). On the datasets in `flat` every
    model has the same designed quality (they differ by noise only)."""
    info = _datasets()
    store = Store(path)
    units, parts = [], []
    for dataset, card in info.items():
        models = TABULAR_MODELS if card["modality"] == "tabular" else GRID_MODELS
        for fold in range(2):
            parts.append((dataset, fold, 0))
            for model in models:
                if (dataset, model, fold) in missing:
                    continue
                key = hashlib.sha1(f"{flip}/{dataset}/{model}/{fold}".encode()).hexdigest()[:16]
                unit = {"unit_key": key, "dataset": dataset, "model": model, "fold": fold, "train_size": 0,
                        "status": "done", "error": None, "n_train": card["_n_train"],
                        "baseline_score": card["_baseline"], "wall_s": 10.0, "threads": 1}
                quality = 0.9 if dataset in flat else QUALITY[flip][card["_kind"]][model]
                trials = _trials(model, card, quality, fold, flip, key)
                if (dataset, model, fold) in failed:
                    unit.update(status="oom", error="MemoryError: synthetic")
                    trials = [{**t, "status": "oom", "valid_score": None, "test_score": None} for t in trials[:1]]
                units.append((unit, trials))
    models = sorted(set(TABULAR_MODELS) | set(GRID_MODELS))
    config = {"suite": "synthetic", "datasets": sorted(info), "models": models, "trials": 4, "seconds": None,
              "folds": 2, "seed": 0, "max_train": None, "sampler": sampler, "device": "cpu", "train_sizes": None,
              "dataset_info": {d: {k: v for k, v in c.items() if not k.startswith("_")} | {
                  "notes": [], "test_duplicates_of_train": [0, 0]} for d, c in info.items()},
              "model_info": {m: {"family": _family(m), "source": "synthetic"} for m in models},
              "flip": flip, "missing": [list(m) for m in missing], "flat": sorted(flat)}
    if sampler_settings:  # stores written before the runner recorded them have none
        config["sampler_settings"] = sampler_settings
    return store, _save_run(store, config, units, parts, ensembles)


def learning_curve_store(path: Path) -> tuple[Store, str]:
    """Three tabular datasets at 100, 1,000 and 10,000 training rows: trees ahead until 10,000."""
    quality = {"lightgbm": (.80, .85, .88), "mlp": (.70, .83, .92), "linear": (.75, .78, .80)}
    sizes = (100, 1000, 10000)
    store = Store(path)
    units, parts, info = [], [], {}
    for d in range(3):
        dataset = f"big{d}"
        info[dataset] = {"modality": "tabular", "task": "binary", "metric": "accuracy", "n_rows": 20000,
                         "n_features": 10, "categorical_share": 0.0, "uninformative_share": 0.1,
                         "skewness_mean_abs": 1.0, "n_classes": 2, "class_entropy": 1.0, "notes": [],
                         "test_duplicates_of_train": [0], "_baseline": 0.5, "_n_train": 0}
        for i, size in enumerate(sizes):
            parts.append((dataset, 0, size))
            for model, q in quality.items():
                key = hashlib.sha1(f"lc/{dataset}/{model}/{size}".encode()).hexdigest()[:16]
                unit = {"unit_key": key, "dataset": dataset, "model": model, "fold": 0, "train_size": size,
                        "status": "done", "error": None, "n_train": size, "baseline_score": 0.5, "wall_s": 1.0,
                        "threads": 1}
                units.append((unit, _trials(model, info[dataset], q[i] + 0.01 * d, 0, False, key)))
    config = {"suite": "learning-curve", "datasets": sorted(info), "models": list(quality), "trials": 4,
              "seconds": None, "folds": 1, "seed": 0, "max_train": None, "sampler": "tpe", "device": "cpu",
              "train_sizes": list(sizes),
              "dataset_info": {d: {k: v for k, v in c.items() if not k.startswith("_")} for d, c in info.items()},
              "model_info": {m: {"family": _family(m), "source": "synthetic"} for m in quality}}
    return store, _save_run(store, config, units, parts)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    store, run_id = synthetic_store(folder / "results.sqlite")
    board = write_report(store, run_id, folder)
    return folder, store, run_id, board


@pytest.fixture(scope="module")
def flipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flipped")
    store, run_id = synthetic_store(folder / "results.sqlite", flip=True)
    return build_leaderboard(store, run_id)


# ---------------------------------------------------------------------------------------------
# Files and sections
# ---------------------------------------------------------------------------------------------

def test_report_writes_every_file_and_figure(report):
    folder, _, _, board = report
    for name in ("leaderboard.md", "index.html", "leaderboard.json"):
        assert (folder / name).stat().st_size > 1000, name
    expected = {"ratings", "critical_difference", "tuning_curves", "pareto", "deep_vs_tree", "diagnostics",
                "confusion"}
    assert expected <= set(board["figures"])
    for figure in board["figures"].values():
        assert (folder / figure["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (folder / figure["svg"]).read_bytes()[:2000]


def test_every_section_is_in_markdown_html_and_json(report):
    folder, _, _, board = report
    markdown = (folder / "leaderboard.md").read_text()
    page = (folder / "index.html").read_text()
    for anchor, title, _ in SECTIONS:
        assert f"## {title}" in markdown
        assert f'id="{anchor}"' in page and title in page
    for key in ("models", "results", "families", "critical_difference", "tuning_curves", "learning_curves", "cost",
                "where_deep_wins", "guidance", "claims", "diagnostics", "provenance"):
        assert board[key], key
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert page.count("data:image/png;base64,") == len(board["figures"])


def test_markdown_shows_the_numbers_of_the_json(report):
    folder, _, _, _ = report
    board = json.loads((folder / "leaderboard.json").read_text())
    lines = (folder / "leaderboard.md").read_text().splitlines()
    for model in board["models"]:  # the first table a model is in is its own leaderboard
        row = next(line for line in lines if line.startswith(f"| {model['name']} | {model['family']} |"))
        assert f"| {fmt(model['mean_normalized_score'], 3)} | {fmt(model['mean_improvability'], 3)} | " \
               f"{fmt(model['mean_rank'], 2)} | {model['wins']} | {elo_text(model)} | {model['imputed_cells']} |" in row
    for result in board["results"]:
        row = next(line for line in lines if line.startswith(f"| {result['dataset']} | {result['modality']} |"))
        assert fmt(result["score"]) in row
    for claim in board["claims"]["claims"]:
        row = next(line for line in lines if line.startswith(f"| {claim['statement']} |"))
        assert f"**{claim['verdict']}**" in row
    for pair in board["families"]["pairs"]:
        row = next(line for line in lines if line.startswith(f"| {pair['first']} vs {pair['second']} |"))
        assert f"{pair['win']} / {pair['tie']} / {pair['loss']}" in row


def test_every_score_traces_to_a_trial_row(report):
    _, store, run_id, board = report
    trials = {(t["dataset"], t["model"], t["fold"], t["number"]): t for t in store.trials(run_id)}
    for result in board["results"]:
        folds = result["folds"]
        assert result["score"] == pytest.approx(np.mean([f["score"] for f in folds]))
        for fold in folds:
            row = trials[(result["dataset"], result["model"], fold["fold"], fold["trial"])]
            assert row["test_score"] == fold["score"] and row["valid_score"] == fold["valid_score"]


def test_the_json_is_the_same_when_rebuilt_from_the_same_store(report, tmp_path):
    folder, store, run_id, _ = report
    write_report(store, run_id, tmp_path)
    assert (tmp_path / "leaderboard.json").read_text() == (folder / "leaderboard.json").read_text()
    assert (tmp_path / "leaderboard.md").read_text() == (folder / "leaderboard.md").read_text()


# ---------------------------------------------------------------------------------------------
# What the sections compute
# ---------------------------------------------------------------------------------------------

def test_leaderboard_ranks_and_rates_the_designed_order(report):
    _, _, _, board = report
    models = {m["name"]: m for m in board["models"]}
    scopes = {s["name"]: s for s in board["leaderboards"]}
    image = {r["name"]: r for r in scopes["image + sequence datasets"]["rows"]}
    assert image["cnn"]["elo"] > image["lightgbm"]["elo"] > image["linear"]["elo"]
    for m in models.values():
        assert m["elo_low"] <= m["elo"] <= m["elo_high"]
    # cnn applies to the 8 image and sequence datasets: it is ranked there, against every model that applies there
    assert models["cnn"]["n_datasets"] == 8 and models["cnn"]["scope"] == "image + sequence datasets"
    assert "### Image + sequence datasets: 6 models on 8 common datasets" in (report[0] / "leaderboard.md").read_text()


def test_every_aggregate_is_over_one_common_set_of_datasets(report):
    """Old: the table sorted cnn's mean over 8 datasets above models' means over 18, and mean ranks mixed
    rankings among 6 and 9 models."""
    _, _, _, board = report
    first = board["leaderboards"][0]
    assert first["name"] == "all datasets" and first["models"] == ["lightgbm", "linear", "mlp"]
    assert first["n_datasets"] == 18 and "cnn" not in [r["name"] for r in first["rows"]]
    cells = {(r["dataset"], r["model"]): r for r in board["results"]}
    for scope in board["leaderboards"]:
        for row in scope["rows"]:
            mine = [cells[(d, row["name"])] for d in scope["datasets"]]
            assert row["mean_normalized_score"] == pytest.approx(np.mean([c["normalized_score"] for c in mine]),
                                                                 abs=1e-4)
        # ranks among the same models on every dataset: they sum to k(k+1)/2 per dataset
        k = len(scope["models"])
        assert sum(r["mean_rank"] for r in scope["rows"]) == pytest.approx(k * (k + 1) / 2, abs=1e-3)
    # the models' own numbers sort within their leaderboard only: all-dataset models first
    assert [m["scope"] for m in board["models"]][:3] == ["all datasets"] * 3
    pareto = board["cost"]["pareto"]
    assert set(pareto["all"]["points"]) == {"lightgbm", "linear", "mlp"}
    assert {p["n_datasets"] for p in pareto["image"]["points"].values()} == {6}


def test_per_dataset_table_marks_the_best_and_ties_by_a_paired_test(report):
    _, _, _, board = report
    by_dataset = {}
    for row in board["results"]:
        by_dataset.setdefault(row["dataset"], []).append(row)
    ratio = stats.split_ratio(board["folds"])
    for rows in by_dataset.values():
        best = [r for r in rows if r["best"]]
        assert len(best) == 1 and best[0]["score"] == max(r["score"] for r in rows)
        top = {f["fold"]: f["score"] for f in best[0]["folds"]}
        for r in rows:
            mine = {f["fold"]: f["score"] for f in r["folds"]}
            assert r["tie_with_best"] == (not r["best"] and stats.paired_tie(mine, top, ratio))
            assert r["ci_low"] <= r["score"] <= r["ci_high"] <= 1.0  # accuracy and R2 stay at or below 1


def test_ties_are_decided_by_the_same_folds_not_by_overlapping_intervals():
    """Old: overlapping fold intervals made a tie, though b is below a on both folds by the same margin."""
    from bench.report.per_dataset import mark_best_and_ties, outcome

    def row(model, scores):
        return {"dataset": "d", "model": model, "score": float(np.mean(scores)), "ci_low": min(scores) - 0.1,
                "ci_high": max(scores) + 0.1, "folds": [{"fold": i, "score": s, "imputed": None}
                                                        for i, s in enumerate(scores)]}

    a, b, c = row("a", [0.80, 0.90, 0.85]), row("b", [0.79, 0.89, 0.84]), row("c", [0.82, 0.86, 0.84])
    mark_best_and_ties([a, b, c], folds=3)
    assert a["best"] and not b["tie_with_best"] and c["tie_with_best"]
    assert outcome(b, a, 3) == "loss" and outcome(c, a, 3) == "tie"


def test_family_and_deep_vs_tree_outcomes_are_paired_tests_not_overlapping_intervals():
    """Old: families.outcome (sections 3, 5 and 7) called overlapping fold intervals a tie, though the tree is
    ahead of the deep model on every fold of d by the same margin."""
    from bench.report import families, wins

    def cell(dataset, model, family, scores):
        return {"dataset": dataset, "model": model, "family": family, "modality": "tabular", "task": "binary",
                "n_train": 1000, "score": float(np.mean(scores)), "ci_low": min(scores) - 0.1,
                "ci_high": max(scores) + 0.1, "normalized_score": float(np.mean(scores)), "imputed": False,
                "complete": True, "folds": [{"fold": i, "score": s, "imputed": None} for i, s in enumerate(scores)]}

    results = [cell("d", "lightgbm", "tree", [0.80, 0.90, 0.85]), cell("d", "mlp", "deep", [0.79, 0.89, 0.84]),
               cell("e", "lightgbm", "tree", [0.80, 0.90, 0.85]), cell("e", "mlp", "deep", [0.82, 0.86, 0.84])]
    pair = families.compare(results, "deep", "tree", folds=3)
    assert (pair["win"], pair["tie"], pair["loss"]) == (0, 1, 1)
    board = {"results": results, "folds": 3, "no_signal_datasets": [],
             "datasets": {"d": {"modality": "tabular"}, "e": {"modality": "tabular"}}}
    assert {r["dataset"]: r["outcome"] for r in wins.gaps(board)} == {"d": "loss", "e": "tie"}
    assert "paired t-test" in families.METHOD and "paired t-test" in wins.METHOD


def test_family_comparison_and_critical_difference(report):
    _, _, _, board = report
    pairs = {(p["first"], p["second"]): p for p in board["families"]["pairs"]}
    assert set(pairs) == {("deep", "tree"), ("deep", "classical"), ("tree", "classical")}
    for pair in pairs.values():
        assert pair["win"] + pair["tie"] + pair["loss"] == pair["n_datasets"] == 18
        assert pair["p_holm"] >= pair["wilcoxon"]["p_value"]
    cd = board["critical_difference"]
    assert cd["left_out_models"] == ["cnn", "cnn[augment=false]", "cnn[dropout=0]"]
    assert len(cd["datasets"]) == 10 and cd["friedman"]["p_value"] < 0.05
    assert min(cd["mean_ranks"], key=cd["mean_ranks"].get) == "lightgbm"


def test_tuning_curves_rise_and_start_at_the_default(report):
    _, _, _, board = report
    panel = board["tuning_curves"]["panels"]["tabular"]
    deep, tree = panel["families"]["deep"]["trials"], panel["families"]["tree"]["trials"]
    assert deep["mean"] == sorted(deep["mean"]) and deep["mean"][-1] - deep["mean"][0] > 0.05
    assert tree["mean"][-1] - tree["mean"][0] < 0.02
    for curve in (deep, tree):
        assert all(lo <= m <= hi for lo, m, hi in zip(curve["low"], curve["mean"], curve["high"]))
    seconds = panel["families"]["deep"]["seconds"]["mean"]
    assert seconds[0] == 0.0 and seconds[-1] == pytest.approx(deep["mean"][-1], abs=1e-3)


def _run_order_curve(store, run_id, board, dataset, model, k):
    """Normalised best-so-far test score after k+1 trials in the order they ran, per fold."""
    trials = [t for t in store.trials(run_id) if t["dataset"] == dataset and t["model"] == model]
    info = board["datasets"][dataset]
    out = []
    for fold in sorted({t["fold"] for t in trials}):
        rows = sorted((t for t in trials if t["fold"] == fold), key=lambda t: t["number"])[:k + 1]
        chosen = max(rows, key=lambda t: (t["valid_score"], -t["number"]))
        normalised = (chosen["test_score"] - info["low_anchor"]) / (info["best_score"] - info["low_anchor"])
        out.append(min(1.0, max(0.0, normalised)))
    return out


def test_tpe_tuning_curves_follow_the_order_the_trials_ran_with_bands_over_folds(report):
    """Old: shuffled trial orders, valid for random search only."""
    _, store, run_id, board = report
    tc = board["tuning_curves"]
    assert tc["order"] == "run order" and tc["replicates"] == "the outer folds"
    panel = tc["panels"]["tabular"]
    curve = panel["models"]["mlp"]["trials"]
    for k in range(4):
        per_fold = np.mean([_run_order_curve(store, run_id, board, d, "mlp", k) for d in panel["datasets"]], axis=0)
        assert curve["mean"][k] == pytest.approx(per_fold.mean(), abs=1e-4)
        assert curve["low"][k] == pytest.approx(np.percentile(per_fold, 2.5), abs=1e-4)
        assert curve["high"][k] == pytest.approx(np.percentile(per_fold, 97.5), abs=1e-4)
    markdown = (report[0] / "leaderboard.md").read_text()
    assert "This run's sampler: tpe: its curves follow the order the trials ran in; bands over the outer folds" \
        in markdown
    assert "sampler tpe (settings not recorded by this run)" in markdown


def test_a_dataset_with_one_published_fold_counts_in_every_fold_replicate():
    """The reference study mixes 3-fold datasets with mnist1d_paper's one published split: the fold replicates
    of the TPE curves take the one fold in each (stacking them as they were raised ValueError)."""
    from bench.report.tuning_curves import _summary

    three = np.array([[0.2, 0.4], [0.4, 0.6], [0.6, 0.8]])  # (folds, trials), normalised
    one = np.array([[1.0, 1.0]])
    summary = _summary([three, one])
    assert summary["mean"] == [pytest.approx(0.7), pytest.approx(0.8)]  # per replicate (x + 1) / 2, then the mean
    assert summary["low"][0] == pytest.approx(0.605)  # 2.5% of the replicates 0.6, 0.7, 0.8


def test_random_search_tuning_curves_shuffle_the_trial_order(tmp_path):
    store, run_id = synthetic_store(tmp_path / "results.sqlite", sampler="random",
                                    sampler_settings={"name": "random", "seed": "per unit"})
    board = build_leaderboard(store, run_id)
    tc = board["tuning_curves"]
    assert tc["order"] == "shuffled" and tc["n_boot"] == 200
    assert "sampler random (name random, seed per unit)" in render_markdown(board, figures={})
    deep = tc["panels"]["tabular"]["families"]["deep"]["trials"]
    assert deep["high"][1] > deep["low"][1]  # the luck of the order


def test_learning_curves_find_where_deep_starts_to_win(tmp_path):
    store, run_id = learning_curve_store(tmp_path / "results.sqlite")
    board = write_report(store, run_id, tmp_path)
    curves = board["learning_curves"]
    assert curves["available"] and curves["sizes"] == [100, 1000, 10000]
    assert {d["crossing"] for d in curves["datasets"].values()} == {10000}
    assert curves["families"]["deep"]["n_datasets"] == [3, 3, 3]
    # Old: normalised against the constant predictor (0.5); now section 1's robust anchor, clipped to [0, 1].
    for family, model in (("deep", "mlp"), ("tree", "lightgbm")):
        expected = []
        for size in curves["sizes"]:
            values = []
            for dataset, info in board["datasets"].items():
                cells = [r for r in board["learning_curve"] if r["dataset"] == dataset]
                best, low = max(r["score"] for r in cells), info["low_anchor"]
                score = next(r["score"] for r in cells if r["model"] == model and r["train_size"] == size)
                values.append(min(1.0, max(0.0, (score - low) / (best - low))))
            expected.append(round(float(np.mean(values)), 4))
        assert curves["families"][family]["mean_normalized"] == expected
    assert all(info["low_anchor"] > 0.5 for info in board["datasets"].values())
    assert "robust low anchor" in curves["method"]
    assert "learning_curves" in board["figures"]
    assert {r["train_size"] for r in board["results"]} == {10000}
    assert crossing([1, 2, 3], [0.1, 0.2, 0.3]) == (1, "deep ahead at every size")
    assert crossing([1, 2, 3], [-0.1, 0.2, -0.3])[0] is None
    # Over datasets, with an interval: every dataset crosses at 10,000 rows, so every resample does too.
    assert curves["crossing"]["crossing"] == 10000 and curves["crossing"]["interval"] == [10000, 10000]
    assert "95% bootstrap interval over datasets: 10,000 to 10,000" in (tmp_path / "leaderboard.md").read_text()


def test_the_crossing_interval_widens_when_datasets_disagree():
    from bench.report.learning_curves import crossing_interval

    sizes = (100, 1000, 10000)
    agree = {f"d{i}": {"deep": dict(zip(sizes, (0.2, 0.5, 0.9))), "tree": dict(zip(sizes, (0.5, 0.6, 0.8)))}
             for i in range(6)}
    assert crossing_interval(agree)["interval"] == [10000, 10000]
    mixed = dict(agree) | {f"e{i}": {"deep": dict(zip(sizes, (0.6, 0.7, 0.9))), "tree": dict(zip(sizes, (0.5, 0.6, 0.8)))}
                           for i in range(3)} | {f"f{i}": {"deep": dict(zip(sizes, (0.1, 0.2, 0.3))),
                                                           "tree": dict(zip(sizes, (0.5, 0.6, 0.8)))} for i in range(3)}
    result = crossing_interval(mixed)
    assert result["interval"][0] <= 10000 and result["interval"][1] is None and 0 < result["never_share"] < 1


def test_where_deep_wins_and_guidance(report):
    _, _, _, board = report
    wins = board["where_deep_wins"]
    assert wins["by_modality"]["image"]["deep_ahead"] == 6 and wins["by_modality"]["tabular"]["deep_ahead"] == 0
    predictor = wins["predictor"]
    assert predictor["n"] == 18 and predictor["rules"]
    assert len(predictor["predictions"]) == 18 and 0 <= predictor["lodo_accuracy"] <= 1
    assert predictor["lodo_accuracy"] >= predictor["majority_lodo_accuracy"]
    rows = {r["situation"]: r for r in board["guidance"]["rows"]}
    assert rows["images"]["recommended"] == "deep" and rows["images"]["strength"] == "strong"
    assert rows["tabular, under 1,000 training rows"]["recommended"] == "tree"
    assert rows["tabular, under 1,000 training rows"]["strength"] == "strong"


def test_cost_and_pareto_front(report):
    _, _, _, board = report
    cost = {m["model"]: m for m in board["cost"]["models"]}
    assert cost["mlp"]["median_fit_s"] > cost["lightgbm"]["median_fit_s"]
    assert board["cost"]["pareto"]["tabular"]["front"][0] in ("lightgbm", "linear")


def test_cost_counts_trials_per_unit_and_the_units_a_time_budget_cut_short(report):
    from bench.report.cost import cost
    from bench.report.leaderboard import core_leaderboard

    _, store, run_id, board = report
    _, units, trials_by_unit = core_leaderboard(store, run_id)
    plain = {m["model"]: m for m in board["cost"]["models"]}
    assert plain["mlp"]["mean_trials_per_unit"] == 4.0 and plain["mlp"]["units_cut_by_time"] == 0  # 4 trials, no cap
    key = next(u["unit_key"] for u in units if u["model"] == "mlp" and u["status"] == "done")
    short = {**trials_by_unit, key: trials_by_unit[key][:1]}  # as if the deadline came after the default
    capped = {m["model"]: m for m in cost({**board, "budget": {"trials": 4, "seconds": 60.0}}, units, short)["models"]}
    assert capped["mlp"]["units_cut_by_time"] == 1 and capped["mlp"]["mean_trials_per_unit"] < 4.0
    assert capped["lightgbm"]["units_cut_by_time"] == 0
    seconds_only = cost({**board, "budget": {"trials": None, "seconds": 60.0}}, units, trials_by_unit)["models"]
    assert all(m["units_cut_by_time"] == m["units"] for m in seconds_only)


def test_provenance_names_each_sittings_cpu_when_the_sittings_ran_on_different_machines(report):
    import copy

    from bench.report.provenance import render

    _, _, _, board = report

    def sittings_line(b):
        return next(item for item in render(b)[0][1] if item.startswith("sittings: "))

    first = board["provenance"]["sittings"][0]
    assert first["cpu"] and first["cpu"] not in sittings_line(board)  # one machine: named in the hardware line
    mixed = copy.deepcopy(board)
    mixed["provenance"]["sittings"] = [{**first, "cpu": "Intel Xeon"}, {**first, "cpu": "AMD EPYC"}]
    assert "Intel Xeon" in sittings_line(mixed) and "AMD EPYC" in sittings_line(mixed)


def test_diagnostics_cover_every_deep_unit(report):
    _, _, _, board = report
    units = board["diagnostics"]["units"]
    assert len(units) == (10 * 4 + 8 * 4) * 2  # deep models x datasets x folds
    assert all(u["diagnosis"] in ("good", "overfit", "underfit", "suspicious") for u in units)
    assert board["diagnostics"]["confusion_recorded"]


def test_diagnose_reads_loss_curves():
    assert diagnose([2.0, 1.9, 1.8], [2.1, 2.0, 1.95], 2.3, None)["diagnosis"] == "underfit"
    assert diagnose([1.0, 0.2, 0.05], [1.0, 0.6, 0.7], 2.3, None)["diagnosis"] == "overfit"
    assert diagnose([1.0, 0.2, 0.1], [1.0, 0.6, 0.19], 2.3, None)["diagnosis"] == "good"  # under 2 x train
    assert diagnose([1.0, 0.9, 0.8], [0.5, 0.3, 0.2], 2.3, None)["diagnosis"] == "suspicious"
    good = diagnose([1.0, 0.3, 0.2], [1.0, 0.35, 0.25], 2.3, None)
    assert good["diagnosis"] == "good" and good["best_epoch"] == 3 and good["still_improving"]
    assert diagnose([], [], 2.3, None)["diagnosis"] == "no curves"


def test_a_noisy_but_well_fitted_problem_is_not_underfit():
    """Old: losses were compared with the constant predictor's only, so a noisy problem read as underfit."""
    train, valid = [0.9, 0.75, 0.72], [0.92, 0.78, 0.74]  # regression: L0 = 1; the best model reached 0.70
    assert diagnose(train, valid, 1.0, None)["diagnosis"] == "underfit"
    good = diagnose(train, valid, 1.0, None, noise_floor=0.70)
    assert good["diagnosis"] == "good" and good["noise_floor"] == 0.7
    assert diagnose([0.95, 0.93, 0.92], [0.96, 0.94, 0.93], 1.0, None, noise_floor=0.70)["diagnosis"] == "underfit"


def test_diagnostics_read_the_noise_floor_from_every_model(report):
    _, _, _, board = report
    entry = next(e for e in board["diagnostics"]["units"] if e["dataset"] == "tab9")  # regression
    best_r2 = max(r["score"] for r in board["results"] if r["dataset"] == "tab9")
    assert entry["noise_floor"] == pytest.approx(1 - best_r2, abs=1e-5)


# ---------------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------------

def test_claims_are_supported_by_the_designed_data(report):
    _, _, _, board = report
    verdicts = {c["id"]: c["verdict"] for c in board["claims"]["claims"]}
    assert verdicts == {claim: designed for claim, (designed, _) in EXPECTED_VERDICTS.items()}
    for claim in board["claims"]["claims"]:
        assert claim["method"]
        if claim["id"] in CANNOT_DECIDE:
            assert CANNOT_DECIDE[claim["id"]] in claim["summary"], claim["summary"]


def test_claims_flip_when_the_data_flips(flipped):
    verdicts = {c["id"]: c["verdict"] for c in flipped["claims"]["claims"]}
    assert verdicts == {claim: flipped for claim, (_, flipped) in EXPECTED_VERDICTS.items()}


def test_claims_are_inconclusive_on_too_few_datasets(report):
    _, _, _, board = report
    few = [{"id": "few", "statement": "trees beat nets on 3 datasets", "test": "beats",
            "params": {"first": ["family:tree"], "second": ["family:deep"], "modalities": ["tabular"],
                       "max_train": 450}}]
    from bench.report.claims import evaluate_claims

    result = evaluate_claims(board, [], {}, claims=few)["claims"][0]
    assert result["verdict"] == "inconclusive" and "needs at least 6" in result["summary"]
    assert result["datasets"] == ["tab0", "tab1", "tab2"]


def test_users_add_claims_as_data(report, tmp_path):
    folder, store, run_id, _ = report
    claims = tmp_path / "claims.toml"
    claims.write_text('[[claim]]\nid = "linear-wins"\nstatement = "Linear models beat LightGBM on tabular data."\n'
                      'test = "beats"\nparams = { first = ["linear"], second = ["lightgbm"], '
                      'modalities = ["tabular"] }\n')
    board = build_leaderboard(store, run_id, claims=load_claims(claims))
    assert [(c["id"], c["verdict"]) for c in board["claims"]["claims"]] == [("linear-wins", "contradicted")]
    claims.write_text('[[claim]]\nid = "bad"\nstatement = "x"\ntest = "no_such_test"\n')
    with pytest.raises(ClaimError, match="bad: unknown test 'no_such_test'"):
        load_claims(claims)
    claims.write_text('[[claim]]\nid = "short"\nstatement = "x"\ntest = "beats"\nparams = { first = ["mlp"] }\n')
    with pytest.raises(ClaimError, match="short: test beats needs parameter.*second"):
        load_claims(claims)


def test_variant_names_parse():
    assert variant_key("cnn[augment=False, dropout=0]") == ("cnn", {"augment": "false", "dropout": "0"})
    assert variant_key("cnn[augment=false,dropout=0]") == variant_key("cnn[augment=False, dropout=0]")
    assert variant_key("lightgbm") == ("lightgbm", {})


# ---------------------------------------------------------------------------------------------
# Three results per model: default, tuned, tuned + ensembled
# ---------------------------------------------------------------------------------------------

KINDS_TABLE = "### Default, tuned and tuned + ensembled"


def _kinds_row(row: dict) -> str:
    """The start of a model's row in the table of the three results."""
    return (f"| {row['name']} | {row['family']} | {row['scope']} | {row['n_datasets']} | {fmt(row['default'], 3)} | "
            f"{fmt(row['tuned'], 3)} | {fmt(row['ensembled'], 3)} | {round(row['ensembling_adds'], 3) + 0.0:+.3f} |")


def test_three_results_per_model_trace_to_trial_0_the_chosen_trial_and_the_ensemble(report):
    folder, store, run_id, board = report
    kinds = board["result_kinds"]
    assert kinds["used"] == "tuned" and kinds["recorded"]
    trials = {(t["dataset"], t["model"], t["fold"], t["number"]): t for t in store.trials(run_id)}
    ensembles = {(e["dataset"], e["model"], e["fold"]): e for e in store.ensembles(run_id)}
    cells = {(c["dataset"], c["model"]): c for c in kinds["cells"]}
    assert set(cells) == {(r["dataset"], r["model"]) for r in board["results"]}
    for result in board["results"]:
        cell, key = cells[(result["dataset"], result["model"])], (result["dataset"], result["model"])
        folds = [f["fold"] for f in result["folds"]]
        assert cell["tuned"] == pytest.approx(result["score"])
        assert cell["default"] == pytest.approx(np.mean([trials[(*key, f, 0)]["test_score"] for f in folds]))
        assert cell["ensembled"] == pytest.approx(np.mean([ensembles[(*key, f)]["test_score"] for f in folds]))
        assert cell["ensembled_valid"] >= cell["tuned_valid"]
    models = {m["name"]: m for m in board["models"]}
    rows = {r["name"]: r for r in kinds["models"]}
    assert set(rows) == set(models)
    for row in rows.values():  # the tuned column is section 1's score, over the same datasets
        assert row["tuned"] == pytest.approx(models[row["name"]]["mean_normalized_score"], abs=1e-4)
        assert row["n_datasets"] == models[row["name"]]["n_datasets"] and row["scope"] == models[row["name"]]["scope"]
        assert row["ensembling_adds"] == pytest.approx(row["ensembled"] - row["tuned"], abs=2e-4)
        assert row["ensembling_adds_valid"] > 0
    # designed: deep models tune slowly (default well below tuned), trees and linear quickly
    assert rows["mlp"]["tuned"] - rows["mlp"]["default"] > 0.1
    assert abs(rows["lightgbm"]["tuned"] - rows["lightgbm"]["default"]) < 0.1
    families = {f["family"]: f for f in kinds["families"]}
    assert list(families) == ["deep", "tree", "classical"] and families["deep"]["models"] == ["mlp", "cnn"]
    assert families["deep"]["ensembling_adds"] == pytest.approx(
        np.mean([rows[m]["ensembling_adds"] for m in ("mlp", "cnn")]), abs=1e-4)
    # markdown holds the table with the JSON's numbers; the JSON holds the key
    markdown = (folder / "leaderboard.md").read_text()
    section_1 = markdown[markdown.index("## 1. Leaderboard"):markdown.index("## 2. Per dataset")]
    assert KINDS_TABLE in section_1 and "Caruana et al. 2004" in section_1 and "validation only" in section_1
    for row in rows.values():
        assert _kinds_row(row) in section_1
    assert json.loads((folder / "leaderboard.json").read_text())["result_kinds"] == json.loads(json.dumps(kinds))


def test_tuning_curves_show_the_ensembled_anytime_curve(report):
    folder, store, run_id, board = report
    panel = board["tuning_curves"]["panels"]["tabular"]
    ensembles = {(e["dataset"], e["model"], e["fold"]): e for e in store.ensembles(run_id)}
    info = board["datasets"]
    curve = panel["models"]["mlp"]["ensembled_trials"]

    def normalised(score, dataset):
        low, best = info[dataset]["low_anchor"], info[dataset]["best_score"]
        return min(1.0, max(0.0, (score - low) / (best - low)))

    for k in range(4):  # TPE: run order, one replicate per fold, normalised as the tuned curve is
        per_fold = np.mean([[normalised(ensembles[(d, "mlp", f)]["curve"][k]["test_score"], d) for f in range(2)]
                            for d in panel["datasets"]], axis=0)
        assert curve["mean"][k] == pytest.approx(per_fold.mean(), abs=1e-4)
    # one trial ensembled is that trial: both curves start at the default
    assert curve["mean"][0] == pytest.approx(panel["models"]["mlp"]["trials"]["mean"][0], abs=1e-4)
    markdown = (folder / "leaderboard.md").read_text()
    section_4 = markdown[markdown.index("## 4. Tuning curves"):markdown.index("## 5. Learning curves")]
    assert "tuned + ensembled, after all trials" in section_4 and "Tuned + ensembled (dashed)" in section_4


def test_a_store_without_ensembles_says_not_recorded(tmp_path):
    store, run_id = synthetic_store(tmp_path / "results.sqlite", ensembles=False)
    board = build_leaderboard(store, run_id)
    kinds = board["result_kinds"]
    assert not kinds["recorded"] and kinds["used"] == "tuned"
    assert all(r["ensembled"] is None and r["default"] is not None and r["tuned"] is not None for r in kinds["models"])
    assert all(c["ensembled"] is None for c in kinds["cells"])
    markdown = render_markdown(board, figures={})
    table = markdown[markdown.index(KINDS_TABLE):markdown.index("## 2. Per dataset")]
    row = next(line for line in table.splitlines() if line.startswith("| lightgbm | tree |"))
    assert row.count("| not recorded") == 3
    assert "This store holds no ensembles" in table
    tuning = board["tuning_curves"]["panels"]
    assert all(c["ensembled_trials"] is None for p in tuning.values() for c in p["families"].values())
    assert "| not recorded |" in markdown[markdown.index("## 4. Tuning curves"):]


def test_on_a_real_run_the_ensemble_never_loses_to_the_tuned_trial_on_validation(tmp_path, cache_dir):
    """Real units through the CLI: selection starts from the best trial, so on validation the ensemble is at
    least the tuned trial (up to the stored predictions' rounding); on test nothing is promised."""
    out = tmp_path / "real"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--datasets", "wine,diabetes", "--models", "linear,lightgbm",
         "--trials", "4", "--folds", "2", "--workers", "0", "--out", str(out), "--no-progress",
         "--cache", str(cache_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    board = json.loads((out / "leaderboard.json").read_text())
    kinds = board["result_kinds"]
    assert kinds["recorded"] and len(kinds["cells"]) == 4
    store = Store(out / "results.sqlite", create=False)
    assert any(len(e["weights"]) > 1 for e in store.ensembles(board["run_id"]))  # real ensembles, not one trial
    for cell in kinds["cells"]:
        for fold in cell["folds"]:
            assert fold["ensembled"]["valid_score"] >= fold["tuned"]["valid_score"] - 1e-4
            assert fold["default"]["trial"] == 0
        assert cell["ensembled_valid"] >= cell["tuned_valid"] - 1e-4
    markdown = (out / "leaderboard.md").read_text()
    for row in kinds["models"]:
        assert _kinds_row(row) in markdown


# ---------------------------------------------------------------------------------------------
# A partial store
# ---------------------------------------------------------------------------------------------

def test_a_partial_store_imputes_failed_and_missing_folds_and_says_so(tmp_path):
    """Old: a failed fold dropped out and the cell was averaged over the folds it had; a model missing on a
    dataset dropped out of its means."""
    missing = {("img0", "cnn", 0), ("img0", "cnn", 1)}
    failed = {("tab0", "mlp", 1)}
    store, run_id = synthetic_store(tmp_path / "results.sqlite", missing=missing, failed=failed)
    board = build_leaderboard(store, run_id)
    provenance = board["provenance"]
    assert not provenance["complete"]
    assert provenance["units"]["missing"] == 2 and provenance["units"]["failed"] == 1
    assert {(m["dataset"], m["model"], m["fold"]) for m in provenance["missing_units"]} == missing
    assert provenance["coverage"]["cnn"]["missing"] == ["img0"]
    cell = next(r for r in board["results"] if r["dataset"] == "tab0" and r["model"] == "mlp")
    scored, imputed = cell["folds"]
    assert cell["status"] == "partial" and cell["folds_done"] == 1 and cell["imputed"] and cell["complete"]
    assert imputed["imputed"] == "failed" and imputed["trial"] is None and imputed["score"] == 0.5  # tab0's constant
    assert cell["score"] == pytest.approx((scored["score"] + 0.5) / 2) and cell["score_ran"] == scored["score"]
    absent = next(r for r in board["results"] if r["dataset"] == "img0" and r["model"] == "cnn")
    assert absent["status"] == "missing" and absent["score"] == pytest.approx(0.1)
    cnn = next(m for m in board["models"] if m["name"] == "cnn")
    assert cnn["n_datasets"] == 8 and cnn["imputed_cells"] == 1 and cnn["datasets_not_scored"] == {"missing": ["img0"]}
    image = next(s for s in board["leaderboards"] if s["name"] == "image + sequence datasets")
    assert "img0" in image["datasets"] and "img0" not in image["every_model_ran"]
    assert image["n_every_model_ran"] == 7
    # Claims and family tests read the same imputed cells, flagged (old: "never imputed into a claim").
    cnn_prior = next(c for c in board["claims"]["claims"] if c["id"] == "cnn-prior-on-images-and-sequences")
    assert "img0" in cnn_prior["datasets"] and cnn_prior["statistic"]["imputed"] == ["img0"]
    assert "in a side's cell on 1: img0" in cnn_prior["summary"]
    deep_tree = next(p for p in board["families"]["pairs"] if (p["first"], p["second"]) == ("deep", "tree"))
    assert deep_tree["imputed"] == ["img0", "tab0"] and deep_tree["n_datasets"] == 18
    markdown = render_markdown(board, figures={})
    assert "**Partial results**" in markdown and "imputed on img0" in markdown
    assert "(imputed: 1 of 2 folds failed)" in markdown and "MemoryError: synthetic" in markdown
    assert "### Failures" in markdown and "### Missing units" in markdown
    assert "| img0 | cnn | 0 |" in markdown  # few: one a row


def test_many_missing_units_are_grouped_by_model(tmp_path, monkeypatch):
    import bench.report.provenance as provenance

    missing = {("img0", "cnn", 0), ("img0", "cnn", 1), ("img1", "cnn", 1)}
    store, run_id = synthetic_store(tmp_path / "results.sqlite", missing=missing)
    monkeypatch.setattr(provenance, "MISSING_LISTED", 2)
    board = build_leaderboard(store, run_id)
    assert len(board["provenance"]["missing_units"]) == 3  # the JSON keeps every unit
    markdown = render_markdown(board, figures={})
    assert "| cnn | 3 | img0 (2), img1 |" in markdown and "| img0 | cnn | 0 |" not in markdown


def test_datasets_where_all_models_are_within_noise_carry_no_signal(tmp_path):
    store, run_id = synthetic_store(tmp_path / "results.sqlite", flat={"tab3"})
    board = build_leaderboard(store, run_id)
    assert board["no_signal_datasets"] == ["tab3"] and board["datasets"]["tab3"]["signal"] is False
    assert board["datasets"]["tab2"]["signal"] is True
    for scope in board["leaderboards"]:
        assert "tab3" not in scope["datasets"]
    assert "tab3" in next(s for s in board["leaderboards"] if s["name"] == "tabular datasets")["no_signal"]
    assert "tab3" not in board["critical_difference"]["datasets"]
    # Old: the family tests, the deep-vs-tree analysis, the guidance and the claims still counted it.
    assert board["families"]["no_signal"] == ["tab3"]
    for pair in board["families"]["pairs"]:
        assert "tab3" not in [d["dataset"] for d in pair["datasets"]] and pair["n_datasets"] == 17
    assert "tab3" not in [r["dataset"] for r in board["where_deep_wins"]["datasets"]]
    assert all("tab3" not in r["datasets"] for r in board["guidance"]["rows"])
    assert all("tab3" not in c["datasets"] for c in board["claims"]["claims"])
    markdown = render_markdown(board, figures={})
    assert "Left out, no signal: tab3." in markdown


def test_the_normalised_score_has_a_robust_anchor_and_improvability_beside_it(report):
    """Old: the constant predictor was the low anchor."""
    _, store, run_id, board = report
    trial_scores = [t["test_score"] for t in store.trials(run_id) if t["dataset"] == "tab2"]
    info = board["datasets"]["tab2"]
    assert info["low_anchor"] == pytest.approx(np.quantile(trial_scores, 0.1))
    rows = {r["model"]: r for r in board["results"] if r["dataset"] == "tab2"}
    best = max(r["score"] for r in rows.values())
    for r in rows.values():
        expected = min(1.0, max(0.0, (r["score"] - info["low_anchor"]) / (best - info["low_anchor"])))
        assert r["normalized_score"] == pytest.approx(expected)
        assert r["improvability"] == pytest.approx(((1 - r["score"]) - (1 - best)) / (1 - r["score"]))
    assert info["low_anchor"] > 0.5  # not the constant predictor's 0.5
    regression = [t["test_score"] for t in store.trials(run_id) if t["dataset"] == "tab9"]
    assert board["datasets"]["tab9"]["low_anchor"] == pytest.approx(max(0.0, np.quantile(regression, 0.1)))


# ---------------------------------------------------------------------------------------------
# The HTML in a real browser
# ---------------------------------------------------------------------------------------------

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || (e.target && e.target.src))), true);
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({images: images.length, broken: broken, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run_chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed (apt-get install chromium): "
                                                "the HTML report is not checked in a browser")
def test_html_opens_in_headless_chromium_with_every_image_loaded(report, tmp_path):
    folder, _, _, board = report
    page = (folder / "index.html").read_text()
    probe = folder / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    dom = _run_chromium("--enable-logging=stderr", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri(),
                        profile=tmp_path / "profile-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout)
    assert found, dom.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert result == {"images": len(board["figures"]), "broken": 0, "errors": []}
    assert "Uncaught" not in dom.stderr and ":ERROR:CONSOLE" not in dom.stderr
    screenshot = tmp_path / "report.png"
    shot = _run_chromium("--window-size=1280,3000", "--hide-scrollbars", f"--screenshot={screenshot}",
                         (folder / "index.html").as_uri(), profile=tmp_path / "profile-shot")
    assert screenshot.is_file(), shot.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(screenshot)[..., :3]
    assert pixels.shape[:2] == (3000, 1280)
    colours = len(np.unique((pixels[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert colours > 50 and pixels.std() > 0.05  # text, tables and coloured figures, not a blank page
