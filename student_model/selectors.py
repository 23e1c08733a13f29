"""Reads of the student model, with the access rules of ``domain.selectors``."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from domain import selectors as domain_selectors

from .models import Grade, GradeEvent, RegradeRun, ReleasePolicy, Submission

User = AbstractBaseUser | AnonymousUser


def submission_list(*, user: User) -> QuerySet[Submission]:
    """Admins see every submission, teachers those in courses they teach, students their own."""
    if not user.is_authenticated:
        return Submission.objects.none()
    if domain_selectors.is_admin(user):
        qs = Submission.objects.all()
    else:
        taught = domain_selectors.course_list_taught(user=user)
        qs = Submission.objects.filter(question__course__in=taught) | Submission.objects.filter(student=user)
    return qs.select_related("student", "question", "question__course").distinct()


def grade_list(*, user: User) -> QuerySet[Grade]:
    """Grades the user may see: all of those in courses they teach; of their own work only the
    current grade of submissions that are ``graded`` (one waiting for review is not released, and
    the grades a teacher replaced are history, not shown to students). ``is_current``: the submission's
    latest grading."""
    if not user.is_authenticated:
        return Grade.objects.none()
    if domain_selectors.is_admin(user):
        qs = Grade.objects.all()
    else:
        taught = domain_selectors.course_list_taught(user=user)
        current = Grade.objects.filter(submission=OuterRef("submission")).order_by("-created_at", "-id").values("pk")[:1]
        qs = Grade.objects.filter(submission__question__course__in=taught) | Grade.objects.filter(
            submission__student=user, submission__status=Submission.Status.GRADED, pk=Subquery(current)
        )
    newest = Grade.objects.filter(submission=OuterRef("submission")).order_by("-created_at", "-id").values("pk")[:1]
    return qs.annotate(is_current=Q(pk=Subquery(newest))).select_related("submission", "graded_by").distinct()


def latest_grade(*, submission: Submission) -> Grade | None:
    return submission.grades.order_by("-created_at", "-id").first()


def submissions_with_latest_grade(*, student: AbstractBaseUser, question_id: int) -> QuerySet[Submission]:
    """A student's submissions to one question, newest first, annotated with their current grade."""
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    return Submission.objects.filter(student=student, question_id=question_id).annotate(
        grade_score=Subquery(latest.values("score")[:1]),
        grade_verdict=Subquery(latest.values("verdict")[:1]),
        grade_feedback=Subquery(latest.values("feedback")[:1]),
    )


# --- teacher review ------------------------------------------------------------------------------

REVIEWABLE = (Submission.Status.GRADED, Submission.Status.NEEDS_REVIEW)


def release_policy_for(*, course) -> ReleasePolicy:
    """The course's release policy; an unsaved one with the defaults while the course has none."""
    return ReleasePolicy.objects.filter(course=course).first() or ReleasePolicy(course=course)


def with_current_grade(qs: QuerySet[Submission]) -> QuerySet[Submission]:
    """Submissions annotated with their current (latest) grade's fields, ``grade_*``."""
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    return qs.annotate(
        grade_id=Subquery(latest.values("pk")[:1]),
        grade_score=Subquery(latest.values("score")[:1]),
        grade_verdict=Subquery(latest.values("verdict")[:1]),
        grade_confidence=Subquery(latest.values("confidence")[:1]),
        grade_feedback=Subquery(latest.values("feedback")[:1]),
        grade_source=Subquery(latest.values("source")[:1]),
        grade_model_version=Subquery(latest.values("model_version")[:1]),
    )


def reviewable_submission_list(*, user: User) -> QuerySet[Submission]:
    """Graded or held submissions of the courses the user teaches, with their current grade."""
    taught = domain_selectors.course_list_taught(user=user)
    qs = Submission.objects.filter(question__course__in=taught, status__in=REVIEWABLE)
    return with_current_grade(qs).select_related("student", "question", "question__course").prefetch_related(
        "question__reference_answers"
    )


def review_queue(*, user: User) -> QuerySet[Submission]:
    """Auto-graded submissions no teacher has reviewed yet (their current grade is the model's),
    in the courses the user teaches: least confident first."""
    graded_by_model = Exists(Grade.objects.filter(submission=OuterRef("pk"), source=Grade.Source.MODEL))
    return (
        reviewable_submission_list(user=user)
        .filter(graded_by_model)  # cheap first cut: most answers were only ever graded by teachers
        .filter(grade_source=Grade.Source.MODEL)
        .order_by(F("grade_confidence").asc(nulls_first=True), "submitted_at", "pk")
    )


def grade_event_list(*, submission: Submission) -> QuerySet[GradeEvent]:
    """The audit trail of one submission, oldest first (for teachers; never shown to students)."""
    return submission.events.select_related("actor").order_by("created_at", "id")


