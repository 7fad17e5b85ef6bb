"""Against the literature: for the datasets the suite shares with published benchmarks, each published number
beside the suite's own, with its source and protocol, and the gap.

The published numbers are data (literature.toml, one [[published]] entry per number, each read in the source
it cites). A number is compared only on the metric it was published in: where the run's primary metric is
another, the chosen trials' test metrics are read if the results rows carry them, and otherwise the row says
"not comparable". The suite's number is the report's cell (section 2): the mean test score over the run's outer
folds, imputed folds included and said so. A gap is ours minus published, in the metric's own direction
(for a loss, a negative gap means ours is lower).
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from bench.metrics import HIGHER_IS_BETTER
from bench.report.formatting import budget_text, fmt

LITERATURE_FILE = Path(__file__).with_name("literature.toml")
REQUIRED = {"dataset": str, "model": str, "published_model": str, "metric": str, "value": float,
            "source": str, "protocol": str}
OPTIONAL = {"note": str}


def _check_entry(path: Path, number: int, entry) -> dict:
    where = f"{path}: [[published]] #{number}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be a table of fields {', '.join(REQUIRED)}")
    where += f" ({entry.get('dataset', '?')}, {entry.get('model', '?')})"
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; valid: "
                         f"{', '.join([*REQUIRED, *OPTIONAL])}")
    for field, kind in {**REQUIRED, **OPTIONAL}.items():
        if field not in entry:
            if field in REQUIRED:
                raise ValueError(f"{where}: missing field `{field}`")
            continue
        value = entry[field]
        # TOML writes 1 for 1.0; a bool is an int to Python but never a number here.
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = entry[field] = float(value)
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            raise ValueError(f"{where}: `{field}` must be a {'number' if kind is float else 'non-empty string'}, "
                             f"got {value!r}")
    if entry["metric"] not in HIGHER_IS_BETTER:
        raise ValueError(f"{where}: unknown metric {entry['metric']!r}; valid: {', '.join(HIGHER_IS_BETTER)}")
    return entry


def load_published(path: Path | str | None = None) -> list[dict]:
    """The published numbers of a TOML file (default: the packaged literature.toml), checked: an unknown or
    missing field, or a value of the wrong type, is a ValueError naming the file, the entry and the field."""
    path = Path(path) if path else LITERATURE_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read published numbers from {path}: {error}") from None
    extra = sorted(set(raw) - {"published"})
    if extra:
        raise ValueError(f"{path}: unknown top-level key(s) {', '.join(extra)}; only [[published]] entries")
    entries = raw.get("published", [])
    if not isinstance(entries, list):
        raise ValueError(f"{path}: `published` must be an array of tables ([[published]])")
    return [_check_entry(path, i + 1, entry) for i, entry in enumerate(entries)]


def _ours(row: dict, metric: str) -> tuple[float | None, str]:
    """The run's number on `metric` for a results row, and what the reader should know about it."""
    imputed = sum(1 for f in row["folds"] if f.get("imputed"))
    caveat = f"{imputed} of {len(row['folds'])} folds imputed" if imputed else ""
    if row["metric"] == metric:
        return row["score"], caveat
    # Another metric than the run's primary one: only the chosen trials' own test metrics can answer, and only
    # if every fold has one (an imputed fold has no trial, so no secondary metric).
    values = [(f.get("test_metrics") or {}).get(metric) for f in row["folds"]]
    if values and all(v is not None for v in values):
        return sum(values) / len(values), f"{metric} of the chosen trials (the run scored {row['metric']})"
    return None, f"not comparable: the run scored {row['metric']}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def literature(board: dict, published: list[dict] | None = None) -> dict:
    """Each published number matched to the run's results row for its dataset and model: {"rows": [...]}, one
    row per published entry whose dataset the run holds, and {"not_run": [...]}, the datasets it does not."""
    published = load_published() if published is None else published
    cells = {(r["dataset"], r["model"]): r for r in board["results"]}
    rows, not_run = [], set()
    for entry in published:
        if entry["dataset"] not in board["datasets"]:
            not_run.add(entry["dataset"])
            continue
        row = cells.get((entry["dataset"], entry["model"]))
        if row is None:
            ours, why, train_rows = None, f"the run has no {entry['model']} on {entry['dataset']}", None
        else:
            (ours, why), train_rows = _ours(row, entry["metric"]), row.get("n_train")
        rows.append({
            "dataset": entry["dataset"], "model": entry["model"], "published_model": entry["published_model"],
            "metric": entry["metric"], "published": entry["value"], "ours": ours,
            "gap": None if ours is None else ours - entry["value"], "train_rows": train_rows,
            "source": entry["source"], "protocol": entry["protocol"], "note": _join(why, entry.get("note", "")),
        })
    return {"rows": rows, "not_run": sorted(not_run)}


