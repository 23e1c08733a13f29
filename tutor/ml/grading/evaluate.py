"""Quality of a grader (or any predictor with the same ``predict``) on a set of graded answers."""

from __future__ import annotations

from ..data.types import GradedAnswer
from ..metrics import (
    classification_report,
    clean,
    expected_calibration_error,
    pearson,
    precision_coverage,
    qwk,
    rmse,
)
from .config import DATASET_LABELS, LABELS

# The grading scale's step, in points, for quadratic weighted kappa.
QWK_STEP = {"saf": 0.25, "mohler": 0.5}


def allowed_for(fmt: str) -> tuple[str, ...]:
    return DATASET_LABELS.get(fmt) or LABELS


def evaluate_items(predictor, items: list[GradedAnswer], fmt: str) -> dict:
    """One JSON-ready dict: n, verdict metrics where labels exist, score metrics where scores exist."""
    allowed = allowed_for(fmt)
    predictions = predictor.predict(items, allowed_labels=allowed)
    result: dict = {"format": fmt, "n": len(items)}
    labelled = [k for k, it in enumerate(items) if it.label in LABELS]
    if labelled:
        y_true = [items[k].label for k in labelled]
        y_pred = [predictions[k].verdict for k in labelled]
        present = [name for name in allowed if name in set(y_true) | set(y_pred)] or sorted(set(y_true))
        result["n_labelled"] = len(labelled)
        result.update(classification_report(y_true, y_pred, present))
        confidence = [predictions[k].confidence for k in labelled]
        hits = [a == b for a, b in zip(y_true, y_pred)]
        result["ece"] = expected_calibration_error(confidence, hits)
        result["precision_coverage"] = precision_coverage(confidence, hits)
    scored = [k for k, it in enumerate(items) if it.score is not None and it.max_score]
    if scored:
        true_points = [items[k].score for k in scored]
        pred_points = [predictions[k].score * items[k].max_score for k in scored]
        result["n_scored"] = len(scored)
        result["pearson"] = pearson(true_points, pred_points)
        result["rmse"] = rmse(true_points, pred_points)
        result["rmse_normalised"] = rmse(
            [items[k].normalised_score for k in scored], [predictions[k].score for k in scored]
        )
        step = QWK_STEP.get(fmt, max(items[k].max_score for k in scored) / 4)
        result["qwk"] = qwk(true_points, pred_points, step=step)
    return clean(result)
