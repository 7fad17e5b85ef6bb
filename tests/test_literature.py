"""bench/report/literature.py: the packaged published numbers load and name real dataset cards; a bad entry is
a readable ValueError; literature() matches a hand-made board, computes the gap and says when a number is not
comparable."""
from __future__ import annotations

import pytest

from bench.data.cards import catalogue
from bench.report.literature import LITERATURE_FILE, by_model, literature, load_published, render

ENTRY = """
[[published]]
dataset = "magic"
model = "xgboost"
published_model = "XGBoost"
metric = "accuracy"
value = 0.865
source = "a paper, table 1"
protocol = "70/9/21 split"
"""


def test_packaged_numbers_load_and_name_dataset_cards():
    published = load_published()
    assert published, f"{LITERATURE_FILE} holds no [[published]] entry"
    cards = catalogue()
    for entry in published:
        assert entry["dataset"] in cards, f"{entry['dataset']} has no dataset card"
        assert isinstance(entry["value"], float)
        # Accuracy-type metrics are fractions on the suite's scale, not percents.
        if entry["metric"] in ("accuracy", "balanced_accuracy", "roc_auc"):
            assert 0.0 <= entry["value"] <= 1.0, entry


@pytest.mark.parametrize("text, words", [
    (ENTRY + 'seeds = 5\n', ["#1", "magic", "unknown field", "seeds"]),
    (ENTRY.replace('value = 0.865', 'value = "86.5%"'), ["#1", "`value`", "number"]),
    (ENTRY.replace('value = 0.865', 'value = true'), ["`value`", "number"]),
    (ENTRY.replace('source = "a paper, table 1"\n', ''), ["missing field `source`"]),
    (ENTRY.replace('"accuracy"', '"acc"'), ["unknown metric 'acc'"]),
    (ENTRY.replace('protocol = "70/9/21 split"', 'protocol = " "'), ["`protocol`", "non-empty"]),
    ('[published]\ndataset = "magic"\n', ["array of tables"]),
    ('[[paper]]\nx = 1\n', ["unknown top-level key", "paper"]),
    ('[[published]\n', ["cannot read"]),
])
def test_bad_entry_is_a_readable_error(tmp_path, text, words):
    path = tmp_path / "literature.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_published(path)
    assert str(path) in str(error.value)
    for word in words:
        assert word in str(error.value)


def test_integer_value_reads_as_a_number(tmp_path):
    path = tmp_path / "literature.toml"
    path.write_text(ENTRY.replace("value = 0.865", "value = 1"), encoding="utf-8")
    assert load_published(path)[0]["value"] == 1.0


def _row(dataset, model, metric, folds):
    return {"dataset": dataset, "model": model, "metric": metric, "n_train": 1000,
            "score": sum(f["score"] for f in folds) / len(folds), "ci_low": 0.0, "ci_high": 1.0, "folds": folds}


def _board():
    folds = [{"fold": 0, "score": 0.86, "imputed": None}, {"fold": 1, "score": 0.88, "imputed": None}]
    auc_folds = [{"fold": 0, "score": 0.93, "imputed": None, "test_metrics": {"accuracy": 0.80}},
                 {"fold": 1, "score": 0.95, "imputed": None, "test_metrics": {"accuracy": 0.90}}]
    return {
        "datasets": {"magic": {}, "phoneme": {}, "spambase": {}},
        "results": [_row("magic", "xgboost", "accuracy", folds),
                    _row("phoneme", "xgboost", "roc_auc", auc_folds),
                    _row("spambase", "xgboost", "roc_auc", [{"fold": 0, "score": 0.97, "imputed": None}])],
        "folds": 2, "max_train": 1000, "seed": 0, "budget": {"trials": 20, "seconds": None},
    }


def _entry(dataset, model="xgboost", value=0.865, metric="accuracy"):
    return {"dataset": dataset, "model": model, "published_model": "XGBoost", "metric": metric, "value": value,
            "source": "a paper, table 1", "protocol": "70/9/21 split"}


def test_literature_matches_and_computes_the_gap():
    rows = literature(_board(), [_entry("magic")])["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert row["published"] == 0.865 and row["ours"] == pytest.approx(0.87)
    assert row["gap"] == pytest.approx(0.87 - 0.865)
    assert row["published_model"] == "XGBoost" and row["source"] == "a paper, table 1"
    assert row["train_rows"] == 1000 and row["note"] == ""


def test_another_metric_comes_from_the_chosen_trials_test_metrics():
    row = literature(_board(), [_entry("phoneme", value=0.9)])["rows"][0]
    assert row["ours"] == pytest.approx(0.85)
    assert row["gap"] == pytest.approx(-0.05)
    assert "the run scored roc_auc" in row["note"]


def test_missing_metric_is_not_comparable():
    row = literature(_board(), [_entry("spambase")])["rows"][0]
    assert row["ours"] is None and row["gap"] is None
    assert row["note"] == "not comparable: the run scored roc_auc"


def test_missing_model_and_dataset_are_said():
    result = literature(_board(), [_entry("magic", model="catboost"), _entry("adult")])
    assert [r["model"] for r in result["rows"]] == ["catboost"]
    assert result["rows"][0]["ours"] is None and "no catboost on magic" in result["rows"][0]["note"]
    assert result["not_run"] == ["adult"]


def test_imputed_folds_are_said():
    board = _board()
    board["results"][0]["folds"][1]["imputed"] = "failed"
    row = literature(board, [_entry("magic")])["rows"][0]
    assert "1 of 2 folds imputed" in row["note"]


def test_render_gives_a_table_and_the_protocols(monkeypatch):
    import bench.report.literature as module
    monkeypatch.setattr(module, "load_published", lambda path=None: [_entry("magic"), _entry("phoneme")])
    blocks = render(_board())
    tables = [b for b in blocks if b[0] == "table"]
    assert len(tables) == 2 and "list" in [b[0] for b in blocks]
    digest, (headers, rows) = tables[0][2], tables[1][1:3]
    assert digest == [["xgboost", "accuracy", 2, "-0.0050", "1 of 2"]]  # +0.005 on magic, -0.015 on phoneme
    assert len(rows) == 2 and all(len(r) == len(headers) for r in rows)
    text = " ".join(str(b[1]) for b in blocks if b[0] == "p")
    assert "2 outer fold(s)" in text and "at most 1,000 training rows" in text and "20 trials" in text


def test_by_model_never_pools_metrics_pools_errors_as_shares_and_counts_a_lower_loss_as_ahead():
    rows = [{"model": "mlp", "metric": "accuracy", "gap": 0.02}, {"model": "mlp", "metric": "accuracy", "gap": -0.04},
            {"model": "mlp", "metric": "accuracy", "gap": None}, {"model": "mlp", "metric": "log_loss", "gap": -0.1},
            {"model": "mlp", "metric": "rmse", "gap": 0.5, "published": 5.0},
            {"model": "mlp", "metric": "rmse", "gap": -30.0, "published": 500.0}]
    for row in rows:
        row.setdefault("published", 0.8)
    assert by_model(rows) == [
        {"model": "mlp", "metric": "accuracy", "n": 2, "median_gap": pytest.approx(-0.01), "relative": False,
         "ours_ahead": 1},
        {"model": "mlp", "metric": "log_loss", "n": 1, "median_gap": pytest.approx(-0.1), "relative": False,
         "ours_ahead": 1},
        # +10% on a dataset of errors near 5 and -6% on one near 500: pooled as shares, median +2%
        {"model": "mlp", "metric": "rmse", "n": 2, "median_gap": pytest.approx(0.02), "relative": True,
         "ours_ahead": 1}]
