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
