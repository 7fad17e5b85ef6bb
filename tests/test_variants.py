"""Model variants, ``name[key=value,...]`` (``bench.models.resolve``): fixed values leave the search space."""
from __future__ import annotations

import warnings

import pytest

from bench.contract import ModelSpec, parse_variant
from bench.models import registry, resolve

MODELS = registry()


def sampled(space, seed: int = 0):
    """(params, the names the trial registered with the study) for one random trial of ``space``."""
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask()
    params = space(trial)
    return params, set(trial.distributions)


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mlp", ("mlp", {})),
        ("mlp[norm=none]", ("mlp", {"norm": None})),  # resolve turns it into the string "none" for a str default
        ("cnn[augment=false]", ("cnn", {"augment": False})),
        ("mlp[ n_layers = 2 , lr=1e-3 ]", ("mlp", {"n_layers": 2, "lr": 0.001})),
        ("mlp[scaling='quantile',cat_encoding=\"embedding\"]", ("mlp", {"scaling": "quantile", "cat_encoding": "embedding"})),
        ("x[a='1,2',b=TRUE,c=null,d=0.5,e=-3]", ("x", {"a": "1,2", "b": True, "c": None, "d": 0.5, "e": -3})),
    ],
)
def test_parse_variant_reads_literals(text, expected):
    assert parse_variant(text) == expected


@pytest.mark.parametrize("text", ["mlp[]", "mlp[norm]", "mlp[=1]", "mlp[a=1,a=2]", "mlp[a='1]", "mlp[a=1", "m l p"])
def test_unreadable_variants_are_value_errors(text):
    with pytest.raises(ValueError):
        parse_variant(text)


# ---------------------------------------------------------------- resolving


def test_plain_name_is_the_registered_spec():
    assert resolve("mlp") is MODELS["mlp"]


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'perceptron'.*mlp"):
        resolve("perceptron[lr=1]")


def test_unknown_parameter_names_the_key_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"no parameter 'depth'.*valid:.*n_layers"):
        resolve("mlp[depth=3]")


@pytest.mark.parametrize("text, key", [("mlp[width=1.5]", "width"), ("cnn[augment=1]", "augment"), ("mlp[lr=fast]", "lr")])
def test_wrongly_typed_values_name_the_key(text, key):
    with pytest.raises(ValueError, match=f"{key} takes"):
        resolve(text)


def test_values_take_their_default_types():
    assert resolve("mlp[norm=none]").defaults["norm"] == "none"  # a string default: none is the string
    assert resolve("mlp[lr=1]").defaults["lr"] == 1.0 and isinstance(resolve("mlp[lr=1]").defaults["lr"], float)
    assert resolve("random_forest[max_depth=none]").defaults["max_depth"] is None
    assert resolve("random_forest[max_features=0.5]").defaults["max_features"] == 0.5


def test_variant_is_named_as_written_and_keeps_the_rest():
    spec = resolve("mlp[norm=batchnorm,dropout=0]")
    base = MODELS["mlp"]
    assert spec.name == "mlp[norm=batchnorm,dropout=0]"
    assert spec.defaults == {**base.defaults, "norm": "batchnorm", "dropout": 0.0}
    assert (spec.family, spec.tasks, spec.modalities, spec.fit, spec.source) == (
        base.family, base.tasks, base.modalities, base.fit, base.source)
    assert base.defaults["norm"] == "none"  # the registered spec is untouched


@pytest.mark.parametrize("name", MODELS)
def test_variants_remove_their_keys_from_the_space(name):
    """Fix the first tuned parameter of every model: the trial never sees it, the params carry the fixed value."""
    spec = MODELS[name]
    params, tuned = sampled(spec.space)
    key = sorted(tuned)[0]
    value = spec.defaults[key]
    variant = resolve(f"{name}[{key}={_written(value)}]")
    for seed in range(3):
        params, registered = sampled(variant.space, seed)
        assert key not in registered and registered == tuned - {key}
        assert params[key] == value and set(params) == set(spec.defaults)


def test_fixing_an_untuned_parameter_reaches_the_params():
    """max_epochs is not tuned, and the module's space returns its own default: the variant's value wins."""
    params, _ = sampled(resolve("mlp[max_epochs=3]").space)
    assert params["max_epochs"] == 3


def test_conditional_space_follows_the_fixed_branch():
    def space(trial):
        kind = trial.suggest_categorical("kind", ("a", "b"))
        if kind == "a":
            return {"kind": kind, "x": trial.suggest_float("x", 0.0, 1.0), "y": 0}
        return {"kind": kind, "x": 0.0, "y": trial.suggest_int("y", 1, 9)}

    spec = ModelSpec(name="cond", family="classical", tasks=frozenset({"binary"}), modalities=frozenset({"tabular"}),
                     defaults={"kind": "a", "x": 0.5, "y": 0}, space=space, fit=None, source="test")
    variant = resolve("cond[kind=b]", {"cond": spec})
    for seed in range(5):
        params, registered = sampled(variant.space, seed)
        assert registered == {"y"} and params["kind"] == "b" and 1 <= params["y"] <= 9


def test_variant_default_is_trial_zero_without_warnings():
    """As tuning.run_unit does: enqueue the variant's defaults, then ask; the fixed key is not suggested."""
    import optuna

    variant = resolve("mlp[norm=layernorm,lr=0.003]")
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial(variant.defaults, skip_if_exists=False)
    trial = study.ask()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = {**variant.defaults, **variant.space(trial)}
    assert params == variant.defaults
    assert "norm" not in trial.params and "lr" not in trial.params


def test_variants_of_plugin_models(monkeypatch):
    """Models from BENCH_MODEL_MODULES resolve like packaged ones."""
    monkeypatch.setenv("BENCH_MODEL_MODULES", "fault_models")
    spec = resolve("prior[x=0.25]")
    assert spec.name == "prior[x=0.25]" and spec.defaults == {"x": 0.25}
    params, registered = sampled(spec.space)
    assert params == {"x": 0.25} and registered == set()


def _written(value) -> str:
    """A default value as a user writes it in a variant."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
