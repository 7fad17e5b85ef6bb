"""Every registered model through the same checks, in the spirit of scikit-learn's estimator checks.

Data are small and real: scikit-learn's bundled sets (breast cancer, wine,
diabetes, 8x8 digits) and MNIST-1D generated locally (no download). Tabular
sets get one numeric column turned into a categorical and a few missing
values, so that every model meets categoricals and NaN. Training is capped
(epochs, rounds, trees, iterations) through the models' own parameters to
keep the file fast.
"""
from __future__ import annotations

import functools
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from bench.contract import DataInfo, FitContext, Part
from bench.models import registry
from bench.preprocess import FeatureEncoder

MODELS = registry()
TASKS = ("binary", "multiclass", "regression")
MODALITIES = ("tabular", "image", "sequence")
# Caps that keep a test fit short; applied only to models that have the parameter
# (n_estimators: boosting rounds or forest trees; max_iter: hgb iterations, linear's lbfgs cap).
QUICK = {"max_epochs": 15, "n_estimators": 60, "max_iter": 60}
TINY = {"max_epochs": 2, "n_estimators": 10, "max_iter": 10}
ENDLESS = {"max_epochs": 100_000, "patience": 100_000, "n_estimators": 1_000_000, "early_stopping_rounds": 1_000_000,
           "max_iter": 1_000_000, "n_iter_no_change": 1_000_000}
ONE_SHOT = {"linear", "knn", "svm"}  # a single solver call: nothing to cut short at a deadline
FUZZ_TRIALS = 25  # sampled configurations per model in test_space_samples_only_valid_configurations


def capped(spec, caps: dict, params: dict | None = None) -> dict:
    params = dict(spec.defaults if params is None else params)
    params.update({k: v for k, v in caps.items() if k in params})
    return params


# ---------------------------------------------------------------- data


@functools.lru_cache(maxsize=None)
def dataset(task: str, modality: str) -> tuple[Part, Part, Part, DataInfo]:
    """Train/valid/test parts (60/20/20, fixed seed) of a small real dataset."""
    from sklearn import datasets

    shape = None
    if modality == "tabular":
        loader = {
            "binary": datasets.load_breast_cancer,
            "multiclass": datasets.load_wine,
            "regression": datasets.load_diabetes,
        }[task]
        X, y = loader(return_X_y=True)
        X, X_cat = _with_categorical_and_missing(X)
    else:
        if modality == "image":
            X, label = datasets.load_digits(return_X_y=True)
            shape = (1, 8, 8)
        else:
            X, label = _mnist1d(1000)
            shape = (1, X.shape[1])
        X_cat = np.zeros((len(X), 0), dtype=np.int64)
        # Targets derived from the digit: parity of >= 5 for binary, its value for regression.
        y = {"binary": label >= 5, "multiclass": label, "regression": label.astype(np.float64)}[task]
    y = y.astype(np.float64 if task == "regression" else np.int64)
    n_classes = 0 if task == "regression" else int(y.max()) + 1
    order = np.random.default_rng(0).permutation(len(y))
    cut = [int(0.6 * len(y)), int(0.8 * len(y))]
    parts = [Part(X[i].astype(np.float32), X_cat[i], y[i]) for i in np.split(order, cut)]
    return (*parts, DataInfo(task, modality, n_classes, shape=shape))


