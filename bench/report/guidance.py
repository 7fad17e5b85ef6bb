"""Guidance: one row per situation, the family to try first, the evidence and its strength.

On each dataset of a situation, each family is its declared representative (families.py),
and the family with the highest test score among them is that dataset's winner. A failed or
never-run fold counts as the constant predictor's score, as in section 1, and a cell incomplete
even so is left out; datasets that carry no signal (section 2) are left out. The
recommended family wins the most datasets (mean normalised score breaks a tie). Strength:
strong when a two-sided sign test against the runner-up gives p < 0.05 over at least 6
datasets; moderate when it is ahead of the runner-up on at least two thirds of at least 3
datasets; weak otherwise. A situation without datasets is listed as undecided.

Situations are data: add a dict to SITUATIONS (keys: label, and any of modality, min_train,
max_train, min_categorical_share, min_uninformative_share).
"""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

from bench.report.families import FAMILIES, representatives, with_signal

METHOD = __doc__.split("\n\n", 1)[1].split("\n\nSituations")[0].replace("\n", " ").strip()
SITUATIONS = [
    {"label": "tabular, under 1,000 training rows", "modality": "tabular", "max_train": 1_000},
    {"label": "tabular, 1,000-10,000 training rows", "modality": "tabular", "min_train": 1_000, "max_train": 10_000},
    {"label": "tabular, 10,000 training rows or more", "modality": "tabular", "min_train": 10_000},
    {"label": "tabular, mostly categorical features (share at least 0.5)", "modality": "tabular",
     "min_categorical_share": 0.5},
    {"label": "tabular, irregular (at least 30% uninformative features)", "modality": "tabular",
     "min_uninformative_share": 0.3},
    {"label": "images", "modality": "image"},
    {"label": "sequences", "modality": "sequence"},
]
STRONG_N, MODERATE_N, MODERATE_SHARE, ALPHA = 6, 3, 2 / 3, 0.05


def matches(situation: dict, info: dict, n_train: int | None) -> bool:
    if "modality" in situation and info["modality"] != situation["modality"]:
        return False
    if n_train is None and ("min_train" in situation or "max_train" in situation):
        return False
    if "min_train" in situation and n_train < situation["min_train"]:
        return False
    if "max_train" in situation and n_train >= situation["max_train"]:
        return False
    for key, field in (("min_categorical_share", "categorical_share"),
                       ("min_uninformative_share", "uninformative_share")):
        if key in situation and (info.get(field) is None or info[field] < situation[key]):
            return False
    return True


def advise(results: list[dict], datasets: list[str]) -> dict:
    chosen = {f: representatives(results, f, set(datasets)) for f in FAMILIES}
    present = [f for f in FAMILIES if chosen[f]]
    scored = sorted(d for d in datasets if any(d in chosen[f] for f in present))
    wins = {f: 0 for f in present}
    for dataset in scored:
        top = max((f for f in present if dataset in chosen[f]), key=lambda f: chosen[f][dataset]["score"])
        wins[top] += 1
    mean = {f: round(float(np.mean([r["normalized_score"] for r in chosen[f].values()])), 4) for f in present}
    order = sorted(present, key=lambda f: (-wins[f], -mean[f], f))
    row = {"datasets": scored, "n": len(scored), "wins": wins, "mean_normalized_score": mean,
           "recommended": None, "runner_up": None, "strength": "undecided", "sign_test_p": None}
    if not scored:
        row["evidence"] = "no dataset of the run that carries signal is in this situation"
        return row
    best = order[0]
    row["recommended"] = best
    if len(order) == 1:
        row["strength"] = "weak"
        row["evidence"] = f"only the {best} family was scored here ({len(scored)} dataset(s))"
        return row
    second = order[1]
    row["runner_up"] = second
    common = sorted(set(chosen[best]) & set(chosen[second]))
    ahead = sum(chosen[best][d]["score"] > chosen[second][d]["score"] for d in common)
    behind = sum(chosen[best][d]["score"] < chosen[second][d]["score"] for d in common)
    p = float(sps.binomtest(ahead, ahead + behind, 0.5).pvalue) if ahead + behind else 1.0
    row["sign_test_p"] = round(p, 6)
    if wins[best] == wins[second] and mean[best] == mean[second]:
        row["recommended"], row["strength"] = None, "undecided"
    elif len(common) >= STRONG_N and p < ALPHA and ahead > behind:
        row["strength"] = "strong"
    elif len(common) >= MODERATE_N and ahead >= MODERATE_SHARE * len(common):
        row["strength"] = "moderate"
    else:
        row["strength"] = "weak"
    scores = ", ".join(f"{f} {mean[f]:.3f}" for f in order)
    row["evidence"] = (f"{best} best on {wins[best]} of {len(scored)} dataset(s); ahead of {second} on {ahead}, "
                       f"behind on {behind} (sign test p = {p:.3g}); mean normalised score {scores}")
    return row


def guidance(board: dict) -> dict:
    n_train = {}
    for row in board["results"]:
        if row["n_train"] is not None:
            n_train[row["dataset"]] = row["n_train"]
    signal = with_signal(board)
    rows = []
    for situation in SITUATIONS:
        datasets = [d for d, info in sorted(board["datasets"].items())
                    if d in signal and matches(situation, info, n_train.get(d))]
        rows.append({"situation": situation["label"], **advise(board["results"], datasets)})
    undecided = [f"{r['situation']}: {r['evidence']}" for r in rows if r["strength"] in ("undecided", "weak")]
    return {"method": METHOD, "rows": rows, "could_not_decide": undecided}


def render(board: dict) -> list:
    """Section 8: the family to try first per situation, and what the data could not decide."""
    g = board["guidance"]
    rows = [[r["situation"], r["recommended"] or "—", r["strength"], str(r["n"]), r["evidence"]] for r in g["rows"]]
    blocks = [("table", ["situation", "try first", "strength", "datasets", "evidence"], rows, "lllrl"),
              ("p", g["method"])]
    if g["could_not_decide"]:
        blocks += [("p", "**What the data could not decide:**"), ("list", g["could_not_decide"])]
    return blocks
