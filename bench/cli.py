"""The `bench` command: parses the command line and dispatches; the work is done where it belongs
(a run's configuration in bench/config.py, runs in bench/runner.py, advice in bench/advise.py)."""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from bench.config import DEFAULT_UNIT_TIMEOUT_S, DEVICES
from bench.contract import split_names
from bench.threads import cores


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _claims(args) -> Path | None:
    if not args.claims:
        return None
    if not Path(args.claims).is_file():
        raise UsageError(f"--claims {args.claims}: no such file")
    return Path(args.claims)


def _catalogue_dir(args) -> Path | None:
    if not args.catalogue:
        return None
    folder = Path(args.catalogue)
    if not folder.is_dir():
        raise UsageError(f"--catalogue {folder}: not a folder of dataset cards")
    return folder


def cmd_run(args) -> int:
    from bench.config import check_names, run_config, threads_for, unit_limits, workers_for
    from bench.data import catalogue, default_cache_dir
    from bench.data.suites import suites
    from bench.executor import ExecutorError
    from bench.models import registry
    from bench.runner import execute
    from bench.store import Store, StoreError

    known_suites = suites()
    suite_name = args.suite or "quick"
    check_names((suite_name,), known_suites, "suite")
    cards, specs = catalogue(_catalogue_dir(args)), registry()
    config = run_config(
        known_suites[suite_name], cards, specs, datasets=args.datasets, models=args.models, target=args.target,
        task=args.task, trials=args.trials, seconds=args.seconds, folds=args.folds, seed=args.seed,
        max_train=args.max_train, sampler=args.sampler, device=args.device, train_sizes=args.train_sizes,
        metric=args.metric, named_suite=bool(args.suite))
    workers = workers_for(args.workers)
    threads = threads_for(workers, args.threads, args.scheduler)
    limits = unit_limits(config, workers, args.unit_memory, args.unit_timeout)
    claims_file = _claims(args)  # checked before the run, not after it
    shard = _shard(args.shard)
    cost_sources = [Path(p) for p in split_names(args.cost_from or "")]
    out = Path(args.out or Path("reports") / config.suite)
    store_path = Path(args.store) if args.store else out / "results.sqlite"
    cache_dir = Path(args.cache) if args.cache else default_cache_dir()
    if args.dry_run:
        from bench.runner import dry_run

        store = Store(store_path, create=False) if store_path.exists() else Store(Path(":memory:"))
        return _print_dry_run(config, dry_run(config, store, cards, specs, cache_dir, max(1, workers), threads,
                                               shard, cost_sources), shard)
    store = Store(store_path)
    budget = " or ".join(filter(None, [config.trials and f"{config.trials} trials",
                                       config.seconds and f"{config.seconds:g} s"]))
    cap = f"training rows capped at {config.max_train:,}" if config.max_train else "no cap on training rows"
    inherited = [what for what, given in (("budget", args.trials or args.seconds), ("folds", args.folds),
                                          ("cap", args.max_train is not None)) if not given]
    origin = f" ({', '.join(inherited)} from suite {suite_name})" if config.suite == "custom" and inherited else ""
    print(f"run {config.run_id}: suite {config.suite}, {len(config.datasets)} datasets x {len(config.models)} models "
          f"x {config.folds} fold(s), {budget} per unit, {cap}{origin}; {workers or 'in-process'} worker(s) x "
          f"{threads} thread(s), device {config.device}", file=sys.stderr)
    # A stop from outside (a job scheduler's SIGTERM, the end of a working session) ends the sitting as Ctrl-C
    # does: the finished units are kept and the sitting records its end and progress; the exit waits for the
    # units still running to end (at their deadline or unit timeout), so that none outlives the run.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with store.exclusive():
            summary = execute(config, store, cards, specs, cache_dir, workers, threads, args.scheduler, limits,
                              progress=not args.no_progress, shard=shard, cost_sources=cost_sources)
    except (ExecutorError, StoreError) as error:
        raise UsageError(str(error)) from None
    from bench.report import write_report  # here: scipy and matplotlib cost the cold start a second

    board = write_report(store, config.run_id, out, claims_file=claims_file)
    guess = (summary.get("estimate") or {}).get("wall_s")
    print(f"ran {summary['units']} unit(s) ({summary['trials']} trials, {summary['failed_units']} failed), "
          f"skipped {summary['skipped']} finished; {summary['wall_s']:.1f} s"
          + (f" (estimated {guess:.0f} s: {summary['wall_s'] / guess:.2f}x)" if guess else ""), file=sys.stderr)
    _print_models(board)
    print(f"wrote {out / 'leaderboard.md'} and {out / 'leaderboard.json'}; store {store.path}")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _shard(text: str | None) -> tuple[int, int] | None:
    """--shard I/N: the I-th of N shares of the units (1 <= I <= N)."""
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text}: write it as I/N, e.g. 2/4 for the second of four shares") from None
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: I must be between 1 and N")
    return index, count


