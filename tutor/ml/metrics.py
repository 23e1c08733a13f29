"""Quality metrics shared by the ML code and its benchmarks (scikit-learn based, no Django)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_recall_fscore_support


def macro_f1(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def weighted_f1(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    return float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0))


def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    return float(accuracy_score(y_true, y_pred))


def per_class(y_true: Sequence, y_pred: Sequence, labels: Sequence) -> dict[str, dict]:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    return {
        str(name): {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]), "support": int(s[k])}
        for k, name in enumerate(labels)
    }


def classification_report(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> dict:
    """Verdict metrics over the classes present in ``labels`` (default: those in y_true)."""
    if labels is None:
        labels = sorted(set(y_true))
    return {
        "macro_f1": macro_f1(y_true, y_pred, labels),
        "accuracy": accuracy(y_true, y_pred),
        "weighted_f1": weighted_f1(y_true, y_pred, labels),
        "per_class": per_class(y_true, y_pred, labels),
    }


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def rmse(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def qwk(y_true: Sequence[float], y_pred: Sequence[float], *, step: float = 1.0) -> float:
    """Quadratic weighted kappa on scores rounded to the grading scale's ``step`` (e.g. 0.5 points)."""
    t = np.rint(np.asarray(y_true, dtype=float) / step).astype(int)
    p = np.rint(np.asarray(y_pred, dtype=float) / step).astype(int)
    if len(set(t) | set(p)) < 2:
        return float("nan")
    return float(cohen_kappa_score(t, p, weights="quadratic"))


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], *, bins: int = 15) -> float:
    """ECE: the share-weighted gap between confidence and accuracy over equal-width bins."""
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    if len(conf) == 0:
        return float("nan")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(hit[in_bin].mean() - conf[in_bin].mean())
    return float(ece)


def precision_coverage(
    confidences: Sequence[float], correct: Sequence[bool], thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
) -> list[dict]:
    """For each threshold: the share of answers at or above it (coverage) and how often those are right."""
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=bool)
    rows = []
    for t in thresholds:
        kept = conf >= t
        rows.append(
            {
                "threshold": float(t),
                "coverage": float(kept.mean()) if len(conf) else float("nan"),
                "precision": float(hit[kept].mean()) if kept.any() else float("nan"),
                "n": int(kept.sum()),
            }
        )
    return rows


def clean(value):
    """Replace NaN/inf by None, recursively, so results serialise as strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value
