"""Model-selection advice for a user's own data: similar datasets in the reference results,
then a short equal-budget comparison of the strongest model of each family on the data itself.

The recommendation rests on the user's own scores first: the family of the
best-scoring model, "clear" when it beats the runner-up on the same folds by a
corrected paired t-test, a tie otherwise (then the cheaper model is
recommended), and no family at all when no model beats the constant predictor
by more than noise. The similar datasets are context, shown with what won on them.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

# Compared after a log (counts) or as they are (shares): enough to tell a small, wide,
# categorical table from a large numeric one.
SIMILARITY_FEATURES = {
    "n_rows": "log", "n_features": "log", "categorical_share": "share", "missing_share": "share",
    "uninformative_share": "share", "skewness_mean_abs": "log",
}
DEFAULT_MODELS = {"tree": "lightgbm", "deep": "mlp", "classical": "linear"}
N_SIMILAR = 5
ADVICE_FOLDS = 3


def _vector(info: dict) -> np.ndarray:
    values = []
    for name, kind in SIMILARITY_FEATURES.items():
        value = info.get(name)
        value = 0.0 if value is None else float(value)
        values.append(math.log1p(max(value, 0.0)) if kind == "log" else value)
    return np.array(values)


def similar_datasets(meta: dict, task: str, reference: dict, n: int = N_SIMILAR) -> list[dict]:
    """The reference datasets nearest in meta-features (same kind of task), with each one's winner."""
    classification = task != "regression"
    candidates = {name: info for name, info in reference.get("datasets", {}).items()
                  if (info.get("task") != "regression") == classification and info.get("modality") == "tabular"}
    if not candidates:
        return []
    names = list(candidates)
    matrix = np.array([_vector(candidates[name]) for name in names])
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0
    distances = np.linalg.norm((matrix - _vector(meta)) / scale, axis=1)
    winners = {}
    for row in reference.get("results", []):
        if row.get("score") is not None and (row["dataset"] not in winners or row["score"] > winners[row["dataset"]]["score"]):
            winners[row["dataset"]] = row
    return [
        {"dataset": names[i], "distance": round(float(distances[i]), 3),
         "best_model": winners.get(names[i], {}).get("model"), "best_family": winners.get(names[i], {}).get("family")}
        for i in np.argsort(distances)[:n]
    ]


def strongest_per_family(reference: dict | None, supported: set[str]) -> dict[str, str]:
    """Per family, the model with the best mean normalised score in the reference (or a default)."""
    chosen = {}
    for model in (reference or {}).get("models", []):
        family, name = model.get("family"), model.get("name")
        if name in supported and family not in chosen and model.get("mean_normalized_score") is not None:
            chosen[family] = name  # models are listed best first
    for family, name in DEFAULT_MODELS.items():
        if family not in chosen and name in supported:
            chosen[family] = name
    return chosen


def _fold_scores(row: dict, key: str = "score") -> dict[int, float]:
    """{fold: value} over the folds the model really ran (imputed folds are not evidence)."""
    return {f["fold"]: f[key] for f in row.get("folds", []) if not f.get("imputed") and f.get(key) is not None}


def recommend(results: list[dict], folds: int = ADVICE_FOLDS, alpha: float = 0.05) -> dict:
    """The family to use, from the user's own cross-validated scores.

    Models are compared by their paired fold differences with the Nadeau-Bengio (2003) corrected
    resampled t-test (bench/stats.py): "clear" when the best model beats the runner-up at `alpha`,
    otherwise a "tie", which recommends the cheaper of the two. When the best model does not beat the
    constant predictor by more than that noise, no family is recommended.
    """
    from bench import stats

    ratio = stats.split_ratio(folds)
    ran = [r for r in results if r.get("status", "ok") in ("ok", "partial") and r["score"] is not None]
    scored = sorted(ran, key=lambda r: -r["score"])
    if not scored:
        return {"family": None, "model": None, "strength": "none", "reason": "no model produced a score"}
    best = scored[0]
    lead = stats.fold_differences(_fold_scores(best), _fold_scores(best, "baseline_score"))
    against_constant = stats.corrected_paired_t(lead, ratio) if lead else {"mean": None, "p_value": None}
    if against_constant["mean"] is not None and (against_constant["mean"] <= 0 or (
            against_constant["p_value"] is not None and against_constant["p_value"] >= alpha)):
        return {"family": None, "model": None, "strength": "none",
                "reason": f"no model beats the constant predictor by more than noise (the best, {best['model']}, "
                          f"leads it by {against_constant['mean']:+.4f} over the folds, p = "
                          f"{against_constant['p_value'] if against_constant['p_value'] is not None else float('nan'):.3f});"
                          " the features may not carry the target, or the data are too few to tell"}
    if len(scored) == 1:
        return {"family": best["family"], "model": best["model"], "strength": "weak",
                "reason": "only one model produced a score"}
    runner_up = scored[1]
    test = stats.corrected_paired_t(stats.fold_differences(_fold_scores(best), _fold_scores(runner_up)), ratio)
    if test["p_value"] is not None and test["p_value"] < alpha:
        return {"family": best["family"], "model": best["model"], "strength": "clear",
                "reason": f"{best['model']} scored {best['score']:.4f}, above {runner_up['model']} "
                          f"({runner_up['score']:.4f}) on the same folds (corrected paired t, p = {test['p_value']:.3f})"}
    cheaper = min((best, runner_up), key=lambda r: r.get("tuning_s") or math.inf)
    p_text = "" if test["p_value"] is None else f" (corrected paired t over the folds, p = {test['p_value']:.3f})"
    return {"family": cheaper["family"], "model": cheaper["model"], "strength": "tie",
            "reason": f"{best['model']} ({best['score']:.4f}) and {runner_up['model']} ({runner_up['score']:.4f}) "
                      f"are not told apart on the same folds{p_text}; {cheaper['model']} is the cheaper of the two",
            "cheaper": cheaper["model"]}


