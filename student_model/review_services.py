"""Writes of teacher review: the release policy, accepting and overriding grades, grading answer groups.

Every change of a submission's grade or release state writes a ``GradeEvent`` (who, when,
from what to what). Only a course's teachers (and admins) may change its grades: the
callers find the submission among those the user may see (else 404), these services
refuse a user who may see it but not manage it (403).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from domain import selectors as domain_selectors
from domain.models import Course

from . import selectors
from .models import Grade, GradeEvent, ReleasePolicy, Submission
from .services import notify_submission_changed, record_grade


def grade_snapshot(*, submission: Submission, grade: Grade | None) -> dict:
    """What the audit trail keeps of a submission's state: its current grade and status."""
    state = {"status": submission.status}
    if grade is not None:
        state.update(
            grade_id=grade.pk, score=grade.score, verdict=grade.verdict, feedback=grade.feedback,
            confidence=grade.confidence, source=grade.source,
        )
    return state


def _log(*, submission: Submission, action: str, actor: AbstractBaseUser | None, before: dict, after: dict) -> GradeEvent:
    event = GradeEvent(submission=submission, action=action, actor=actor, before=before, after=after)
    event.full_clean()
    event.save()
    return event


def should_release(*, policy: ReleasePolicy, confidence: float | None) -> bool:
    """A model grade goes to the student unreviewed when auto-release is on and it is confident enough."""
    return bool(policy.auto_release and confidence is not None and confidence >= policy.confidence_threshold)


@transaction.atomic
def record_model_grade(
    *, submission: Submission, score: float, verdict: str, confidence: float, feedback: str, model_version: str,
    update_mastery: bool = True, keep_released: bool = False,
) -> Grade:
    """Store the grader's grade and release it, or hold it for review, by the course's release policy
    (``update_mastery``: see ``services.record_grade``). ``keep_released``: the student has already seen this
    very grade (a regrade that agrees with it), so it stays released whatever its confidence."""
    policy = selectors.release_policy_for(course=submission.question.course)
    by_policy = should_release(policy=policy, confidence=confidence)
    release = by_policy or keep_released
    before = grade_snapshot(submission=submission, grade=selectors.latest_grade(submission=submission))
    grade = record_grade(
        submission=submission, score=score, verdict=verdict, confidence=confidence, feedback=feedback,
        source=Grade.Source.MODEL, model_version=model_version,
        status=Submission.Status.GRADED if release else Submission.Status.NEEDS_REVIEW, update_mastery=update_mastery,
    )
    after = grade_snapshot(submission=submission, grade=grade)
    after["threshold"] = policy.confidence_threshold if policy.auto_release else None
    if release and not by_policy:
        after["kept_released"] = True
    action = GradeEvent.Action.AUTO_RELEASED if release else GradeEvent.Action.HELD_FOR_REVIEW
    _log(submission=submission, action=action, actor=None, before=before, after=after)
    return grade


def _check_may_review(*, actor: AbstractBaseUser, submission: Submission) -> None:
    if not domain_selectors.can_manage_course(user=actor, course=submission.question.course):
        raise PermissionDenied("Only the course's teachers may review its grades.")


def _locked(submission: Submission) -> Submission:
    return Submission.objects.select_for_update().select_related("question", "question__course").get(pk=submission.pk)


def _validate_teacher_grade(*, submission: Submission, score: float, verdict: str) -> None:
    errors = {}
    max_points = submission.question.max_points
    if score is None or not 0 <= score <= max_points:
        errors["score"] = f"The score must be between 0 and {max_points:g} points."
    if verdict not in Grade.Verdict.values:
        errors["verdict"] = f"Choose a verdict: {', '.join(Grade.Verdict.values)}."
    if errors:
        raise ValidationError(errors)


def _teacher_grade(
    *, actor: AbstractBaseUser, submission: Submission, score: float, verdict: str, feedback: str, action: str
) -> Grade:
    current = selectors.latest_grade(submission=submission)
    before = grade_snapshot(submission=submission, grade=current)
    grade = record_grade(
        submission=submission, score=score, verdict=verdict, feedback=feedback.strip(),
        source=Grade.Source.TEACHER, graded_by=actor, status=Submission.Status.GRADED,
    )
    _log(submission=submission, action=action, actor=actor, before=before,
         after=grade_snapshot(submission=submission, grade=grade))
    return grade


