"""Subset leaderboards, as TabArena shows them: the leaderboard again over the datasets of one modality, one
task or one size band, each over the datasets of the subset on which every one of its models has a complete
cell and that carry signal, with the models that apply to every dataset of the subset.

Size bands by the dataset's rows (its meta-features, before any training cap): small up to 1,000 rows (the
small-data claim's bound), medium up to 10,000, large beyond.
"""
from __future__ import annotations

from bench.report import per_dataset
from bench.report.formatting import fmt

SIZE_BANDS = (("small (<= 1,000 rows)", 0, 1_000), ("medium (1,001-10,000 rows)", 1_001, 10_000),
              ("large (> 10,000 rows)", 10_001, None))
MIN_DATASETS = 2  # a subset of one dataset is that dataset's row in section 2


def subsets(board: dict) -> list[tuple[str, str, list[str]]]:
    """(kind, name, datasets) of every subset of the run's datasets by modality, task and size band."""
    info = board["datasets"]
    out = []
    for kind, key in (("modality", "modality"), ("task", "task")):
        for value in sorted({i[key] for i in info.values()}):
            out.append((kind, value, sorted(d for d, i in info.items() if i[key] == value)))
    for name, low, high in SIZE_BANDS:
        out.append(("size", name, sorted(d for d, i in info.items()
                                         if i.get("n_rows") is not None and low <= i["n_rows"]
                                         and (high is None or i["n_rows"] <= high))))
    return [s for s in out if s[2]]


def subset_leaderboards(board: dict) -> list[dict]:
    """One leaderboard per subset (`subsets`) with at least MIN_DATASETS common datasets."""
    from bench.report.leaderboard import _aggregate

    coverage = board["provenance"]["coverage"]
    cells = {(r["dataset"], r["model"]): r for r in board["results"]}
    no_signal = set(board["no_signal_datasets"])
    family = {m["name"]: m["family"] for m in board["models"]}
    out = []
    for kind, name, datasets in subsets(board):
        competitors = [m for m in coverage if not set(datasets) & set(coverage[m]["not_applicable"])]
        if not competitors:
            continue
        common, lacking = per_dataset.common_datasets(board["results"], competitors, datasets, no_signal)
        if len(common) < MIN_DATASETS:
            continue
        rows = [{"name": m, "family": family.get(m), **_aggregate(m, cells, competitors, common)} for m in competitors]
        rows.sort(key=lambda r: (-(r["mean_normalized_score"] or 0), r["name"]))
        out.append({"kind": kind, "name": name, "datasets": common, "n_datasets": len(common),
                    "lacking": lacking, "rows": rows})
    return out


def render(board: dict) -> list:
    """The subset leaderboards, as blocks of section 1."""
    entries = board.get("subsets") or []
    if not entries:
        return []
    blocks = [("h", "Subsets: by modality, task and size"),
              ("p", "The leaderboard again over the datasets of one modality, one task or one size band (rows of the "
                    "dataset: small up to 1,000, medium up to 10,000, large beyond), each over the datasets of the "
                    "subset where every model that applies to all of them has a complete cell and that carry "
                    "signal; numbers compare only within a subset. Models that apply to only part of a subset (the "
                    "CNN where tables are in it) are left out of it.")]
    for entry in entries:
        rows = [[r["name"], r["family"] or "", fmt(r["mean_normalized_score"]), fmt(r["mean_rank"], 2), str(r["wins"])]
                for r in entry["rows"]]
        blocks += [("p", f"**{entry['kind']}: {entry['name']}** ({entry['n_datasets']} datasets"
                         + (f"; {len(entry['lacking'])} left out where a model lacks a complete cell"
                            if entry["lacking"] else "") + ")"),
                   ("table", ["model", "family", "norm. score", "mean rank", "wins"], rows, "llrrr")]
    return blocks
