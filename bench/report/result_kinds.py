"""Three results per model, as TabArena reports them (Erickson et al. 2025): *default* (trial 0, the
model's default configuration), *tuned* (the best-validation trial: the score every other section
reads) and *tuned + ensembled* (the unit's post-hoc ensemble of its trials, bench/ensembles.py).

Per (dataset, model) cell each kind is the mean test score over the planned folds, a fold imputed as
the report imputes it (per_dataset.IMPUTATION) counting as the constant predictor in all three. Per
model, each kind is normalised per dataset as section 1 normalises the tuned score, with the same
anchors (the dataset's robust low anchor = 0, its best *tuned* mean score = 1, clipped to [0, 1]), and
averaged over the common datasets of the model's own leaderboard, so the tuned column is the model's
mean normalised score in section 1. A store written before ensembles were kept has none: its
tuned + ensembled is "not recorded".
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench import stats
from bench.ensembles import ROUNDS
from bench.report.families import FAMILIES, is_variant
from bench.report.formatting import fmt

KINDS = ("default", "tuned", "ensembled")
LABELS = {"default": "default", "tuned": "tuned", "ensembled": "tuned + ensembled"}
NOT_RECORDED = "not recorded"
METHOD = (
    "Three results per model, as TabArena (Erickson et al. 2025) reports them: **default**, the test score of "
    "trial 0, the model's default configuration; **tuned**, the test score of the trial with the best validation "
    "score, the result every other section of this report uses (leaderboard, per-dataset table, families, "
    "tuning and learning curves, claims, guidance); **tuned + ensembled**, greedy ensemble selection with "
    f"replacement (Caruana et al. 2004) over the unit's scored trials: from an empty ensemble, each of {ROUNDS} "
    "rounds adds the trial whose addition scores best on validation (so the first round picks the best trial), "
    "a trial may be added again (its weight is the times it was chosen; ties go to a trial already in, then to "
    "the earlier trial), the members' class probabilities or values are averaged, and the best-scoring prefix of "
    "the rounds is kept; the weights are chosen on validation only and the ensemble is scored once on test. Each "
    "is the mean over the planned folds (a failed or missing fold is the constant predictor in all three; a fold "
    "whose trial 0 failed is the constant predictor for default), normalised per dataset with section 1's "
    "anchors (its robust low anchor = 0, the best *tuned* mean score = 1, clipped to [0, 1], so an ensemble "
    "above the best tuned model counts as 1) and averaged over the common datasets of the model's own "
    "leaderboard: the tuned column is the model's mean normalised score above. Ensembling adds: tuned + "
    "ensembled minus tuned. On validation: the same difference of validation scores over each dataset's same "
    "range (best tuned test score minus anchor), not clipped; selection makes it at least 0 (up to the stored "
    "predictions' rounding, 1e-4), while on test it may fall below. Per family: the mean over its models, "
    "variants (ablations) left out."
)


def _fold(fold: dict, trials: list[dict], ensemble: dict | None) -> dict:
    """The three results of one fold of a cell, each naming what it was read from."""
    baseline = fold["baseline_score"]
    if fold["imputed"]:
        constant = {"trial": None, "score": baseline, "valid_score": baseline}
        return {"fold": fold["fold"], "imputed": fold["imputed"], "default": constant, "tuned": constant,
                "ensembled": {"weights": None, "score": baseline, "valid_score": baseline}}
    first = next((t for t in trials if t["number"] == 0), None)
    if first is not None and first["status"] == "ok" and first["test_score"] is not None:
        default = {"trial": 0, "score": first["test_score"], "valid_score": first["valid_score"]}
    else:
        default = {"trial": None, "score": baseline, "valid_score": baseline}
    ensembled = None if ensemble is None else {
        "weights": {str(n): c for n, c in ensemble["weights"].items()}, "score": ensemble["test_score"],
        "valid_score": ensemble["valid_score"]}
    return {"fold": fold["fold"], "imputed": None, "default": default,
            "tuned": {"trial": fold["trial"], "score": fold["score"], "valid_score": fold["valid_score"]},
            "ensembled": ensembled}


def _cell(row: dict, units: dict, trials_by_unit: dict, ensembles: dict, info: dict) -> dict:
    """One (dataset, model) cell: per kind the mean test and validation score over folds, and normalised."""
    folds = []
    for fold in row["folds"]:
        unit = units.get((row["dataset"], row["model"], fold["fold"], row["train_size"]))
        key = unit["unit_key"] if unit else None
        folds.append(_fold(fold, trials_by_unit.get(key, []), ensembles.get(key)))
    low, best = info["low_anchor"], info["best_score"]
    cell = {"dataset": row["dataset"], "model": row["model"], "family": row["family"]}
    for kind in KINDS:
        parts = [f[kind] for f in folds]
        recorded = all(p is not None for p in parts)
        cell[kind] = float(np.mean([p["score"] for p in parts])) if recorded else None
        cell[f"{kind}_valid"] = float(np.mean([p["valid_score"] for p in parts])) if recorded else None
        cell[f"{kind}_normalized"] = stats.normalized_score(cell[kind], low, best) if recorded else None
    gain = cell["ensembled_valid"] is not None and best > low
    cell["ensembling_adds_valid"] = (cell["ensembled_valid"] - cell["tuned_valid"]) / (best - low) if gain else None
    cell["default_failed_folds"] = sum(1 for f in folds if not f["imputed"] and f["default"]["trial"] is None)
    cell["folds"] = folds
    return cell


def _mean(values: list) -> float | None:
    return round(float(np.mean(values)), 4) if values and all(v is not None for v in values) else None


def _model_row(model: dict, cells: list[dict]) -> dict:
    """A model's three results over its leaderboard's common datasets (`cells`)."""
    row = {"name": model["name"], "family": model["family"], "scope": model["scope"], "n_datasets": len(cells)}
    for kind in KINDS:
        row[kind] = _mean([c[f"{kind}_normalized"] for c in cells])
    recorded = row["ensembled"] is not None
    row["ensembling_adds"] = (_mean([c["ensembled_normalized"] - c["tuned_normalized"] for c in cells])
                              if recorded else None)
    valid_gains = [c["ensembling_adds_valid"] for c in cells if c["ensembling_adds_valid"] is not None]
    row["ensembling_adds_valid"] = _mean(valid_gains) if recorded else None
    row["not_recorded"] = sorted(c["dataset"] for c in cells if c["ensembled"] is None)
    row["default_failed_folds"] = sum(c["default_failed_folds"] for c in cells)
    return row


def _family_rows(models: list[dict]) -> list[dict]:
    """Per family, the mean over its models (variants left out, unless the family has only variants)."""
    by_family = defaultdict(list)
    for row in models:
        if row["n_datasets"]:
            by_family[row["family"]].append(row)
    out = []
    for family in sorted(by_family, key=lambda f: (FAMILIES.index(f) if f in FAMILIES else len(FAMILIES), f)):
        members = [r for r in by_family[family] if not is_variant(r["name"])] or by_family[family]
        entry = {"family": family, "models": [r["name"] for r in members]}
        for key in (*KINDS, "ensembling_adds", "ensembling_adds_valid"):
            entry[key] = _mean([r[key] for r in members])
        out.append(entry)
    return out


def result_kinds(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]],
                 ensembles: dict[str, dict]) -> dict:
    """board["result_kinds"]: `cells` (every result row's three results, per fold traced to trial 0, the
    chosen trial and the ensemble's weights), `models` (per model over its own leaderboard's common datasets),
    `families`, `recorded` (whether the store holds ensembles at all), `used` (the kind every other section
    reads: "tuned") and `method`. `ensembles` maps unit keys to Store.ensembles rows."""
    by_key = {(u["dataset"], u["model"], u["fold"], u["train_size"] or None): u for u in units}
    cells = {(r["dataset"], r["model"]): _cell(r, by_key, trials_by_unit, ensembles, board["datasets"][r["dataset"]])
             for r in board["results"]}
    scopes = {s["name"]: s for s in board["leaderboards"]}
    models = [_model_row(m, [cells[(d, m["name"])] for d in scopes[m["scope"]]["datasets"]])
              for m in board["models"] if m["scope"] is not None]
    return {"used": "tuned", "recorded": bool(ensembles), "method": METHOD, "cells": list(cells.values()),
            "models": models, "families": _family_rows(models)}


def _score(value, recorded: bool) -> str:
    return fmt(value, 3) if recorded else NOT_RECORDED


def _gain(value, recorded: bool) -> str:
    if not recorded:
        return NOT_RECORDED
    return "—" if value is None else f"{round(value, 3) + 0.0:+.3f}"  # + 0.0: no "-0.000"


def render(board: dict) -> list:
    """The three results per model and per family: blocks inside section 1."""
    kinds = board["result_kinds"]
    headers = [LABELS["default"], LABELS["tuned"], LABELS["ensembled"], "ensembling adds",
               "ensembling adds, validation"]
    rows = []
    for r in kinds["models"]:
        recorded = r["ensembled"] is not None
        rows.append([r["name"], r["family"], r["scope"], str(r["n_datasets"]), fmt(r["default"], 3),
                     fmt(r["tuned"], 3), _score(r["ensembled"], recorded), _gain(r["ensembling_adds"], recorded),
                     _gain(r["ensembling_adds_valid"], recorded)])
    family_rows = []
    for f in kinds["families"]:
        recorded = f["ensembled"] is not None
        family_rows.append([f["family"], ", ".join(f["models"]), fmt(f["default"], 3), fmt(f["tuned"], 3),
                            _score(f["ensembled"], recorded), _gain(f["ensembling_adds"], recorded),
                            _gain(f["ensembling_adds_valid"], recorded)])
    blocks = [("h", "Default, tuned and tuned + ensembled")]
    if not rows:
        return blocks + [("p", "No model is on a leaderboard: no results to compare.")]
    blocks += [("table", ["model", "family", "leaderboard", "datasets", *headers], rows, "llllrrrrr"),
               ("table", ["family", "models", *headers], family_rows, "llrrrrr")]
    notes = []
    if not kinds["recorded"]:
        notes.append("This store holds no ensembles (it was written before they were kept): tuned + ensembled "
                     "is not recorded.")
    for r in kinds["models"]:
        if kinds["recorded"] and r["not_recorded"]:
            notes.append(f"{r['name']}: no ensemble recorded on {len(r['not_recorded'])} of its "
                         f"{r['n_datasets']} datasets ({', '.join(r['not_recorded'])}).")
        if r["default_failed_folds"]:
            notes.append(f"{r['name']}: trial 0 failed on {r['default_failed_folds']} fold(s), counted as the "
                         "constant predictor for default.")
    if notes:
        blocks.append(("list", notes))
    return blocks + [("p", kinds["method"])]
