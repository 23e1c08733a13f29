"""Metrics on small hand-computed examples."""

import math

import pytest

from tutor.ml import metrics


def test_macro_accuracy_and_weighted_f1():
    y_true = ["a", "a", "b", "b"]
    y_pred = ["a", "b", "b", "b"]
    # a: P=1, R=.5, F1=2/3; b: P=2/3, R=1, F1=.8
    assert metrics.macro_f1(y_true, y_pred) == pytest.approx((2 / 3 + 0.8) / 2)
    assert metrics.weighted_f1(y_true, y_pred) == pytest.approx((2 / 3 + 0.8) / 2)
    assert metrics.accuracy(y_true, y_pred) == 0.75
    report = metrics.per_class(y_true, y_pred, ["a", "b"])
    assert report["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}


def test_pearson_and_rmse():
    assert metrics.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert metrics.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(metrics.pearson([1, 1, 1], [1, 2, 3]))
    assert metrics.rmse([0, 0], [3, 4]) == pytest.approx(math.sqrt(12.5))


def test_qwk_rounds_to_the_scale():
    assert metrics.qwk([0, 2.5, 5], [0.1, 2.4, 4.9], step=0.5) == pytest.approx(1.0)
    # One off-by-one on a 0..2 scale: kappa from the confusion matrix by hand = 0.8
    assert metrics.qwk([0, 1, 2, 2], [0, 1, 1, 2], step=1) == pytest.approx(0.8)


def test_expected_calibration_error():
    # Two bins: conf .9 with 50% right (gap .4), conf .6 with 100% right (gap .4); half the items each.
    assert metrics.expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True], bins=10) == pytest.approx(0.4)
    assert metrics.expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)


def test_precision_coverage():
    rows = metrics.precision_coverage([0.95, 0.85, 0.6, 0.4], [True, True, False, False], thresholds=(0.5, 0.9))
    assert rows[0] == {"threshold": 0.5, "coverage": 0.75, "precision": pytest.approx(2 / 3), "n": 3}
    assert rows[1] == {"threshold": 0.9, "coverage": 0.25, "precision": 1.0, "n": 1}


def test_clean_replaces_nan_for_json():
    assert metrics.clean({"a": float("nan"), "b": [1.0, float("inf")]}) == {"a": None, "b": [1.0, None]}
