"""MLP trainer throughput on `magic`: ours vs skorch, and achieved FLOP/s vs a large torch.mm.

Issue 4's performance targets, measured side by side in one run on the same
machine and the same threads:

- epoch throughput of ``bench.models._torch.fit_net`` at least 3x that of
  skorch's ``NeuralNetClassifier`` (what Grinsztajn et al. 2022 trained their
  nets with) with the same module (3 x 256 MLP from ``bench.models.mlp``), the
  same optimiser (AdamW, lr 1e-3, weight decay 1e-5), the same batch size
  (256) and the same validation pass each epoch (skorch's ``predefined_split``
  on our validation rows);
- achieved training FLOP/s at least 50% of a large ``torch.mm``'s FLOP/s.

``ceiling`` in the JSON is the speed-up over skorch that a trainer running every
FLOP at the large ``torch.mm``'s rate with no other cost would reach: skorch
pays the same matrix multiplies as we do, so on a CPU the throughput ratio is
bounded by (skorch's epoch) / (the epoch's FLOPs at the mm rate).

Each side trains ``--epochs`` epochs (early stopping off), ``--repeats`` times,
interleaved; the best repeat counts (the usual reading of a throughput on a
shared machine). FLOPs are counted from the Linear layers: forward 2*i*o per
row and layer; backward the same for the weight gradient plus the same again
for the input gradient of every layer but the first (the data needs none).
Validation rows count their forward pass. Element-wise work (ReLU, dropout,
the optimiser) is not counted: it is overhead against the matrix-multiply
ceiling.

    python perf/mlp_throughput.py --threads 1 --out perf/mlp_throughput.json
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from bench.environment import machine

TARGET_SPEEDUP = 3.0
TARGET_MM_SHARE = 0.5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every measurement (default 1)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per measured fit (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="fits per side; the best counts (default 3)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--dropout", type=float, default=0.1, help="the MLP's dropout (default 0.1, mlp's default)")
    parser.add_argument("--out", type=Path, default=Path("perf/mlp_throughput.json"), help="JSON output path")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    X_train, y_train, X_valid, y_valid = magic()
    width, n_layers, batch_size, lr, weight_decay = 256, 3, 256, 1e-3, 1e-5
    from bench.models.mlp import build_mlp

    def build():
        return build_mlp(X_train.shape[1], 2, n_layers, width, dropout=args.dropout, norm="none")

    train_flops_per_row, forward_flops_per_row = linear_flops(build())
    epoch_flops = len(X_train) * train_flops_per_row + len(X_valid) * forward_flops_per_row
    common = dict(lr=lr, weight_decay=weight_decay, batch_size=batch_size, epochs=args.epochs, device=args.device)

    ours, theirs = [], []
    ours_fit(build, X_train, y_train, X_valid, y_valid, **{**common, "epochs": 1})  # warm-up: allocator, oneDNN
    skorch_fit(build, X_train, y_train, X_valid, y_valid, **{**common, "epochs": 1})
    for _ in range(args.repeats):
        ours.append(ours_fit(build, X_train, y_train, X_valid, y_valid, **common))
        theirs.append(skorch_fit(build, X_train, y_train, X_valid, y_valid, **common))
    ours_epoch_s, skorch_epoch_s = min(ours) / args.epochs, min(theirs) / args.epochs
    mm = mm_flops_per_s(args.device)

    result = {
        "benchmark": "mlp_throughput",
        "dataset": "magic",
        "n_train": len(X_train),
        "n_valid": len(X_valid),
        "model": f"MLP {n_layers}x{width}, ReLU, dropout {args.dropout} (bench.models.mlp.build_mlp)",
        "batch_size": batch_size,
        "optimizer": f"AdamW(lr={lr}, weight_decay={weight_decay})",
        "epochs": args.epochs,
        "repeats": args.repeats,
        "threads": args.threads,
        "device": args.device,
        "ours": {
            "epoch_s": ours_epoch_s,
            "epochs_per_s": 1 / ours_epoch_s,
            "train_rows_per_s": len(X_train) / ours_epoch_s,
            "flops_per_s": epoch_flops / ours_epoch_s,
            "fit_s_all_repeats": ours,
        },
        "skorch": {
            "epoch_s": skorch_epoch_s,
            "epochs_per_s": 1 / skorch_epoch_s,
            "train_rows_per_s": len(X_train) / skorch_epoch_s,
            "flops_per_s": epoch_flops / skorch_epoch_s,
            "fit_s_all_repeats": theirs,
        },
        "torch_mm": mm,
        "flops_per_epoch": epoch_flops,
        "ratios": {
            "throughput_ours_over_skorch": skorch_epoch_s / ours_epoch_s,
            "flops_ours_over_mm": epoch_flops / ours_epoch_s / mm["flops_per_s"],
        },
        "targets": {"throughput_ours_over_skorch": TARGET_SPEEDUP, "flops_ours_over_mm": TARGET_MM_SHARE},
        # The best any trainer of this module could do: every FLOP at the large torch.mm's rate, no overhead.
        "ceiling": {
            "epoch_s_at_mm_rate": epoch_flops / mm["flops_per_s"],
            "throughput_over_skorch_at_mm_rate": skorch_epoch_s / (epoch_flops / mm["flops_per_s"]),
        },
        "environment": {
            "torch": torch.__version__,
            "skorch": _version("skorch"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            **machine(),
        },
    }
    ratios = result["ratios"]
    result["meets_targets"] = bool(
        ratios["throughput_ours_over_skorch"] >= TARGET_SPEEDUP and ratios["flops_ours_over_mm"] >= TARGET_MM_SHARE
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"ours {1 / ours_epoch_s:.2f} epochs/s, skorch {1 / skorch_epoch_s:.2f} epochs/s "
        f"-> {ratios['throughput_ours_over_skorch']:.2f}x (target {TARGET_SPEEDUP}x); "
        f"ours {epoch_flops / ours_epoch_s / 1e9:.1f} GFLOP/s vs torch.mm {mm['flops_per_s'] / 1e9:.1f} GFLOP/s "
        f"-> {ratios['flops_ours_over_mm']:.0%} (target {TARGET_MM_SHARE:.0%}); ceiling at the mm rate "
        f"{result['ceiling']['throughput_over_skorch_at_mm_rate']:.2f}x; written to {args.out}"
    )
    return 0


def magic():
    """`magic`, standard-scaled on train, split 80/20 with a fixed seed."""
    from bench.data import catalogue, load
    from bench.contract import Part
    from bench.preprocess import FeatureEncoder

    dataset = load(catalogue()["magic"])
    order = np.random.default_rng(0).permutation(dataset.n_rows)
    cut = int(0.8 * len(order))
    train, valid = dataset.part(np.sort(order[:cut])), dataset.part(np.sort(order[cut:]))
    encoder = FeatureEncoder().fit(train, dataset.info)
    return encoder.transform(train), train.y, encoder.transform(valid), valid.y


def linear_flops(net: torch.nn.Module) -> tuple[int, int]:
    """(training FLOPs, forward FLOPs) per row, counted from the Linear layers."""
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    forward = sum(2 * m.in_features * m.out_features for m in linears)
    input_grads = sum(2 * m.in_features * m.out_features for m in linears[1:])
    return forward + forward + input_grads, forward


def ours_fit(build, X_train, y_train, X_valid, y_valid, *, lr, weight_decay, batch_size, epochs, device) -> float:
    from bench.contract import FitContext
    from bench.models._torch import fit_net

    ctx = FitContext(seed=0, threads=torch.get_num_threads(), device=device)
    start = time.perf_counter()
    fitted = fit_net(
        build, X_train, y_train, X_valid, y_valid, transform=None, task="binary", ctx=ctx, lr=lr,
        weight_decay=weight_decay, batch_size=batch_size, max_epochs=epochs, patience=epochs + 1,
    )
    elapsed = time.perf_counter() - start
    assert fitted.n_iter == epochs, fitted.n_iter
    return elapsed


def skorch_fit(build, X_train, y_train, X_valid, y_valid, *, lr, weight_decay, batch_size, epochs, device) -> float:
    from skorch import NeuralNetClassifier
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    torch.manual_seed(0)
    net = NeuralNetClassifier(
        build(),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=lr,
        optimizer__weight_decay=weight_decay,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=predefined_split(Dataset(X_valid, y_valid)),
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    start = time.perf_counter()
    net.fit(X_train, y_train)
    return time.perf_counter() - start


def mm_flops_per_s(device: str, n: int = 2048, repeats: int = 10) -> dict:
    """FLOP/s of an n x n float32 torch.mm, best of ``repeats``."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 1):  # the first is a warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.mm(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return {"n": n, "best_s": best, "flops_per_s": 2 * n**3 / best}


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
