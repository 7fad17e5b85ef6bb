"""RealMLP (Holzmüller et al., NeurIPS 2024, "Better by default: strong pre-tuned MLPs and boosted trees on
tabular data"), written on our trainer (``_torch.fit_net``) after the authors' pytabkit 1.7.3.

Preprocessing, fit on train: median imputation with missing indicators
(``FeatureEncoder``), then per column robust scaling (centre on the median,
divide by the interquartile range, or by half the range where that is 0) and
smooth clipping ``x / sqrt(1 + (x / 3)^2)``. Categoricals with at most 9 codes
(missing counted as a code) are one-hot encoded (one +-1 column when binary)
and robust-scaled and clipped as well; larger ones get a learned embedding of
size 8. Numeric features then go through per-feature numeric embeddings:
PBLD (periodic, bias, linear, densenet: ``cos(2 pi w x + b)`` with 16
frequencies of scale ``plr_sigma``, a linear map to 3, and x itself), or PL,
PLR (sin/cos of 8 frequencies, linear to 4, ReLU for PLR), or none.

Net: a diagonal scaling layer in front (learning-rate factor 6), then blocks
of NTK-parametrised linear layers (``x @ W / sqrt(fan_in)``; W initialised so
that each unit has unit std on the training data, biases at a random convex
combination of 5 training rows, "he+5"), a parametric activation
``x + alpha (f(x) - x)`` (SELU for classes, Mish for regression; alpha's
learning-rate factor 0.1) and dropout; biases and embeddings learn at a tenth
of the rate, biases without weight decay. Regression outputs are clipped to the
training targets' range at prediction. Training: Adam with betas (0.9, 0.95),
decoupled weight decay (as pytabkit applies it: a group's decay is wd times
its learning-rate factor, and times its wd factor squared), the "coslog4"
learning-rate schedule, "flat_cos" schedules for weight decay and dropout,
label smoothing 0.1 for classes, 256 epochs of batches of 256. Tabular data
only, as in the paper.

Default (trial 0): RealMLP-TD, pytabkit 1.7.3 ``sklearn/default_params.py``
(``RealMLP_TD_CLASS``, ``RealMLP_TD_REG``): hidden 3 x 256, PBLD with sigma 0.1,
front scale, dropout 0.15, weight decay 0.02, label smoothing 0.1, lr 0.04
(classes) / 0.2 (regression), SELU / Mish; as those two differ by task, each has
a parameter per task. Space: RealMLP-HPO, pytabkit 1.7.3
``alg_interfaces/nn_interfaces.py`` ``RealMLPParamSampler`` "default" (the
paper's space): numeric embeddings {none, PBLD, PL, PLR}, front scale on/off,
lr LogUniform[2e-2, 3e-1], dropout {0, 0.15, 0.3}, weight decay {0, 0.02},
plr_sigma LogUniform[0.05, 0.5], activation {ReLU, SELU, Mish}, hidden
{3 x 256, 5 x 64, 1 x 512}, label smoothing {0, 0.1}; pytabkit draws some
choices with unequal probabilities, optuna here with equal ones.

Differences from pytabkit, all on purpose: the epoch kept is the one with the
best validation loss (pytabkit: classification error or RMSE), with our
trainer's near-equal batches (pytabkit drops the last partial batch); and early
stopping after 40 epochs without improvement, where RealMLP-TD trains all 256
epochs and keeps the best. Measured on 2,000 training rows (seed 0): the best
validation loss with patience 40 equals the full schedule's on magic (epoch 63,
stopped at 103) and satimage (epoch 127, stopped at 167) and is within 0.5% on
diamonds (0.0229 at epoch 86 against 0.0228 at epoch 224), at about half the
epochs; patience 16 cuts the first learning-rate cycle short (0.305 against
0.299 on magic). ``realmlp[patience=256]`` is RealMLP-TD's full schedule.
"""
from __future__ import annotations

