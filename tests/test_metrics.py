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