def _print_dry_run(config, result: dict, shard: tuple[int, int] | None) -> int:
    share = f", shard {shard[0]}/{shard[1]}" if shard else ""
    print(f"dry run of {config.run_id} (suite {config.suite}{share}): {result['to_run']} of {result['total_units']} "
          f"unit(s) to run; nothing was run or written")
    for row in result["units"]:
        print(f"  {row['dataset']:<28} {row['model']:<40} {row['units']:>3} unit(s)")
    from bench.estimate import describe_estimate

    print(describe_estimate(result["estimate"]))
    return 0


def _print_models(board: dict) -> None:
    width = max([len("model")] + [len(m["name"]) for m in board["models"]]) + 2
    print(f"{'model':<{width}}{'family':<11}{'norm. score':>12}{'mean rank':>11}{'datasets':>10}")
    for m in board["models"]:
        score = "—" if m["mean_normalized_score"] is None else f"{m['mean_normalized_score']:.3f}"
        rank = "—" if m["mean_rank"] is None else f"{m['mean_rank']:.2f}"
        print(f"{m['name']:<{width}}{m['family']:<11}{score:>12}{rank:>11}{m['n_datasets']:>10}")


def _open_run(store_path: str | None, out: str | None, run: str | None):
    """The store and run a command reads: --store, or results.sqlite in --out; the latest run by default."""
    from bench.store import Store, StoreError

    if not store_path and not out:
        raise UsageError("needs --store PATH or --out DIR (holding results.sqlite)")
    path = Path(store_path) if store_path else Path(out) / "results.sqlite"
    try:
        store = Store(path, create=False)
        runs = store.runs()
    except StoreError as error:
        raise UsageError(str(error)) from None
    except Exception as error:
        raise UsageError(f"{path} is not a readable results store ({error})") from None
    if not runs:
        raise UsageError(f"{path} holds no runs")
    by_id = {r["run_id"]: r for r in runs}
    run_id = run or runs[-1]["run_id"]
    if run_id not in by_id:
        raise UsageError(f"no run {run_id!r} in {path}; runs there: {', '.join(by_id)}")
    return store, run_id


def cmd_report(args) -> int:
    import tempfile

    from bench.export import import_export
    from bench.report import write_report
    from bench.store import Store

    if args.export:
        if not args.out:
            raise UsageError("bench report --export FILE needs --out DIR")
        if not Path(args.export).is_file():
            raise UsageError(f"{args.export}: no such export file")
        scratch = tempfile.TemporaryDirectory()
        store = Store(Path(scratch.name) / "results.sqlite")
        run_id = import_export(Path(args.export), store)
        out = Path(args.out)
    else:
        store, run_id = _open_run(args.store, args.out, args.run)
        out = Path(args.out) if args.out else store.path.parent
    board = write_report(store, run_id, out, claims_file=_claims(args))
    _print_models(board)
    print(f"wrote {out / 'leaderboard.md'} and {out / 'leaderboard.json'}")
    return 0


