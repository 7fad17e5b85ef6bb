"""The report's sections as blocks of text, tables and figures, built from the leaderboard data alone.

leaderboard.md and index.html render the same blocks, so they show the same numbers. A block is
a tuple: ("h", subheading), ("p", text), ("list", [text]), ("table", headers, rows, aligns),
("figure", name) or ("code", text). Text may hold **bold** and `code` marks.
"""
from __future__ import annotations

from collections import defaultdict


def fmt(value, digits: int = 4) -> str:
    """A number as the report prints it; None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def fmt_p(value) -> str:
    return "—" if value is None else f"{value:.3g}"


def budget_text(board: dict) -> str:
    parts = []
    if board["budget"]["trials"]:
        parts.append(f"{board['budget']['trials']} trials")
    if board["budget"]["seconds"]:
        parts.append(f"{board['budget']['seconds']:g} s")
    return " or ".join(parts) + " per unit"


def elo_text(model: dict) -> str:
    if model.get("elo") is None:
        return "—"
    return f"{model['elo']:.0f} [{model['elo_low']:.0f}, {model['elo_high']:.0f}]"


def _n_datasets(board: dict) -> int:
    return len({r["dataset"] for r in board["results"] if r["score"] is not None})


def overview(board: dict) -> list:
    p = board["provenance"]
    blocks = [("p", f"Suite `{board['suite']}` (run `{board['run_id']}`): {len(board['datasets'])} datasets, "
                    f"{len(board['models'])} models, budget {budget_text(board)}, {board['folds']} outer fold(s), "
                    f"seed {board['seed']}, sampler {board['sampler']}, training rows capped at "
                    f"{board['max_train'] or 'no cap'}, device {board['device']}."),
              ("p", "Each score is the test score of the trial with the best validation score (selection never "
                    "sees test), averaged over folds. The normalised score puts the best model on each dataset "
                    "at 1 and the constant predictor (majority class, or the train mean) at 0 (Grinsztajn et al. "
                    "2022), clipping below 0.")]
    units = p["units"]
    if not p["complete"]:
        blocks.append(("p", f"**Partial results**: {units['done']} of {units['expected']} expected units finished; "
                            f"{units['failed']} failed and {units['missing']} are missing (see Provenance). "
                            "Missing and failed units are left out, never imputed; every mean below says over "
                            "which datasets it is taken."))
    return blocks


def leaderboard(board: dict) -> list:
    n_all = _n_datasets(board)
    rows = []
    for m in board["models"]:
        rows.append([m["name"], m["family"], fmt(m["mean_normalized_score"], 3), fmt(m["mean_rank"], 2),
                     str(m["wins"]), elo_text(m), f"{m['n_datasets']} of {n_all}"])
    blocks = [("table", ["model", "family", "mean normalised score", "mean rank", "wins", "Elo [95% CI]", "datasets"],
               rows, "llrrrrr")]
    notes = []
    coverage = board["provenance"]["coverage"]
    for m in board["models"]:
        c = coverage[m["name"]]
        if m["n_datasets"] < n_all:
            parts = []
            if c["not_applicable"]:
                parts.append(f"not applicable to {len(c['not_applicable'])}")
            if c["failed"]:
                parts.append(f"failed on {', '.join(c['failed'])}")
            if c["missing"]:
                parts.append(f"not yet run on {', '.join(c['missing'])}")
            notes.append(f"`{m['name']}` is scored on {m['n_datasets']} of {n_all} datasets ({'; '.join(parts)}): "
                         "its mean score and rank are over those datasets only, so compare it with the others "
                         "through the Elo rating (pairwise, on shared datasets) or the per-dataset table.")
    if notes:
        blocks.append(("list", notes))
    blocks += [
        ("p", "Mean rank: rank among the models scored on each dataset (1 = best, ties share the mean rank). "
              "Wins: datasets where the model has the best mean score. " + board["rating_method"]),
        ("figure", "ratings"),
    ]
    return blocks


def score_cell(row: dict, folds: int) -> str:
    if row["score"] is None:
        return row["status"]
    text = fmt(row["score"])
    if row["folds_done"] > 1:
        text += f" ± {fmt((row['ci_high'] - row['ci_low']) / 2)}"
    if row["best"]:
        text = f"**{text}**"
    elif row["tie_with_best"]:
        text += " (tie)"
    if row["status"] == "partial":
        text += f" (partial: {row['folds_done']} of {folds} folds)"
    return text


def per_dataset(board: dict) -> list:
    models = [m["name"] for m in board["models"]]
    cells = defaultdict(dict)
    for row in board["results"]:
        cells[row["dataset"]][row["model"]] = row
    rows = []
    for dataset, info in sorted(board["datasets"].items()):
        n_train = next((r["n_train"] for r in cells.get(dataset, {}).values() if r["n_train"]), None)
        rendered = [score_cell(cells[dataset][m], board["folds"]) if m in cells.get(dataset, {}) else "n/a"
                    for m in models]
        rows.append([dataset, info["modality"], info["task"], info["metric"], fmt(n_train)] + rendered)
    one_fold = board["folds"] < 2
    return [
        ("table", ["dataset", "modality", "task", "metric", "train rows"] + models, rows, "lllll" + "r" * len(models)),
        ("p", "Mean test score over folds ± half-width of the 95% t-interval over folds. **Bold**: the best mean; "
              "(tie): a fold interval overlapping the best's, so not distinguishable from it. "
              + ("With one fold there are no intervals: only equal scores tie. " if one_fold else "")
              + "n/a: the model does not apply to the dataset or was not run; failed: no trial scored."),
    ]


def families(board: dict) -> list:
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


def _at(curve: dict, index: int):
    value = curve["mean"][index]
    if value is None:
        return "—"
    return f"{value:.3f} [{curve['low'][index]:.3f}, {curve['high'][index]:.3f}]"


def tuning(board: dict) -> list:
    tc = board["tuning_curves"]
    rows = []
    for panel, entry in tc["panels"].items():
        for name, curve in entry["families"].items():
            rows.append([panel, name, ", ".join(curve["members"]), str(curve["n_datasets"]),
                         _at(curve["trials"], 0), _at(curve["trials"], -1), f"{entry['seconds_x'][-1]:.1f}"])
    if not rows:
        return [("p", "No scored trials: no tuning curves.")]
    return [("table", ["panel", "family", "members", "datasets", "default (trial 1)", "after all trials",
                       "seconds axis ends at"], rows, "lllrrrr"),
            ("p", tc["method"] + f" {tc['n_boot']} trial orders per unit; a family is, on each dataset, its member "
                  "with the best final validation score. Curves per model are in leaderboard.json."),
            ("figure", "tuning_curves")]


def learning(board: dict) -> list:
    lc = board["learning_curves"]
    if not lc.get("available"):
        return [("p", "Not available: " + lc["note"] + ".")]
    rows = [[d, e["modality"], fmt(e["crossing"]), e["crossing_note"]] for d, e in lc["datasets"].items()]
    blocks = [("table", ["dataset", "modality", "deep ahead from (rows)", "reading"], rows, "llrl")]
    if lc["deep_vs_tree_by_size"]:
        blocks.append(("table", ["training rows", "deep wins", "ties", "tree wins"],
                       [[str(r["train_size"]), str(r["deep_wins"]), str(r["ties"]), str(r["tree_wins"])]
                        for r in lc["deep_vs_tree_by_size"]], "rrrr"))
    family_rows = [[f, ", ".join(f"{s}: {v:.3f} (n={n})" for s, v, n in zip(d["sizes"], d["mean_normalized"],
                                                                         d["n_datasets"]))]
                   for f, d in lc["families"].items()]
    if family_rows:
        blocks.append(("table", ["family", "mean normalised score by training rows"], family_rows, "ll"))
    blocks += [("p", lc["method"]), ("figure", "learning_curves")]
    return blocks


def cost(board: dict) -> list:
    c = board["cost"]
    overall = c["pareto"].get("all") or next(iter(c["pareto"].values()), {"front": []})
    front = set(overall["front"])
    rows = [[m["model"], m["family"], fmt(m["median_fit_s"], 3), fmt(m["median_predict_s"], 4),
             fmt(m["mean_tuning_s_per_unit"], 2), fmt(m["mean_normalized_score"], 3),
             "yes" if m["model"] in front else "no", str(m["failed_trials"])] for m in c["models"]]
    fronts = [f"{panel}: {' → '.join(p['front'])}" for panel, p in c["pareto"].items()]
    return [("table", ["model", "family", "median fit s / trial", "median predict s / trial",
                       "mean tuning s / unit", "mean normalised score", "on the front", "failed trials"], rows,
             "llrrrrll"),
            ("p", c["method"]),
            ("list", ["Pareto front (fastest first), " + f for f in fronts]),
            ("figure", "pareto")]


def _group_row(label: str, g: dict) -> list:
    if not g.get("n"):
        return [label, "0", "—", "—", "—", "—"]
    return [label, str(g["n"]), f"{g['deep_wins']} / {g['ties']} / {g['tree_wins']}", str(g["deep_ahead"]),
            fmt(g["mean_gap"], 3), fmt(g["median_gap"], 3)]


def where_deep_wins(board: dict) -> list:
    w = board["where_deep_wins"]
    if not w["datasets"]:
        return [("p", "No dataset has both a deep and a tree model scored.")]
    headers = ["group", "datasets", "deep win / tie / tree win", "deep ahead on mean", "mean gap", "median gap"]
    blocks = [("p", w["method"]),
              ("table", headers, [_group_row(m, g) for m, g in w["by_modality"].items()], "lrrrrr"),
              ("table", ["training rows"] + headers[1:], [_group_row(g["bin"], g) for g in w["by_size"]], "lrrrrr")]
    meta_rows = [[e["label"], str(e["n"]), fmt(e["spearman_rho"], 3), fmt_p(e["p_value"]), fmt_p(e["p_holm"]),
                  e.get("note", "")] for e in w["by_metafeature"].values()]
    blocks.append(("table", ["meta-feature", "datasets", "Spearman rho with the gap", "p", "Holm p", "note"],
                   meta_rows, "lrrrrl"))
    pred = w["predictor"]
    blocks.append(("p", f"**When does the best deep model beat the best tree?** A {pred['kind']} over "
                        f"{', '.join(pred['features'])} on {pred['n']} datasets (deep ahead on {pred['deep_ahead']}): "
                        f"{pred['verdict']}."))
    if pred["rules"]:
        blocks.append(("code", pred["rules"].rstrip() + "\n(class 1 = deep ahead)"))
    gap_rows = [[r["dataset"], r["modality"], fmt(r["n_train"]), f"{r['deep_model']} {fmt(r['deep_score'])}",
                 f"{r['tree_model']} {fmt(r['tree_score'])}", fmt(r["gap"], 3), r["outcome"]] for r in w["datasets"]]
    blocks += [("table", ["dataset", "modality", "train rows", "best deep", "best tree", "gap", "deep"], gap_rows,
                "llrrrrl"),
               ("figure", "deep_vs_tree")]
    return blocks


def guidance(board: dict) -> list:
    g = board["guidance"]
    rows = [[r["situation"], r["recommended"] or "—", r["strength"], str(r["n"]), r["evidence"]] for r in g["rows"]]
    blocks = [("table", ["situation", "try first", "strength", "datasets", "evidence"], rows, "lllrl"),
              ("p", g["method"])]
    if g["could_not_decide"]:
        blocks += [("p", "**What the data could not decide:**"), ("list", g["could_not_decide"])]
    return blocks


def claims(board: dict) -> list:
    c = board["claims"]
    rows = [[e["statement"], f"**{e['verdict']}**", e["summary"], ", ".join(e["datasets"]) or "—"]
            for e in c["claims"]]
    return [("table", ["claim", "verdict", "statistic", "datasets"], rows, "llll"),
            ("p", c["method"] + " Claims live in `bench/report/claims.toml`; add your own there.")]


def diagnostics(board: dict) -> list:
    d = board["diagnostics"]
    if not d["units"]:
        return [("p", "No deep-model units in this run.")]
    counts = ", ".join(f"{n} {k}" for k, n in d["counts"].items())
    rows = [[e["dataset"], e["model"], str(e["fold"]), e["diagnosis"],
             f"{e['best_epoch']} / {e['epochs']}" if e.get("best_epoch") else "—",
             fmt(e.get("train_loss")), fmt(e.get("valid_loss")), fmt(e.get("constant_loss")), e["reason"]]
            for e in d["units"]]
    blocks = [("p", f"Deep-model units: {counts}."),
              ("table", ["dataset", "model", "fold", "diagnosis", "best epoch / epochs", "train loss", "valid loss",
                         "constant loss", "reason"], rows, "llrlrrrrl"),
              ("p", d["method"].replace("\n", " ")),
              ("figure", "diagnostics")]
    if d["confusion_recorded"]:
        blocks.append(("figure", "confusion"))
    else:
        blocks.append(("p", "Confusion matrices: not recorded by this run's trial rows."))
    if d["misclassified_recorded"]:
        blocks.append(("figure", "misclassified"))
    elif any(e["modality"] == "image" for e in d["units"]):
        blocks.append(("p", "Misclassified images: not recorded by this run's trial rows."))
    return blocks


def provenance(board: dict) -> list:
    p = board["provenance"]
    timing = board["timing"]
    hw = p["hardware"]
    overhead = timing["overhead_fraction"]
    u = p["units"]
    items = [
        f"suite `{p['suite']}`, run `{p['run_id']}`; budget {budget_text(board)}; {p['folds']} outer fold(s); "
        f"seed {p['seed']} (per unit: a hash of seed, dataset, model and fold; per trial: that plus the trial "
        f"number); sampler {p['sampler']}; training rows capped at {p['max_train'] or 'no cap'}"
        + (f"; training sizes {p['train_sizes']}" if p["train_sizes"] else "") + f"; device {p['device']}",
        f"git revision {p['git_revision']}; Python {p['python']}; {hw['cpu']}, {hw['cores']} cores, "
        f"{hw['threads_per_unit']} thread(s) per unit" + (f"; GPU {hw['cuda_device']}" if hw.get("cuda_device") else "")
        + f"; {hw['platform']}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in sorted(p["packages"].items())),
        f"wall time {timing['wall_s']:.1f} s over {len(p['sittings'])} sitting(s); "
        f"model time {timing['model_s']:.1f} s; "
        f"harness overhead {fmt(None if overhead is None else 100 * overhead, 1)}% of worker time",
        "sittings: " + "; ".join(f"{s['started']} to {s['finished'] or 'unfinished'} ({s['workers']} worker(s))"
                                 for s in p["sittings"]),
        f"units: {u['expected']} expected, {u['recorded']} recorded, {u['done']} done, {u['failed']} failed, "
        f"{u['missing']} missing; applicability {p['applicability']}",
        "trials: " + ", ".join(f"{n} {s}" for s, n in board["trial_counts"].items()),
        f"imputation: {p['imputation']}",
    ]
    blocks = [("list", items)]
    if board["failures"]:
        blocks += [("h", "Failures"), ("p", "Failed or timed-out units: left out, never scored."),
                   ("table", ["dataset", "model", "fold", "training rows", "status", "error"],
                    [[f["dataset"], f["model"], str(f["fold"]), fmt(f["train_size"]), f["status"], f["error"] or ""]
                     for f in board["failures"]], "llrrll")]
    if p["missing_units"]:
        blocks += [("h", "Missing units"), ("p", "Expected by the run, not in the store."),
                   ("table", ["dataset", "model", "fold", "training rows"],
                    [[m["dataset"], m["model"], str(m["fold"]), fmt(m["train_size"])] for m in p["missing_units"]],
                    "llrr")]
    notes = [f"{d}: {'; '.join(info['notes'])}" for d, info in sorted(board["datasets"].items()) if info.get("notes")]
    if notes:
        blocks += [("p", "Dataset notes (hygiene):"), ("list", notes)]
    return blocks


SECTIONS = [
    ("leaderboard", "1. Leaderboard", leaderboard),
    ("per-dataset", "2. Per dataset", per_dataset),
    ("families", "3. Family against family", families),
    ("tuning", "4. Tuning curves", tuning),
    ("learning", "5. Learning curves", learning),
    ("cost", "6. Cost", cost),
    ("deep-wins", "7. Where deep learning wins", where_deep_wins),
    ("guidance", "8. Guidance", guidance),
    ("claims", "9. Claims", claims),
    ("diagnostics", "10. Diagnostics", diagnostics),
    ("provenance", "11. Provenance", provenance),
]


def build_sections(board: dict) -> list[tuple[str, str, list]]:
    """(anchor, title, blocks) for every section, in order."""
    return [(anchor, title, make(board)) for anchor, title, make in SECTIONS]
