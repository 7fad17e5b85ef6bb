"""TabM (Gorishniy et al., ICLR 2025, "TabM: Advancing tabular deep learning with parameter-efficient ensembling").

One net holds ``k`` MLPs that share their weights except for BatchEnsemble
adapters (``arch_type="tabm"``; ``"tabm-mini"``: one adapter before the
shared MLP). All k members train in one pass on the same batches, each on its
own loss (the mean over members); early stopping watches the loss of the
members' mean prediction, and a prediction is the members' mean (of
probabilities for classes). The net is the ``tabm`` package's ``TabM.make``;
numeric features go through ``rtdl_num_embeddings.PiecewiseLinearEmbeddings``
(version "B", no activation) on quantile bins of the training part, as the
paper's TabM-dagger, or straight in (``num_embeddings="none"``: plain TabM).
Categoricals are one-hot encoded inside the net from their codes (0 for
missing, unseen or rare). Training: ``_torch.fit_net`` with ``k`` members,
AdamW, no weight decay on biases, norms and the linear part of the
embeddings (the paper's ``lib/deep.py: default_zero_weight_decay_condition``),
gradient norm clipped at 1.0, patience 16.

Inputs: ``bench.preprocess.FeatureEncoder`` fit on train with quantile-normal
numerics (the paper's "noisy-quantile" without its 1e-5 noise) and missing
indicators, which count as numeric features; columns constant on train are
left out of the embeddings (they carry nothing and have no bins).
Tabular data only, as in the paper.

Default (trial 0): ``TabM.make``'s defaults with embeddings (tabm package
0.0.3: arch_type "tabm", k = 32, n_blocks 2, d_block 512, dropout 0.1, ReLU),
the package README's default optimiser (AdamW, lr 2e-3, weight decay 3e-4), the
embeddings of the package's ``example.ipynb`` (48 bins, d_embedding 16) and the
paper's batch size 256 and patience 16 (``paper/exp/**/0-tuning.toml``).
Space: ``paper/exp/tabm-sharetrainingbatches-piecewiselinear/*/0-tuning.toml``
of yandex-research/tabm (shared training batches, as here; the same table as
the package README's "Hyperparameter tuning"): n_blocks UniformInt[1, 4]
(1..5 without embeddings, ``paper/exp/tabm-sharetrainingbatches/*/0-tuning.toml``),
d_block UniformInt[64, 1024, step 16], dropout {0, Uniform[0, 0.5]}, lr
LogUniform[1e-4, 5e-3], weight_decay {0, LogUniform[1e-4, 1e-1]}, n_bins
UniformInt[2, 128], d_embedding UniformInt[8, 32, step 4]; k = 32 and the
batch size are not tuned. A "{0, ...}" is the paper's "?distribution": a flag
"<name>?" chooses 0 or a draw. The paper trains without an epoch cap (patience
alone ends it); here ``max_epochs`` caps it, and the deadline does too.
"""
from __future__ import annotations

from typing import Literal, TypedDict

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_TASK, check_choice, check_int, check_nonnegative, check_positive, check_rate, untuned,
                      with_defaults, zero_or)

ARCH_TYPES = ("tabm", "tabm-mini")
NUM_EMBEDDINGS = ("piecewise-linear", "none")
GRADIENT_CLIPPING_NORM = 1.0  # every tuning config of the paper


class TabMParams(TypedDict):
    arch_type: Literal["tabm", "tabm-mini"]  # not tuned
    k: int  # members; not tuned (the paper: 32)
    num_embeddings: Literal["piecewise-linear", "none"]  # not tuned: a variant picks plain TabM
    n_blocks: int
    d_block: int
    dropout: float
    n_bins: int  # piecewise-linear embeddings only
    d_embedding: int  # piecewise-linear embeddings only
    lr: float
    weight_decay: float
    batch_size: int  # not tuned
    max_epochs: int  # not tuned
    patience: int  # not tuned


DEFAULTS: TabMParams = {
    "arch_type": "tabm",
    "k": 32,
    "num_embeddings": "piecewise-linear",
    "n_blocks": 2,
    "d_block": 512,
    "dropout": 0.1,
    "n_bins": 48,
    "d_embedding": 16,
    "lr": 2e-3,
    "weight_decay": 3e-4,
    "batch_size": 256,
    "max_epochs": 1000,
    "patience": 16,
}


def space(trial) -> TabMParams:
    # A single choice is not sampled (optuna returns it as it is); a variant's fixed value comes back instead.
    embeddings = trial.suggest_categorical("num_embeddings", (DEFAULTS["num_embeddings"],))
    plain = embeddings == "none"
    return {
        "num_embeddings": embeddings,
        "n_blocks": trial.suggest_int("n_blocks", 1, 5 if plain else 4),
        "d_block": trial.suggest_int("d_block", 64, 1024, step=16),
        "dropout": zero_or(trial, "dropout", 0.0, 0.5),
        "n_bins": DEFAULTS["n_bins"] if plain else trial.suggest_int("n_bins", 2, 128),
        "d_embedding": DEFAULTS["d_embedding"] if plain else trial.suggest_int("d_embedding", 8, 32, step=4),
        "lr": trial.suggest_float("lr", 1e-4, 5e-3, log=True),
        "weight_decay": zero_or(trial, "weight_decay", 1e-4, 1e-1, log=True),
        **untuned(DEFAULTS, "arch_type", "k", "batch_size", "max_epochs", "patience"),
    }


