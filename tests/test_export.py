"""bench/export.py: the committable export carries ensembles but not predictions; predictions go to Parquet."""
import dataclasses
import gzip
import json

import pytest

from bench import cli
from bench.config import Budget
from bench.export import export_run, import_export
from bench.store import Store, StoreError
from bench.tuning import run_unit
from test_tuning import task_for


@pytest.fixture(scope="module")
def store(cache_dir, tmp_path_factory):
    """A store holding one real run: a binary and a regression unit, their splits and predictions."""
    store = Store(tmp_path_factory.mktemp("export") / "results.sqlite")
    store.ensure_run("run", {"suite": "test"})
    for dataset, trials in (("breast_cancer", 3), ("diabetes", 2)):
        task = dataclasses.replace(task_for(dataset, "linear", cache_dir, Budget(trials=trials)), unit_key=dataset)
        store.save_split("run", dataset, 0, task.train, task.valid, task.test)
        result = run_unit(task)
        store.record_unit("run", result["unit"], result["trials"], result["ensemble"])
    return store


def test_the_export_carries_ensembles_and_not_predictions(store, tmp_path):
    path = export_run(store, "run", tmp_path / "results.jsonl.gz")
    with gzip.open(path, "rt") as handle:
        records = [json.loads(line) for line in handle]
    assert [r["unit_key"] for r in records if r["kind"] == "ensemble"] == ["breast_cancer", "diabetes"]
    assert not any("predictions" in r for r in records)
    rebuilt = Store(tmp_path / "rebuilt.sqlite")
    assert import_export(path, rebuilt) == "run"
    assert rebuilt.ensembles("run") == store.ensembles("run")
    assert rebuilt.trials("run") == store.trials("run")
    assert rebuilt.predictions("breast_cancer") == {}


def test_an_export_from_before_ensembles_still_imports(store, tmp_path):
    path = export_run(store, "run", tmp_path / "results.jsonl.gz")
    with gzip.open(path, "rt") as handle:
        records = [json.loads(line) for line in handle if json.loads(line)["kind"] != "ensemble"]
    old = tmp_path / "old.jsonl.gz"
    with gzip.open(old, "wt") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in records))
    rebuilt = Store(tmp_path / "rebuilt.sqlite")
    import_export(old, rebuilt)
    assert rebuilt.units("run") == store.units("run")
    assert rebuilt.ensembles("run") == []


def test_export_predictions_writes_one_row_per_trial_part_and_row(store, tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "predictions.parquet"
    assert cli.main(["export", "--store", str(store.path), "--predictions", str(out)]) == 0
    assert "rows from 5 trials" in capsys.readouterr().out
    assert not (store.path.parent / "results.jsonl.gz").exists()  # --predictions alone writes only the Parquet
    frame = pd.read_parquet(out)
    expected = 0
    for dataset in ("breast_cancer", "diabetes"):
        split = store.load_split("run", dataset, 0)
        stored = store.predictions(dataset)
        expected += len(stored) * (len(split["valid"]) + len(split["test"]))
        rows = frame[(frame.dataset == dataset) & (frame.trial == 1) & (frame.part == "test")]
        assert rows["row"].tolist() == split["test"].tolist()
        if dataset == "diabetes":
            assert rows["value"].tolist() == pytest.approx(stored[1]["test"].tolist(), rel=1e-6)
            assert rows["proba_0"].isna().all()
        else:
            assert rows["proba_1"].tolist() == pytest.approx(stored[1]["test"][:, 1].tolist(), rel=1e-6)
            assert rows["value"].isna().all()
    assert len(frame) == expected
    assert list(frame.columns) == ["dataset", "model", "fold", "train_size", "trial", "part", "row",
                                   "proba_0", "proba_1", "value"]


def test_export_predictions_of_a_run_without_them_is_a_clear_error(store, tmp_path):
    from bench.export import export_predictions

    rebuilt = Store(tmp_path / "rebuilt.sqlite")
    import_export(export_run(store, "run", tmp_path / "results.jsonl.gz"), rebuilt)
    with pytest.raises(StoreError, match="no stored predictions"):
        export_predictions(rebuilt, "run", tmp_path / "p.parquet")
