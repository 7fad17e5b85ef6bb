"""Multilayer perceptron: ``n_layers`` x (Linear -> norm -> ReLU -> Dropout) -> Linear.

Inputs: ``bench.preprocess.FeatureEncoder`` fit on the training part (median
imputation, standard or quantile-normal scaling; categoricals one-hot, or
embedded: one learned vector per kept code, of the size fastai's rule of thumb
gives, ``min(600, round(1.6 * cardinality ** 0.56))``, concatenated with the
numeric features); images and sequences come in as flat pixels. Training:
``_torch.fit_net`` (AdamW, a constant or cosine learning-rate schedule,
optional label smoothing, early stopping on validation loss).

The architecture and the space follow Gorishniy et al. 2021 ("Revisiting deep
learning models for tabular data", NeurIPS; MLP: n_layers UniformInt[1, 8],
width up to 512/1024, dropout Uniform[0, 0.5], lr LogUniform[1e-5, 1e-2],
weight_decay LogUniform[1e-6, 1e-3], quantile-normal inputs) and Kadra et al.
2021 ("Well-tuned simple nets excel on tabular datasets", NeurIPS: batch norm
and a choice of regularisers help plain MLPs). Narrowed here so that a trial
stays cheap on CPU: 1..6 layers, width 64..1024 (log), lr 1e-4..1e-2. Label
smoothing (Szegedy et al. 2016, 0..0.2) and the choice of a cosine schedule are
among the tricks of RealMLP (Holzmüller et al. 2024, "Better by default");
embedded categoricals are what the MLP of Gorishniy et al.'s code does, one-hot
what a plain MLP does: the space tries both.
Default: 3 x 256, dropout 0.1, lr 1e-3, weight_decay 1e-5, batch 256, constant
learning rate, no label smoothing, one-hot categoricals, at most 100 epochs
with patience 10 -- a common, robust MLP setting, ours rather than any paper's.

MLP-PLR (Gorishniy et al. 2022, "On embeddings for numerical features in
tabular deep learning", NeurIPS): ``mlp[num_embeddings=plr]`` puts each
numeric feature through periodic embeddings, ``cos``/``sin`` of learned
frequencies, a per-feature linear map and ReLU
(``rtdl_num_embeddings.PeriodicEmbeddings``, lite=False, as the paper defines
PLR), before the same MLP. Its defaults are the package's (48 frequencies,
initial scale 0.01, d_embedding 24); the variant tunes them in the ranges of
the TabM paper's MLP-PLR configs (yandex-research/tabm
``paper/exp/mlp-periodic/*/0-tuning.toml``: n_frequencies UniformInt[16, 96,
step 4], frequency_init_scale LogUniform[0.01, 10], d_embedding
UniformInt[16, 32, step 4]). Plain ``mlp`` neither uses nor tunes them.
"""
from __future__ import annotations

from typing import Literal, TypedDict

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_MODALITY, EVERY_TASK, SCHEDULES, check_choice, check_int, check_nonnegative,
                      check_positive, check_rate, untuned, with_defaults)

# RMSNorm (Zhang & Sennrich 2019) is a valid fixed value, for the normalisation ablation (mlp[norm=rmsnorm]),
# but not among the tuned choices, so that plain mlp's trials stay those of the Kadra et al. space.
NORMS = ("none", "batchnorm", "layernorm", "rmsnorm")
TUNED_NORMS = NORMS[:3]
SCALINGS = ("standard", "quantile")
CAT_ENCODINGS = ("one-hot", "embedding")


class TrainingParams(TypedDict):
    """What ``fit_encoded_net`` reads, for the MLP and the ResNet alike."""

    lr: float
    weight_decay: float
    batch_size: int
    scaling: Literal["standard", "quantile"]  # tabular only: pixels get one mean/std
    cat_encoding: Literal["one-hot", "embedding"]  # tabular categoricals only
    schedule: Literal["constant", "cosine"]  # learning rate over max_epochs
    max_epochs: int  # not tuned
    patience: int  # epochs without validation improvement before stopping (not tuned)


class MLPParams(TrainingParams):
    n_layers: int
    width: int
    dropout: float
    norm: Literal["none", "batchnorm", "layernorm", "rmsnorm"]
    label_smoothing: float  # classification only
    num_embeddings: Literal["none", "plr"]  # not tuned: mlp[num_embeddings=plr] is MLP-PLR
    n_frequencies: int  # PLR only
    frequency_init_scale: float  # PLR only
    d_embedding: int  # PLR only


