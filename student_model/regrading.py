"""Regrading a question or a whole course in bulk, with the grader active now.

    start_regrade(course=..., question=..., started_by=...)  -> RegradeRun (queued; the `grading` queue runs it)
    run_regrade(run_id=...)                                   -> RegradeRun (succeeded or failed)

After a new grader is promoted or a reference answer is corrected, a teacher regrades the answers
already graded. Only answers whose current grade came from the model are regraded: a grade a teacher
gave, confirmed or released stands. The answers go through the grader in batches; each gets a new model grade
(released or held for review by the course's release policy, like any model grade), and the run
counts its progress so the page can follow it. An answer a teacher grades while the run is under
way keeps the teacher's grade.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from domain import selectors as domain_selectors
from domain.models import Course, Question
from tutor.ml.grading.predictor import get_predictor

from . import background, grading, mastery_selectors, ml_registry, selectors
from .models import RegradeRun, Submission
from .review_services import record_model_grade

logger = logging.getLogger(__name__)

BATCH_SIZE = 32


@transaction.atomic
def start_regrade(
    *, course: Course, question: Question | None = None, started_by: AbstractBaseUser | None, enqueue: bool = True
) -> RegradeRun:
    """Queue a regrade of ``question`` (or of every question of ``course``). ``started_by`` None: the
    command line. Refused when the user may not manage the course, when no grader is active, when no answer
    has a model grade to redo, or while another regrade of the course is queued or running."""
    if started_by is not None and not domain_selectors.can_manage_course(user=started_by, course=course):
        raise PermissionDenied("Only the course's teachers and admins can regrade its answers.")
    if question is not None and question.course_id != course.pk:
        raise ValidationError({"question": "This question belongs to another course."})
    Course.objects.select_for_update().filter(pk=course.pk).first()  # one start at a time per course
    version = ml_registry.active_version(course_id=course.pk)
    if version is None:
        raise ValidationError("No grader is active yet: there is nothing to regrade with.")
    _fail_abandoned_runs(course=course)
    if selectors.regrade_in_progress(course=course) is not None:
        raise ValidationError("A regrade of this course is already queued or running.")
    scope = selectors.regrade_scope(course=course, question=question)
    if not scope.submission_ids:
        where = "this question" if question is not None else "this course"
        kept = (f" ({scope.teacher_graded} graded by a teacher, which stand)" if scope.teacher_graded else "")
        raise ValidationError(f"Nothing to regrade: no answer to {where} has a grade from the model{kept}.")
    run = RegradeRun(
        course=course, question=question, started_by=started_by, model_version=version.version,
        total=len(scope.submission_ids), kept=scope.teacher_graded,
        message="Waiting for a grading worker.",
    )
    run.full_clean()
    run.save()
    if enqueue:
        transaction.on_commit(lambda: _dispatch(run.pk))
    return run


def _fail_abandoned_runs(*, course: Course) -> None:
    selectors.abandoned_regrades(course=course).update(
        status=RegradeRun.Status.FAILED, finished_at=timezone.now(),
        message="Abandoned: it stopped reporting progress (its worker was probably restarted).",
    )


def _dispatch(run_id: int) -> None:
    """Send the run to the `grading` queue; embedded mode (eager Celery, no worker) runs it in a
    background thread of the web process instead, so the request returns and the page follows it."""
    if getattr(settings, "GRADER_RETRAINING_THREAD", False):
        background.start_thread(name=f"regrade-{run_id}", target=lambda: run_regrade(run_id=run_id))
    else:
        queue(run_id=run_id)


def queue(*, run_id: int) -> None:
    """Send the run to the `grading` queue; if the broker cannot take it, the run fails saying so."""
    from .tasks import regrade

    try:
        regrade.apply_async(args=(run_id,), queue="grading")
    except Exception as error:  # noqa: BLE001 - the broker is down: the run must not wait for ever
        logger.exception("Could not queue regrade run %s", run_id)
        _finish(run_id, status=RegradeRun.Status.FAILED, message=f"Could not reach the grading queue: {error}")


def run_regrade(*, run_id: int) -> RegradeRun:
    """Execute a queued run to the end; a failure is recorded on the run (status ``failed``), not raised.
    A redelivered task leaves a run that is done or still reporting progress, and takes over one whose
    worker died (it starts the count again: answers already regraded are simply graded once more)."""
    with transaction.atomic():
        run = RegradeRun.objects.select_for_update(of=("self",)).select_related("course", "question").get(pk=run_id)
        taking_over = run.status == RegradeRun.Status.RUNNING and selectors.regrade_is_silent(run=run)
        if run.status != RegradeRun.Status.QUEUED and not taking_over:
            return run
        run.status = RegradeRun.Status.RUNNING
        run.message = "Regrading."
        run.done = run.changed = 0
        run.started_at = run.updated_at = timezone.now()
        run.save(update_fields=["status", "message", "done", "changed", "started_at", "updated_at"])
    try:
        _regrade(run)
    except Exception as error:  # noqa: BLE001 - every failure ends the run with its reason
        logger.exception("Regrade run %s failed", run_id)
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return _finish(run_id, status=RegradeRun.Status.FAILED, message=reason or type(error).__name__)
    run.refresh_from_db()
    message = (f"Regraded {run.done} answer{'s' if run.done != 1 else ''} with {run.model_version}: "
               f"{run.changed} changed; {run.kept} kept the grade a teacher gave, confirmed or released.")
    return _finish(run_id, status=RegradeRun.Status.SUCCEEDED, message=message)


def _finish(run_id: int, *, status: str, message: str) -> RegradeRun:
    RegradeRun.objects.filter(pk=run_id, status__in=(RegradeRun.Status.QUEUED, RegradeRun.Status.RUNNING)).update(
        status=status, message=message[:1000], finished_at=timezone.now(), updated_at=timezone.now()
    )
    return RegradeRun.objects.get(pk=run_id)


def _regrade(run: RegradeRun) -> None:
    version = ml_registry.active_version(course_id=run.course_id)
    if version is None:
        raise ValidationError("No grader is active any more.")
    predictor = get_predictor(version.path, **grading.serving_options())
    scope = selectors.regrade_scope(course=run.course, question=run.question)
    ids = scope.submission_ids
    RegradeRun.objects.filter(pk=run.pk).update(
        model_version=version.version, total=len(ids), kept=scope.teacher_graded, updated_at=timezone.now()
    )
    references: dict[int, list[str]] = {}
    regraded: dict[int, set[int]] = {}  # student id -> question ids, for the mastery update at the end
    try:
        _regrade_batches(run, ids=ids, predictor=predictor, model_version=version.version,
                         references=references, regraded=regraded)
    finally:  # also after a failure: the answers regraded so far count
        _update_mastery(run=run, regraded=regraded)


def _update_mastery(*, run: RegradeRun, regraded: dict[int, set[int]]) -> None:
    # Imported late: the mastery module imports the services this one does. A tracer failure loses no grade.
    from .mastery import record_regraded_answers

    if not regraded:
        return
    course = run.course
    try:
        # A heartbeat first: on a large course the replay takes a while, and a silent run counts as abandoned.
        RegradeRun.objects.filter(pk=run.pk, status=RegradeRun.Status.RUNNING).update(
            message="Updating the learners' mastery.", updated_at=timezone.now()
        )
        skills = mastery_selectors.question_skills(course=course)
        record_regraded_answers(
            course=course,
            skills_by_student={student: {k for q in ids for k in skills.get(q, ())} for student, ids in regraded.items()},
        )
    except Exception:
        logger.exception("Could not update mastery after regrading in course %s.", course.pk)


def _regrade_batches(run: RegradeRun, *, ids: list[int], predictor, model_version: str,
                     references: dict[int, list[str]], regraded: dict[int, set[int]]) -> None:
    for start in range(0, len(ids), BATCH_SIZE):
        submissions = list(
            Submission.objects.filter(pk__in=ids[start:start + BATCH_SIZE]).select_related("question")
        )
        for submission in submissions:
            if submission.question_id not in references:
                references[submission.question_id] = grading.reference_texts(question=submission.question)
        predictions = predictor.grade_many(
            [(s.question.prompt, references[s.question_id], s.answer) for s in submissions]
        )
        outcomes = []
        for submission, prediction in zip(submissions, predictions):
            outcome = _store(
                submission_id=submission.pk, model_version=model_version,
                grade=grading.compose_grade(
                    submission=submission, references=references[submission.question_id], prediction=prediction
                ),
            )
            outcomes.append(outcome)
            if outcome != KEPT:  # noted at once: after a failure later in the batch, its learners count too
                regraded.setdefault(submission.student_id, set()).add(submission.question_id)
        RegradeRun.objects.filter(pk=run.pk).update(
            done=F("done") + outcomes.count(CHANGED) + outcomes.count(SAME),
            changed=F("changed") + outcomes.count(CHANGED),
            # graded or released by a teacher since the run counted them: kept, no longer to do
            kept=F("kept") + outcomes.count(KEPT),
            total=F("total") - outcomes.count(KEPT),
            updated_at=timezone.now(),
        )


CHANGED, SAME, KEPT = "changed", "same", "kept"


@transaction.atomic
def _store(*, submission_id: int, grade: grading.ModelGrade, model_version: str) -> str:
    """Record the new model grade unless a teacher graded or released the answer meanwhile (``KEPT``)."""
    submission = Submission.objects.select_for_update().select_related("question__course").get(pk=submission_id)
    current = selectors.latest_grade(submission=submission)
    if selectors.grade_stands(submission=submission, grade=current):
        return KEPT
    score = grade.score_in(submission.question.max_points)  # locked with the submission: current points
    same = current.verdict == grade.verdict and abs(current.score - score) <= 1e-6
    keep_released = same and submission.status == Submission.Status.GRADED
    record_model_grade(
        submission=submission, score=score, verdict=grade.verdict, confidence=grade.confidence,
        # A grade the student has seen is not taken back by a regrade that gives the very same grade, and
        # it keeps the feedback they read (new text would be released unreviewed).
        feedback=current.feedback if keep_released else grade.feedback,
        model_version=model_version, update_mastery=False, keep_released=keep_released,
    )
    return SAME if same else CHANGED
