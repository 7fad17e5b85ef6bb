"""The packaged catalogue: every card loads offline and is what it says; the counts the suite promises hold."""
from __future__ import annotations

import tomllib

import numpy as np
import pytest

from bench import data
from bench.data import catalogue, load

# name: (rows, numeric features, categorical features, classes; 0 for regression), after hygiene.
EXPECTED = {
    "acsf1": (200, 1460, 0, 10),
    "acsf1_shuffled": (200, 1460, 0, 10),
    "adult": (32561, 6, 8, 2),
    "ames": (2930, 33, 40, 0),
    "arrowhead": (211, 251, 0, 3),
    "arrowhead_shuffled": (211, 251, 0, 3),
    "basic_motions": (80, 600, 0, 4),
    "basic_motions_shuffled": (80, 600, 0, 4),
    "breast_cancer": (569, 30, 0, 2),
    "cmc": (1473, 9, 0, 3),
    "concrete": (1030, 8, 0, 0),
    "cps1988_wages": (28155, 2, 4, 0),
    "cpu_performance": (209, 6, 0, 0),
    "credit_approval": (653, 6, 9, 2),
    "credit_scoring": (4454, 9, 4, 2),
    "diabetes": (442, 10, 0, 0),
    "diamonds": (53940, 6, 3, 0),
    "digits": (1797, 64, 0, 10),
    "digits_shuffled": (1797, 64, 0, 10),
    "german_credit": (1000, 7, 13, 2),
    "gunpoint": (200, 150, 0, 2),
    "gunpoint_shuffled": (200, 150, 0, 2),
    "hepatic_injury": (281, 370, 0, 3),
    "hitters": (263, 16, 3, 0),
    "hotel_rates": (15402, 17, 9, 0),
    "italy_power_demand": (1096, 24, 0, 2),
    "italy_power_demand_shuffled": (1096, 24, 0, 2),
    "japanese_vowels": (640, 348, 0, 9),
    "japanese_vowels_shuffled": (640, 348, 0, 9),
    "kr_vs_kp": (3196, 0, 36, 2),
    "letter": (20000, 16, 0, 26),
    "magic": (19020, 10, 0, 2),
    "mnist": (5000, 784, 0, 10),
    "mnist1d": (5000, 40, 0, 10),
    "mnist1d_paper": (5000, 40, 0, 10),
    "mnist1d_paper_shuffled": (5000, 40, 0, 10),
    "mnist1d_shuffled": (5000, 40, 0, 10),
    "mnist_shuffled": (5000, 784, 0, 10),
    "nass_cds": (26217, 5, 6, 2),
    "optdigits": (5620, 64, 0, 10),
    "optdigits_shuffled": (5620, 64, 0, 10),
    "osuleaf": (442, 427, 0, 6),
    "osuleaf_shuffled": (442, 427, 0, 6),
    "pd_speech": (252, 751, 0, 2),
    "penbased": (10992, 16, 0, 10),
    "penguins": (344, 5, 2, 3),
    "permeability": (165, 1069, 0, 0),
    "phoneme": (5404, 5, 0, 2),
    "pima": (768, 8, 0, 2),
    "plaid": (1074, 1344, 0, 11),
    "plaid_shuffled": (1074, 1344, 0, 11),
    "satimage": (6435, 36, 0, 6),
    "segment": (2310, 18, 0, 7),
    "sonar": (208, 60, 0, 2),
    "spambase": (4597, 57, 0, 2),
    "splice": (3190, 0, 60, 3),
    "tecator": (215, 100, 0, 0),
    "telco_churn": (7043, 9, 10, 2),
    "texture": (5500, 40, 0, 11),
    "tic_tac_toe": (958, 0, 9, 2),
    "tissue_gene_expression": (189, 500, 0, 7),
    "vehicle": (846, 18, 0, 4),
    "vowel": (990, 13, 0, 11),
    "wine": (178, 13, 0, 3),
    "wisconsin": (683, 9, 0, 2),
}

CARDS = catalogue()


