"""Reads: what a release threshold would do for a course, from its teacher-graded answers.

A bounded, seeded sample of the course's answers whose current grade is a teacher's (the
demo courses' historical answers) is graded once by the course's active grader; the
predictions are cached per course and grader version (computed by a task on the
``training`` queue, or in the embedded mode by a background thread of the web process:
``queue_computation``), so moving the threshold on the page only recomputes the curve
(``tutor.ml.release_curve``), never the model.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

from domain.models import Course
from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.config import LABELS
from tutor.ml.release_curve import GradedPrediction, release_curve

from . import background, ml_registry, selectors
from .models import Grade, Submission

SAMPLE_SIZE = 300
CACHE_SECONDS = 7 * 24 * 3600
CLAIM_SECONDS = 600

logger = logging.getLogger(__name__)


def _teacher_graded(*, course: Course):
    return selectors.with_current_grade(
        Submission.objects.filter(question__course=course, status=Submission.Status.GRADED)
    ).filter(grade_source=Grade.Source.TEACHER)


def teacher_graded_sample(*, course: Course, limit: int = SAMPLE_SIZE) -> list[Submission]:
    """Up to ``limit`` answers of the course whose current grade is a teacher's, a seeded sample."""
    qs = _teacher_graded(course=course)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    chosen = sorted(random.Random(course.pk).sample(ids, min(limit, len(ids))))
    return list(qs.filter(pk__in=chosen).select_related("question").prefetch_related("question__reference_answers"))


# Past the sample's size, the preview is computed again once this many more answers have a teacher's grade.
REFRESH_EVERY = 100


def sample_generation(*, teacher_graded: int, newest_teacher_grade: int | None, limit: int = SAMPLE_SIZE) -> str:
    """Which sample the course's teacher grades give: a new one with every teacher grade (a regrade by a
    teacher too) while fewer than ``limit`` answers have one (the sample is all of them), then one per
    ``REFRESH_EVERY`` more."""
    if teacher_graded < limit:
        return f"{teacher_graded}:{newest_teacher_grade}"
    return f"{limit}+{(teacher_graded - limit) // REFRESH_EVERY}"


def _generation(course: Course, limit: int) -> str:
    newest = Grade.objects.filter(submission__question__course=course, source=Grade.Source.TEACHER).aggregate(
        newest=Max("pk"))["newest"]
    return sample_generation(teacher_graded=_teacher_graded(course=course).count(), newest_teacher_grade=newest,
                             limit=limit)


def _cache_key(course: Course, version: str, limit: int) -> str:
    # "v2": the entry holds {"generation", "rows"}; a bare list of rows under the old key is never read
    return f"release-preview-v2:{course.pk}:{version}:{limit}"


@dataclass(frozen=True)
class CachedPredictions:
    version: str
    predictions: list[GradedPrediction] | None  # None while none was computed yet
    current: bool  # False: computed on an older sample, while the course's teacher grades changed since


def cached_predictions(*, course: Course, limit: int = SAMPLE_SIZE) -> CachedPredictions | None:
    """The course's cached predictions (those of an older sample while its current one is not computed yet);
    None while no grader is active."""
    version = ml_registry.active_version(course_id=course.pk)
    if version is None:
        return None
    cached = cache.get(_cache_key(course, version.version, limit))
    if cached is None:
        return CachedPredictions(version.version, None, False)
    predictions = [GradedPrediction(*row) for row in cached["rows"]]
    return CachedPredictions(version.version, predictions, cached["generation"] == _generation(course, limit))


def _claim_key(course: Course) -> str:
    return f"release-preview-queued:{course.pk}"


def claim_computation(*, course: Course) -> bool:
    """True for the first caller in ten minutes: only that one queues the (slow) grading of the sample."""
    return cache.add(_claim_key(course), True, CLAIM_SECONDS)


def release_claim(*, course: Course) -> None:
    cache.delete(_claim_key(course))


