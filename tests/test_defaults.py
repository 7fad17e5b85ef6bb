"""Trial 0 of each model against the source its docstring and ``source`` cite for it.

Where a model says a default is its library's, trial 0 is fit as the harness
fits it (the defaults enqueued, then the space) and what the fitted estimator
or booster was given is compared with what the library uses when given
nothing, read from the installed library at test time. Where a default is a
paper's (TabZilla, Grinsztajn et al.), the value is pinned to the paper's code,
cited per row. Defaults that differ from the library on purpose (more rounds
with early stopping, a smaller learning rate) are left out here; the model
docstrings say which and why.
"""
from __future__ import annotations

import inspect
import json

import pytest
from test_models import MODELS, capped, dataset

from bench.contract import FitContext
from bench.models import resolve

FAST = {"n_estimators": 10}  # trees or boosting rounds: enough to build the estimator
TASKS = ("binary", "multiclass", "regression")


def trial_zero(spec) -> dict:
    """The parameters of trial 0 as ``bench.tuning.run_unit`` makes them: the defaults enqueued, then the space."""
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(spec.defaults, skip_if_exists=False)
    return {**spec.defaults, **spec.space(study.ask())}


def fit_trial_zero(spec, task: str):
    train, valid, _, info = dataset(task, "tabular")
    return spec.fit(capped(spec, FAST, trial_zero(spec)), train, valid, info, FitContext(seed=0)), train


def sklearn_estimator(fitted):
    """The scikit-learn estimator trial 0 built (for svm, the SVC inside the calibration wrapper)."""
    from sklearn.calibration import CalibratedClassifierCV

    estimator = fitted.estimator
    return estimator.estimator if isinstance(estimator, CalibratedClassifierCV) else estimator


# ---------------------------------------------------------------- random forest: max_features per task


@pytest.mark.parametrize("task, expected", [("binary", "sqrt"), ("multiclass", "sqrt"), ("regression", 1.0)])
def test_random_forest_trial_zero_takes_sklearns_max_features_for_the_task(task, expected):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    Estimator = RandomForestRegressor if task == "regression" else RandomForestClassifier
    assert inspect.signature(Estimator).parameters["max_features"].default == expected
    fitted, _ = fit_trial_zero(MODELS["random_forest"], task)
    assert fitted.estimator.max_features == expected


@pytest.mark.parametrize("value", [0.5, "sqrt", "log2", 1.0])
def test_random_forest_variant_still_fixes_max_features(value):
    spec = resolve(f"random_forest[max_features={value}]")
    assert spec.defaults["max_features"] == value
    fitted, _ = fit_trial_zero(spec, "regression")
    assert fitted.estimator.max_features == value


def test_random_forest_refuses_an_unknown_max_features_by_name():
    spec = MODELS["random_forest"]
    train, valid, _, info = dataset("regression", "tabular")
    with pytest.raises(ValueError, match=r"random_forest: max_features must be 'auto', 'sqrt', 'log2' or a fraction"):
        spec.fit({**capped(spec, FAST), "max_features": "all"}, train, valid, info, FitContext(seed=0))


# ---------------------------------------------------------------- scikit-learn's defaults, read from scikit-learn

FOREST = ("max_features", "max_depth", "min_samples_split", "min_samples_leaf", "bootstrap", "min_impurity_decrease",
          "criterion")
HGB = ("learning_rate", "max_leaf_nodes", "max_depth", "min_samples_leaf", "l2_regularization")
# model -> the estimator parameters its docstring calls scikit-learn's defaults, per kind of task
SKLEARN_DEFAULTS = {
    "linear": {"classification": ("C",), "regression": ("alpha",)},  # C = 1 / alpha
    "knn": {"classification": ("weights", "p"), "regression": ("weights", "p")},
    "svm": {"classification": ("C", "kernel"), "regression": ("C", "kernel", "epsilon")},
    "random_forest": {"classification": FOREST, "regression": FOREST},
    "hgb": {"classification": HGB, "regression": HGB},
}


@pytest.mark.parametrize("name, task", [(name, task) for name in SKLEARN_DEFAULTS for task in TASKS])
def test_trial_zero_gives_sklearn_its_own_defaults(name, task):
    fitted, _ = fit_trial_zero(MODELS[name], task)
    estimator = sklearn_estimator(fitted)
    ours, theirs = estimator.get_params(), type(estimator)().get_params()
    names = SKLEARN_DEFAULTS[name]["regression" if task == "regression" else "classification"]
    assert {key: ours[key] for key in names} == {key: theirs[key] for key in names}


@pytest.mark.parametrize("task", TASKS)
def test_svm_trial_zero_gamma_is_sklearns_scale(task):
    """gamma_scale 1 is gamma="scale", sklearn's default: 1 / (n_features * Var X) on the encoded train part."""
    fitted, train = fit_trial_zero(MODELS["svm"], task)
    estimator = sklearn_estimator(fitted)
    assert type(estimator)().gamma == "scale"
    X = fitted.features(train)
    assert estimator.gamma == pytest.approx(1.0 / (X.shape[1] * X.var()))


# ---------------------------------------------------------------- boosters' defaults, read from the boosters

LIGHTGBM_DEFAULTS = ("num_leaves", "min_data_in_leaf", "feature_fraction", "bagging_fraction")
LIGHTGBM_ZERO = ("lambda_l1", "lambda_l2")  # LightGBM's 0, which the space's floor 1e-8 stands for
XGBOOST_DEFAULTS = ("min_child_weight", "subsample", "colsample_bytree", "colsample_bylevel")
XGBOOST_ZERO = ("gamma",)  # XGBoost's 0, which the space's floor 1e-8 stands for


