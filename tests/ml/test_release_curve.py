"""The release curve: what share a threshold releases and how often released grades agree with teachers."""

import pytest

from tutor.ml.release_curve import GradedPrediction, release_curve

PREDICTIONS = [
    GradedPrediction(0.95, "correct", "correct"),
    GradedPrediction(0.90, "incorrect", "incorrect"),
    GradedPrediction(0.80, "correct", "partially_correct"),
    GradedPrediction(0.60, "incorrect", "incorrect"),
    GradedPrediction(0.40, "correct", "incorrect"),
]


def test_each_threshold_releases_answers_at_or_above_it():
    points = {p.threshold: p for p in release_curve(PREDICTIONS, [0.0, 0.8, 0.9, 0.96])}
    assert (points[0.0].released, points[0.0].agreeing) == (5, 3)
    assert points[0.0].release_share == 1.0 and points[0.0].agreement == pytest.approx(0.6)
    assert (points[0.8].released, points[0.8].agreeing) == (3, 2)  # 0.80 itself is released
    assert points[0.9].agreement == 1.0 and points[0.9].release_share == pytest.approx(0.4)
    assert points[0.96].released == 0 and points[0.96].agreement is None


def test_default_thresholds_span_zero_to_one_and_release_less_as_they_rise():
    points = release_curve(PREDICTIONS)
    assert points[0].threshold == 0.0 and points[-1].threshold == 1.0 and len(points) == 21
    shares = [p.release_share for p in points]
    assert shares == sorted(shares, reverse=True)


def test_no_predictions():
    (point,) = release_curve([], [0.5])
    assert point.release_share == 0.0 and point.agreement is None