def queue_computation(*, course: Course) -> None:
    """Have the course's sample graded, unless that was queued in the last ten minutes. With
    ``settings.RELEASE_PREVIEW_THREAD`` (embedded mode: eager Celery, no worker) a background thread
    of this process grades it, so the page's request returns at once instead of grading inline."""
    from .tasks import compute_release_preview  # the tasks import this module

    if not claim_computation(course=course):
        return
    if getattr(settings, "RELEASE_PREVIEW_THREAD", False):
        background.start_thread(name=f"release-preview-{course.pk}", target=compute_release_preview,
                                args=(course.pk,))
        return
    try:
        compute_release_preview.delay(course.pk)
    except BaseException:
        release_claim(course=course)  # not queued (broker down, or the eager run failed): a reload retries
        raise


def compute_predictions(*, course: Course, limit: int = SAMPLE_SIZE) -> int:
    """Grade the course's sample with its active grader and cache the result; returns the sample size.
    On failure the claim is released, so the page's next load queues the computation again."""
    try:
        version = ml_registry.active_version(course_id=course.pk)
        if version is None:
            return 0
        generation = _generation(course, limit)
        rows = [(p.confidence, p.model_verdict, p.teacher_verdict) for p in _predict(version.path, course, limit)]
        cache.set(_cache_key(course, version.version, limit), {"generation": generation, "rows": rows}, CACHE_SECONDS)
        return len(rows)
    finally:
        release_claim(course=course)  # done or failed: the next sample (or a retry) may be queued


def _predict(model_path: str, course: Course, limit: int) -> list[GradedPrediction]:
    from tutor.ml.grading.predictor import get_predictor

    from . import grading, grading_memory

    sample = teacher_graded_sample(course=course, limit=limit)
    items = [
        GradedAnswer(
            dataset="", subset="", split="", question_id=str(s.question_id), question=s.question.prompt,
            reference_answers=tuple(r.text for r in s.question.reference_answers.all()),
            answer_id=str(s.pk), answer=s.answer,
        )
        for s in sample
    ]
    predictor = get_predictor(model_path, **grading.serving_options())
    predictions = [
        # As grading does: the teacher grades of the question's other answers vote (never the answer's own).
        grading_memory.with_memory(
            prediction=p, question_id=s.question_id, question=s.question.prompt, submission_id=s.pk, answer=s.answer
        )
        for s, p in zip(sample, predictor.predict(items, allowed_labels=LABELS), strict=True)
    ]
    return [
        GradedPrediction(confidence=round(_checked(p, item), 4), model_verdict=p.verdict, teacher_verdict=s.grade_verdict)
        for s, p, item in zip(sample, predictions, items, strict=True)
    ]


def _checked(prediction, item: GradedAnswer) -> float:
    """The confidence grading would store (``grading.checked_confidence``; the alignment matters to a "correct"
    only)."""
    from tutor.ml import feedback
    from tutor.ml.retrieval.embedder import get_embedder

    from . import grading

    alignment = feedback.Alignment()
    if prediction.verdict == "correct":
        alignment = feedback.align(reference_answers=list(item.reference_answers), answer=item.answer,
                                   encoder=get_embedder(), question=item.question)
    return grading.checked_confidence(verdict=prediction.verdict, confidence=prediction.confidence,
                                      alignment=alignment, answer=item.answer)


def release_preview(*, course: Course, threshold: float, limit: int = SAMPLE_SIZE) -> dict | None:
    """The release curve of a course (thresholds 0, 0.05, ..., 1) and its point at ``threshold``;
    ``{"pending": True}`` while the sample is still being graded (``refreshing``: the figures are those of an
    older sample while the course's current one is graded); None while no grader is active."""
    found = cached_predictions(course=course, limit=limit)
    if found is None:
        return None
    version, predictions = found.version, found.predictions
    if predictions is None:
        return {"version": version, "pending": True, "refreshing": True}
    return {
        "version": version,
        "pending": False,
        "refreshing": not found.current,
        "sample": len(predictions),
        "points": release_curve(predictions),
        "chosen": release_curve(predictions, [threshold])[0],
    }
