"""Tests for bench/data/sources.py: each source kind returns the rows its card names."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from bench.data import DataError, catalogue, load, load_card
from bench.data.sources import SOURCES
from toy_data import write_user_csv


def test_keel_values_are_stripped_of_padding(tmp_path):
    # KEEL's raw vehicle table pads its labels: " van ", " saab".
    card_path = tmp_path / "vehicle.toml"
    card_path.write_text('source = "keel:vehicle"\ntask = "multiclass"\nmodality = "tabular"\n'
                         'target = "class"\nlicence = "x"\ncitation = "x"\n')
    dataset = load(load_card(card_path), cache_dir=tmp_path)
    assert dataset.classes == ("bus", "opel", "saab", "van")


def test_mnist1d_leaves_the_global_random_state_alone():
    np.random.seed(123)
    random.seed(123)
    expected = (np.random.random(), random.random())
    np.random.seed(123)
    random.seed(123)
    SOURCES["mnist1d"]("default", catalogue()["mnist1d"])
    assert (np.random.random(), random.random()) == expected


def test_unknown_source_argument_names_the_valid_ones(tmp_path):
    card_path = tmp_path / "nope.toml"
    card_path.write_text('source = "keel:no_such_set"\ntask = "binary"\nmodality = "tabular"\n'
                         'target = "class"\nlicence = "x"\ncitation = "x"\n')
    with pytest.raises(DataError, match=r"nope\.toml.*no_such_set.*available: .*magic"):
        load(load_card(card_path), cache_dir=tmp_path)


def test_a_team_folder_of_cards_pointing_at_files(tmp_path):
    team = tmp_path / "team"
    (team / "data").mkdir(parents=True)
    write_user_csv(team / "data", name="shop.csv")
    pd.read_csv(team / "data" / "shop.csv", sep=";").to_parquet(team / "data" / "shop.parquet")
    for kind, suffix in (("csv", "csv"), ("parquet", "parquet")):
        (team / f"shop_{kind}.toml").write_text(
            f'source = "{kind}:data/shop.{suffix}"\ntask = "binary"\nmodality = "tabular"\ntarget = "bought"\n'
            'categorical = ["city"]\ndrop = ["income"]\nlicence = "internal"\ncitation = "our shop"\n')
    cards = catalogue(extra_dir=team)
    assert {"shop_csv", "shop_parquet", "magic"} <= set(cards)
    for name in ("shop_csv", "shop_parquet"):
        dataset = load(cards[name], cache_dir=tmp_path / "cache")
        assert dataset.n_rows == 40 and dataset.num_names == ("age",) and dataset.cat_names == ("city",)


# --------------------------------------------------------------------------- sktime (UCR/UEA files)

SKTIME_CARDS = sorted(n for n, c in catalogue().items() if c.source_kind == "sktime")


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test: the sktime source reads files."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the sktime source tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_packaged_sktime_cards_cover_univariate_multivariate_and_variable_length():
    cards = catalogue()
    assert len([n for n in SKTIME_CARDS if not cards[n].shuffle]) >= 6
    assert {"basic_motions", "japanese_vowels", "plaid"} <= set(SKTIME_CARDS)


@pytest.mark.parametrize("name", SKTIME_CARDS)
def test_sktime_cards_load_offline_with_the_shape_they_declare(name, tmp_path, no_network):
    card = catalogue()[name]
    dataset = load(card, cache_dir=tmp_path)
    assert dataset.X_num.shape == (dataset.n_rows, int(np.prod(card.shape)))
    assert not np.isnan(dataset.X_num).any() and dataset.X_cat.shape[1] == 0
    assert dataset.published_test is None  # the harness makes its own splits


def test_sktime_joins_train_and_test_and_marks_the_published_test_rows(tmp_path):
    card_path = tmp_path / "vowels.toml"
    card_path.write_text('source = "sktime:JapaneseVowels"\nsplit = "published"\ntask = "multiclass"\n'
                         'modality = "sequence"\ntarget = "label"\nshape = [12, 29]\nlicence = "x"\ncitation = "x"\n')
    dataset = load(load_card(card_path), cache_dir=tmp_path)
    assert dataset.n_rows == 270 + 370  # the archive's TRAIN then TEST file
    np.testing.assert_array_equal(dataset.published_test, np.arange(270, 640))


def test_variable_length_series_are_padded_with_their_last_value(tmp_path):
    from sktime.datasets import load_from_tsfile

    from bench.data.sources import _sktime_data_root

    nested, _ = load_from_tsfile(str(_sktime_data_root() / "JapaneseVowels" / "JapaneseVowels_TRAIN.ts"),
                                 return_data_type="nested_univ")
    X = np.asarray(load(catalogue()["japanese_vowels"], cache_dir=tmp_path).X_num).reshape(-1, 12, 29)
    lengths = [len(nested.iat[i, 0]) for i in range(len(nested))]
    assert min(lengths) < 29  # the file does hold shorter series
    for i, length in enumerate(lengths):
        for channel in range(12):
            original = np.asarray(nested.iat[i, channel], dtype=np.float32)
            np.testing.assert_array_equal(X[i, channel, :length], original)
            assert (X[i, channel, length:] == original[-1]).all()


def test_multichannel_rows_are_flattened_channel_major(tmp_path):
    from sktime.datasets import load_from_tsfile

    from bench.data.sources import _sktime_data_root

    nested, _ = load_from_tsfile(str(_sktime_data_root() / "BasicMotions" / "BasicMotions_TRAIN.ts"),
                                 return_data_type="numpy3d")
    X = np.asarray(load(catalogue()["basic_motions"], cache_dir=tmp_path).X_num)
    np.testing.assert_array_equal(X[:40], nested.reshape(40, -1).astype(np.float32))


def test_unknown_sktime_problem_names_the_available_ones(tmp_path):
    card_path = tmp_path / "nope.toml"
    card_path.write_text('source = "sktime:NoSuchProblem"\ntask = "binary"\nmodality = "sequence"\n'
                         'target = "label"\nshape = [1, 5]\nlicence = "x"\ncitation = "x"\n')
    with pytest.raises(DataError, match=r"nope\.toml: sktime problem 'NoSuchProblem' not found.*"
                                        r"available: .*GunPoint"):
        load(load_card(card_path), cache_dir=tmp_path)


# --------------------------------------------------------------------------- card options at load


def test_shuffle_permutes_positions_alike_in_every_row_and_channel(tmp_path):
    from bench.data import position_permutation

    cards = catalogue()
    plain = np.asarray(load(cards["basic_motions"], cache_dir=tmp_path).X_num).reshape(-1, 6, 100)
    shuffled_data = load(cards["basic_motions_shuffled"], cache_dir=tmp_path)
    shuffled = np.asarray(shuffled_data.X_num).reshape(-1, 6, 100)
    order = np.random.default_rng(0).permutation(100)
    assert not np.array_equal(order, np.arange(100))
    np.testing.assert_array_equal(shuffled, plain[:, :, order])  # one order, every row, every channel
    np.testing.assert_array_equal(shuffled_data.y, load(cards["basic_motions"], cache_dir=tmp_path).y)
    np.testing.assert_array_equal(position_permutation((6, 100), 0).reshape(6, 100) % 100, np.tile(order, (6, 1)))


def test_shuffle_moves_image_pixels_not_channels():
    from bench.data import position_permutation

    order = position_permutation((3, 4, 5), seed=2).reshape(3, 20)
    pixels = np.random.default_rng(2).permutation(20)
    np.testing.assert_array_equal(order, np.arange(3)[:, None] * 20 + pixels)


def test_published_split_needs_a_source_that_marks_test_rows(tmp_path):
    from dataclasses import replace

    from bench.data import build

    assert build(catalogue()["mnist1d_paper"]).published_test is not None
    with pytest.raises(DataError, match=r"split = \"published\" but source 'sklearn:digits' marks no test rows"):
        build(replace(catalogue()["digits"], split="published"))
