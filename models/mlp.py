"""Multilayer perceptron: ``n_layers`` x (Linear -> norm -> ReLU -> Dropout) -> Linear.

Inputs: ``bench.preprocess.FeatureEncoder`` fit on the training part (median
imputation, standard or quantile-normal scaling, one-hot categoricals);
images and sequences come in as flat pixels. Training: ``_torch.fit_net``
(AdamW, constant learning rate, early stopping on validation loss).

The architecture and the space follow Gorishniy et al. 2021 ("Revisiting deep
learning models for tabular data", NeurIPS; MLP: n_layers UniformInt[1, 8],
width up to 512/1024, dropout Uniform[0, 0.5], lr LogUniform[1e-5, 1e-2],
weight_decay LogUniform[1e-6, 1e-3], quantile-normal inputs) and Kadra et al.
2021 ("Well-tuned simple nets excel on tabular datasets", NeurIPS: batch norm
and a choice of regularisers help plain MLPs). Narrowed here so that a trial
stays cheap on CPU: 1..6 layers, width 64..1024 (log), lr 1e-4..1e-2.
Default: 3 x 256, dropout 0.1, lr 1e-3, weight_decay 1e-5, batch 256, at most
100 epochs with patience 10 -- a common, robust MLP setting.
"""
from __future__ import annotations

from typing import Literal, TypedDict

from . import DataInfo, FitContext, ModelSpec, Part

NORMS = ("none", "batchnorm", "layernorm")


class MLPParams(TypedDict):
    n_layers: int
    width: int
    dropout: float
    norm: Literal["none", "batchnorm", "layernorm"]
    lr: float
    weight_decay: float
    batch_size: int
    scaling: Literal["standard", "quantile"]  # tabular only: pixels get one mean/std
    max_epochs: int  # not tuned
    patience: int  # epochs without validation improvement before stopping (not tuned)


DEFAULTS: MLPParams = {
    "n_layers": 3,
    "width": 256,
    "dropout": 0.1,
    "norm": "none",
    "lr": 1e-3,
    "weight_decay": 1e-5,
    "batch_size": 256,
    "scaling": "standard",
    "max_epochs": 100,
    "patience": 10,
}


def space(trial) -> MLPParams:
    return {
        "n_layers": trial.suggest_int("n_layers", 1, 6),
        "width": trial.suggest_int("width", 64, 1024, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "norm": trial.suggest_categorical("norm", NORMS),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", (64, 128, 256, 512)),
        "scaling": trial.suggest_categorical("scaling", ("standard", "quantile")),
        "max_epochs": DEFAULTS["max_epochs"],
        "patience": DEFAULTS["patience"],
    }


def build_mlp(d_in: int, d_out: int, n_layers: int, width: int, dropout: float, norm: str):
    from torch import nn

    layers: list[nn.Module] = []
    for _ in range(n_layers):
        layers.append(nn.Linear(d_in, width))
        if norm == "batchnorm":
            layers.append(nn.BatchNorm1d(width))
        elif norm == "layernorm":
            layers.append(nn.LayerNorm(width))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d_in = width
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext):
    from bench.preprocess import FeatureEncoder

    from ._torch import fit_net

    p = _check_params(params)
    encoder = FeatureEncoder(numeric=p["scaling"], seed=ctx.seed).fit(train, info)
    X_train, X_valid = encoder.transform(train), encoder.transform(valid)
    d_out = 1 if info.task == "regression" else info.n_classes
    return fit_net(
        lambda: build_mlp(X_train.shape[1], d_out, p["n_layers"], p["width"], p["dropout"], p["norm"]),
        X_train,
        train.y,
        X_valid,
        valid.y,
        transform=encoder.transform,
        task=info.task,
        ctx=ctx,
        lr=p["lr"],
        weight_decay=p["weight_decay"],
        batch_size=p["batch_size"],
        max_epochs=p["max_epochs"],
        patience=p["patience"],
    )


def _check_params(params: dict) -> dict:
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"mlp: unknown parameter(s) {unknown}; valid: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    if p["norm"] not in NORMS:
        raise ValueError(f"mlp: norm must be one of {NORMS}, got {p['norm']!r}")
    for name in ("n_layers", "width", "batch_size", "max_epochs", "patience"):
        if int(p[name]) < 1:
            raise ValueError(f"mlp: {name} must be >= 1, got {p[name]}")
    if not 0.0 <= p["dropout"] < 1.0:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {p['dropout']}")
    return p


MODEL = ModelSpec(
    name="mlp",
    family="deep",
    tasks=frozenset({"binary", "multiclass", "regression"}),
    modalities=frozenset({"tabular", "image", "sequence"}),
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "Gorishniy et al. 2021, Revisiting deep learning models for tabular data (MLP and its space, "
        "quantile inputs); Kadra et al. 2021, Well-tuned simple nets excel on tabular datasets (norm choice)"
    ),
    notes="scaling applies to tabular data only; images and sequences use one pixel mean/std.",
)