def grade_export_rows(*, course) -> Iterator[tuple]:
    """One row per answer of the course with its current grade, for CSV export (streamed)."""
    qs = with_current_grade(Submission.objects.filter(question__course=course)).annotate(
        grade_created_at=Subquery(
            Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id").values("created_at")[:1]
        ),
        graded_by_username=Subquery(
            Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id").values("graded_by__username")[:1]
        ),
    )
    yield from qs.order_by("question_id", "submitted_at", "pk").values_list(
        "pk", "student__username", "question_id", "question__external_id", "submitted_at", "status",
        "grade_score", "question__max_points", "grade_verdict", "grade_source", "graded_by_username",
        "grade_confidence", "grade_model_version", "grade_created_at", "grade_feedback",
    ).iterator(chunk_size=1000)


GRADE_EXPORT_COLUMNS = (
    "submission_id", "student", "question_id", "question_external_id", "submitted_at", "status",
    "score", "max_points", "verdict", "source", "graded_by", "confidence", "model_version", "graded_at", "feedback",
)


def release_policy_list(*, user: User) -> QuerySet[ReleasePolicy]:
    """Saved release policies of the courses the user teaches."""
    taught = domain_selectors.course_list_taught(user=user)
    return ReleasePolicy.objects.filter(course__in=taught).select_related("course", "updated_by").order_by("course__slug")


def question_answer_count(*, question) -> int:
    """How many students' answers ``question`` holds (deleting it would delete them)."""
    return Submission.objects.filter(question=question).count()


@dataclass(frozen=True)
class RegradeScope:
    submission_ids: list[int]  # graded answers whose current grade is the model's, oldest first
    teacher_graded: int  # graded answers whose grade a teacher gave, confirmed or released: they keep it


# A queued regrade waits for a worker at most this long; a running one writes its progress after every
# batch, so one silent this long lost its worker or web process (a restart).
REGRADE_QUEUED_FOR = timedelta(hours=2)
REGRADE_SILENT_FOR = timedelta(minutes=15)


def regrade_scope(*, course, question=None) -> RegradeScope:
    """The answers a regrade of ``question`` (or of the whole ``course``) would grade again: those whose
    current grade is the model's and that no teacher released since."""
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    graded = Submission.objects.filter(question__course=course).annotate(
        latest_source=Subquery(latest.values("source")[:1]), latest_at=Subquery(latest.values("created_at")[:1]),
        released_by_teacher=Exists(GradeEvent.objects.filter(
            submission=OuterRef("pk"), action=GradeEvent.Action.RELEASED, created_at__gte=OuterRef("latest_at"),
        )),
    ).filter(latest_source__isnull=False)
    if question is not None:
        graded = graded.filter(question=question)
    model_graded = graded.filter(latest_source=Grade.Source.MODEL, released_by_teacher=False)
    ids = list(model_graded.order_by("submitted_at", "id").values_list("pk", flat=True))
    return RegradeScope(submission_ids=ids, teacher_graded=graded.count() - len(ids))


def grade_stands(*, submission: Submission, grade: Grade | None) -> bool:
    """True when a regrade must leave ``submission`` alone: no grade, a teacher's, or a model grade a
    teacher released."""
    if grade is None or grade.source != Grade.Source.MODEL:
        return True
    return submission.events.filter(action=GradeEvent.Action.RELEASED, created_at__gte=grade.created_at).exists()


def _live_regrades(*, course) -> QuerySet[RegradeRun]:
    now = timezone.now()
    return RegradeRun.objects.filter(course=course).filter(
        Q(status=RegradeRun.Status.QUEUED, created_at__gte=now - REGRADE_QUEUED_FOR)
        | Q(status=RegradeRun.Status.RUNNING, updated_at__gte=now - REGRADE_SILENT_FOR)
    )


def regrade_in_progress(*, course) -> RegradeRun | None:
    """The course's regrade still queued or running (one that lost its worker does not count)."""
    return _live_regrades(course=course).first()


def abandoned_regrades(*, course) -> QuerySet[RegradeRun]:
    return RegradeRun.objects.filter(
        course=course, status__in=(RegradeRun.Status.QUEUED, RegradeRun.Status.RUNNING)
    ).exclude(pk__in=_live_regrades(course=course).values("pk"))


def regrade_is_silent(*, run: RegradeRun) -> bool:
    return timezone.now() - run.updated_at >= REGRADE_SILENT_FOR


def regrade_run_list(*, user: User) -> QuerySet[RegradeRun]:
    """Admins see every regrade, teachers those of the courses they teach, students none."""
    if not user.is_authenticated:
        return RegradeRun.objects.none()
    runs = RegradeRun.objects.select_related("course", "question", "started_by")
    if domain_selectors.is_admin(user):
        return runs
    return runs.filter(course__in=domain_selectors.course_list_taught(user=user))


def course_regrades(*, course, limit: int = 10) -> list[RegradeRun]:
    return list(RegradeRun.objects.filter(course=course).select_related("question", "started_by")[:limit])
