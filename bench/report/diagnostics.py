"""Diagnostics of every deep-model unit: the chosen trial's loss curves and a fit diagnosis.

The thresholds and the rules are in METHOD, which the report prints. Confusion matrices and
misclassified examples are shown when the trial rows record them: `curves["confusion_matrix"]`
(or `test_metrics["confusion_matrix"]`), rows = true class, columns = predicted, on the test
set; `curves["misclassified"]`, a few test examples as {"pixels", "shape", "true", "predicted"}.
"""
from __future__ import annotations

import math

from bench.contract import best_trial

UNDERFIT = 0.5
OVERFIT_RATIO = 2.0
SUSPICIOUS_RATIO = 0.67
GAP_FLOOR = 0.1
METHOD = (
    "Losses are compared with the constant predictor's loss L0: the entropy of the class shares for "
    "classification (the cross-entropy of always predicting them), 1 for regression (the nets fit standardised "
    "targets, so predicting the mean costs a mean squared error of 1). At the epoch with the lowest validation "
    f"loss (the one early stopping keeps): underfit when train and validation loss are both at least {UNDERFIT:g} "
    f"x L0; overfit when validation loss exceeds {OVERFIT_RATIO:g} x the train loss by more than {GAP_FLOOR:g} x L0; "
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


def diagnose(train: list[float], valid: list[float], l0: float | None, test_loss: float | None) -> dict:
    """The diagnosis of one trial's curves, with the numbers it rests on."""
    if not train or not valid:
        return {"diagnosis": "no curves", "reason": "the trial recorded no loss curves"}
    best = min(range(len(valid)), key=lambda i: (valid[i], i))
    train_b, valid_b = train[best], valid[best]
    reference = l0 if l0 and l0 > 0 else train[0]
    out = {"best_epoch": best + 1, "epochs": len(train), "train_loss": round(train_b, 5),
           "valid_loss": round(valid_b, 5), "constant_loss": round(reference, 5),
           "still_improving": best == len(valid) - 1}
    floor = GAP_FLOOR * reference
    held_out = min(v for v in (valid_b, test_loss) if v is not None)
    if train_b >= UNDERFIT * reference and valid_b >= UNDERFIT * reference:
        out["diagnosis"] = "underfit"
        out["reason"] = (f"train {train_b:.3g} and validation {valid_b:.3g} both at least {UNDERFIT:g} x the "
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
        out["reason"] = f"train {train_b:.3g}, validation {valid_b:.3g}, constant predictor {reference:.3g}"
    if out["still_improving"]:
        out["reason"] += "; validation loss was still falling at the last epoch"
    return out


def _rounded(values: list[float]) -> list[float]:
    return [float(f"{v:.5g}") for v in values]


def diagnostics(board: dict, units: list[dict], trials_by_unit: dict[str, list[dict]]) -> dict:
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
                      **diagnose(train, valid, constant_loss(info), test_loss),
                      "curves": {"train_loss": _rounded(train), "valid_loss": _rounded(valid)}})
        duplicates = sum(info.get("test_duplicates_of_train") or [])
        if entry["diagnosis"] == "suspicious" and duplicates:
            entry["reason"] += f"; this dataset has {duplicates} test row(s) that duplicate a training row"
        confusion = curves.get("confusion_matrix") or (chosen.get("test_metrics") or {}).get("confusion_matrix")
        if confusion is not None:
            entry["confusion_matrix"] = confusion
        if curves.get("misclassified"):
            entry["misclassified"] = curves["misclassified"]
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
        "misclassified_recorded": any("misclassified" in e for e in entries),
        "units": entries,
    }