@transaction.atomic
def accept_grade(*, actor: AbstractBaseUser, submission: Submission) -> Grade:
    """The current (model) grade becomes the teacher-confirmed grade, released to the student. A grade a
    teacher already gave or confirmed is returned as it is (a double click records nothing twice)."""
    _check_may_review(actor=actor, submission=submission)
    submission = _locked(submission)
    current = selectors.latest_grade(submission=submission)
    if current is None:
        raise ValidationError("This answer has no grade to accept yet.")
    if current.source == Grade.Source.TEACHER and submission.status == Submission.Status.GRADED:
        return current
    return _teacher_grade(
        actor=actor, submission=submission, score=current.score, verdict=current.verdict,
        feedback=current.feedback, action=GradeEvent.Action.ACCEPTED,
    )


@transaction.atomic
def override_grade(
    *, actor: AbstractBaseUser, submission: Submission, score: float, verdict: str, feedback: str = ""
) -> Grade:
    """The teacher's own grade replaces the current one and is released to the student."""
    _check_may_review(actor=actor, submission=submission)
    submission = _locked(submission)
    _validate_teacher_grade(submission=submission, score=score, verdict=verdict)
    return _teacher_grade(
        actor=actor, submission=submission, score=score, verdict=verdict, feedback=feedback,
        action=GradeEvent.Action.OVERRIDDEN,
    )


@transaction.atomic
def grade_answer_group(
    *, actor: AbstractBaseUser, submissions: Sequence[Submission], score: float, verdict: str, feedback: str = ""
) -> list[Grade]:
    """One grade for a group of similar answers to one question. An answer whose current grade already
    says the same (verdict and score) counts as accepted, any other as overridden. An answer named more
    than once is graded once."""
    submissions = list({submission.pk: submission for submission in submissions}.values())
    if not submissions:
        raise ValidationError("Choose at least one answer to grade.")
    if len({s.question_id for s in submissions}) != 1:
        raise ValidationError("A group holds answers to one question only.")
    for submission in submissions:
        _check_may_review(actor=actor, submission=submission)
    _validate_teacher_grade(submission=submissions[0], score=score, verdict=verdict)
    grades = []
    for submission in submissions:
        submission = _locked(submission)
        current = selectors.latest_grade(submission=submission)
        same = current is not None and current.verdict == verdict and abs(current.score - score) < 1e-9
        action = GradeEvent.Action.ACCEPTED if same else GradeEvent.Action.OVERRIDDEN
        grades.append(_teacher_grade(
            actor=actor, submission=submission, score=score, verdict=verdict, feedback=feedback, action=action
        ))
    return grades


@transaction.atomic
def release_submission(*, actor: AbstractBaseUser, submission: Submission) -> Submission:
    """Release a held grade to the student as it stands (no new grade)."""
    _check_may_review(actor=actor, submission=submission)
    submission = _locked(submission)
    if submission.status != Submission.Status.NEEDS_REVIEW:
        raise ValidationError(f"Only answers waiting for review can be released; this one is {submission.status}.")
    current = selectors.latest_grade(submission=submission)
    if current is None:
        raise ValidationError("This answer has no grade to release yet.")
    before = grade_snapshot(submission=submission, grade=current)
    submission.status = Submission.Status.GRADED
    submission.save(update_fields=["status"])
    _log(submission=submission, action=GradeEvent.Action.RELEASED, actor=actor, before=before,
         after=grade_snapshot(submission=submission, grade=current))
    transaction.on_commit(lambda: notify_submission_changed(submission))
    return submission


@transaction.atomic
def release_policy_update(
    *, actor: AbstractBaseUser, course: Course, auto_release: bool, confidence_threshold: float
) -> ReleasePolicy:
    """Set a course's release policy (created on first save); ``updated_by`` records who."""
    if not domain_selectors.can_manage_course(user=actor, course=course):
        raise PermissionDenied("Only the course's teachers may change its release policy.")
    policy = ReleasePolicy.objects.select_for_update().filter(course=course).first() or ReleasePolicy(course=course)
    policy.auto_release = auto_release
    policy.confidence_threshold = confidence_threshold
    policy.updated_by = actor
    policy.full_clean()
    policy.save()
    return policy
