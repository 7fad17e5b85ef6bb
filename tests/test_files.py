"""Tests for bench/data/files.py: a user's CSV or Parquet file, its card and its inferred task."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.data import DataError, load
from bench.data.files import card_from_file
from toy_data import write_user_csv


def test_card_from_file_sniffs_the_delimiter_and_infers_types_and_task(tmp_path):
    path = write_user_csv(tmp_path)
    card = card_from_file(path, "bought")
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
    assert card_from_file(tmp_path / "t.csv", "y").task == task


def test_a_given_task_overrides_the_inference_and_is_checked(tmp_path):
    pd.DataFrame({"x": range(20), "y": [1, 2, 3, 4, 5] * 4}).to_csv(tmp_path / "t.csv", index=False)
    assert card_from_file(tmp_path / "t.csv", "y", task="regression").task == "regression"
    with pytest.raises(DataError, match=r"t\.csv: task 'binary' needs 2 classes but target 'y' has 5"):
        card_from_file(tmp_path / "t.csv", "y", task="binary")
    with pytest.raises(DataError, match=r"t\.csv: task 'ranking' unknown; valid tasks are binary"):
        card_from_file(tmp_path / "t.csv", "y", task="ranking")


def test_card_from_file_reads_parquet(tmp_path):
    frame = pd.DataFrame({"size": [1.0, 2.0, np.nan, 4.0] * 5, "colour": ["red", "blue"] * 10,
                          "price": np.linspace(1, 50, 20)})
    frame.to_parquet(tmp_path / "prices.parquet")
    card = card_from_file(tmp_path / "prices.parquet", "price")
    assert card.source.startswith("parquet:") and card.task == "regression" and card.categorical == ("colour",)
    dataset = load(card, cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 20 and dataset.cat_names == ("colour",) and dataset.y.dtype == np.float64


def test_a_tab_separated_file_with_padded_values(tmp_path):
    (tmp_path / "t.tsv").write_text("a\tb\tlabel\n" + "".join(f"{i}\t {i % 4}\t {'xy'[i % 2]}\n" for i in range(20)))
    dataset = load(card_from_file(tmp_path / "t.tsv", "label"), cache_dir=tmp_path / "cache")
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
        card_from_file(path, "label")
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))


def test_a_path_that_does_not_exist_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"nowhere\.csv: no such file$"):
        card_from_file(tmp_path / "nowhere.csv", "label")
    with pytest.raises(DataError, match=r"not a file"):
        card_from_file(tmp_path, "label")