def lightgbm_parameters(booster) -> dict[str, float]:
    """Every parameter a trained LightGBM booster used, defaults included (its model text lists them)."""
    text = booster.model_to_string()
    block = text[text.index("\nparameters:\n"):text.index("\nend of parameters")]
    pairs = (line.strip("[]").split(": ", 1) for line in block.splitlines() if line.startswith("["))
    return {key: float(value) for key, value in pairs if _is_number(value)}


def xgboost_parameters(booster) -> dict[str, float]:
    """Every tree parameter a trained XGBoost booster used, defaults included (its saved config lists them)."""
    tree = json.loads(booster.save_config())["learner"]["gradient_booster"]["tree_train_param"]
    return {key: float(value) for key, value in tree.items() if _is_number(value)}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("task", TASKS)
def test_lightgbm_trial_zero_takes_lightgbms_defaults(task):
    import lightgbm

    fitted, train = fit_trial_zero(MODELS["lightgbm"], task)
    objective = {"binary": {"objective": "binary"}, "regression": {"objective": "regression"},
                 "multiclass": {"objective": "multiclass", "num_class": int(train.y.max()) + 1}}[task]
    plain = lightgbm.train({**objective, "verbosity": -1}, lightgbm.Dataset(train.X_num, train.y), 1)
    ours, theirs = lightgbm_parameters(fitted.booster), lightgbm_parameters(plain)
    assert {key: ours[key] for key in LIGHTGBM_DEFAULTS} == {key: theirs[key] for key in LIGHTGBM_DEFAULTS}
    for key in LIGHTGBM_ZERO:
        assert theirs[key] == 0.0 and ours[key] == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("task", TASKS)
def test_xgboost_trial_zero_takes_xgboosts_defaults_where_tabzilla_sets_none(task):
    import xgboost

    fitted, train = fit_trial_zero(MODELS["xgboost"], task)
    plain = xgboost.train({"tree_method": "hist"}, xgboost.DMatrix(train.X_num, label=train.y), 1)
    ours, theirs = xgboost_parameters(fitted.booster), xgboost_parameters(plain)
    assert {key: ours[key] for key in XGBOOST_DEFAULTS} == {key: theirs[key] for key in XGBOOST_DEFAULTS}
    for key in XGBOOST_ZERO:
        assert theirs[key] == 0.0 and ours[key] == pytest.approx(0.0, abs=1e-8)


def test_catboost_border_count_is_catboosts_cpu_default():
    import catboost

    fitted, train = fit_trial_zero(MODELS["catboost"], "binary")
    plain = catboost.CatBoostClassifier(iterations=1, verbose=False, allow_writing_files=False)
    plain.fit(train.X_num, train.y)
    assert fitted.model.get_all_params()["border_count"] == plain.get_all_params()["border_count"]


# ---------------------------------------------------------------- paper defaults, pinned to the papers' code

TABZILLA = "naszilla/tabzilla TabZilla/models/{}.py, default_parameters()"
GRINSZTAJN = "LeoGrin/tabular-benchmark src/configs/model_configs/{}.py"


@pytest.mark.parametrize(
    "name, key, value, where",
    [
        ("knn", "n_neighbors", 9, TABZILLA.format("baseline_models")),
        ("svm", "C", 1.0, TABZILLA.format("baseline_models")),
        ("xgboost", "max_depth", 5, TABZILLA.format("tree_models")),
        ("xgboost", "learning_rate", 0.08, TABZILLA.format("tree_models") + " (eta)"),
        ("xgboost", "reg_alpha", 1e-4, TABZILLA.format("tree_models") + " (alpha)"),
        ("xgboost", "reg_lambda", 1e-4, TABZILLA.format("tree_models") + " (lambda)"),
        ("catboost", "learning_rate", 0.08, TABZILLA.format("tree_models")),
        ("catboost", "depth", 5, TABZILLA.format("tree_models") + " (max_depth)"),
        ("catboost", "l2_leaf_reg", 5.0, TABZILLA.format("tree_models")),
        ("random_forest", "n_estimators", 250, GRINSZTAJN.format("rf_config") + " config_random"),
        ("hgb", "max_iter", 1000, GRINSZTAJN.format("hgbt_config") + " config_random"),
        ("hgb", "n_iter_no_change", 20, GRINSZTAJN.format("hgbt_config") + " config_random"),
        ("resnet", "d_main", 256, GRINSZTAJN.format("resnet_config") + " config_default (d)"),
        ("resnet", "d_hidden_factor", 2.0, GRINSZTAJN.format("resnet_config") + " config_default"),
        ("resnet", "hidden_dropout", 0.2, GRINSZTAJN.format("resnet_config") + " config_default"),
        ("resnet", "residual_dropout", 0.2, GRINSZTAJN.format("resnet_config") + " config_default"),
        ("resnet", "lr", 1e-3, GRINSZTAJN.format("resnet_config") + " config_default"),
        ("resnet", "weight_decay", 1e-7, GRINSZTAJN.format("resnet_config") + " config_default"),
        ("resnet", "norm", "batchnorm", GRINSZTAJN.format("resnet_config") + " config_default (normalization)"),
    ],
)
def test_paper_defaults_are_the_papers(name, key, value, where):
    assert MODELS[name].defaults[key] == value, f"{name}.{key}: {where} has {value!r}"


def test_xgboost_trial_zero_passes_tabzillas_default_to_the_booster():
    fitted, _ = fit_trial_zero(MODELS["xgboost"], "binary")
    tree = xgboost_parameters(fitted.booster)  # float32 in the config: equal to about 1e-7
    given = {key: tree[key] for key in ("max_depth", "eta", "alpha", "lambda")}
    assert given == pytest.approx({"max_depth": 5, "eta": 0.08, "alpha": 1e-4, "lambda": 1e-4}, rel=1e-6)
