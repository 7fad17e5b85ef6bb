"""The shared contract: best-trial selection, statuses, and the list splitter the CLI uses."""
from bench.contract import Status, best_trial, split_names


def test_selection_reads_validation_never_test():
    rows = [
        {"number": 0, "status": "ok", "valid_score": 0.80, "test_score": 0.99},
        {"number": 1, "status": "ok", "valid_score": 0.90, "test_score": 0.70},
        {"number": 2, "status": "failed", "valid_score": None, "test_score": None},
        {"number": 3, "status": "ok", "valid_score": 0.90, "test_score": 0.60},
    ]
    assert best_trial(rows)["number"] == 1


def test_statuses_read_as_their_words():
    assert Status.OK == "ok" and f"{Status.DONE}" == "done" and str(Status.NAN) == "nan"


def test_lists_split_on_commas_outside_brackets():
    assert split_names("mlp[norm=none,dropout=0], lightgbm,") == ("mlp[norm=none,dropout=0]", "lightgbm")
    assert split_names("cnn[note='a,b'],linear") == ("cnn[note='a,b']", "linear")
    assert split_names("o'brien.csv,wine") == ("o'brien.csv", "wine")  # quotes count only inside brackets