def test_the_expected_table_covers_the_catalogue():
    assert set(EXPECTED) == set(CARDS)


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_card_loads_offline_and_matches_its_declaration(name, cache_dir):
    card = CARDS[name]
    dataset = load(card, cache_dir=cache_dir)
    rows, d_num, d_cat, n_classes = EXPECTED[name]
    assert dataset.X_num.shape == (rows, d_num) and dataset.X_cat.shape == (rows, d_cat)
    assert len(dataset.y) == rows
    assert card.licence and card.citation and card.description
    if card.task == "regression":
        assert dataset.y.dtype == np.float64 and dataset.classes == () and n_classes == 0
    else:
        assert dataset.y.dtype == np.int64 and len(dataset.classes) == n_classes
        assert (n_classes == 2) == (card.task == "binary")
        assert np.array_equal(np.unique(dataset.y), np.arange(n_classes))
    if card.modality in ("image", "sequence"):
        assert card.shape is not None and int(np.prod(card.shape)) == d_num and d_cat == 0
    else:
        assert card.shape is None
        # every declared categorical column is encoded as one, unless hygiene dropped it
        dropped = " ".join(dataset.notes)
        assert all(c in dataset.cat_names or c in dropped for c in card.categorical)
        assert not any("leakage" in note for note in dataset.notes)


def facts(cache_dir) -> dict[str, dict]:
    out = {}
    for name, card in CARDS.items():
        dataset = load(card, cache_dir=cache_dir)
        missing = bool(np.isnan(dataset.X_num).any() or (np.asarray(dataset.X_cat) < 0).any())
        out[name] = {"task": card.task, "modality": card.modality, "rows": dataset.n_rows,
                     "features": dataset.X_num.shape[1] + dataset.X_cat.shape[1],
                     "categorical": dataset.X_cat.shape[1] > 0, "missing": missing}
    return out


def test_the_catalogue_meets_the_promised_counts(cache_dir):
    f = facts(cache_dir)

    def count(rule) -> int:
        return sum(1 for v in f.values() if rule(v))

    tabular = {k: v for k, v in f.items() if v["modality"] == "tabular"}
    assert len(f) >= 40
    for task in ("binary", "multiclass", "regression"):
        assert sum(v["task"] == task for v in tabular.values()) >= 8, task
    assert count(lambda v: v["categorical"]) >= 6
    assert count(lambda v: v["missing"]) >= 3
    assert count(lambda v: v["rows"] > 10_000) >= 6
    assert count(lambda v: v["features"] >= v["rows"]) >= 2
    assert count(lambda v: v["rows"] <= 1_000) >= 10
    assert {"mnist", "digits", "optdigits"} <= {k for k, v in f.items() if v["modality"] == "image"}
    assert {"mnist1d", "mnist1d_shuffled"} <= {k for k, v in f.items() if v["modality"] == "sequence"}
    # issue 17: at least 8 image/sequence originals, each with its <name>_shuffled control
    originals = {k for k, c in CARDS.items() if c.modality != "tabular" and not c.shuffle}
    assert len(originals) >= 8 and {f"{k}_shuffled" for k in originals} <= set(CARDS)
    assert any(CARDS[k].shape[0] > 1 for k in originals)  # multichannel sequences


def test_optdigits_is_8x8_and_mnist_28x28():
    assert CARDS["optdigits"].shape == CARDS["digits"].shape == (1, 8, 8)
    assert CARDS["mnist"].shape == (1, 28, 28)


def test_mnist1d_shuffled_is_mnist1d_with_one_fixed_permutation(cache_dir):
    plain = load(CARDS["mnist1d"], cache_dir=cache_dir)
    shuffled = load(CARDS["mnist1d_shuffled"], cache_dir=cache_dir)
    permutation = data.mnist1d_permutation()
    assert sorted(permutation) == list(range(40)) and not np.array_equal(permutation, np.arange(40))
    # the shuffle option reproduces the permutation mnist1d_shuffled had before the option existed
    np.testing.assert_array_equal(permutation, np.random.default_rng(0).permutation(40))
    np.testing.assert_array_equal(data.position_permutation((1, 40), 0), permutation)
    np.testing.assert_array_equal(np.asarray(shuffled.X_num), np.asarray(plain.X_num)[:, permutation])
    np.testing.assert_array_equal(np.asarray(shuffled.y), np.asarray(plain.y))