DEFAULTS: MLPParams = {
    "n_layers": 3,
    "width": 256,
    "dropout": 0.1,
    "norm": "none",
    "lr": 1e-3,
    "weight_decay": 1e-5,
    "batch_size": 256,
    "scaling": "standard",
    "cat_encoding": "one-hot",
    "label_smoothing": 0.0,
    "schedule": "constant",
    "max_epochs": 100,
    "patience": 10,
    # MLP-PLR (Gorishniy et al. 2022): rtdl_num_embeddings.PeriodicEmbeddings' defaults
    "num_embeddings": "none",
    "n_frequencies": 48,
    "frequency_init_scale": 0.01,
    "d_embedding": 24,
}
NUM_EMBEDDINGS = ("none", "plr")


def space(trial) -> MLPParams:
    return {
        "n_layers": trial.suggest_int("n_layers", 1, 6),
        "width": trial.suggest_int("width", 64, 1024, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "norm": trial.suggest_categorical("norm", TUNED_NORMS),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", (64, 128, 256, 512)),
        "scaling": trial.suggest_categorical("scaling", SCALINGS),
        "cat_encoding": trial.suggest_categorical("cat_encoding", CAT_ENCODINGS),
        "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.2),
        "schedule": trial.suggest_categorical("schedule", SCHEDULES),
        **untuned(DEFAULTS, "max_epochs", "patience"),
        **plr_space(trial),
    }


def plr_space(trial) -> dict:
    """PLR's parameters, tuned only in mlp[num_embeddings=plr]: the space of MLP-PLR in the TabM paper's
    configs (yandex-research/tabm paper/exp/mlp-periodic/*/0-tuning.toml, lite = false)."""
    # A single choice is not sampled (optuna returns it as it is), so mlp's own trials stay as they were;
    # a variant's fixed value comes back instead.
    embeddings = trial.suggest_categorical("num_embeddings", (DEFAULTS["num_embeddings"],))
    if embeddings != "plr":
        return {"num_embeddings": embeddings, **untuned(DEFAULTS, "n_frequencies", "frequency_init_scale",
                                                        "d_embedding")}
    return {
        "num_embeddings": embeddings,
        "n_frequencies": trial.suggest_int("n_frequencies", 16, 96, step=4),
        "frequency_init_scale": trial.suggest_float("frequency_init_scale", 0.01, 10.0, log=True),
        "d_embedding": trial.suggest_int("d_embedding", 16, 32, step=4),
    }


def build_mlp(d_in: int, d_out: int, n_layers: int, width: int, dropout: float, norm: str):
    from torch import nn

    from ._torch import Dropout

    layers: list[nn.Module] = []
    for _ in range(n_layers):
        layers.append(nn.Linear(d_in, width))
        if norm == "batchnorm":
            layers.append(nn.BatchNorm1d(width))
        elif norm == "layernorm":
            layers.append(nn.LayerNorm(width))
        elif norm == "rmsnorm":
            layers.append(nn.RMSNorm(width))
        layers.append(nn.ReLU(inplace=True))  # in place: one tensor less per layer
        if dropout > 0:
            layers.append(Dropout(dropout))
        d_in = width
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


def embedding_size(cardinality: int) -> int:
    """fastai's rule of thumb for the width of a categorical embedding."""
    return min(600, round(1.6 * cardinality**0.56))


def with_embeddings(n_numeric: int, cardinalities: tuple[int, ...], make_body):
    """A net whose input is ``n_numeric`` floats then one code column per categorical feature.

    Each code column goes through its own ``nn.Embedding``; the vectors are
    concatenated with the numeric columns and fed to ``make_body(d_in)``.
    """
    import torch
    from torch import nn

    class EmbeddingNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = nn.ModuleList(nn.Embedding(c, embedding_size(c)) for c in cardinalities)
            self.body = make_body(n_numeric + sum(embedding_size(c) for c in cardinalities))

        def forward(self, x):
            codes = x[:, n_numeric:].long()
            vectors = [embedding(codes[:, i]) for i, embedding in enumerate(self.embeddings)]
            return self.body(torch.cat([x[:, :n_numeric], *vectors], dim=1))

    return EmbeddingNet()


def encode(p: dict, train: Part, info: DataInfo, seed: int):
    """The fitted FeatureEncoder and a ``make_net(make_body)`` that adds embeddings when asked for."""
    from bench.preprocess import FeatureEncoder

    embed = p["cat_encoding"] == "embedding" and train.X_cat.shape[1] > 0
    encoder = FeatureEncoder(numeric=p["scaling"], seed=seed, categorical="codes" if embed else "one-hot")
    encoder.fit(train, info)

    def make_net(make_body, d_in: int):
        if embed:
            return with_embeddings(encoder.n_numeric_out, encoder.cat_cardinalities, make_body)
        return make_body(d_in)

    return encoder, make_net


def fit_encoded_net(p: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext, build_body,
                    label_smoothing: float = 0.0):
    """Encode the features as ``p`` asks (``encode``) and train ``build_body(d_in, d_out)``, with
    embeddings in front when asked for, on ``p``'s optimiser and early-stopping settings."""
    from ._torch import fit_net

    encoder, make_net = encode(p, train, info, ctx.seed)
    X_train, X_valid = encoder.transform(train), encoder.transform(valid)
    d_out = 1 if info.task == "regression" else info.n_classes
    return fit_net(
        lambda: make_net(lambda d_in: build_body(d_in, d_out), X_train.shape[1]),
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
        schedule=p["schedule"],
        label_smoothing=label_smoothing,
    )


def check_training(model: str, p: dict) -> None:
    """Check the parameters ``fit_encoded_net`` reads (``TrainingParams``)."""
    check_positive(model, p, "lr")
    check_nonnegative(model, p, "weight_decay")
    for name in ("batch_size", "max_epochs", "patience"):
        check_int(model, p, name, 1)
    check_choice(model, p, "scaling", SCALINGS)
    check_choice(model, p, "cat_encoding", CAT_ENCODINGS)
    check_choice(model, p, "schedule", SCHEDULES)


def with_periodic_embeddings(n_numeric: int, d_in: int, p: dict, make_body):
    """PLR (Gorishniy et al. 2022): the first `n_numeric` inputs each through periodic features, a linear map
    and ReLU (``rtdl_num_embeddings.PeriodicEmbeddings``, lite=False), flattened, then the other inputs."""
    import torch
    from rtdl_num_embeddings import PeriodicEmbeddings
    from torch import nn

    class PLRNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = PeriodicEmbeddings(
                n_numeric, int(p["d_embedding"]), n_frequencies=int(p["n_frequencies"]),
                frequency_init_scale=float(p["frequency_init_scale"]), activation=True, lite=False)
            self.body = make_body(d_in - n_numeric + n_numeric * int(p["d_embedding"]))

        def forward(self, x):
            return self.body(torch.cat([self.embeddings(x[:, :n_numeric]).flatten(1), x[:, n_numeric:]], dim=1))

    return PLRNet()


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext):
    p = _check_params(params)
    # The encoder puts the numeric features first, with or without categorical embeddings after them.
    n_plr = train.X_num.shape[1] if p["num_embeddings"] == "plr" else 0

    def build_body(d_in: int, d_out: int):
        def body(d: int):
            return build_mlp(d, d_out, p["n_layers"], p["width"], p["dropout"], p["norm"])

        return with_periodic_embeddings(n_plr, d_in, p, body) if n_plr else body(d_in)

    return fit_encoded_net(
        p, train, valid, info, ctx, build_body,
        label_smoothing=p["label_smoothing"] if info.task != "regression" else 0.0,
    )


