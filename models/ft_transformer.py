"""FT-Transformer (Gorishniy et al. 2021, "Revisiting deep learning models for tabular data", NeurIPS).

Every feature becomes a token (a linear embedding per numeric feature, a
learned vector per category), a [CLS] token is prepended, and ``n_blocks``
pre-norm Transformer blocks (multi-head attention with 8 heads, a ReGLU
feed-forward part) read them; the [CLS] token's last state gives the output.
The net is ``rtdl_revisiting_models.FTTransformer`` (0.0.2); training is
``_torch.fit_net`` with AdamW and the package's parameter groups (no weight
decay for the embeddings, the norms and the biases), patience 16.

Inputs: ``bench.preprocess.FeatureEncoder`` fit on train with quantile-normal
numerics (the paper's ``normalization = 'quantile'``) and missing indicators,
which become numeric tokens too; categoricals as codes (the paper's
``cat_policy = 'indices'``; 0 for missing, unseen or rare codes). Tabular
data only, as in the paper (every pixel a token would make attention cost
grow with the square of the pixel count).

Default (trial 0): the paper's default FT-Transformer, as
``rtdl_revisiting_models.FTTransformer.get_default_kwargs()`` and
``make_default_optimizer()`` give it and the paper's
``output/<dataset>/ft_transformer/default/0.toml`` configs set it: 3 blocks,
d_block 192, attention dropout 0.2, FFN dropout 0.1, residual dropout 0,
FFN hidden size 4/3 of d_block, AdamW lr 1e-4, weight decay 1e-5, batch 256,
patience 16. Space: the paper's ``output/<dataset>/ft_transformer/tuning/0.toml``
(yandex-research/rtdl-revisiting-models) for the datasets of up to 10^5
rows: n_blocks UniformInt[1, 4], d_block UniformInt[64, 512] in steps of the
8 heads, attention and FFN dropout Uniform[0, 0.5], residual dropout {0,
Uniform[0, 0.2]}, FFN factor Uniform[2/3, 8/3] (the paper's [1, 4] times 2/3
for ReGLU, as its ``bin/tune.py`` does), lr LogUniform[1e-5, 1e-3], weight
decay LogUniform[1e-6, 1e-3]. The paper trains without an epoch cap
(patience alone ends it); ``max_epochs`` caps it here, and the deadline does too.
"""
from __future__ import annotations

from typing import TypedDict

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import (EVERY_TASK, check_int, check_nonnegative, check_positive, check_rate, untuned, with_defaults,
                      zero_or)

N_HEADS = 8  # the paper's, in every config


class FTTransformerParams(TypedDict):
    n_blocks: int
    d_block: int  # a multiple of the 8 heads
    attention_dropout: float
    ffn_d_hidden_multiplier: float
    ffn_dropout: float
    residual_dropout: float
    lr: float
    weight_decay: float
    batch_size: int  # not tuned
    max_epochs: int  # not tuned
    patience: int  # not tuned


DEFAULTS: FTTransformerParams = {
    "n_blocks": 3,
    "d_block": 192,
    "attention_dropout": 0.2,
    "ffn_d_hidden_multiplier": 4 / 3,
    "ffn_dropout": 0.1,
    "residual_dropout": 0.0,
    "lr": 1e-4,
    "weight_decay": 1e-5,
    "batch_size": 256,
    "max_epochs": 1000,
    "patience": 16,
}


def space(trial) -> FTTransformerParams:
    return {
        "n_blocks": trial.suggest_int("n_blocks", 1, 4),
        "d_block": trial.suggest_int("d_block", 64, 512, step=N_HEADS),
        "attention_dropout": trial.suggest_float("attention_dropout", 0.0, 0.5),
        "ffn_d_hidden_multiplier": trial.suggest_float("ffn_d_hidden_multiplier", 2 / 3, 8 / 3),
        "ffn_dropout": trial.suggest_float("ffn_dropout", 0.0, 0.5),
        "residual_dropout": zero_or(trial, "residual_dropout", 0.0, 0.2),
        "lr": trial.suggest_float("lr", 1e-5, 1e-3, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        **untuned(DEFAULTS, "batch_size", "max_epochs", "patience"),
    }


def build_ft_transformer(p: dict, n_numeric: int, cat_cardinalities: tuple[int, ...], d_out: int):
    """``rtdl_revisiting_models.FTTransformer`` behind a forward that takes the encoder's matrix."""
    import rtdl_revisiting_models
    from torch import nn

    model = rtdl_revisiting_models.FTTransformer(
        n_cont_features=n_numeric, cat_cardinalities=list(cat_cardinalities), d_out=d_out,
        n_blocks=int(p["n_blocks"]), d_block=int(p["d_block"]), attention_n_heads=N_HEADS,
        attention_dropout=float(p["attention_dropout"]), ffn_d_hidden=None,
        ffn_d_hidden_multiplier=float(p["ffn_d_hidden_multiplier"]), ffn_dropout=float(p["ffn_dropout"]),
        residual_dropout=float(p["residual_dropout"]),
    )

    class FTTransformerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x[:, :n_numeric] if n_numeric else None,
                              x[:, n_numeric:].long() if cat_cardinalities else None)

        def make_parameter_groups(self):
            return self.model.make_parameter_groups()

    return FTTransformerNet()


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext):
    from bench.preprocess import FeatureEncoder

    from ._torch import fit_net

    p = _check_params(params)
    encoder = FeatureEncoder(numeric="quantile", categorical="codes", seed=ctx.seed).fit(train, info)
    X_train, X_valid = encoder.transform(train), encoder.transform(valid)
    d_out = 1 if info.task == "regression" else info.n_classes
    return fit_net(
        lambda: build_ft_transformer(p, encoder.n_numeric_out, encoder.cat_cardinalities, d_out),
        X_train, train.y, X_valid, valid.y,
        transform=encoder.transform, task=info.task, ctx=ctx,
        lr=p["lr"], weight_decay=p["weight_decay"], batch_size=p["batch_size"],
        max_epochs=p["max_epochs"], patience=p["patience"],
        parameter_groups=lambda net: net.make_parameter_groups(),
    )


def _check_params(params: dict) -> dict:
    p = with_defaults("ft_transformer", DEFAULTS, params)
    for name in ("n_blocks", "batch_size", "max_epochs", "patience"):
        check_int("ft_transformer", p, name, 1)
    check_int("ft_transformer", p, "d_block", N_HEADS)
    if p["d_block"] % N_HEADS:
        raise ValueError(f"ft_transformer: d_block must be a multiple of {N_HEADS} (the heads), got {p['d_block']!r}")
    for name in ("attention_dropout", "ffn_dropout", "residual_dropout"):
        check_rate("ft_transformer", p, name)
    for name in ("ffn_d_hidden_multiplier", "lr"):
        check_positive("ft_transformer", p, name)
    check_nonnegative("ft_transformer", p, "weight_decay")
    return p


MODEL = ModelSpec(
    name="ft_transformer",
    family="deep",
    tasks=EVERY_TASK,
    modalities=frozenset({"tabular"}),
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "Gorishniy et al. 2021, Revisiting deep learning models for tabular data (NeurIPS), FT-Transformer: "
        "rtdl_revisiting_models 0.0.2 (FTTransformer.get_default_kwargs, make_default_optimizer); space: "
        "yandex-research/rtdl-revisiting-models output/<dataset>/ft_transformer/tuning/0.toml"
    ),
    notes="missing indicators become numeric tokens; tabular only.",
    imports=("bench.models._torch", "rtdl_revisiting_models"),
)
