"""Verdicts on questions the grader was never trained on, where partial credit exists: bands of the score.

On a new question the cross-encoder's verdict is poor where it must tell partial credit apart: macro-F1
0.52 on grader-minilm-v2's 2 SAF English validation questions, 0.42 on SAF's German course (never
trained on). The score model's score (``score_model.py``) transfers better, so on new questions with a
partial-credit label set the verdict is a band of that score:

    score >= correct  -> correct
    score >= partial  -> partially_correct
    otherwise         -> incorrect (or contradictory, where allowed and the cross-encoder prefers it)

The thresholds are the macro-F1 best on graded answers the score model never saw (SAF's: the score
model is fitted on Mohler), one pair per language: the alignment features come from an English
encoder and English word frequencies, so German answers land lower on the same scale (mean score of
correct answers 0.87 in English, 0.78 in German). The language of a question is the one whose
``wordfreq`` frequencies know its words best. A multinomial logistic regression over the score, fitted
on the same answers, gives the verdict's probability, so the confidence a teacher's release threshold
reads stays calibrated. A language with no bands keeps the cross-encoder's verdict.

Measured in ``benchmarks/new_question_verdicts.py`` (macro-F1 on questions never fitted on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BAND_LABELS = ("correct", "partially_correct", "incorrect")
LANGUAGES = ("en", "de")  # the languages of the graded data the bands can be fitted on
MIN_ANSWERS = 30  # fewer graded answers in a language fit no bands for it
_WORDS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=4096)
def text_language(text: str, languages: tuple[str, ...] = LANGUAGES) -> str:
    """The language among ``languages`` whose word frequencies know the text's words best."""
    from wordfreq import zipf_frequency

    words = _WORDS.findall(text.lower())
    return max(languages, key=lambda lang: sum(zipf_frequency(w, lang) for w in words))


def question_language(question: str, reference: str, languages: tuple[str, ...] = LANGUAGES) -> str:
    return text_language(f"{question} {reference}", tuple(languages))


def bands_for(bands: dict[str, "VerdictBands"], item) -> "VerdictBands":
    """The bands of the item's language (among those fitted)."""
    reference = item.reference_answers[0] if item.reference_answers else ""
    return bands[question_language(item.question, reference, tuple(bands))]


def best_thresholds(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The (correct, partial) thresholds on a 0.01 grid with the best macro-F1 of the three bands
    (``truth`` indexes ``BAND_LABELS``)."""
    best = (-1.0, (0.8, 0.5))
    for t1 in np.arange(0.5, 0.95, 0.01):
        for t2 in np.arange(0.3, t1, 0.01):
            f1 = _macro_f1(truth, band_indices(scores, t1, t2))
            best = max(best, (f1, (round(float(t1), 2), round(float(t2), 2))))
    return best[1]


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over the three bands (scikit-learn's, with ``labels=[0, 1, 2]``; this runs a thousand times a fit)."""
    f1 = []
    for c in range(len(BAND_LABELS)):
        tp = np.sum((predicted == c) & (truth == c))
        denominator = np.sum(predicted == c) + np.sum(truth == c)
        f1.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(f1))


def band_indices(scores: np.ndarray, correct: float, partial: float) -> np.ndarray:
    scores = np.asarray(scores)
    return np.where(scores >= correct, 0, np.where(scores >= partial, 1, 2))


@dataclass
class VerdictBands:
    """The bands of one language: thresholds, a calibrated P(verdict | score), and the line from the score to
    the share of the points teachers give (``points``)."""

    correct: float
    partial: float
    coef: np.ndarray  # [3] slope per BAND_LABELS class of a multinomial logistic regression on the score
    intercept: np.ndarray  # [3]
    answers: int = 0
    points_slope: float = 1.0  # least squares of the normalised points on the score; identity where none
    points_intercept: float = 0.0

    @classmethod
    def fit(cls, scores: np.ndarray, labels: list[str], points: np.ndarray | None = None) -> "VerdictBands":
        """``points``: the answers' normalised points (NaN where unknown), for ``points``' line."""
        from sklearn.linear_model import LogisticRegression

        truth = np.array([BAND_LABELS.index(label) for label in labels])
        scores = np.asarray(scores, dtype=np.float64)
        correct, partial = best_thresholds(scores, truth)
        calibration = LogisticRegression(C=100.0).fit(scores[:, None], truth)  # one feature: barely regularised
        slope, intercept = 1.0, 0.0
        known = ~np.isnan(np.asarray(points, dtype=np.float64)) if points is not None else np.zeros(len(scores), bool)
        if known.sum() >= MIN_ANSWERS:
            slope, intercept = (float(v) for v in np.polyfit(scores[known], np.asarray(points, float)[known], 1))
        return cls(correct, partial, calibration.coef_[:, 0].copy(), calibration.intercept_.copy(), len(labels),
                   slope, intercept)

    def indices(self, scores: np.ndarray) -> np.ndarray:
        return band_indices(scores, self.correct, self.partial)

    def points(self, scores: np.ndarray) -> np.ndarray:
        """The score on the language's points scale. The score model is fitted on Mohler (points on a 0-5
        scale), and the same alignment comes out lower in German; SAF's tutors give a correct answer full
        marks. A line per language, fitted on the same answers as the bands, puts the score where the
        language's teachers put their points and keeps the answers' order (Pearson moves only where the
        line clips at 0 or 1): on the version's English validation questions RMSE 0.33 -> 0.26 and QWK
        0.36 -> 0.61 (Pearson 0.773 either way); SAF German unseen answers 0.33 -> 0.26 and 0.22 -> 0.63;
        German by leave-one-question-out 0.32 -> 0.28 and 0.19 -> 0.57, Pearson 0.66 -> 0.64 (pooled over
        six lines; ``benchmarks/new_question_verdicts.py``)."""
        return np.clip(np.asarray(scores, dtype=np.float64) * self.points_slope + self.points_intercept, 0.0, 1.0)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """[n, 3] over BAND_LABELS."""
        logits = np.asarray(scores, dtype=np.float64)[:, None] * self.coef + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict:
        return {"thresholds": {"correct": self.correct, "partially_correct": self.partial},
                "calibration": {"coef": self.coef.tolist(), "intercept": self.intercept.tolist()},
                "points": {"slope": self.points_slope, "intercept": self.points_intercept},
                "answers": self.answers}

    @classmethod
    def from_dict(cls, data: dict) -> "VerdictBands":
        points = data.get("points", {"slope": 1.0, "intercept": 0.0})  # files before session 9: the identity
        return cls(float(data["thresholds"]["correct"]), float(data["thresholds"]["partially_correct"]),
                   np.asarray(data["calibration"]["coef"], dtype=np.float64),
                   np.asarray(data["calibration"]["intercept"], dtype=np.float64), int(data.get("answers", 0)),
                   float(points["slope"]), float(points["intercept"]))


def fit_bands(scores: np.ndarray, items: list) -> dict[str, VerdictBands]:
    """Bands per language from graded answers (``GradedAnswer`` with a BAND_LABELS label) and their
    score-model scores; a language with too few answers, or lacking a verdict, gets none."""
    languages = np.array([question_language(i.question, i.reference_answers[0]) for i in items])
    labels = np.array([i.label for i in items])
    points = np.array([np.nan if i.normalised_score is None else i.normalised_score for i in items], dtype=np.float64)
    bands = {}
    for language in LANGUAGES:
        mask = languages == language
        if mask.sum() >= MIN_ANSWERS and set(labels[mask]) == set(BAND_LABELS):
            bands[language] = VerdictBands.fit(np.asarray(scores)[mask], list(labels[mask]), points[mask])
    return bands