def zero_weight_decay_groups(net, no_decay_modules: tuple) -> list[dict]:
    """Parameter groups with no weight decay for biases and for parameters inside `no_decay_modules`
    (the TabM paper's ``make_parameter_groups`` and ``default_zero_weight_decay_condition``)."""
    zero = {id(p) for module in net.modules() for name, p in module.named_parameters()
            if name.endswith("bias") or isinstance(module, no_decay_modules)}
    return [
        {"params": [p for p in net.parameters() if id(p) not in zero]},
        {"params": [p for p in net.parameters() if id(p) in zero], "weight_decay": 0.0},
    ]


def _informative_columns(X, n_numeric: int) -> list[int]:
    """The numeric columns (of the first `n_numeric`) with at least two distinct training values."""
    import numpy as np

    return [j for j in range(n_numeric) if np.unique(X[:, j]).size >= 2]


def build_tabm(p: dict, X_train, n_numeric: int, cat_cardinalities: tuple[int, ...], d_out: int):
    """``tabm.TabM`` behind a forward that takes the encoder's matrix (numeric columns, then codes)."""
    import warnings

    import rtdl_num_embeddings
    import tabm
    import torch
    from torch import nn

    from ._torch import Dropout

    columns = _informative_columns(X_train, n_numeric)
    embed = p["num_embeddings"] == "piecewise-linear" and len(columns) > 0
    if not columns and not cat_cardinalities:  # nothing varies on train: feed the constants, no embeddings
        columns = list(range(n_numeric))
    num_embeddings = None
    if embed:
        x_num = torch.as_tensor(X_train[:, columns])
        with warnings.catch_warnings():  # a two-valued feature (a missing indicator) has one bin, as it should
            warnings.filterwarnings("ignore", message=".*just two bin edges")
            bins = rtdl_num_embeddings.compute_bins(x_num, n_bins=min(int(p["n_bins"]), len(x_num) - 1))
            num_embeddings = rtdl_num_embeddings.PiecewiseLinearEmbeddings(
                bins, int(p["d_embedding"]), activation=False, version="B")
    model = tabm.TabM.make(
        n_num_features=len(columns), cat_cardinalities=list(cat_cardinalities), d_out=d_out,
        num_embeddings=num_embeddings, arch_type=p["arch_type"], k=int(p["k"]), n_blocks=int(p["n_blocks"]),
        d_block=int(p["d_block"]), dropout=float(p["dropout"]),
    )
    for block in model.backbone.blocks:  # the same dropout, with the trainer's fast CPU masks
        block[2] = Dropout(float(p["dropout"]))

    class TabMNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.register_buffer("columns", torch.as_tensor(columns, dtype=torch.long))

        def forward(self, x):
            x_num = x.index_select(1, self.columns) if len(columns) else None
            x_cat = x[:, n_numeric:].long() if cat_cardinalities else None
            return self.model(x_num, x_cat)

    return TabMNet()


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext):
    import rtdl_num_embeddings
    from torch import nn

    from bench.preprocess import FeatureEncoder

    from ._torch import fit_net

    p = _check_params(params)
    encoder = FeatureEncoder(numeric="quantile", categorical="codes", seed=ctx.seed).fit(train, info)
    X_train, X_valid = encoder.transform(train), encoder.transform(valid)
    d_out = 1 if info.task == "regression" else info.n_classes
    no_decay = (nn.BatchNorm1d, nn.LayerNorm, nn.InstanceNorm1d, rtdl_num_embeddings.LinearEmbeddings,
                rtdl_num_embeddings.LinearReLUEmbeddings, rtdl_num_embeddings._Periodic)
    return fit_net(
        lambda: build_tabm(p, X_train, encoder.n_numeric_out, encoder.cat_cardinalities, d_out),
        X_train, train.y, X_valid, valid.y,
        transform=encoder.transform, task=info.task, ctx=ctx,
        lr=p["lr"], weight_decay=p["weight_decay"], batch_size=p["batch_size"],
        max_epochs=p["max_epochs"], patience=p["patience"],
        k=int(p["k"]), parameter_groups=lambda net: zero_weight_decay_groups(net, no_decay),
        gradient_clipping_norm=GRADIENT_CLIPPING_NORM,
    )


def _check_params(params: dict) -> dict:
    p = with_defaults("tabm", DEFAULTS, params)
    check_choice("tabm", p, "arch_type", ARCH_TYPES)
    check_choice("tabm", p, "num_embeddings", NUM_EMBEDDINGS)
    for name in ("k", "n_blocks", "d_block", "d_embedding", "batch_size", "max_epochs", "patience"):
        check_int("tabm", p, name, 1)
    check_int("tabm", p, "n_bins", 2)
    check_rate("tabm", p, "dropout")
    check_positive("tabm", p, "lr")
    check_nonnegative("tabm", p, "weight_decay")
    return p


MODEL = ModelSpec(
    name="tabm",
    family="deep",
    tasks=EVERY_TASK,
    modalities=frozenset({"tabular"}),
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "Gorishniy et al. 2025, TabM: Advancing tabular deep learning with parameter-efficient ensembling (ICLR); "
        "tabm 0.0.3 (TabM.make defaults, README default optimiser) with rtdl_num_embeddings 0.0.12 "
        "piecewise-linear embeddings (example.ipynb: 48 bins, d_embedding 16); space: yandex-research/tabm "
        "paper/exp/tabm-sharetrainingbatches-piecewiselinear/*/0-tuning.toml"
    ),
    notes=(
        "k members on shared batches (the paper's TabM trains them on separate batches); "
        "tabm[num_embeddings=none] is plain TabM with its own n_blocks range; tabular only."
    ),
    imports=("bench.models._torch", "tabm", "rtdl_num_embeddings"),
)
