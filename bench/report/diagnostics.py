"""Diagnostics of every deep-model unit: the chosen trial's loss curves and a fit diagnosis.

The thresholds and the rules are in METHOD, which the report prints. Confusion matrices are
shown when the trial rows record them (`curves["confusion_matrix"]`, written by the tuner for
classification: rows = true class, columns = predicted, on the test set).
"""
from __future__ import annotations

import math

import numpy as np

from bench.contract import best_trial
from bench.report.formatting import fmt

UNDERFIT = 0.5
OVERFIT_RATIO = 2.0
SUSPICIOUS_RATIO = 0.67
GAP_FLOOR = 0.1
MAX_DIAGNOSTIC_PANELS = 16
MAX_CONFUSION_PANELS = 4
METHOD = (
    "Losses are compared with the constant predictor's loss L0: the entropy of the class shares for "
    "classification (the cross-entropy of always predicting them), 1 for regression (the nets fit standardised "
    "targets, so predicting the mean costs a mean squared error of 1), and with the dataset's noise floor F: the "
    "best held-out loss any model of the run reached on it (the lowest mean test log-loss of a chosen trial for "
    "classification; 1 - the best mean test R2 for regression, the mean squared error over the target's variance), "
    "so that a noisy problem no model fits well is not taken for underfitting. At the epoch with the lowest "
    f"validation loss (the one early stopping keeps): underfit when train and validation loss both stay above F by "
    f"at least {UNDERFIT:g} x (L0 - F), i.e. the net closed less than {UNDERFIT:g} of the gap between the constant "
    f"predictor and the best any model did (never when no model beats L0); overfit when validation loss exceeds "
    f"{OVERFIT_RATIO:g} x the train loss by more than {GAP_FLOOR:g} x L0; "
    f"suspicious when a held-out loss (validation, or test log-loss) is below {SUSPICIOUS_RATIO:g} x the train loss "
    f"by more than {GAP_FLOOR:g} x L0 (dropout, augmentation or label smoothing raise the train loss; otherwise look "
    "for leakage, such as test rows duplicating training rows); good otherwise."
)


def constant_loss(info: dict) -> float | None:
    """L0: the loss of always predicting the training class shares (classification) or the mean."""
    if info["task"] == "regression":
        return 1.0
    entropy, n_classes = info.get("class_entropy"), info.get("n_classes")
    if entropy is None or not n_classes or n_classes < 2:
        return None
    return float(entropy * math.log(n_classes))


def diagnose(train: list[float], valid: list[float], l0: float | None, test_loss: float | None,
             noise_floor: float | None = None) -> dict:
    """The diagnosis of one trial's curves, with the numbers it rests on. `noise_floor`: the best held-out
    loss any model reached on the dataset (None: 0, the old comparison with the constant predictor alone)."""
    if not train or not valid:
        return {"diagnosis": "no curves", "reason": "the trial recorded no loss curves"}
    best = min(range(len(valid)), key=lambda i: (valid[i], i))
    train_b, valid_b = train[best], valid[best]
    reference = l0 if l0 and l0 > 0 else train[0]
    attainable = max(0.0, min(noise_floor, reference)) if noise_floor is not None else 0.0
    out = {"best_epoch": best + 1, "epochs": len(train), "train_loss": round(train_b, 5),
           "valid_loss": round(valid_b, 5), "constant_loss": round(reference, 5),
           "noise_floor": None if noise_floor is None else round(attainable, 5),
           "still_improving": best == len(valid) - 1}
    floor = GAP_FLOOR * reference
    held_out = min(v for v in (valid_b, test_loss) if v is not None)
    gap = reference - attainable
    if gap > 0 and min(train_b, valid_b) - attainable >= UNDERFIT * gap:
        out["diagnosis"] = "underfit"
        out["reason"] = (f"train {train_b:.3g} and validation {valid_b:.3g} both above the noise floor "
                         f"{attainable:.3g} (best loss any model reached) by at least {UNDERFIT:g} x its gap to the "
                         f"constant predictor's loss {reference:.3g}")
    elif valid_b > OVERFIT_RATIO * train_b and valid_b - train_b > floor:
        out["diagnosis"] = "overfit"
        out["reason"] = f"validation {valid_b:.3g} far above train {train_b:.3g}"
    elif held_out < SUSPICIOUS_RATIO * train_b and train_b - held_out > floor:
        out["diagnosis"] = "suspicious"
        out["reason"] = (f"held-out loss {held_out:.3g} well below train {train_b:.3g}: regularisation in training "
                         "(dropout, augmentation, label smoothing) or leakage")
    else:
        out["diagnosis"] = "good"
        out["reason"] = (f"train {train_b:.3g}, validation {valid_b:.3g}, constant predictor {reference:.3g}, "
                         f"noise floor {attainable:.3g}")
        if gap <= 0:
            out["reason"] += " (no model beat the constant predictor: nothing left to fit)"
    if out["still_improving"]:
        out["reason"] += "; validation loss was still falling at the last epoch"
    return out


