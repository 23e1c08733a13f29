"""What a confidence threshold for releasing model grades would do, measured on teacher-graded answers.

For each threshold: the share of answers whose model confidence reaches it (released
without review) and, among those, how often the model's verdict is the teacher's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GradedPrediction:
    confidence: float  # the model's calibrated probability of its verdict
    model_verdict: str
    teacher_verdict: str

    @property
    def agrees(self) -> bool:
        return self.model_verdict == self.teacher_verdict


@dataclass(frozen=True)
class ThresholdPoint:
    threshold: float
    released: int  # answers at or above the threshold
    total: int
    agreeing: int  # released answers where model and teacher give the same verdict

    @property
    def release_share(self) -> float:
        return self.released / self.total if self.total else 0.0

    @property
    def agreement(self) -> float | None:
        """Agreement among released answers; None when nothing is released."""
        return self.agreeing / self.released if self.released else None


DEFAULT_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(0, 21))  # 0.00, 0.05, ..., 1.00


def release_curve(
    predictions: Sequence[GradedPrediction], thresholds: Iterable[float] = DEFAULT_THRESHOLDS
) -> list[ThresholdPoint]:
    total = len(predictions)
    points = []
    for threshold in sorted(set(thresholds)):
        released = [p for p in predictions if p.confidence >= threshold]
        points.append(
            ThresholdPoint(
                threshold=threshold, released=len(released), total=total, agreeing=sum(p.agrees for p in released)
            )
        )
    return points