@pytest.mark.parametrize("name", sorted(n for n, c in CARDS.items() if c.shuffle))
def test_every_shuffled_card_holds_its_originals_values_and_labels(name, cache_dir):
    original = load(CARDS[name.removesuffix("_shuffled")], cache_dir=cache_dir)
    shuffled = load(CARDS[name], cache_dir=cache_dir)
    order = data.position_permutation(CARDS[name].shape, CARDS[name].shuffle_seed)
    np.testing.assert_array_equal(np.asarray(shuffled.X_num), np.asarray(original.X_num)[:, order])
    np.testing.assert_array_equal(np.asarray(shuffled.y), np.asarray(original.y))
    assert shuffled.num_names == original.num_names


def test_known_hygiene_notes_on_packaged_data(cache_dir):
    assert "dropped 1 constant column(s): a2" in load(CARDS["segment"], cache_dir=cache_dir).notes
    notes = load(CARDS["cpu_performance"], cache_dir=cache_dir).notes
    assert "dropped 1 ID-like column(s) (a distinct value in every row): name" in notes
    assert "dropped 59 of 322 rows with a missing target 'Salary'" in load(CARDS["hitters"], cache_dir=cache_dir).notes


# --------------------------------------------------------------------------- suites


def suite_cards() -> dict[str, dict]:
    folder = data.packaged_cards_dir() / "suites"
    return {path.stem: tomllib.loads(path.read_text()) for path in sorted(folder.glob("*.toml"))}


def test_the_promised_suites_exist():
    assert {"quick", "standard", "tabular", "image", "small-data", "learning-curve"} <= set(suite_cards())


def test_quick_runs_every_model_on_every_modality():
    from bench.models import registry

    quick = suite_cards()["quick"]
    assert set(quick["models"]) == set(registry())
    assert {CARDS[name].modality for name in quick["datasets"]} == {"tabular", "image", "sequence"}
    assert {CARDS[name].task for name in quick["datasets"]} == {"binary", "multiclass", "regression"}


@pytest.mark.parametrize("stem", sorted(suite_cards()))
def test_every_suite_names_known_datasets_and_models(stem):
    from bench.models import registry, resolve

    suite = suite_cards()[stem]
    assert suite["name"] == stem
    assert set(suite["datasets"]) <= set(CARDS), set(suite["datasets"]) - set(CARDS)
    for model in suite["models"]:  # a name of the registry, or a variant of one (resolve raises on a bad key)
        assert resolve(model, registry()).name == model
    assert len(set(suite["datasets"])) == len(suite["datasets"])


def test_suites_cover_what_their_names_promise(cache_dir):
    suites, f = suite_cards(), facts(cache_dir)
    assert set(suites["standard"]["datasets"]) == set(CARDS) and suites["standard"]["folds"] == 3
    assert set(suites["tabular"]["datasets"]) == {k for k, v in f.items() if v["modality"] == "tabular"}
    assert set(suites["image"]["datasets"]) == {k for k, v in f.items() if v["modality"] == "image"}
    assert set(suites["sequence"]["datasets"]) == {k for k, v in f.items() if v["modality"] == "sequence"}
    # small-data is the tabular slice: the small UCR/UEA sequence sets live in the sequence suite
    assert set(suites["small-data"]["datasets"]) == {k for k, v in f.items()
                                                     if v["rows"] <= 1_000 and v["modality"] == "tabular"}
    curve = suites["learning-curve"]
    assert curve["train_sizes"] == [100, 300, 1000, 3000, 10000]
    assert {k for k, v in f.items() if v["rows"] > 10_000} <= set(curve["datasets"])
