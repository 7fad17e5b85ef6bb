"""Tests for bench/data/hygiene.py: each rule fires on a crafted file and stays quiet on a clean one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.data import card_from_file, hygiene, load, load_card

N = 60


def clean_frame(n: int = N) -> pd.DataFrame:
    """Informative but imperfect features, a text category, unique floats, and a target."""
    rng = np.random.default_rng(0)
    label = np.array(["yes", "no"])[np.arange(n) % 2]
    return pd.DataFrame({
        "height": rng.normal(170, 10, n).round(3),  # unique floats: a measurement, kept
        "score": rng.permutation(np.arange(n) * 7 + 3),  # unique integers, neither monotone nor consecutive
        "colour": rng.choice(["red", "green", "blue"], n),
        "noisy": np.where(rng.random(n) < 0.8, label == "yes", label == "no").astype(int),
        "label": label,
    })


def build(tmp_path: Path, frame: pd.DataFrame, target: str = "label", **kwargs):
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return load(card_from_file(path, target, **kwargs), cache_dir=tmp_path / "cache")


def test_a_clean_table_keeps_every_column_and_has_no_notes(tmp_path):
    dataset = build(tmp_path, clean_frame())
    assert dataset.notes == ()
    assert dataset.num_names == ("height", "score", "noisy") and dataset.cat_names == ("colour",)


def test_constant_columns_are_dropped_with_a_note(tmp_path):
    frame = clean_frame().assign(always_one=1, empty=np.nan)
    dataset = build(tmp_path, frame)
    assert "always_one" not in dataset.num_names and "empty" not in dataset.num_names
    assert "dropped 2 constant column(s): always_one, empty" in dataset.notes


@pytest.mark.parametrize("name, values", [
    ("customer_id", lambda n: np.random.default_rng(1).permutation(n) * 13 + 1000),  # named an identifier
    ("userId", lambda n: np.random.default_rng(1).permutation(n) * 13 + 1000),  # camelCase identifier
    ("Unnamed: 0", lambda n: np.arange(n)),  # a pandas index written to CSV
    ("ticket", lambda n: [f"T-{i:04d}" for i in np.random.default_rng(2).permutation(n)]),  # unique text
    ("row", lambda n: np.arange(n) * 5 + 17),  # strictly increasing integers
    ("serial", lambda n: np.random.default_rng(3).permutation(n) + 500),  # consecutive integers, shuffled
])
def test_id_like_columns_are_dropped_with_a_note(tmp_path, name, values):
    frame = clean_frame()
    frame.insert(0, name, values(N))
    dataset = build(tmp_path, frame)
    assert name not in dataset.num_names + dataset.cat_names
    assert f"dropped 1 ID-like column(s) (a distinct value in every row): {name}" in dataset.notes


@pytest.mark.parametrize("values", [
    np.linspace(0.5, 9.5, N),  # unique floats, even sorted: measurements
    np.arange(N) % 7,  # repeating integers
    np.r_[np.arange(N - 1), np.nan],  # a missing value: not an identifier
])
def test_columns_that_only_look_like_ids_are_kept(values):
    assert not hygiene.is_id_like(pd.Series(values), "x")


def test_small_tables_keep_unique_columns_unless_named_as_ids():
    assert not hygiene.is_id_like(pd.Series(["a", "b", "c"]), "name")
    assert hygiene.is_id_like(pd.Series([3, 1, 2]), "id")


def test_rows_with_a_missing_target_are_dropped_with_a_note(tmp_path):
    frame = clean_frame()
    frame.loc[[3, 8], "label"] = np.nan
    dataset = build(tmp_path, frame)
    assert dataset.n_rows == N - 2
    assert f"dropped 2 of {N} rows with a missing target 'label'" in dataset.notes


@pytest.mark.parametrize("leak", [
    lambda f: f["label"].map({"yes": "Y", "no": "N"}),  # the target, recoded as text
    lambda f: np.where(f["label"] == "yes", 10.0, -10.0) + np.arange(N) / 100,  # one threshold separates
])
def test_a_feature_that_predicts_a_class_perfectly_is_flagged(tmp_path, leak):
    frame = clean_frame()
    frame.insert(0, "leak", leak(frame))
    dataset = build(tmp_path, frame)
    assert "leak" in dataset.num_names + dataset.cat_names  # flagged, not dropped
    assert "likely leakage: 1 feature(s) alone predict target 'label' on every row: leak" in dataset.notes


@pytest.mark.parametrize("transform", [lambda y: 2 * y + 1, np.log, lambda y: -(y ** 3)])
def test_a_monotone_function_of_a_regression_target_is_flagged(tmp_path, transform):
    frame = clean_frame().drop(columns="label")
    frame["price"] = np.random.default_rng(4).uniform(1, 100, N).round(4)
    frame.insert(0, "leak", transform(frame["price"]))
    dataset = build(tmp_path, frame, target="price")
    assert dataset.card.task == "regression"
    assert any(note.startswith("likely leakage") and note.endswith(": leak") for note in dataset.notes)


def test_an_informative_regression_feature_is_not_flagged(tmp_path):
    frame = clean_frame().drop(columns="label")
    rng = np.random.default_rng(5)
    frame["price"] = rng.uniform(1, 100, N).round(4)
    frame["related"] = frame["price"] + rng.normal(0, 5, N)
    assert not any("leakage" in note for note in build(tmp_path, frame, target="price").notes)


def test_image_columns_are_never_dropped(tmp_path, cache_dir):
    from bench.data import catalogue

    dataset = load(catalogue()["mnist"], cache_dir=cache_dir)
    assert dataset.X_num.shape[1] == 784 and dataset.notes == ()  # mnist has constant border pixels
    assert (np.ptp(np.asarray(dataset.X_num), axis=0) == 0).any()


def test_a_card_file_gets_the_same_rules(tmp_path):
    frame = clean_frame().assign(id=np.arange(N), constant="same")
    frame.to_csv(tmp_path / "table.csv", index=False)
    (tmp_path / "mine.toml").write_text('source = "csv:table.csv"\ntask = "binary"\nmodality = "tabular"\n'
                                        'target = "label"\nlicence = "x"\ncitation = "x"\n')
    notes = load(load_card(tmp_path / "mine.toml"), cache_dir=tmp_path / "cache").notes
    assert notes[:2] == ("dropped 1 constant column(s): constant",
                         "dropped 1 ID-like column(s) (a distinct value in every row): id")


# --------------------------------------------------------------------------- duplicates


def toy_dataset(tmp_path: Path):
    frame = pd.DataFrame({
        "a": [1.0, 1.0, np.nan, np.nan, 2.0, 2.0, 3.0, -0.0],
        "b": ["x", "x", "y", "y", "x", "x", None, "y"],
        "label": ["p", "p", "q", "q", "p", "q", "p", "q"],
    })
    return build(tmp_path, frame)


def test_shared_duplicates_counts_test_rows_that_repeat_a_train_row(tmp_path):
    dataset = toy_dataset(tmp_path)
    # rows 0 and 1 are equal; 2 and 3 are equal (NaN equals NaN); 4 and 5 differ in the target only.
    assert hygiene.shared_duplicates(dataset, np.array([0, 2, 4]), np.array([1, 3, 5, 6])) == 2
    assert hygiene.shared_duplicates(dataset, np.array([0, 1]), np.array([1, 1])) == 2  # counts test rows
    assert hygiene.shared_duplicates(dataset, np.array([4, 6]), np.array([5, 7])) == 0
    assert hygiene.shared_duplicates(dataset, np.array([0]), np.array([], dtype=int)) == 0


def test_duplicate_rows_counts_repeats_of_earlier_rows(tmp_path):
    assert hygiene.duplicate_rows(toy_dataset(tmp_path)) == 2
