from tutor.ml.grading.baseline import TfidfOverlapBaseline
from tutor.ml.grading.config import LABELS
from tutor.ml.grading.evaluate import evaluate_items

from .grader_fixture import semeval_train_sample


def test_tfidf_baseline_learns_real_sample():
    items = semeval_train_sample(400, seed=2)
    baseline = TfidfOverlapBaseline().fit(items[:300])
    predictions = baseline.predict(items[300:], allowed_labels=("correct", "contradictory", "incorrect"))
    assert len(predictions) == 100
    assert all(p.verdict in LABELS and p.verdict != "partially_correct" for p in predictions)
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-6 for p in predictions)
    report = evaluate_items(baseline, items[:300], "semeval")
    majority = max(sum(i.label == name for i in items[:300]) for name in LABELS) / 300
    assert report["accuracy"] > majority