import math
from typing import Literal, TypedDict

import numpy as np

from bench.contract import DataInfo, FitContext, ModelSpec, Part

from ._common import EVERY_TASK, check_choice, check_int, check_nonnegative, check_positive, check_rate, \
    target_scale, untuned, with_defaults

HIDDEN_SIZES = {"256x3": (256, 256, 256), "64x5": (64,) * 5, "512x1": (512,)}
NUM_EMBEDDINGS = ("pbld", "pl", "plr", "none")
ACTIVATIONS = ("relu", "selu", "mish")
MAX_ONE_HOT = 9  # categoricals with at most this many codes (missing included) are one-hot encoded
CAT_EMBEDDING = 8  # the embedding size of larger ones
BETAS = (0.9, 0.95)


class RealMLPParams(TypedDict):
    hidden_sizes: Literal["256x3", "64x5", "512x1"]
    num_embeddings: Literal["pbld", "pl", "plr", "none"]
    plr_sigma: float  # scale of the embeddings' frequencies
    front_scale: bool
    activation_classification: Literal["relu", "selu", "mish"]
    activation_regression: Literal["relu", "selu", "mish"]
    dropout: float
    weight_decay: float
    label_smoothing: float  # classification only
    lr_classification: float
    lr_regression: float
    batch_size: int  # not tuned
    max_epochs: int  # not tuned: the length of the schedules
    patience: int  # not tuned


DEFAULTS: RealMLPParams = {
    "hidden_sizes": "256x3",
    "num_embeddings": "pbld",
    "plr_sigma": 0.1,
    "front_scale": True,
    "activation_classification": "selu",
    "activation_regression": "mish",
    "dropout": 0.15,
    "weight_decay": 0.02,
    "label_smoothing": 0.1,
    "lr_classification": 0.04,
    "lr_regression": 0.2,
    "batch_size": 256,
    "max_epochs": 256,
    "patience": 40,
}


def space(trial) -> RealMLPParams:
    return {
        "hidden_sizes": trial.suggest_categorical("hidden_sizes", tuple(HIDDEN_SIZES)),
        "num_embeddings": trial.suggest_categorical("num_embeddings", NUM_EMBEDDINGS),
        "plr_sigma": trial.suggest_float("plr_sigma", 0.05, 0.5, log=True),
        "front_scale": trial.suggest_categorical("front_scale", (True, False)),
        "activation_classification": trial.suggest_categorical("activation_classification", ACTIVATIONS),
        "activation_regression": trial.suggest_categorical("activation_regression", ACTIVATIONS),
        "dropout": trial.suggest_categorical("dropout", (0.0, 0.15, 0.3)),
        "weight_decay": trial.suggest_categorical("weight_decay", (0.0, 0.02)),
        "label_smoothing": trial.suggest_categorical("label_smoothing", (0.0, 0.1)),
        "lr_classification": trial.suggest_float("lr_classification", 2e-2, 3e-1, log=True),
        "lr_regression": trial.suggest_float("lr_regression", 2e-2, 3e-1, log=True),
        **untuned(DEFAULTS, "batch_size", "max_epochs", "patience"),
    }


# --------------------------------------------------------------------------- preprocessing


