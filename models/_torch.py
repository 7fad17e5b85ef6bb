"""The one training loop shared by the nets (MLP, CNN), read top to bottom.

seed -> data to the device once -> per epoch: shuffled mini-batches by index
slicing, AdamW step, learning-rate schedule -> validation loss -> keep the best
weights, stop after ``patience`` epochs without improvement, at the deadline,
or after ``max_epochs``. No trainer classes and no callbacks, on purpose.

Classification trains on cross-entropy; regression on MSE of targets
standardised with the train mean and std (undone at predict time). Early
stopping watches the same loss on the validation part.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

SCHEDULES = ("constant", "cosine", "linear")
EVAL_BATCH = 1024  # rows per forward pass when evaluating; bounded for CNN activations


@dataclass
class NetFitted:
    net: torch.nn.Module
    transform: Callable  # Part -> float32 array shaped for the net; fit on train
    task: str
    device: torch.device
    y_mean: float
    y_std: float
    n_iter: int
    stopped_by_deadline: bool
    curves: dict = field(default_factory=dict)

    def predict(self, part) -> np.ndarray:
        out = _forward(self.net, torch.from_numpy(self.transform(part)), self.device).double()
        if self.task == "regression":
            return (out[:, 0] * self.y_std + self.y_mean).numpy()
        return torch.softmax(out, dim=1).numpy()


def fit_net(
    build: Callable[[], torch.nn.Module],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    transform: Callable,
    task: str,
    ctx,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    schedule: str = "constant",
    augment: Callable | None = None,
) -> NetFitted:
    """Train ``build()`` on float32 inputs already preprocessed by the caller."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    torch.manual_seed(ctx.seed)  # weights and dropout
    torch.set_num_threads(ctx.threads)
    device = torch.device(ctx.device)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    generator = torch.Generator().manual_seed(ctx.seed)  # batch order and augmentation

    # Regression targets are standardised so one learning rate suits every dataset.
    regression = task == "regression"
    y_mean = float(np.mean(y_train)) if regression else 0.0
    y_std = float(np.std(y_train)) if regression else 1.0
    y_std = y_std if y_std > 0 else 1.0

    def targets(y: np.ndarray) -> torch.Tensor:
        if regression:
            return torch.as_tensor((y - y_mean) / y_std, dtype=torch.float32, device=device)
        return torch.as_tensor(y, dtype=torch.long, device=device)

    X_tr, y_tr = torch.as_tensor(X_train, device=device), targets(y_train)
    X_va, y_va = torch.as_tensor(X_valid, device=device), targets(y_valid)

    def loss_fn(out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        if regression:
            return F.mse_loss(out[:, 0], y, reduction=reduction)
        return F.cross_entropy(out, y, reduction=reduction)

    net = build().to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    n = len(X_tr)
    # Near-equal batches: no tiny last batch, which would be noisy and breaks BatchNorm at size 1.
    n_batches = max(1, math.ceil(n / max(1, batch_size)))
    total_steps = max_epochs * n_batches
    factor = {
        "constant": lambda step: 1.0,
        "cosine": lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps)),
        "linear": lambda step: 1.0 - min(step, total_steps) / total_steps,
    }[schedule]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    best_loss, best_epoch, best_state = math.inf, 0, None
    curves: dict[str, list[float]] = {"train_loss": [], "valid_loss": []}
    stopped_by_deadline = False
    for epoch in range(1, max_epochs + 1):
        net.train()
        order = torch.randperm(n, generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)  # summed on the device: no sync per step
        for index in torch.tensor_split(order, n_batches):
            if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
                stopped_by_deadline = True
                break
            xb, yb = X_tr[index], y_tr[index]
            if augment is not None:
                xb = augment(xb, generator)
            loss = loss_fn(net(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.detach() * len(index)
        if stopped_by_deadline:
            break

        train_loss = loss_sum.item() / n
        valid_loss = _forward(net, X_va, device, loss=lambda out, i: loss_fn(out, y_va[i], "sum")) / len(X_va)
        for value in (train_loss, valid_loss):
            if not math.isfinite(value):
                raise FloatingPointError(f"loss became {value} at epoch {epoch}")
        curves["train_loss"].append(train_loss)
        curves["valid_loss"].append(valid_loss)
        if valid_loss < best_loss:
            best_loss, best_epoch = valid_loss, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break

    if best_state is not None:  # None only when the deadline came before the first epoch ended
        net.load_state_dict(best_state)
    net.eval()
    n_iter = len(curves["train_loss"])
    return NetFitted(net, transform, task, device, y_mean, y_std, n_iter, stopped_by_deadline, curves)


@torch.inference_mode()
def _forward(net: torch.nn.Module, X: torch.Tensor, device: torch.device, loss: Callable | None = None):
    """Eval-mode forward pass in batches: the outputs on CPU, or the summed ``loss(out, rows)``."""
    was_training = net.training
    net.eval()
    outputs, total = [], 0.0
    for start in range(0, len(X), EVAL_BATCH):
        rows = slice(start, start + EVAL_BATCH)
        out = net(X[rows].to(device))
        if loss is None:
            outputs.append(out.float().cpu())
        else:
            total += loss(out, rows).item()
    net.train(was_training)
    if loss is not None:
        return total
    return torch.cat(outputs) if outputs else torch.zeros((0, 1))