def _rounded(values: list[float]) -> list[float]:
    return [float(f"{v:.5g}") for v in values]


def noise_floors(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> dict[str, float | None]:
    """Per dataset, the best held-out loss any model reached (see METHOD), from the chosen trials of the
    folds that scored."""
    cells = {(r["dataset"], r["model"], r["train_size"]) for r in board["results"]}
    log_losses = {}
    for unit in units:
        key = (unit["dataset"], unit["model"], unit["train_size"] or None)
        chosen = best_trial(trials_by_unit.get(unit["unit_key"], [])) if unit["status"] == "done" else None
        loss = (chosen.get("test_metrics") or {}).get("log_loss") if chosen else None
        if key in cells and loss is not None:
            log_losses.setdefault(key[:2], []).append(loss)
    floors = {}
    for dataset, info in board["datasets"].items():
        if info["task"] == "regression":
            r2 = [r["score_ran"] for r in board["results"] if r["dataset"] == dataset and r["score_ran"] is not None]
            floors[dataset] = max(0.0, 1.0 - max(r2)) if r2 else None
        else:
            means = [float(np.mean(v)) for (d, _), v in log_losses.items() if d == dataset]
            floors[dataset] = min(means) if means else None
    return floors


def diagnostics(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> dict:
    floors = noise_floors(board, units, trials_by_unit)
    deep_cells = {(r["dataset"], r["model"], r["train_size"]) for r in board["results"] if r["family"] == "deep"}
    entries = []
    for unit in units:
        if (unit["dataset"], unit["model"], unit["train_size"] or None) not in deep_cells:
            continue
        info = board["datasets"][unit["dataset"]]
        chosen = best_trial(trials_by_unit.get(unit["unit_key"], [])) if unit["status"] == "done" else None
        entry = {"dataset": unit["dataset"], "model": unit["model"], "fold": unit["fold"],
                 "modality": info["modality"], "task": info["task"], "status": unit["status"]}
        if chosen is None:
            entry.update({"diagnosis": "failed", "reason": unit["error"] or "no scored trial"})
            entries.append(entry)
            continue
        curves = chosen.get("curves") or {}
        train, valid = curves.get("train_loss") or [], curves.get("valid_loss") or []
        test_loss = (chosen.get("test_metrics") or {}).get("log_loss") if info["task"] != "regression" else None
        entry.update({"trial": chosen["number"], "n_iter": chosen["n_iter"],
                      "stopped_by_deadline": bool(chosen["stopped_by_deadline"]),
                      "valid_score": chosen["valid_score"], "test_score": chosen["test_score"],
                      "test_log_loss": test_loss,
                      **diagnose(train, valid, constant_loss(info), test_loss, floors.get(unit["dataset"])),
                      "curves": {"train_loss": _rounded(train), "valid_loss": _rounded(valid)}})
        duplicates = sum(info.get("test_duplicates_of_train") or [])
        if entry["diagnosis"] == "suspicious" and duplicates:
            entry["reason"] += f"; this dataset has {duplicates} test row(s) that duplicate a training row"
        if curves.get("confusion_matrix"):
            entry["confusion_matrix"] = curves["confusion_matrix"]
        entries.append(entry)
    counts = {}
    for entry in entries:
        counts[entry["diagnosis"]] = counts.get(entry["diagnosis"], 0) + 1
    return {
        "method": METHOD,
        "thresholds": {"underfit": UNDERFIT, "overfit_ratio": OVERFIT_RATIO, "suspicious_ratio": SUSPICIOUS_RATIO,
                       "gap_floor": GAP_FLOOR},
        "counts": dict(sorted(counts.items())),
        "confusion_recorded": any("confusion_matrix" in e for e in entries),
        # No trial row records misclassified examples; the key stays so that the committed reports
        # rebuild to the byte.
        "misclassified_recorded": False,
        "units": entries,
    }


def render(board: dict) -> list:
    """Section 10: the diagnosis of every deep-model unit, its loss curves and confusion matrices."""
    d = board["diagnostics"]
    if not d["units"]:
        return [("p", "No deep-model units in this run.")]
    counts = ", ".join(f"{n} {k}" for k, n in d["counts"].items())
    rows = [[e["dataset"], e["model"], str(e["fold"]), e["diagnosis"],
             f"{e['best_epoch']} / {e['epochs']}" if e.get("best_epoch") else "—",
             fmt(e.get("train_loss")), fmt(e.get("valid_loss")), fmt(e.get("constant_loss")),
             fmt(e.get("noise_floor")), e["reason"]]
            for e in d["units"]]
    blocks = [("p", f"Deep-model units: {counts}."),
              ("table", ["dataset", "model", "fold", "diagnosis", "best epoch / epochs", "train loss", "valid loss",
                         "constant loss", "noise floor", "reason"], rows, "llrlrrrrrl"),
              ("p", d["method"].replace("\n", " ")),
              ("figure", "diagnostics")]
    if d["confusion_recorded"]:
        blocks.append(("figure", "confusion"))
    else:
        blocks.append(("p", "Confusion matrices: not recorded by this run's trial rows."))
    if any(e["modality"] == "image" for e in d["units"]):
        blocks.append(("p", "Misclassified images: not recorded by this run's trial rows."))
    return blocks


def draw(board: dict):
    """Train and validation loss of the chosen trial, for the first fold of each deep model and dataset;
    the suspicious, overfit and underfit ones first when there are more than fit."""
    from bench.report.figures import grid

    seen, chosen = set(), []
    for entry in board["diagnostics"]["units"]:
        key = (entry["dataset"], entry["model"])
        if key not in seen and entry.get("curves", {}).get("train_loss"):
            seen.add(key)
            chosen.append(entry)
    priority = {"suspicious": 0, "overfit": 1, "underfit": 2}
    chosen = sorted(chosen, key=lambda e: priority.get(e["diagnosis"], 3))[:MAX_DIAGNOSTIC_PANELS]
    if not chosen:
        return None
    fig, axes = grid(len(chosen), 4, 2.8, 2.1)
    for ax, entry in zip(axes, chosen):
        epochs = np.arange(1, len(entry["curves"]["train_loss"]) + 1)
        ax.plot(epochs, entry["curves"]["train_loss"], label="train", color="#1f77b4")
        ax.plot(epochs, entry["curves"]["valid_loss"], label="valid", color="#ff7f0e")
        if entry.get("constant_loss"):
            ax.axhline(entry["constant_loss"], color="#999", ls=":", lw=0.8)
        if entry.get("noise_floor") is not None:
            ax.axhline(entry["noise_floor"], color="#2ca02c", ls=":", lw=0.8)
        if entry.get("best_epoch"):
            ax.axvline(entry["best_epoch"], color="#999", ls="--", lw=0.6)
        ax.set_title(f"{entry['dataset']} / {entry['model']} f{entry['fold']}: {entry['diagnosis']}", fontsize=7)
        ax.set_xlabel("epoch", fontsize=7)
    axes[0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def draw_confusion(board: dict):
    """Confusion matrices of the chosen trials, when the trial rows recorded them."""
    from bench.report.figures import grid

    entries = [e for e in board["diagnostics"]["units"] if e.get("confusion_matrix")][:MAX_CONFUSION_PANELS]
    if not entries:
        return None
    fig, axes = grid(len(entries), 4, 2.6, 2.5)
    for ax, entry in zip(axes, entries):
        matrix = np.asarray(entry["confusion_matrix"], dtype=float)
        ax.imshow(matrix, cmap="Blues")
        if len(matrix) <= 10:
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=6)
        ax.set_title(f"{entry['dataset']} / {entry['model']} f{entry['fold']}", fontsize=7)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    fig.tight_layout()
    return fig


FIGURES = {
    "diagnostics": (draw, "Train (blue) and validation (orange) loss of the chosen trial (first fold; problem cases "
                          "first); dotted grey: the constant predictor's loss; dotted green: the noise floor (the "
                          "best loss any model reached on the dataset); dashed: the epoch kept."),
    "confusion": (draw_confusion, "Test confusion matrices of the chosen trials."),
}