def _check_params(params: dict) -> dict:
    p = with_defaults("mlp", DEFAULTS, params)
    check_training("mlp", p)
    check_choice("mlp", p, "norm", NORMS)
    for name in ("n_layers", "width"):
        check_int("mlp", p, name, 1)
    for name in ("dropout", "label_smoothing"):
        check_rate("mlp", p, name)
    check_choice("mlp", p, "num_embeddings", NUM_EMBEDDINGS)
    for name in ("n_frequencies", "d_embedding"):
        check_int("mlp", p, name, 1)
    check_positive("mlp", p, "frequency_init_scale")
    return p


MODEL = ModelSpec(
    name="mlp",
    family="deep",
    tasks=EVERY_TASK,
    modalities=EVERY_MODALITY,
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "Gorishniy et al. 2021, Revisiting deep learning models for tabular data (MLP and its space, "
        "quantile inputs); Kadra et al. 2021, Well-tuned simple nets excel on tabular datasets (norm choice); "
        "label smoothing and cosine schedule as in RealMLP (Holzmüller et al. 2024); default: ours (3 x 256, "
        "dropout 0.1, lr 1e-3), from no paper; num_embeddings=plr: MLP-PLR, Gorishniy et al. 2022, On embeddings "
        "for numerical features in tabular deep learning (rtdl_num_embeddings PeriodicEmbeddings, lite=False)"
    ),
    notes=(
        "scaling and cat_encoding apply to tabular data only; images and sequences use one pixel mean/std. "
        "label_smoothing is ignored for regression."
    ),
    imports=("bench.models._torch",),
)