def cmd_export(args) -> int:
    from bench.export import EXPORT_NAME, export_predictions, export_run

    store, run_id = _open_run(args.store, None, args.run)
    if args.predictions:
        counts = export_predictions(store, run_id, Path(args.predictions))
        print(f"wrote {args.predictions} ({counts['rows']} rows from {counts['trials']} trials, run {run_id})")
    if args.out or not args.predictions:
        path = export_run(store, run_id, Path(args.out) if args.out else store.path.parent / EXPORT_NAME)
        print(f"wrote {path} (run {run_id})")
    return 0


def cmd_merge(args) -> int:
    from bench.merge import merge

    counts = merge([Path(p) for p in args.sources], Path(args.out))
    print(f"merged run {counts['run_id']} from {counts['sources']} piece(s) into {counts['out']}: "
          f"{counts['units']} unit(s) added, {counts['duplicates']} already there")
    return 0


def cmd_compare(args) -> int:
    from bench.compare import compare, load_leaderboard

    if args.tolerance < 0:
        raise UsageError(f"--tolerance must be 0 or more, got {args.tolerance:g}")
    baseline, current = load_leaderboard(Path(args.baseline)), load_leaderboard(Path(args.current))
    changes = compare(baseline, current, args.tolerance,
                      set(split_names(args.datasets)) if args.datasets else None,
                      set(split_names(args.models)) if args.models else None)
    if not changes:
        raise UsageError("no (dataset, model) cell of the baseline is guarded; check --datasets and --models")
    regressions = [c for c in changes if c.is_regression]
    print(f"{'dataset':<24}{'model':<22}{'baseline':>10}{'current':>10}{'change':>10}{'band':>9}  verdict")
    for c in changes:
        cells = [f"{v:>10.4f}" if v is not None else f"{'—':>10}" for v in (c.baseline, c.current, c.delta)]
        band = f"{c.band:>9.4f}" if c.band is not None else f"{'—':>9}"
        print(f"{c.dataset:<24}{c.model:<22}{''.join(cells)}{band}  {c.verdict}")
    if regressions:
        print(f"{len(regressions)} regression(s), worst first: "
              + "; ".join(f"{c.dataset}/{c.model} ({c.verdict})" for c in regressions), file=sys.stderr)
        return 1
    print(f"no regression in {len(changes)} cell(s)", file=sys.stderr)
    return 0


def cmd_advise(args) -> int:
    from bench.advise import advise

    _, text, folder = advise(args.file, args.target, args.task, args.seconds, args.reference, args.workers,
                             args.device, args.out, args.cache, progress=not args.no_progress)
    print(text)
    print(f"wrote {folder / 'advice.md'} and {folder / 'advice.json'}", file=sys.stderr)
    return 0


