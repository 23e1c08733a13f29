"""Writes of the student model: storing submissions and grades."""

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from domain.models import Enrollment, Question

from .models import Grade, GradeEvent, Submission

logger = logging.getLogger(__name__)


# Characters that show nothing: an answer of only these is empty.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# The same answer again within this many seconds is a double submit (a second click), not a new attempt.
DOUBLE_SUBMIT_SECONDS = 10


def validate_answer_text(answer: str) -> str:
    """Return the answer stripped of outer whitespace, or raise a ValidationError saying what is wrong."""
    text = (answer or "").strip()
    if not "".join(ch for ch in text if ch not in _INVISIBLE).strip():
        raise ValidationError({"answer": "The answer is empty: write your answer before submitting."})
    limit = settings.MAX_ANSWER_CHARS
    if len(text) > limit:
        raise ValidationError(
            {"answer": f"The answer is {len(text):,} characters long; the limit is {limit:,}. Shorten it and submit again."}
        )
    return text


def submit_answer(*, student: AbstractBaseUser, question: Question, answer: str) -> Submission:
    """Store a student's answer (status ``received``) before anything else happens to it.

    Grading is queued only once the submission is committed, so a crash in grading
    can never lose the answer. The same answer sent again within ``DOUBLE_SUBMIT_SECONDS``
    (a double click, a resent request) returns the stored submission instead of a second one.
    """
    return submit_answer_once(student=student, question=question, answer=answer)[0]


@transaction.atomic
def submit_answer_once(*, student: AbstractBaseUser, question: Question, answer: str) -> tuple[Submission, bool]:
    """``submit_answer``, saying whether the answer was stored now (True) or is a repeat of one stored a moment
    ago (False)."""
    text = validate_answer_text(answer)
    # Locked: two requests of one student (a double click) take turns, so the second sees the first's answer.
    enrollment = Enrollment.objects.select_for_update().filter(user=student, course_id=question.course_id).first()
    if enrollment is None:
        raise PermissionDenied("You are not enrolled in this course.")
    if enrollment.role != Enrollment.Role.STUDENT:
        raise PermissionDenied("Only the course's students answer its questions.")
    now = timezone.now()
    repeated = (
        Submission.objects.filter(
            student=student, question=question, answer=text,
            submitted_at__gte=now - timedelta(seconds=DOUBLE_SUBMIT_SECONDS),
        )
        .order_by("-submitted_at")
        .first()
    )
    if repeated is not None:
        return repeated, False
    submission = Submission(student=student, question=question, answer=text, submitted_at=now)
    submission.full_clean()
    submission.save()
    transaction.on_commit(lambda: _queue_grading(submission.pk))
    return submission, True


def _queue_grading(submission_id: int) -> None:
    # Imported late: tasks import this module.
    from .tasks import grade_submission

    try:
        grade_submission.delay(submission_id)
    except Exception:  # the broker is down (or, eager, grading failed): queue_pending_grading() picks it up
        logger.exception("Could not queue or run the grading of submission %s; it is stored and waits for the grader.", submission_id)


def queue_pending_grading() -> int:
    """Queue every submission still waiting for the grader; returns how many were queued."""
    from .grading import pending_submission_ids

    ids = pending_submission_ids()
    for submission_id in ids:
        _queue_grading(submission_id)
    return len(ids)


@transaction.atomic
def record_grade(
    *,
    submission: Submission,
    score: float,
    verdict: str,
    source: str,
    feedback: str = "",
    confidence: float | None = None,
    model_version: str = "",
    graded_by: AbstractBaseUser | None = None,
    status: str = Submission.Status.GRADED,
    update_mastery: bool = True,
) -> Grade:
    """Store a grade for a submission and move the submission to ``status``. ``update_mastery=False``: the
    caller updates the learner's mastery itself (a bulk regrade does it once per learner)."""
    max_points = submission.question.max_points
    if score > max_points:
        raise ValidationError({"score": f"Score {score:g} is above the question's {max_points:g} points."})
    grade = Grade(
        submission=submission,
        score=score,
        verdict=verdict,
        confidence=confidence,
        feedback=feedback,
        source=source,
        model_version=model_version,
        graded_by=graded_by,
    )
    grade.full_clean()
    grade.save()
    submission.status = status
    submission.save(update_fields=["status"])
    transaction.on_commit(lambda: notify_submission_changed(submission))
    if update_mastery:
        transaction.on_commit(lambda: _update_mastery(submission.pk))
    return grade