def smooth_clip(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(1.0 + (x / 3.0) ** 2)


class RealMLPEncoder:
    """Fit on train: [numeric columns | one-hot columns], robust-scaled and smoothly clipped, then the codes of
    the categoricals that are embedded. ``n_numeric``, ``n_one_hot`` and ``embedded`` (their cardinalities)."""

    def fit(self, train: Part, info: DataInfo, seed: int) -> RealMLPEncoder:
        from bench.preprocess import FeatureEncoder

        self.base = FeatureEncoder(numeric="standard", categorical="codes", seed=seed).fit(train, info)
        cards = self.base.cat_cardinalities
        self.one_hot = [i for i, c in enumerate(cards) if c <= MAX_ONE_HOT]
        self.embedded_columns = [i for i, c in enumerate(cards) if c > MAX_ONE_HOT]
        self.embedded = tuple(cards[i] for i in self.embedded_columns)
        self.n_numeric = self.base.n_numeric_out
        continuous = self._continuous(self.base.transform(train))
        self.n_one_hot = continuous.shape[1] - self.n_numeric
        self.median = np.median(continuous, axis=0) if len(continuous) else np.zeros(continuous.shape[1])
        spread = np.quantile(continuous, 0.75, axis=0) - np.quantile(continuous, 0.25, axis=0)
        half_range = 0.5 * (continuous.max(axis=0) - continuous.min(axis=0))
        spread = np.where(spread == 0.0, half_range, spread)
        self.factor = np.where(spread == 0.0, 0.0, 1.0 / (spread + 1e-30))  # a constant column becomes 0
        return self

    def _continuous(self, X: np.ndarray) -> np.ndarray:
        blocks = [X[:, :self.n_numeric]]
        for i in self.one_hot:
            codes = X[:, self.n_numeric + i].astype(np.int64)
            c = self.base.cat_cardinalities[i]
            if c == 2:  # one kept value: -1 missing, +1 the value (pytabkit's binary coding)
                blocks.append(np.where(codes == 1, 1.0, -1.0)[:, None])
            elif c == 3:  # two kept values: +1 / -1, 0 missing
                blocks.append(np.select([codes == 1, codes == 2], [1.0, -1.0], 0.0)[:, None])
            elif c > 3:
                blocks.append((codes[:, None] == np.arange(1, c)[None, :]).astype(np.float64))
        return np.hstack(blocks).astype(np.float64)

    def transform(self, part: Part) -> np.ndarray:
        X = self.base.transform(part)
        continuous = smooth_clip((self._continuous(X) - self.median) * self.factor)
        codes = X[:, [self.n_numeric + i for i in self.embedded_columns]]
        return np.ascontiguousarray(np.hstack([continuous, codes]), dtype=np.float32)


# --------------------------------------------------------------------------- the net


def build_realmlp(p: dict, X_train: np.ndarray, encoder: RealMLPEncoder, d_out: int, task: str, y_train):
    """The net, initialised on the training rows (unit-std units, he+5 biases), as pytabkit does."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    from ._torch import Dropout

    regression = task == "regression"
    n_num, n_one_hot, embedded = encoder.n_numeric, encoder.n_one_hot, encoder.embedded
    kind = p["num_embeddings"] if n_num > 0 else "none"
    activation = {"relu": torch.relu, "selu": torch.selu, "mish": F.mish}[
        p["activation_regression"] if regression else p["activation_classification"]]

    class NumEmbeddings(nn.Module):  # pytabkit's PLREmbeddingsLayer(CosBias)
        factors = {"frequencies": (0.1, 1.0), "phases": (0.1, 1.0), "weight": (0.1, 1.0), "bias": (0.1, 1.0)}

        def __init__(self):
            super().__init__()
            pbld = kind == "pbld"
            n_freq, d_out_ = (16, 3) if pbld else (8, 4)
            self.frequencies = nn.Parameter(p["plr_sigma"] * torch.randn(n_num, 1, n_freq))
            self.phases = nn.Parameter(math.pi * (2 * torch.rand(n_num, 1, n_freq) - 1)) if pbld else None
            d_hidden = n_freq if pbld else 2 * n_freq
            self.weight = nn.Parameter((2 * torch.rand(n_num, d_hidden, d_out_) - 1) / math.sqrt(d_hidden))
            self.bias = nn.Parameter((2 * torch.rand(n_num, 1, d_out_) - 1) / math.sqrt(d_hidden))

        def forward(self, x):
            z = 2 * math.pi * x.transpose(0, 1).unsqueeze(-1).matmul(self.frequencies)  # (features, batch, freq)
            z = torch.cos(z + self.phases) if self.phases is not None else torch.cat([torch.cos(z), torch.sin(z)], -1)
            z = z.matmul(self.weight) + self.bias
            if kind == "plr":
                z = torch.relu(z)
            z = z.transpose(0, 1).reshape(len(x), -1)
            return torch.cat([z, x], dim=1) if kind == "pbld" else z

    class CatEmbeddings(nn.Module):
        factors = {"weight": (1.0, 1.0)}

        def __init__(self):
            super().__init__()
            self.weight = nn.ParameterList(nn.Parameter(torch.randn(c, CAT_EMBEDDING)) for c in embedded)

        def forward(self, codes):
            return torch.cat([w[codes[:, i]] for i, w in enumerate(self.weight)], dim=1)

    class Scale(nn.Module):
        factors = {"scale": (6.0, 1.0)}

        def __init__(self, d: int):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1, d))

        def forward(self, x):
            return x * self.scale

    class NTKLinear(nn.Module):
        factors = {"weight": (1.0, 1.0), "bias": (0.1, 0.0)}

        def __init__(self, x: torch.Tensor, d_out_: int):
            super().__init__()
            self.gain = 1.0 / math.sqrt(x.shape[1])
            weight = torch.randn(x.shape[1], d_out_)
            std = (x @ (self.gain * weight)).std(dim=0, correction=0, keepdim=True)
            self.weight = nn.Parameter(weight / torch.where(std > 0, std, torch.ones_like(std)))
            self.bias = nn.Parameter(_he_plus_bias(x @ (self.gain * self.weight.detach())))

        def forward(self, x):
            return x.matmul(self.gain * self.weight) + self.bias

    class ParametricActivation(nn.Module):
        factors = {"alpha": (0.1, 1.0)}

        def __init__(self, d: int):
            super().__init__()
            self.alpha = nn.Parameter(torch.ones(1, d))

        def forward(self, x):
            return x + (activation(x) - x) * self.alpha

    def _he_plus_bias(h: torch.Tensor, n: int = 5) -> torch.Tensor:
        rows = torch.randint(0, h.shape[0], (h.shape[1], n))
        weights = torch.distributions.Exponential(1.0).sample((h.shape[1], n))
        weights /= weights.sum(dim=1, keepdim=True)
        picked = torch.stack([h[rows[:, i], torch.arange(h.shape[1])] for i in range(n)], dim=1)
        return -(picked * weights).sum(dim=1)

    target = target_scale(task, y_train)
    low, high = (float(target.scale(np.min(y_train))), float(target.scale(np.max(y_train)))) if regression else (0, 0)

    class RealMLPNet(nn.Module):
        def __init__(self, x_init: torch.Tensor):
            super().__init__()
            self.num = NumEmbeddings() if kind != "none" else None
            self.cat = CatEmbeddings() if embedded else None
            x = self.features(x_init)  # each layer is initialised on the training rows that reach it
            layers: list[nn.Module] = [Scale(x.shape[1])] if p["front_scale"] else []
            for width in HIDDEN_SIZES[p["hidden_sizes"]]:
                for layer in (NTKLinear(x, width), ParametricActivation(width)):
                    layers.append(layer)
                    x = layer(x)
                if p["dropout"] > 0:  # not applied while initialising
                    layers.append(Dropout(p["dropout"]))
            layers.append(NTKLinear(x, d_out))
            self.layers = nn.Sequential(*layers)

        def features(self, x):
            numeric, rest = x[:, :n_num], x[:, n_num:n_num + n_one_hot]
            parts = [self.num(numeric) if self.num is not None else numeric, rest]
            if self.cat is not None:
                parts.append(self.cat(x[:, n_num + n_one_hot:].long()))
            return torch.cat(parts, dim=1)

        def forward(self, x):
            out = self.layers(self.features(x))
            if regression and not self.training:  # pytabkit's clamp_output, at prediction only
                out = out.clamp(low, high)
            return out

    with torch.no_grad():
        return RealMLPNet(torch.as_tensor(X_train))


def parameter_groups(net, weight_decay: float) -> list[dict]:
    """One group per (learning-rate factor, weight-decay factor), from each module's ``factors``; the decay
    pytabkit applies (p *= 1 - lr * lr_f^2 * wd * wd_f^2) is AdamW's with weight_decay = wd * wd_f^2 * lr_f."""
    groups: dict[tuple[float, float], list] = {}
    seen = set()
    for module in net.modules():
        factors = getattr(module, "factors", None)
        if factors is None:
            continue
        for name, param in module.named_parameters():
            key = name.split(".")[0]
            groups.setdefault(factors[key], []).append(param)
            seen.add(id(param))
    missing = [name for name, param in net.named_parameters() if id(param) not in seen]
    assert not missing, f"parameters without learning-rate factors: {missing}"
    return [{"params": params, "lr_factor": lr_f, "weight_decay": weight_decay * wd_f**2 * lr_f}
            for (lr_f, wd_f), params in groups.items()]


def fit(params: dict, train: Part, valid: Part, info: DataInfo, ctx: FitContext):
    from ._torch import fit_net

    p = _check_params(params)
    regression = info.task == "regression"
    encoder = RealMLPEncoder().fit(train, info, ctx.seed)
    X_train, X_valid = encoder.transform(train), encoder.transform(valid)
    d_out = 1 if regression else info.n_classes
    return fit_net(
        lambda: build_realmlp(p, X_train, encoder, d_out, info.task, train.y),
        X_train, train.y, X_valid, valid.y,
        transform=encoder.transform, task=info.task, ctx=ctx,
        lr=p["lr_regression"] if regression else p["lr_classification"], weight_decay=p["weight_decay"],
        batch_size=p["batch_size"], max_epochs=p["max_epochs"], patience=p["patience"],
        schedule="coslog4", weight_decay_schedule="flat_cos", dropout_schedule="flat_cos",
        label_smoothing=0.0 if regression else p["label_smoothing"],
        parameter_groups=lambda net: parameter_groups(net, p["weight_decay"]), betas=BETAS,
    )


def _check_params(params: dict) -> dict:
    p = with_defaults("realmlp", DEFAULTS, params)
    check_choice("realmlp", p, "hidden_sizes", tuple(HIDDEN_SIZES))
    check_choice("realmlp", p, "num_embeddings", NUM_EMBEDDINGS)
    check_choice("realmlp", p, "front_scale", (True, False))
    for name in ("activation_classification", "activation_regression"):
        check_choice("realmlp", p, name, ACTIVATIONS)
    for name in ("plr_sigma", "lr_classification", "lr_regression"):
        check_positive("realmlp", p, name)
    check_nonnegative("realmlp", p, "weight_decay")
    for name in ("dropout", "label_smoothing"):
        check_rate("realmlp", p, name)
    for name in ("batch_size", "max_epochs", "patience"):
        check_int("realmlp", p, name, 1)
    return p


MODEL = ModelSpec(
    name="realmlp",
    family="deep",
    tasks=EVERY_TASK,
    modalities=frozenset({"tabular"}),
    defaults=DEFAULTS,
    space=space,
    fit=fit,
    source=(
        "Holzmüller et al. 2024, Better by default: strong pre-tuned MLPs and boosted trees on tabular data "
        "(NeurIPS): RealMLP-TD default and RealMLP-HPO space as in the authors' pytabkit 1.7.3 "
        "(sklearn/default_params.py RealMLP_TD_CLASS/_REG; alg_interfaces/nn_interfaces.py RealMLPParamSampler "
        "'default'); written on our trainer"
    ),
    notes=(
        "lr and activation have one parameter per task (RealMLP-TD's differ); label_smoothing is ignored for "
        "regression; the kept epoch is the best by validation loss; tabular only."
    ),
    imports=("bench.models._torch",),
)
