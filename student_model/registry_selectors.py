"""Reads for the grader registry and retraining: versions, runs, teacher-confirmed answers, charts' data.

Who sees what (rules of ``domain.selectors``): admins everything; a teacher the global
versions plus the versions and runs of the courses they teach; students nothing here.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery

from domain import selectors as domain_selectors
from domain.models import Course
from tutor.ml.data.types import GradedAnswer

from .models import Grade, GraderVersion, Submission, TrainingRun

User = AbstractBaseUser | AnonymousUser

LEARNING_CURVE_FILE = "teacher_loop.json"


def grader_version_list(*, user: User) -> QuerySet[GraderVersion]:
    qs = GraderVersion.objects.select_related("course", "base")
    if domain_selectors.is_admin(user):
        return qs.all()
    taught = domain_selectors.course_list_taught(user=user)
    if not taught.exists():
        return qs.none()
    return qs.filter(Q(course__isnull=True) | Q(course__in=taught))


def training_run_list(*, user: User) -> QuerySet[TrainingRun]:
    qs = TrainingRun.objects.select_related("course", "version", "started_by")
    if domain_selectors.is_admin(user):
        return qs.all()
    return qs.filter(course__in=domain_selectors.course_list_taught(user=user))


def course_versions(*, course: Course) -> list[GraderVersion]:
    """The course's own versions, oldest first."""
    return list(GraderVersion.objects.filter(course=course).select_related("base").order_by("created_at", "id"))


def global_versions() -> list[GraderVersion]:
    return list(GraderVersion.objects.filter(course__isnull=True).order_by("created_at", "id"))


def course_runs(*, course: Course, limit: int = 20) -> list[TrainingRun]:
    return list(TrainingRun.objects.filter(course=course).select_related("version", "started_by")[:limit])


def courses_with_versions() -> QuerySet[Course]:
    return Course.objects.filter(grader_versions__isnull=False).distinct().order_by("title")


def recent_runs(*, limit: int = 30) -> list[TrainingRun]:
    return list(TrainingRun.objects.select_related("course", "version", "started_by")[:limit])


def first_succeeded_run(*, course: Course) -> TrainingRun | None:
    return TrainingRun.objects.filter(course=course, status=TrainingRun.Status.SUCCEEDED).order_by("created_at").first()


def run_in_progress(*, course: Course) -> TrainingRun | None:
    return TrainingRun.objects.filter(
        course=course, status__in=(TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)
    ).first()


def _teacher_confirmed(*, course: Course):
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    return Submission.objects.filter(question__course=course).annotate(
        latest_source=Subquery(latest.values("source")[:1]),
    ).filter(latest_source=Grade.Source.TEACHER)


def teacher_confirmed_ids(*, course: Course) -> list[int]:
    """The ids of the answers ``teacher_confirmed_answers`` gives, without reading the answers."""
    return list(_teacher_confirmed(course=course).order_by("pk").values_list("pk", flat=True))


def teacher_confirmed_answers(*, course: Course) -> list[GradedAnswer]:
    """The course's answers whose current (latest) grade was given or confirmed by a teacher, as
    training data; ``answer_id`` is the submission's primary key. Includes imported history."""
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    rows = (
        _teacher_confirmed(course=course)
        .annotate(
            latest_verdict=Subquery(latest.values("verdict")[:1]),
            latest_score=Subquery(latest.values("score")[:1]),
        )
        .select_related("question")
        .order_by("pk")
    )
    references: dict[int, tuple[str, ...]] = {}
    items = []
    for submission in rows.iterator(chunk_size=2000):
        question = submission.question
        if question.pk not in references:
            references[question.pk] = tuple(question.reference_answers.values_list("text", flat=True))
        items.append(
            GradedAnswer(
                dataset="",  # a product course: every verdict is allowed
                subset=course.slug,
                split="teacher",
                question_id=str(question.pk),
                question=question.prompt,
                reference_answers=references[question.pk],
                answer_id=str(submission.pk),
                answer=submission.answer,
                student_id=str(submission.student_id),
                label=submission.latest_verdict,
                score=float(submission.latest_score),
                max_score=float(question.max_points),
            )
        )
    return items


def teacher_confirmed_count(*, course: Course) -> int:
    return _teacher_confirmed(course=course).count()


def learning_curve_path() -> Path:
    return Path(settings.BASE_DIR) / "benchmarks" / "results" / LEARNING_CURVE_FILE


def learning_curve() -> dict | None:
    """The last result of ``benchmarks/teacher_loop.py`` (None when it has not been run)."""
    try:
        return json.loads(learning_curve_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