# A grade given while its question had no points (practice) says nothing of a share but its verdict's: when
# the question gets points, that is the share it takes (a regrade gives model grades their score head's share).
PRACTICE_VERDICT_SHARES = {"correct": 1.0, "partially_correct": 0.5, "contradictory": 0.0, "incorrect": 0.0}


def rescaled_points(score: float, *, verdict: str, old_max_points: float, new_max_points: float) -> float:
    """``score`` of ``old_max_points`` as the same share of ``new_max_points``; full marks stay full marks,
    whatever the float noise (0.3 / 0.1 * 0.1). From 0 points the share is the ``verdict``'s."""
    if new_max_points == old_max_points:
        return min(score, new_max_points)
    if old_max_points <= 0:
        return PRACTICE_VERDICT_SHARES[verdict] * new_max_points
    value = min(score / old_max_points * new_max_points, new_max_points)
    return new_max_points if new_max_points - value < 1e-9 * new_max_points else value


def check_new_points(*, question: Question, max_points: float) -> None:
    """Refuse 0 points for a question with grades: their shares of full marks would be lost."""
    if max_points <= 0 and Grade.objects.filter(submission__question=question).exists():
        raise ValidationError(
            {"max_points": "This question has grades: its points must stay above 0 (grades keep their share of "
                           "full marks when the points change)."}
        )


@transaction.atomic
def rescale_question_grades(
    *, question: Question, old_max_points: float, actor: AbstractBaseUser | None = None
) -> int:
    """``question``'s points changed from ``old_max_points``: each of its grades (every grading, not only the
    current ones) keeps its share of full marks, so a 1.5 of 2 becomes a 0.75 of 1 and no grade lies above the
    question's points. From 0 points (a practice question) each grade takes its verdict's share
    (``PRACTICE_VERDICT_SHARES``). Points cannot drop to 0 under existing grades: their shares would be lost.
    The mastery estimates read verdicts and stay as they are. Each submission's audit trail records the change
    of its current grade, and the students' open pages are told. Returns how many grades were rescaled."""
    check_new_points(question=question, max_points=question.max_points)
    if question.max_points == old_max_points or question.max_points <= 0:
        return 0
    rescaled = list(
        Grade.objects.filter(submission__question=question).select_for_update(of=("self",))
        .select_related("submission").order_by("submission_id", "-created_at", "-id")
    )
    events, submissions = [], {}
    for grade in rescaled:
        before = grade.score
        grade.score = rescaled_points(before, verdict=grade.verdict, old_max_points=old_max_points,
                                      new_max_points=question.max_points)
        if grade.submission_id not in submissions:  # the first of each submission is its current grade
            submissions[grade.submission_id] = grade.submission
            state = {"grade_id": grade.pk, "verdict": grade.verdict, "source": grade.source,
                     "status": grade.submission.status}
            events.append(GradeEvent(
                submission_id=grade.submission_id, action=GradeEvent.Action.RESCALED, actor=actor,
                before=state | {"score": before, "max_points": old_max_points},
                after=state | {"score": grade.score, "max_points": question.max_points},
            ))
    count = Grade.objects.bulk_update(rescaled, ["score"], batch_size=500)
    GradeEvent.objects.bulk_create(events, batch_size=500)
    transaction.on_commit(lambda: [notify_submission_changed(s) for s in submissions.values()])
    return count


def _update_mastery(submission_id: int) -> None:
    # Imported late: the mastery module imports this one. A tracer failure never loses the grade.
    from .mastery import record_graded_submission

    try:
        record_graded_submission(submission_id=submission_id)
    except Exception:
        logger.exception("Could not update mastery after grading submission %s.", submission_id)


def notify_submission_changed(submission: Submission) -> None:
    """Tell the student's open pages (websocket group) that a submission changed."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        submission_group(submission.student_id),
        {"type": "submission.changed", "submission_id": submission.pk, "question_id": submission.question_id,
         "status": submission.status},
    )


def submission_group(student_id: int) -> str:
    return f"submissions.user.{student_id}"