def _with_categorical_and_missing(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column 0 binned into 4 codes (5% missing as -1); 5% NaN in column 1."""
    rng = np.random.default_rng(1)
    codes = np.searchsorted(np.quantile(X[:, 0], [0.25, 0.5, 0.75]), X[:, 0]).astype(np.int64)
    codes[rng.random(len(X)) < 0.05] = -1
    X = X[:, 1:].copy()
    X[rng.random(len(X)) < 0.05, 0] = np.nan
    return X, codes[:, None]


def _mnist1d(n: int) -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = n
    state = np.random.get_state()  # make_dataset reseeds NumPy's global generator
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
    return np.concatenate([data["x"], data["x_test"]]), np.concatenate([data["y"], data["y_test"]])


def supported_cases():
    return [
        pytest.param(name, task, modality, id=f"{name}-{task}-{modality}")
        for name, spec in MODELS.items()
        for modality in MODALITIES
        for task in TASKS
        if spec.supports(task, modality)
    ]


def first_case(spec) -> tuple[str, str]:
    """A supported (task, modality) with small data, for checks that need only one."""
    for modality in ("image", "tabular", "sequence"):
        for task in ("multiclass", "binary", "regression"):
            if spec.supports(task, modality):
                return task, modality
    raise AssertionError(f"{spec.name} supports nothing")


# ---------------------------------------------------------------- checks


def check_predictions(prediction: np.ndarray, part: Part, info: DataInfo) -> None:
    assert np.isfinite(prediction).all()
    if info.task == "regression":
        assert prediction.shape == (len(part),)
    else:
        assert prediction.shape == (len(part), info.n_classes)
        assert (prediction >= 0).all()
        np.testing.assert_allclose(prediction.sum(axis=1), 1.0, atol=1e-6)


def beats_constant(prediction: np.ndarray, train: Part, test: Part, task: str) -> tuple[float, float]:
    """(model score, constant predictor's score): accuracy vs majority class, or minus MSE vs train mean."""
    if task == "regression":
        return -np.mean((prediction - test.y) ** 2), -np.mean((train.y.mean() - test.y) ** 2)
    majority = np.bincount(train.y).argmax()
    return np.mean(prediction.argmax(axis=1) == test.y), np.mean(test.y == majority)


def test_registry_is_fast_and_imports_no_heavy_library():
    code = (
        "import sys, time; t = time.perf_counter(); from bench.models import registry; names = registry(); "
        "heavy = [m for m in ('torch', 'lightgbm', 'sklearn', 'xgboost', 'catboost', 'pandas') if m in sys.modules]; "
        "print(time.perf_counter() - t, sorted(names), heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, rest = out.split(" ", 1)
    assert float(seconds) < 1.0  # about 0.1 s when idle; the heavy-import check below is the real guard
    assert rest.strip().endswith("[]"), f"registry() imported a heavy library: {rest}"


@pytest.mark.parametrize("name", MODELS)
def test_spec_is_well_formed(name):
    from bench.contract import FAMILIES

    spec = MODELS[name]
    assert spec.family in FAMILIES
    assert spec.tasks <= set(TASKS) and spec.modalities <= set(MODALITIES)
    assert spec.source.strip()


@pytest.mark.parametrize("name, task, modality", supported_cases())
def test_fit_predicts_better_than_constant(name, task, modality):
    spec = MODELS[name]
    train, valid, test, info = dataset(task, modality)
    fitted = spec.fit(capped(spec, QUICK), train, valid, info, FitContext(seed=0))
    prediction = fitted.predict(test)
    check_predictions(prediction, test, info)
    assert fitted.n_iter >= 1 and not fitted.stopped_by_deadline
    assert isinstance(fitted.curves, dict)
    if spec.family == "deep":  # loss curves: one point per epoch, train and validation
        assert set(fitted.curves) == {"train_loss", "valid_loss"}
    for curve in fitted.curves.values():
        assert len(curve) == fitted.n_iter and np.isfinite(curve).all()
    score, constant = beats_constant(prediction, train, test, task)
    assert score > constant, f"{name} on {task}/{modality}: {score:.4f} <= constant {constant:.4f}"


@pytest.mark.parametrize("name", MODELS)
def test_passed_deadline_returns_at_once(name):
    spec = MODELS[name]
    train, valid, test, info = dataset(*first_case(spec))
    start = time.monotonic()
    fitted = spec.fit(dict(spec.defaults), train, valid, info, FitContext(seed=0, deadline=start - 1.0))
    assert time.monotonic() - start < 5.0
    assert fitted.stopped_by_deadline or name in ONE_SHOT
    check_predictions(fitted.predict(test), test, info)


@pytest.mark.parametrize("name", [n for n in MODELS if n not in ONE_SHOT])
def test_endless_fit_stops_at_deadline(name):
    spec = MODELS[name]
    train, valid, test, info = dataset(*first_case(spec))
    start = time.monotonic()
    fitted = spec.fit(capped(spec, ENDLESS), train, valid, info, FitContext(seed=0, deadline=start + 0.5))
    assert time.monotonic() - start < 3.0
    assert fitted.stopped_by_deadline and fitted.n_iter >= 1
    check_predictions(fitted.predict(test), test, info)


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_gives_identical_predictions(name):
    spec = MODELS[name]
    train, valid, test, info = dataset(*first_case(spec))
    first, second = (spec.fit(capped(spec, TINY), train, valid, info, FitContext(seed=3)) for _ in range(2))
    np.testing.assert_array_equal(first.predict(test), second.predict(test))


@pytest.mark.parametrize("name", MODELS)
def test_defaults_lie_in_space(name):
    import optuna

    spec = MODELS[name]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(spec.defaults)
    trial = study.ask()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # optuna warns when an enqueued value is out of range
        params = spec.space(trial)
    assert params == spec.defaults
    for key, distribution in trial.distributions.items():
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            assert params[key] in distribution.choices, key
        else:
            assert distribution.low <= params[key] <= distribution.high, key


def fuzz_case(spec) -> tuple[str, str]:
    """Tabular multiclass where supported (categoricals, NaN: every branch of a space), else first_case."""
    return ("multiclass", "tabular") if spec.supports("multiclass", "tabular") else first_case(spec)


@pytest.mark.parametrize("name", MODELS)
def test_space_samples_only_valid_configurations(name):
    """Many random configurations, each fit (capped) on a tiny set: none may fail or predict nonsense."""
    import optuna

    spec = MODELS[name]
    train, valid, test, info = dataset(*fuzz_case(spec))
    tiny = [Part(p.X_num[:80], p.X_cat[:80], p.y[:80]) for p in (train, valid, test)]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(FUZZ_TRIALS):
        trial = study.ask()
        params = spec.space(trial)
        assert set(params) == set(spec.defaults)
        fitted = spec.fit(capped(spec, TINY, params), tiny[0], tiny[1], info, FitContext(seed=0))
        check_predictions(fitted.predict(tiny[2]), tiny[2], info)
        study.tell(trial, 0.0)


@pytest.mark.parametrize("name", MODELS)
def test_unknown_parameter_is_named(name):
    spec = MODELS[name]
    train, valid, _, info = dataset(*first_case(spec))
    with pytest.raises(ValueError, match="learning_speed"):
        spec.fit({**spec.defaults, "learning_speed": 1.0}, train, valid, info, FitContext(seed=0))


@pytest.mark.parametrize(
    "name, key, value, valid",
    [
        ("lightgbm", "num_leaves", 1, "an integer in 2..131072"),
        ("lightgbm", "bagging_fraction", 0.0, "in (0, 1]"),
        ("lightgbm", "lambda_l2", -1.0, ">= 0"),
        ("xgboost", "max_depth", 0, "an integer >= 1"),
        ("catboost", "depth", 2.5, "an integer in 1..16"),
        ("random_forest", "max_depth", 0, "None or an integer >= 1"),
        ("hgb", "learning_rate", float("nan"), "> 0"),
        ("knn", "weights", "gaussian", "one of ('uniform', 'distance')"),
        ("mlp", "dropout", 1.0, "in [0, 1)"),
        ("resnet", "schedule", "linear", "one of ('constant', 'cosine')"),
        ("tabm", "arch_type", "tabm-packed", "one of ('tabm', 'tabm-mini')"),
        ("realmlp", "hidden_sizes", "128x2", "one of ('256x3', '64x5', '512x1')"),
        ("ft_transformer", "n_blocks", 0, "an integer >= 1"),
    ],
)
def test_invalid_parameter_names_itself_and_the_valid_range(name, key, value, valid):
    if name not in MODELS:
        pytest.skip(f"needs {name}")
    spec = MODELS[name]
    train, valid_part, _, info = dataset(*first_case(spec))
    with pytest.raises(ValueError, match=re.escape(f"{name}: {key} must be {valid}, got {value!r}")):
        spec.fit({**spec.defaults, key: value}, train, valid_part, info, FitContext(seed=0))


@pytest.mark.parametrize("name", [n for n in MODELS if "lr" in MODELS[n].defaults])
def test_diverging_net_raises_floating_point_error(name):
    spec = MODELS[name]
    train, valid, _, info = dataset(*first_case(spec))
    params = capped(spec, TINY, {**spec.defaults, "lr": 1e10})
    with pytest.raises(FloatingPointError, match="loss became nan at epoch"):
        spec.fit(params, train, valid, info, FitContext(seed=0))


def test_nan_loss_is_recorded_as_nan_by_the_harness():
    """A diverging trial ends as a row with status "nan", not as a crash of the unit."""
    from bench.tuning import run_trial

    spec = MODELS["mlp"]
    train, valid, test, info = dataset("binary", "tabular")
    params = capped(spec, TINY, {**spec.defaults, "lr": 1e10})
    row = run_trial(spec, params, {"train": train, "valid": valid, "test": test}, info, FitContext(seed=0))
    assert row["status"] == "nan" and "loss became nan" in row["error"]


def test_mlp_plr_variant_embeds_numeric_features_and_tunes_the_embeddings():
    """mlp[num_embeddings=plr] is MLP-PLR (Gorishniy et al. 2022); plain mlp neither uses nor tunes PLR."""
    import optuna

    from bench.models import resolve

    plr = resolve("mlp[num_embeddings=plr]")
    train, valid, test, info = dataset("binary", "tabular")
    fitted = plr.fit(capped(plr, QUICK), train, valid, info, FitContext(seed=0))
    assert type(fitted.net).__name__ == "PLRNet"
    score, constant = beats_constant(fitted.predict(test), train, test, "binary")
    assert score > constant
    tuned = {}
    for name, spec in (("mlp", MODELS["mlp"]), ("plr", plr)):
        trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
        spec.space(trial)
        tuned[name] = set(trial.distributions)
    assert {"n_frequencies", "frequency_init_scale", "d_embedding"} <= tuned["plr"]
    assert not {"n_frequencies", "frequency_init_scale", "d_embedding"} & tuned["mlp"]


def test_cnn_beats_mlp_on_mnist1d():
    """The MNIST-1D point (Greydanus 2020): translation-heavy 1-D signals need convolutions."""
    if not {"cnn", "mlp"} <= set(MODELS):
        pytest.skip("needs cnn and mlp")
    train, valid, test, info = dataset("multiclass", "sequence")
    accuracy = {}
    for name in ("cnn", "mlp"):
        spec = MODELS[name]
        fitted = spec.fit(capped(spec, QUICK), train, valid, info, FitContext(seed=0))
        accuracy[name] = np.mean(fitted.predict(test).argmax(axis=1) == test.y)
    assert accuracy["cnn"] > accuracy["mlp"] + 0.1, accuracy


@pytest.mark.parametrize("name", [n for n, s in MODELS.items() if s.family == "deep"])
def test_nets_run_on_cuda(name):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    spec = MODELS[name]
    train, valid, test, info = dataset(*first_case(spec))
    fitted = spec.fit(capped(spec, QUICK), train, valid, info, FitContext(seed=0, device="cuda"))
    prediction = fitted.predict(test)
    check_predictions(prediction, test, info)
    score, constant = beats_constant(prediction, train, test, info.task)
    assert score > constant


# ---------------------------------------------------------------- preprocessing (bench/preprocess.py)


def _part(X_num, X_cat=None, y=None):
    X_num = np.asarray(X_num, dtype=np.float32)
    X_cat = np.zeros((len(X_num), 0), np.int64) if X_cat is None else np.asarray(X_cat, np.int64)
    return Part(X_num, X_cat, np.zeros(len(X_num), np.int64) if y is None else y)


def test_encoder_uses_train_statistics_only():
    info = DataInfo("binary", "tabular", 2)
    train = _part([[1.0], [3.0], [np.nan]])
    encoder = FeatureEncoder().fit(train, info)
    out = encoder.transform(_part([[np.nan], [100.0]]))
    # NaN -> train median 2 -> (2 - mean 2) / std; plus its missing indicator
    np.testing.assert_allclose(out[:, 1], [1.0, 0.0])
    assert out[0, 0] == 0.0 and out[1, 0] > 10
    assert out.dtype == np.float32


def test_encoder_one_hot_drops_unknown_missing_and_rare_codes():
    info = DataInfo("binary", "tabular", 2)
    train = _part(np.zeros((6, 0)), [[0], [0], [0], [1], [1], [2]])
    encoder = FeatureEncoder(max_categories=2).fit(train, info)
    out = encoder.transform(_part(np.zeros((4, 0)), [[0], [1], [2], [-1]]))
    np.testing.assert_array_equal(out, [[1, 0], [0, 1], [0, 0], [0, 0]])


def test_encoder_scales_pixels_by_one_mean_and_std():
    info = DataInfo("multiclass", "image", 2, shape=(1, 2, 2))
    train = _part([[0, 0, 10, 10], [0, 0, 20, 20]])
    out = FeatureEncoder().fit(train, info).transform(_part([[0, 5, 10, 10]]))
    # column 1 is constant in train; per-pixel scaling would make 5 explode, one global std does not
    assert np.abs(out).max() < 3


def test_encoder_quantile_output_is_roughly_normal():
    info = DataInfo("regression", "tabular", 0)
    train = _part(np.random.default_rng(0).exponential(size=(3000, 1)))
    out = FeatureEncoder(numeric="quantile").fit(train, info).transform(train)
    assert abs(out.mean()) < 0.1 and abs(out.std() - 1) < 0.1


def test_encoder_codes_for_embeddings():
    info = DataInfo("binary", "tabular", 2)
    train = _part([[1.0], [2.0], [3.0], [4.0]], [[5], [5], [7], [-1]])
    encoder = FeatureEncoder(categorical="codes").fit(train, info)
    out = encoder.transform(_part([[1.0], [1.0], [1.0], [1.0]], [[5], [7], [-1], [9]]))
    # numeric column first, then 1 + position among the kept codes (5, 7); 0 for missing and unseen
    np.testing.assert_array_equal(out[:, 1], [1, 2, 0, 0])
    assert encoder.n_numeric_out == 1 and encoder.cat_cardinalities == (3,)


# ---------------------------------------------------------------- the net trainer (models/_torch.py)


def test_fast_dropout_matches_torch_semantics():
    torch = pytest.importorskip("torch")
    from bench.models._torch import Dropout

    torch.manual_seed(0)
    layer = Dropout(0.25)
    x = torch.ones(200, 500)
    out = layer(x)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.01  # drops a share p of the entries
    assert torch.allclose(out[kept], torch.tensor(1 / 0.75))  # and scales the rest by 1 / (1 - p)
    layer.eval()
    assert torch.equal(layer(x), x)
    torch.manual_seed(0)
    assert torch.equal(Dropout(0.25)(x), out)  # a seeded build gives the same masks


def test_trainer_averages_the_probabilities_of_k_members():
    """fit_net(k=...): outputs (batch, k, classes), one loss per member, the members' mean probability predicted."""
    torch = pytest.importorskip("torch")
    from bench.models._torch import fit_net

    train, valid, test, info = dataset("multiclass", "tabular")
    encoder = FeatureEncoder().fit(train, info)
    X_train, X_valid = encoder.transform(train), encoder.transform(valid)
    k, n_classes = 4, info.n_classes

    class Members(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(X_train.shape[1], k * n_classes)

        def forward(self, x):
            return self.linear(x).view(len(x), k, n_classes)

    fitted = fit_net(Members, X_train, train.y, X_valid, valid.y, transform=encoder.transform, task=info.task,
                     ctx=FitContext(seed=0), lr=1e-2, weight_decay=0.0, batch_size=32, max_epochs=3, patience=3, k=k)
    with torch.no_grad():
        members = torch.softmax(fitted.net(torch.from_numpy(encoder.transform(test))).double(), dim=2)
    np.testing.assert_allclose(fitted.predict(test), members.mean(dim=1).numpy(), rtol=1e-6, atol=1e-9)
    assert len(fitted.curves["valid_loss"]) == fitted.n_iter == 3


def test_cnn_fits_a_multichannel_sequence(tmp_path):
    """BasicMotions (UEA): 6 channels x 100 steps, flattened channel-major, as the card's shape says."""
    if "cnn" not in MODELS:
        pytest.skip("needs cnn")
    from bench.data import catalogue, load
    from bench.splits import make_splits

    card = catalogue()["basic_motions"]
    dataset = load(card, cache_dir=tmp_path)
    split = make_splits(dataset.y, card.task, folds=1, seed=0)[0]
    train, valid, test = (dataset.part(i) for i in (split.train, split.valid, split.test))
    spec = MODELS["cnn"]
    fitted = spec.fit(capped(spec, QUICK), train, valid, dataset.info, FitContext(seed=0))
    proba = fitted.predict(test)
    assert proba.shape == (len(test.y), 4) and np.allclose(proba.sum(axis=1), 1, atol=1e-4)
    assert np.mean(proba.argmax(axis=1) == test.y) > 0.5  # 4 balanced classes: chance is 0.25


def test_encoder_scales_each_channel_on_its_own_when_there_are_several():
    info = DataInfo("multiclass", "sequence", 2, shape=(2, 3))
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(0, 1, (50, 3)), rng.normal(500, 100, (50, 3))])  # two units, one row
    out = FeatureEncoder().fit(_part(X), info).transform(_part(X))
    for channel in (out[:, :3], out[:, 3:]):
        assert abs(channel.mean()) < 1e-5 and abs(channel.std() - 1) < 1e-4
    single = FeatureEncoder().fit(_part(X[:, :3]), DataInfo("multiclass", "sequence", 2, shape=(1, 3)))
    assert np.ndim(single.mean) == 0  # one channel: one mean and std over every value, as before
