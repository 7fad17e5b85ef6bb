import numpy as np
import pytest

from bench import metrics


def test_classification_metrics_of_a_perfect_prediction():
    y = np.array([0, 1, 2, 1])
    proba = np.eye(3)[y]
    scores = metrics.score("multiclass", y, proba, n_classes=3)
    assert scores["accuracy"] == 1.0 and scores["balanced_accuracy"] == 1.0 and scores["roc_auc"] == 1.0
    assert scores["log_loss"] < 1e-6


def test_roc_auc_left_out_when_a_class_is_missing_from_the_labels():
    y = np.array([0, 0, 1])
    proba = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    assert "roc_auc" not in metrics.score("multiclass", y, proba, n_classes=3)


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0])
    scores = metrics.score("regression", y, np.array([1.0, 2.0, 4.0]))
    assert scores["mae"] == pytest.approx(1 / 3)
    assert scores["rmse"] == pytest.approx(np.sqrt(1 / 3))
    assert scores["r2"] == pytest.approx(0.5)


def test_constant_predictor_scores_the_majority_share():
    y_train = np.array([0, 0, 0, 1])
    y_test = np.array([0, 1, 0, 0, 0])
    prediction = metrics.constant_prediction("binary", y_train, len(y_test), 2)
    assert metrics.score("binary", y_test, prediction, 2)["accuracy"] == 0.8
    mean = metrics.constant_prediction("regression", np.array([1.0, 3.0]), 2, 0)
    assert metrics.score("regression", np.array([1.0, 3.0]), mean)["r2"] == 0.0


def _sklearn_scores(task, y, prediction, n_classes):
    from sklearn import metrics as skm

    if task == "regression":
        return {"rmse": np.sqrt(skm.mean_squared_error(y, prediction)), "mae": skm.mean_absolute_error(y, prediction),
                "r2": skm.r2_score(y, prediction)}
    proba = np.clip(prediction, 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    labels = np.arange(n_classes)
    expected = {"accuracy": skm.accuracy_score(y, proba.argmax(1)),
                "balanced_accuracy": skm.balanced_accuracy_score(y, proba.argmax(1)),
                "log_loss": skm.log_loss(y, proba, labels=labels)}
    if len(np.unique(y)) == n_classes:
        expected["roc_auc"] = (skm.roc_auc_score(y, proba[:, 1]) if task == "binary"
                               else skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
    return expected


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("task,n_classes", [("binary", 2), ("multiclass", 3), ("multiclass", 10), ("regression", 0)])
def test_metrics_agree_with_scikit_learn(task, n_classes, seed):
    # Our numpy metrics replace scikit-learn's for speed; they must give its numbers, ties,
    # absent classes and a class never predicted included.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    if task == "regression":
        y = rng.normal(size=n)
        prediction = y + rng.normal(scale=rng.uniform(0.1, 3), size=n)
    else:
        y = rng.integers(0, n_classes - (seed == 5 and n_classes > 2), n)  # seed 5: a class absent from y
        prediction = rng.random((n, n_classes)).round(int(rng.integers(1, 4)))  # rounding makes ties
        prediction[:, -1] *= seed % 2  # odd seeds only: the last class scores 0 and is never predicted
        prediction[rng.random(n) < 0.05] = 0.0  # rows of zeros, which normalise to uniform
    ours = metrics.score(task, y, prediction, n_classes)
    expected = _sklearn_scores(task, y, prediction, n_classes)
    assert ours.keys() == expected.keys()
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_confusion_counts_true_rows_and_predicted_columns():
    y = np.array([0, 1, 2, 2])
    proba = np.eye(3)[[0, 2, 2, 1]]
    assert metrics.confusion(y, proba, 3) == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]


def test_a_prediction_of_the_wrong_length_is_an_error():
    with pytest.raises(ValueError, match="3 predictions for 2 targets"):
        metrics.score("regression", np.zeros(2), np.zeros(3))


def test_metric_choice_per_task():
    assert metrics.parse_metrics(None) == {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}
    assert metrics.parse_metrics("accuracy") == {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}
    assert metrics.parse_metrics("rmse, binary=balanced_accuracy")["binary"] == "balanced_accuracy"
    assert metrics.parse_metrics("rmse")["regression"] == "rmse"
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        metrics.parse_metrics("f1")
    with pytest.raises(ValueError, match="unknown metric 'regression=accuracy'"):
        metrics.parse_metrics("regression=accuracy")
    assert metrics.oriented("log_loss", 0.3) == -0.3 and metrics.oriented("roc_auc", 0.8) == 0.8


def test_under_imbalance_the_default_metric_separates_what_accuracy_cannot():
    # 95% one class: a model that ranks the rare class first and the constant predictor have the same
    # accuracy, while ROC AUC (the binary default) tells them apart.
    y = np.array([0] * 95 + [1] * 5)
    informed = np.column_stack([np.r_[np.full(95, 0.9), np.full(5, 0.6)], np.r_[np.full(95, 0.1), np.full(5, 0.4)]])
    constant = metrics.constant_prediction("binary", y, len(y), 2)
    a, b = metrics.score("binary", y, informed, 2), metrics.score("binary", y, constant, 2)
    assert a["accuracy"] == b["accuracy"] == 0.95
    default = metrics.DEFAULT_METRICS["binary"]
    assert a[default] == 1.0 and b[default] == 0.5
