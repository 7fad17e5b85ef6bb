"""The OpenML source, without a network: the openml cache is pointed at files the test writes.

The openml package reads a dataset's description.xml, its data (dataset.arff) and, for a
task, task.xml and the dataset's features.xml from its cache before it asks the server,
so a prepared cache is exactly what a machine that fetched the dataset earlier holds.
Any call to the server fails the test.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import data
from bench.data import DataError, load, load_card, openml_card

openml = pytest.importorskip("openml")

DATASET_ID = 990001
TASK_ID = 990002
ROWS = [  # size, colour, label
    ("1.5", "red", "yes"), ("?", "blue", "no"), ("3.0", "?", "yes"), ("4.5", "red", "no"),
    ("2.5", "blue", "yes"), ("0.5", "red", "no"),
]

DESCRIPTION = f"""<oml:data_set_description xmlns:oml="http://openml.org/openml">
  <oml:id>{DATASET_ID}</oml:id>
  <oml:name>toy-fruit</oml:name>
  <oml:version>1</oml:version>
  <oml:format>ARFF</oml:format>
  <oml:licence>Public</oml:licence>
  <oml:url>https://openml.invalid/data/{DATASET_ID}/toy.arff</oml:url>
  <oml:default_target_attribute>label</oml:default_target_attribute>
  <oml:citation>Made up for a test.</oml:citation>
  <oml:status>active</oml:status>
</oml:data_set_description>
"""

ARFF = "@RELATION toy-fruit\n@ATTRIBUTE size NUMERIC\n@ATTRIBUTE colour {red,blue}\n" \
       "@ATTRIBUTE label {yes,no}\n@DATA\n" + "".join(",".join(row) + "\n" for row in ROWS)


def _feature(index: int, name: str, kind: str, values: tuple[str, ...] = (), target: bool = False) -> str:
    nominal = "".join(f"<oml:nominal_value>{v}</oml:nominal_value>" for v in values)
    return (f"<oml:feature><oml:index>{index}</oml:index><oml:name>{name}</oml:name>"
            f"<oml:data_type>{kind}</oml:data_type>{nominal}"
            f"<oml:is_target>{str(target).lower()}</oml:is_target><oml:is_ignore>false</oml:is_ignore>"
            f"<oml:is_row_identifier>false</oml:is_row_identifier>"
            f"<oml:number_of_missing_values>1</oml:number_of_missing_values></oml:feature>")


FEATURES = ('<oml:data_features xmlns:oml="http://openml.org/openml">'
            + _feature(0, "size", "numeric") + _feature(1, "colour", "nominal", ("red", "blue"))
            + _feature(2, "label", "nominal", ("yes", "no"), target=True) + "</oml:data_features>")

TASK = f"""<oml:task xmlns:oml="http://openml.org/openml">
  <oml:task_id>{TASK_ID}</oml:task_id>
  <oml:task_name>Task {TASK_ID}: toy-fruit (Supervised Classification)</oml:task_name>
  <oml:task_type_id>1</oml:task_type_id>
  <oml:task_type>Supervised Classification</oml:task_type>
  <oml:input name="source_data">
    <oml:data_set><oml:data_set_id>{DATASET_ID}</oml:data_set_id><oml:target_feature>label</oml:target_feature></oml:data_set>
  </oml:input>
  <oml:input name="estimation_procedure">
    <oml:estimation_procedure>
      <oml:id>1</oml:id><oml:type>crossvalidation</oml:type>
      <oml:data_splits_url>https://openml.invalid/splits/{TASK_ID}.arff</oml:data_splits_url>
      <oml:parameter name="number_repeats">1</oml:parameter>
      <oml:parameter name="number_folds">2</oml:parameter>
    </oml:estimation_procedure>
  </oml:input>
</oml:task>
"""


@pytest.fixture
def openml_cache(tmp_path, monkeypatch) -> Path:
    """An openml cache holding one dataset and one task; the server is unreachable."""
    before = openml.config.get_config_as_dict()["cachedir"]
    openml.config.set_root_cache_directory(str(tmp_path / "openml"))
    root = Path(openml.config.get_cache_directory())
    dataset_dir = root / "datasets" / str(DATASET_ID)
    dataset_dir.mkdir(parents=True)
    (dataset_dir / "description.xml").write_text(DESCRIPTION)
    (dataset_dir / "features.xml").write_text(FEATURES)
    (dataset_dir / "dataset.arff").write_text(ARFF)
    task_dir = root / "tasks" / str(TASK_ID)
    task_dir.mkdir(parents=True)
    (task_dir / "task.xml").write_text(TASK)

    def no_network(*args, **kwargs):
        raise ConnectionError("the test forbids network access")

    for name in ("_send_request", "_download_minio_file", "_download_minio_bucket"):
        monkeypatch.setattr(openml._api_calls, name, no_network)
    yield root
    openml.config.set_root_cache_directory(str(before))


def test_openml_card_reads_a_cached_dataset(openml_cache, tmp_path):
    card = openml_card(f"openml:{DATASET_ID}")
    assert (card.name, card.source, card.task, card.target) == (
        f"openml-{DATASET_ID}", f"openml:{DATASET_ID}", "binary", "label")
    assert card.categorical == ("colour",) and card.modality == "tabular"
    assert card.licence == "Public" and "toy-fruit" in card.description
    dataset = load(card, cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 6 and dataset.num_names == ("size",) and dataset.cat_names == ("colour",)
    assert set(dataset.classes) == {"yes", "no"}
    assert np.isnan(dataset.X_num[1, 0]) and dataset.X_cat[2, 0] == -1


def test_openml_task_names_the_dataset_and_target(openml_cache, tmp_path):
    card = openml_card(f"openml:task/{TASK_ID}")
    assert card.name == f"openml-task-{TASK_ID}" and card.target == "label" and card.task == "binary"
    assert load(card, cache_dir=tmp_path / "cache").n_rows == 6


def test_a_card_file_can_name_an_openml_source(openml_cache, tmp_path):
    path = tmp_path / "fruit.toml"
    path.write_text(f'source = "openml:{DATASET_ID}"\ntask = "binary"\nmodality = "tabular"\n'
                    'target = "label"\nlicence = "Public"\ncitation = "made up"\n')
    dataset = load(load_card(path), cache_dir=tmp_path / "cache")
    assert dataset.n_rows == 6


def test_an_uncached_dataset_without_network_is_a_one_line_data_error(openml_cache):
    with pytest.raises(DataError, match=r"openml:424242: cannot get OpenML dataset 424242") as caught:
        openml_card("openml:424242")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("spec", ["openml:abc", "openml:task/", "openml:-3", "openml:flow/3"])
def test_a_malformed_openml_name_is_a_data_error(spec):
    with pytest.raises(DataError, match=r"openml:<dataset id>"):
        openml_card(spec)


def test_openml_is_a_source_kind():
    assert "openml" in data.SOURCES