# Errors in the target's units differ in scale from dataset to dataset: their gaps are pooled as a share of the
# published number.
RELATIVE = {"rmse", "mae"}


def by_model(rows: list[dict]) -> list[dict]:
    """Per model and metric, over the rows with both numbers: how many, the median gap (for an error in the
    target's units, as a share of the published number), and in how many ours is ahead (higher, or lower for a
    loss). Gaps of different metrics are never pooled."""
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["gap"] is not None:
            gap = r["gap"] / abs(r["published"]) if r["metric"] in RELATIVE and r["published"] else r["gap"]
            groups.setdefault((r["model"], r["metric"]), []).append(gap)
    out = []
    for (model, metric), gaps in sorted(groups.items()):
        sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
        out.append({"model": model, "metric": metric, "n": len(gaps), "median_gap": float(np.median(gaps)),
                    "relative": metric in RELATIVE, "ours_ahead": sum(1 for g in gaps if sign * g > 0)})
    return out


def our_protocol(board: dict) -> str:
    """The run's protocol in the words the published protocols use."""
    cap = f"at most {board['max_train']:,} training rows" if board.get("max_train") else "no training-row cap"
    return (f"{board['folds']} outer fold(s) (a dataset with a published test split keeps it as its one fold), "
            f"{cap}, tuning budget {budget_text(board)} with a validation part carved from the training rows, "
            f"seed {board['seed']}; the score is the mean test score over the folds of the trial with the best "
            f"validation score")


def render(board: dict) -> list:
    """Against the literature: a table of published numbers beside the run's, their sources and protocols, and
    how the protocols differ."""
    result = board.get("literature") or literature(board)
    if not result["rows"]:
        return [("p", "None of the run's datasets has a published number in `literature.toml`"
                      + (f" (published numbers exist for {', '.join(result['not_run'])})." if result["not_run"]
                         else "."))]
    # Each row points to its source by number, so that a long citation is written once.
    sources = list(dict.fromkeys((r["source"], r["protocol"]) for r in result["rows"]))
    table = [[r["dataset"], f"{r['model']} ({r['published_model']})", r["metric"], fmt(r["published"]),
              fmt(r["ours"]), fmt(r["gap"]), fmt(r["train_rows"]),
              f"[{sources.index((r['source'], r['protocol'])) + 1}]", r["note"] or "—"] for r in result["rows"]]
    digest = [[g["model"], g["metric"], g["n"], f"{g['median_gap']:+.1%}" if g["relative"] else fmt(g["median_gap"]),
               f"{g['ours_ahead']} of {g['n']}"]
              for g in by_model(result["rows"])]
    blocks = [
        ("p", "By model: the published numbers this run can be set against, per model and metric (gaps of "
              "different metrics are not pooled), with the median gap (for RMSE and MAE, in the target's units, "
              "as a share of the published number) and how often ours is ahead."),
        ("table", ["model", "metric", "numbers", "median gap", "ours ahead"], digest, "llrrr"),
    ] if digest else []
    blocks += [
        ("table", ["dataset", "model (published as)", "metric", "published", "ours", "gap", "our train rows",
                   "source", "note"], table, "lllrrrrll"),
        ("list", [f"[{i}] {source}. Protocol: {protocol}." for i, (source, protocol) in enumerate(sources, 1)]),
        ("p", "Gap: ours minus published, in the metric's own units (for a loss, negative means ours is lower). "
              "Ours: " + our_protocol(board) + ". The protocols differ, so a gap is a sanity check, not a "
              "ranking: the published numbers come from their own splits (often one fixed test split where we "
              "average over folds), their own training-set sizes (ours are capped as above), their own tuning "
              "budgets (often far larger than ours, or not stated) and sometimes another version of the dataset "
              "(the note says where). A published percent printed to whole digits is exact only to ±0.005."),
    ]
    if result["not_run"]:
        blocks.append(("p", f"Published numbers for datasets not in this run: {', '.join(result['not_run'])}."))
    return blocks
