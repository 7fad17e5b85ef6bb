"""ResNet for tabular data (Gorishniy et al. 2021, "Revisiting deep learning models for tabular data").

    x -> Linear(d_in, d_main) -> n_blocks x Block -> norm -> ReLU -> Linear(d_main, d_out)
    Block(x) = x + Dropout(Linear(d_hidden, d_main)(Dropout(ReLU(Linear(d_main, d_hidden)(Norm(x))))))

with ``d_hidden = round(d_main * d_hidden_factor)``: the pre-norm residual MLP
of the paper (their "ResNet"), with ReLU (Grinsztajn et al.'s configs use
ReGLU). Inputs as for ``mlp`` (``FeatureEncoder`` fit on train; categoricals
one-hot or embedded; images and sequences as flat pixels); training by
``_torch.fit_net`` (AdamW, early stopping on validation loss).

Space: Grinsztajn et al. 2022's ResNet space (their tabular-benchmark configs:
n_layers 1..16, d 64..1024, d_hidden_factor 1..4, hidden and residual dropout
0..0.5, lr LogUniform[1e-5, 1e-2], weight decay LogUniform[1e-8, 1e-3],
batchnorm or layernorm, learning-rate scheduler on or off), narrowed so a trial
stays cheap on CPU: 1..8 blocks, d_main 64..512 (log), lr 1e-4..1e-2, batch
size 128/256/512; the scheduler choice is ours (constant or cosine).
Default: their default (d_main 256, d_hidden_factor 2, dropouts 0.2 and 0.2,
lr 1e-3, weight decay 1e-7, batchnorm, a schedule, quantile inputs), changed
so that it fits in seconds on CPU: 4 blocks instead of 8, batch 256 instead of
512, at most 100 epochs with patience 10 instead of 300 with 40; the schedule
is the trainer's cosine, where theirs is ReduceLROnPlateau (factor 0.2 after 30
flat epochs), which the trainer does not have; categoricals one-hot, where
they embed them (d_embedding 128).
"""
from __future__ import annotations

from typing import Literal

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, SCHEDULES, check_choice, check_int, check_positive, check_rate,
                      untuned, with_defaults)
from .mlp import CAT_ENCODINGS, SCALINGS, TrainingParams, check_training, fit_encoded_net

NORMS = ("batchnorm", "layernorm")


class ResNetParams(TrainingParams):
    n_blocks: int
    d_main: int
    d_hidden_factor: float
    hidden_dropout: float
    residual_dropout: float
    norm: Literal["batchnorm", "layernorm"]


DEFAULTS: ResNetParams = {
    "n_blocks": 4,
    "d_main": 256,
    "d_hidden_factor": 2.0,
    "hidden_dropout": 0.2,
    "residual_dropout": 0.2,
    "norm": "batchnorm",
    "lr": 1e-3,
    "weight_decay": 1e-7,
    "batch_size": 256,
    "schedule": "cosine",
    "scaling": "quantile",
    "cat_encoding": "one-hot",
    "max_epochs": 100,
    "patience": 10,
}


def space(trial) -> ResNetParams:
    return {
        "n_blocks": trial.suggest_int("n_blocks", 1, 8),
        "d_main": trial.suggest_int("d_main", 64, 512, log=True),
        "d_hidden_factor": trial.suggest_float("d_hidden_factor", 1.0, 4.0),
        "hidden_dropout": trial.suggest_float("hidden_dropout", 0.0, 0.5),
        "residual_dropout": trial.suggest_float("residual_dropout", 0.0, 0.5),
        "norm": trial.suggest_categorical("norm", NORMS),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-8, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", (128, 256, 512)),
        "schedule": trial.suggest_categorical("schedule", SCHEDULES),
        "scaling": trial.suggest_categorical("scaling", SCALINGS),
        "cat_encoding": trial.suggest_categorical("cat_encoding", CAT_ENCODINGS),
        **untuned(DEFAULTS, "max_epochs", "patience"),
    }


def build_resnet(d_in: int, d_out: int, p: dict):
    from torch import nn

    from ._torch import Dropout

    d_main = int(p["d_main"])
    d_hidden = max(1, round(d_main * float(p["d_hidden_factor"])))
    Norm = nn.BatchNorm1d if p["norm"] == "batchnorm" else nn.LayerNorm

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                Norm(d_main),
                nn.Linear(d_main, d_hidden),
                nn.ReLU(inplace=True),
                Dropout(p["hidden_dropout"]),
                nn.Linear(d_hidden, d_main),
                Dropout(p["residual_dropout"]),
            )

        def forward(self, x):
            return x + self.body(x)

    return nn.Sequential(
        nn.Linear(d_in, d_main),
        *[Block() for _ in range(int(p["n_blocks"]))],
        Norm(d_main),
        nn.ReLU(inplace=True),
        nn.Linear(d_main, d_out),
    )


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext):
    p = _check_params(params)
    return fit_encoded_net(p, train, valid, info, ctx, lambda d_in, d_out: build_resnet(d_in, d_out, p))


def _check_params(params: dict) -> dict:
    p = with_defaults("resnet", DEFAULTS, params)
    check_training("resnet", p)
    check_choice("resnet", p, "norm", NORMS)
    for name in ("n_blocks", "d_main"):
        check_int("resnet", p, name, 1)
    check_positive("resnet", p, "d_hidden_factor")
    for name in ("hidden_dropout", "residual_dropout"):
        check_rate("resnet", p, name)
    return p


MODEL = ModelSpec(
    name="resnet",
    family="deep",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "architecture: Gorishniy et al. 2021, Revisiting deep learning models for tabular data (ResNet); "
        "space and default: Grinsztajn et al. 2022 (tabular-benchmark ResNet config), narrowed for CPU; default "
        "with 4 blocks, batch 256, 100 epochs, cosine schedule, ReLU "
        "(theirs: 8, 512, 300, ReduceLROnPlateau, ReGLU)"
    ),
    notes="n_blocks default 4 (Grinsztajn et al.: 8) to keep CPU fits short; scaling and cat_encoding are tabular only.",
    imports=("bench.models._torch",),
)
