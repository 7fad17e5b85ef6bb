"""leaderboard.md: the leaderboard as a reader meets it."""
from __future__ import annotations

from collections import defaultdict


def _fmt(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _budget(board: dict) -> str:
    parts = []
    if board["budget"]["trials"]:
        parts.append(f"{board['budget']['trials']} trials")
    if board["budget"]["seconds"]:
        parts.append(f"{board['budget']['seconds']:g} s")
    return " or ".join(parts) + " per unit"


def _models_table(board: dict) -> list[str]:
    lines = [
        "| model | family | mean normalised score | mean rank | wins | datasets |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for m in board["models"]:
        lines.append(
            f"| {m['name']} | {m['family']} | {_fmt(m['mean_normalized_score'], 3)} | "
            f"{_fmt(m['mean_rank'], 2)} | {m['wins']} | {m['n_datasets']} |"
        )
    return lines


def _dataset_table(board: dict) -> list[str]:
    models = [m["name"] for m in board["models"]]
    cells = defaultdict(dict)
    for row in board["results"]:
        cells[row["dataset"]][row["model"]] = row
    lines = [
        "| dataset | modality | task | metric | " + " | ".join(models) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---:" for _ in models) + " |",
    ]
    for dataset, info in sorted(board["datasets"].items()):
        row_cells = cells.get(dataset, {})
        scored = [r["score"] for r in row_cells.values() if r["score"] is not None]
        best = max(scored) if scored else None
        rendered = []
        for model in models:
            r = row_cells.get(model)
            if r is None:
                rendered.append("n/a")
            elif r["score"] is None:
                rendered.append(r["status"])
            else:
                text = _fmt(r["score"])
                if r["folds_done"] > 1:
                    text += f" ± {_fmt((r['ci_high'] - r['ci_low']) / 2, 4)}"
                if r["score"] == best:
                    text = f"**{text}**"
                if r["status"] == "partial":
                    text += " (partial)"
                rendered.append(text)
        lines.append(f"| {dataset} | {info['modality']} | {info['task']} | {info['metric']} | " + " | ".join(rendered) + " |")
    return lines


def render_markdown(board: dict) -> str:
    env = board["environment"]
    timing = board["timing"]
    lines = [
        f"# Leaderboard: suite `{board['suite']}`",
        "",
        f"Budget: {_budget(board)}; {board['folds']} outer fold(s); seed {board['seed']}; "
        f"sampler {board['sampler']}; train rows capped at {board['max_train'] or 'no cap'}; device {board['device']}.",
        "",
        "Each score is the test score of the trial with the best validation score, averaged over folds "
        "(± half-width of a 95% t-interval when there are several folds). The normalised score puts the best "
        "model on each dataset at 1 and the constant predictor (majority class, or the train mean) at 0.",
        "",
        "## Models",
        "",
        *_models_table(board),
        "",
        "## Per dataset",
        "",
        *_dataset_table(board),
        "",
    ]
    if board["failures"]:
        lines += ["## Failures", "",
                  "Units without a scored trial; they count as missing, never as a score.", "",
                  "| dataset | model | fold | status | error |", "| --- | --- | ---: | --- | --- |"]
        lines += [f"| {f['dataset']} | {f['model']} | {f['fold']} | {f['status']} | {f['error']} |"
                  for f in board["failures"]]
        lines.append("")
    overhead = timing["overhead_fraction"]
    lines += [
        "## Run",
        "",
        f"- wall time {timing['wall_s']:.1f} s over {board['sittings']} sitting(s); model time {timing['model_s']:.1f} s; "
        f"harness overhead {_fmt(None if overhead is None else 100 * overhead, 1)}% of worker time",
        f"- trials: " + ", ".join(f"{n} {s}" for s, n in board["trial_counts"].items()),
        f"- git revision {env.get('git_revision')}; Python {env.get('python')}; {env.get('cpu')}, "
        f"{env.get('cores')} cores, {env.get('threads_per_unit')} thread(s) per unit",
        "- packages: " + ", ".join(f"{k} {v}" for k, v in sorted(env.get("packages", {}).items())),
        "",
    ]
    return "\n".join(lines)