def render(advice: dict) -> str:
    r = advice["recommendation"]
    lines = [f"# Advice for `{advice['dataset']}` ({advice['task']}, {advice['meta']['n_rows']:,} rows, "
             f"{advice['meta']['n_features']} features)", "",
             f"**Recommendation: {r['family'] or 'none'}** ({r['model'] or '—'}; evidence {r['strength']}). "
             f"{r['reason']}.", "",
             f"## Your data: {advice['budget_s']:.1f} s of equal budget per model and fold, {advice['folds']} folds", "",
             "| model | family | score | 95% interval | folds |", "| --- | --- | ---: | --- | ---: |"]
    for row in advice["results"]:
        interval = "—" if row["ci_low"] is None else f"{row['ci_low']:.4f} – {row['ci_high']:.4f}"
        ran = row.get("status", "ok") in ("ok", "partial") and row["score"] is not None
        score = f"{row['score']:.4f}" if ran else row.get("status", "failed")
        lines.append(f"| {row['model']} | {row['family']} | {score} | {interval} | {row['folds_done']} |")
    lines += ["", "## Similar datasets in the reference results", ""]
    if advice["similar"]:
        lines += ["| dataset | distance | best model there | family |", "| --- | ---: | --- | --- |"]
        lines += [f"| {s['dataset']} | {s['distance']} | {s['best_model']} | {s['best_family']} |"
                  for s in advice["similar"]]
        families = [s["best_family"] for s in advice["similar"] if s["best_family"]]
        if families:
            top = max(set(families), key=families.count)
            lines += ["", f"On the {len(families)} most similar datasets, {top} won {families.count(top)} time(s)."]
    else:
        lines.append(f"No reference results found ({advice['reference']}); only your own scores count.")
    return "\n".join(lines) + "\n"


def reference_board(path: Path | None) -> dict | None:
    """The reference leaderboard at `path`, or the one shipped with the package when `path` is None."""
    from bench.compare import CompareError, load_leaderboard

    if path is None:
        from bench.reports import REFERENCE

        path = Path(str(REFERENCE))
    if not Path(path).exists():
        return None
    try:
        return load_leaderboard(Path(path))
    except CompareError:
        return None


def advise(file: str, target: str, task: str | None = None, seconds: float = 180.0, reference: str | None = None,
           workers: int | None = None, device: str = "auto", out: str | None = None, cache: str | None = None,
           progress: bool = True) -> tuple[dict, str, Path]:
    """Compare the strongest model of each family on the user's file at an equal wall-time budget.

    Writes the run's store, report, advice.json and advice.md to `out` (default
    reports/advise/<name>); returns the advice, its text and the folder."""
    from bench.config import RunConfig, check_positive, resolve_device, workers_for
    from bench.data import card_from_file, dataset_summary, default_cache_dir
    from bench.isolation import Limits
    from bench.models import registry
    from bench.report import write_report
    from bench.runner import execute
    from bench.store import Store
    from bench.threads import threads_per_unit

    check_positive(seconds, "--seconds")
    card = card_from_file(file, target, task)
    cache_dir = Path(cache) if cache else default_cache_dir()
    meta = dataset_summary(card, cache_dir)
    board = reference_board(Path(reference) if reference else None)
    specs = registry()
    supported = {name for name, spec in specs.items() if spec.supports(card.task, card.modality)}
    models = strongest_per_family(board, supported)
    workers = workers_for(workers)
    # Every model gets the same wall time per fold; units run `workers` at a time.
    per_unit = seconds * max(1, workers) / (len(models) * ADVICE_FOLDS)
    config = RunConfig(suite="advise", datasets=(card.name,), models=tuple(models.values()), trials=None,
                       seconds=round(per_unit, 1), folds=ADVICE_FOLDS, seed=0, max_train=None, sampler="tpe",
                       device=resolve_device(device))
    folder = Path(out or Path("reports") / "advise" / card.name)
    store = Store(folder / "results.sqlite")
    print(f"advise: {card.name} ({card.task}, {meta['n_rows']:,} rows): {', '.join(models.values())}, "
          f"{per_unit:.0f} s per model and fold, {ADVICE_FOLDS} folds", file=sys.stderr)
    with store.exclusive():
        execute(config, store, {card.name: card}, specs, cache_dir, workers, threads_per_unit(workers),
                None, Limits(wall_s=per_unit * 2 + 60), progress=progress)
    results = write_report(store, config.run_id, folder)["results"]
    advice = {
        "dataset": card.name, "task": card.task, "meta": meta, "budget_s": per_unit, "folds": ADVICE_FOLDS,
        "reference": str(reference or "the packaged reference (reports/standard)"), "results": results,
        "similar": similar_datasets(meta, card.task, board) if board else [],
        "recommendation": recommend(results, ADVICE_FOLDS),
    }
    (folder / "advice.json").write_text(json.dumps(advice, indent=2, default=str) + "\n")
    text = render(advice)
    (folder / "advice.md").write_text(text)
    return advice, text, folder