def cmd_datasets(args) -> int:
    from bench.data import catalogue, dataset_summary

    cache_dir = Path(args.cache) if args.cache else None
    rows = [dataset_summary(card, cache_dir) for card in catalogue(_catalogue_dir(args)).values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':<29}{'task':<12}{'modality':<10}{'rows':>8}{'features':>10}{'categ.':>8}{'missing':>9}  source")
    for r in rows:
        print(f"{r['name']:<29}{r['task']:<12}{r['modality']:<10}{r['n_rows']:>8}{r['n_features']:>10}"
              f"{r['n_categorical']:>8}{r['missing_share']:>9.3f}  {r['source']}")
    return 0


def cmd_models(args) -> int:
    from bench.models import registry

    rows = [{"name": s.name, "family": s.family, "tasks": sorted(s.tasks), "modalities": sorted(s.modalities),
             "defaults": s.defaults, "source": s.source} for s in registry().values()]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    width = max(len(r["name"]) for r in rows) + 2
    print(f"{'name':<{width}}{'family':<11}{'tasks':<31}{'modalities':<26}source")
    for r in rows:
        source = r["source"] if len(r["source"]) <= 70 else r["source"][:67] + "..."
        print(f"{r['name']:<{width}}{r['family']:<11}{','.join(r['tasks']):<31}{','.join(r['modalities']):<26}{source}")
    return 0


def cmd_suites(args) -> int:
    from bench.data.suites import suites

    rows = [{"name": s.name, "description": s.description, "datasets": list(s.datasets), "models": list(s.models),
             "trials": s.trials, "seconds": s.seconds, "folds": s.folds, "max_train": s.max_train}
            for s in suites().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        budget = " or ".join(filter(None, [r["trials"] and f"{r['trials']} trials", r["seconds"] and f"{r['seconds']:g} s"]))
        print(f"{r['name']}: {r['description']}\n  {len(r['datasets'])} datasets, {len(r['models'])} models, "
              f"{budget} per unit, {r['folds']} fold(s)")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bench", description="Equal-budget benchmark: when do deep nets beat trees and classical baselines?")
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="tune every model on every dataset of a suite and write the leaderboard")
    run.add_argument("--suite", help="suite card name (default: quick); see `bench suites`")
    run.add_argument("--datasets", help="comma-separated dataset names, overriding the suite's")
    run.add_argument("--models", help="comma-separated model names, overriding the suite's")
    run.add_argument("--target", help="target column of a dataset given as a CSV or Parquet path")
    run.add_argument("--task", choices=("binary", "multiclass", "regression"),
                     help="task of a dataset given as a path (default: inferred from the target)")
    run.add_argument("--catalogue", help="a folder of your own dataset cards, added to the packaged ones")
    run.add_argument("--trials", type=int, help="trials per unit (dataset x model x fold)")
    run.add_argument("--seconds", type=float, help="seconds of wall time per unit")
    run.add_argument("--folds", type=int, help="outer folds (1 = a single 80/20 holdout)")
    run.add_argument("--seed", type=int, help="seed of splits and samplers")
    run.add_argument("--max-train", type=int, help="cap on training rows per fold (validation is capped in "
                                                  "proportion); 0 = no cap (default: the suite's)")
    run.add_argument("--sampler", help="tpe (default) or random")
    run.add_argument("--metric", help="the metric that scores and selects: a name for every task that has it "
                                      "(accuracy, balanced_accuracy, log_loss, roc_auc, r2, rmse, mae) or "
                                      "task=name pairs; default binary=roc_auc, multiclass=log_loss, regression=r2")
    run.add_argument("--train-sizes", help="learning curves: comma-separated training sizes, one unit each "
                                           "(nested subsets; sizes above what a dataset holds are skipped)")
    run.add_argument("--workers", type=int, help=f"units run at once (default: cores = {cores()}; 0 = one at a time, without Dask)")
    run.add_argument("--threads", type=int, help="threads per unit (default: cores // workers, the most that "
                                                  "does not oversubscribe)")
    run.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://127.0.0.1:8786")
    run.add_argument("--device", choices=DEVICES, default="auto", help="where nets train (auto: CUDA when present)")
    run.add_argument("--out", help="output directory (default: reports/<suite>)")
    run.add_argument("--store", help="results store (default: <out>/results.sqlite)")
    run.add_argument("--cache", help="dataset cache directory (default: $BENCH_CACHE or ~/.cache/bench)")
    run.add_argument("--unit-memory", type=float,
                     help="memory limit per unit in GB (default: the machine's memory / workers)")
    run.add_argument("--unit-timeout", type=float,
                     help=f"wall-clock limit per unit in seconds (default: {DEFAULT_UNIT_TIMEOUT_S:g}, "
                          "or twice --seconds if that is longer)")
    run.add_argument("--claims", help="a TOML file of claims to test in the report (default: the packaged ones)")
    run.add_argument("--shard", metavar="I/N", help="run the I-th of N deterministic shares of the units (balanced "
                                                    "by expected cost), for machines without a shared cluster; "
                                                    "combine their stores with `bench merge`")
    run.add_argument("--dry-run", action="store_true", help="print the units and an estimate of the wall time "
                                                            "from a cost model fitted to stored runs; run nothing")
    run.add_argument("--cost-from", metavar="PATHS", help="comma-separated stores or exports to fit the cost model "
                                                          "on, besides the run's store and the packaged references")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=cmd_run)

    report = commands.add_parser("report", help="rebuild the leaderboard from a results store")
    report.add_argument("--store", help="results store (default: <out>/results.sqlite)")
    report.add_argument("--out", help="output directory (default: the store's directory)")
    report.add_argument("--run", help="run id (default: the latest run in the store)")
    report.add_argument("--export", help="rebuild from a results export (results.jsonl.gz) instead of a store")
    report.add_argument("--claims", help="a TOML file of claims to test (default: the packaged ones)")
    report.set_defaults(handler=cmd_report)

    advise = commands.add_parser("advise", help="which family to use on your data: a short equal-budget comparison")
    advise.add_argument("file", help="your CSV or Parquet file")
    advise.add_argument("--target", required=True, help="the column to predict")
    advise.add_argument("--task", choices=("binary", "multiclass", "regression"),
                        help="default: inferred from the target")
    advise.add_argument("--seconds", type=float, default=180.0, help="total wall-time budget (default 180)")
    advise.add_argument("--reference", help="reference leaderboard for similar datasets "
                                             "(default: the packaged reports/standard/)")
    advise.add_argument("--workers", type=int, help=f"worker processes (default: cores = {cores()})")
    advise.add_argument("--device", choices=DEVICES, default="auto")
    advise.add_argument("--out", help="output directory (default: reports/advise/<file name>)")
    advise.add_argument("--cache", help="dataset cache directory")
    advise.add_argument("--no-progress", action="store_true")
    advise.set_defaults(handler=cmd_advise)

    export = commands.add_parser("export", help="write a compact, committable export of a run")
    export.add_argument("--store", required=True, help="results store")
    export.add_argument("--run", help="run id (default: the latest run in the store)")
    export.add_argument("--out", help="export file (default: results.jsonl.gz beside the store; "
                                      "with --predictions, written only when given)")
    export.add_argument("--predictions", metavar="FILE.parquet",
                        help="write every trial's validation and test predictions to Parquet instead: one row per "
                             "(dataset, model, fold, train_size, trial, part, row), with proba_0.. or value. `row` "
                             "is the dataset row index; targets are not in the store, so join them from the "
                             "dataset (bench.data.load)")
    export.set_defaults(handler=cmd_export)

    merging = commands.add_parser(
        "merge", help="combine the stores or exports of one run (shards, sittings) into one, keyed by unit")
    merging.add_argument("sources", nargs="+", help="stores (.sqlite, or a run folder) or exports (.jsonl.gz)")
    merging.add_argument("--out", required=True, help="the merged store (created or added to), or an export "
                                                      "when it ends in .jsonl.gz")
    merging.set_defaults(handler=cmd_merge)

    comparison = commands.add_parser(
        "compare", help="regression check: exit 1 when a score dropped beyond its noise band")
    comparison.add_argument("baseline", help="baseline leaderboard.json (or its folder)")
    comparison.add_argument("current", help="current leaderboard.json (or its folder)")
    comparison.add_argument("--tolerance", type=float, default=0.005,
                            help="score drop allowed on top of the fold noise band (default 0.005)")
    comparison.add_argument("--datasets", help="comma-separated datasets to guard (default: all)")
    comparison.add_argument("--models", help="comma-separated models to guard (default: all)")
    comparison.set_defaults(handler=cmd_compare)

    for name, handler, text in (
        ("datasets", cmd_datasets, "list the dataset catalogue with computed meta-features"),
        ("models", cmd_models, "list the model zoo"),
        ("suites", cmd_suites, "list the suites"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(handler=handler)
        if name == "datasets":
            sub.add_argument("--catalogue", help="a folder of your own dataset cards, added to the packaged ones")
            sub.add_argument("--cache", help="dataset cache directory (default: $BENCH_CACHE or ~/.cache/bench)")
    return top


def main(argv: list[str] | None = None) -> int:
    from bench.compare import CompareError
    from bench.config import ConfigError
    from bench.data import DataError
    from bench.data.suites import SuiteError
    from bench.store import StoreError

    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, ConfigError, CompareError, DataError, StoreError, SuiteError) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
