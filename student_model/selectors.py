"""Reads of the student model, with the access rules of ``domain.selectors``."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, QuerySet, Subquery

from domain import selectors as domain_selectors

from .models import Grade, Submission

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
    """Grades the user may see: all of those in courses they teach; of their own work only
    grades of submissions that are ``graded`` (one waiting for review is not released)."""
    if not user.is_authenticated:
        return Grade.objects.none()
    if domain_selectors.is_admin(user):
        qs = Grade.objects.all()
    else:
        taught = domain_selectors.course_list_taught(user=user)
        qs = Grade.objects.filter(submission__question__course__in=taught) | Grade.objects.filter(
            submission__student=user, submission__status=Submission.Status.GRADED
        )
    return qs.select_related("submission", "graded_by").distinct()


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
