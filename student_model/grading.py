"""Automatic grading of stored submissions with the active fine-tuned grader.

The grader itself (a fine-tuned cross-encoder) lives in ``tutor.ml.grading`` and the
feedback wording in ``tutor.ml.feedback``; this module connects them to the database.
Grading is idempotent: a redelivered task (after a worker died mid-task) grades a
submission still ``received`` or ``grading`` and skips one that already has a model grade.
Until a grader is active, submissions stay ``received`` and wait; nothing is guessed.
The model's prediction is blended with the teacher-confirmed grades of similar answers to the
same question (``grading_memory``), so a teacher's correction counts from the next answer on; an
almost identical answer with the same verdict gets the note its teacher wrote there as feedback.
The course's release policy decides whether a model grade reaches the student at once
(``graded``) or waits for a teacher (``needs_review``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from tutor.ml import feedback
from tutor.ml.grading.predictor import Prediction, get_predictor
from tutor.ml.retrieval.embedder import get_embedder
from tutor.ml.threads import threads_per_process

from . import grading_memory, ml_registry
from .models import Grade, Submission
from .review_services import record_model_grade
from .services import rescaled_points

logger = logging.getLogger(__name__)

PENDING = (Submission.Status.RECEIVED, Submission.Status.GRADING)


def serving_threads() -> int:
    """Threads this process gives the grader and the embedder: ``GRADER_THREADS``, else its share of the
    cores in a prefork worker, else 0 (every core; tutor/ml/threads.py)."""
    return threads_per_process(settings.GRADER_THREADS)


def serving_options() -> dict:
    """How this process serves a grader version: backend, precision and threads (``get_predictor``'s options)."""
    return {"int8": settings.GRADER_INT8, "backend": settings.GRADER_BACKEND, "num_threads": serving_threads()}


def prepare_serving(*, version_path) -> None:
    """Load a grader version as the workers serve it, so that its one-off preparation (the ONNX
    export with ``GRADER_BACKEND=onnx``) happens now rather than on the first answer it grades."""
    get_predictor(version_path, **serving_options())


@dataclass(frozen=True)
class ModelGrade:
    score: float  # points, of max_points
    verdict: str
    confidence: float
    feedback: str
    max_points: float

    def score_in(self, max_points: float) -> float:
        """The score in the question's points as they are now: a teacher may have changed them while the
        answer was being graded (their grades were rescaled then; this one keeps its share the same way)."""
        return rescaled_points(self.score, verdict=self.verdict, old_max_points=self.max_points,
                               new_max_points=max_points)


# A "correct" verdict for an answer that expresses none of the reference answer's ideas (feedback.align) is
# right less often: on SciEntsBank's unseen answers, 59 % of such grades against 84 % of the others (v3, int8;
# 38 % of its "correct" verdicts there). So its confidence goes no higher than that, and under the usual
# release thresholds a teacher sees it first. The verdict and score stay the model's.
UNSUPPORTED_CORRECT_CONFIDENCE = 0.55


# An answer in a script the grader never read (QA: a correct Japanese answer, released as incorrect at 0.75)
# gets a verdict that means nothing: a teacher grades it, whatever the course's threshold.
UNREADABLE_SCRIPT_CONFIDENCE = 0.2


def checked_confidence(*, verdict: str, confidence: float, alignment: feedback.Alignment, answer: str) -> float:
    """The prediction's confidence, capped where the verdict says correct but the answer covers none of the
    reference answer's ideas (the two disagree), and where the answer is in a script the grader cannot read."""
    if not feedback.in_a_script_the_grader_reads(answer):
        return min(confidence, UNREADABLE_SCRIPT_CONFIDENCE)
    if verdict == "correct" and alignment.missing and not alignment.covered:
        return min(confidence, UNSUPPORTED_CORRECT_CONFIDENCE)
    return confidence


def reference_texts(*, question) -> list[str]:
    return list(question.reference_answers.values_list("text", flat=True))


def compose_grade(*, submission: Submission, references: list[str], prediction: Prediction) -> ModelGrade:
    """The grade a prediction gives a submission: blended with the teacher-confirmed grades of similar
    answers, in the question's points, with feedback (the teacher's note of an almost identical answer,
    else the reference's ideas the answer covers and misses)."""
    question = submission.question
    remembered = grading_memory.remember(
        prediction=prediction, question_id=question.pk, question=question.prompt,
        submission_id=submission.pk, answer=submission.answer,
    )
    prediction = remembered.prediction
    points = prediction.points(question.max_points)
    language = feedback.language_of(question.prompt, references)
    confidence = prediction.confidence
    if remembered.teacher_note:  # a teacher graded an almost identical answer the same way: no second check
        text = feedback.from_teacher_note(remembered.teacher_note, language)
    else:
        alignment = feedback.align(reference_answers=references, answer=submission.answer, encoder=get_embedder(),
                                   question=question.prompt)
        text = feedback.compose(
            verdict=prediction.verdict, alignment=alignment, answer=submission.answer, question=question.prompt,
            score=points / question.max_points if question.max_points else None, language=language,
        )
        confidence = checked_confidence(verdict=prediction.verdict, confidence=confidence, alignment=alignment,
                                        answer=submission.answer)
    return ModelGrade(score=points, verdict=prediction.verdict, confidence=round(confidence, 4), feedback=text,
                      max_points=question.max_points)


def grade_submission(*, submission_id: int) -> str:
    course_id = Submission.objects.filter(pk=submission_id).values_list("question__course_id", flat=True).get()
    version = ml_registry.active_version(course_id=course_id)
    if version is None:
        logger.info("No active grader; submission %s waits in status 'received'.", submission_id)
        return "waiting: no active grader"
    with transaction.atomic():
        submission = Submission.objects.select_for_update().select_related("question").get(pk=submission_id)
        if submission.status not in PENDING:
            return f"skipped: already {submission.status}"
        submission.status = Submission.Status.GRADING
        submission.save(update_fields=["status"])

    try:
        return _grade(submission=submission, version=version)
    except Exception:
        # Back to 'received' (unless a grade got stored meanwhile), so that a retry or
        # queue_pending_grading() takes it up again and the student is not shown 'grading' for ever.
        Submission.objects.filter(pk=submission_id, status=Submission.Status.GRADING).update(
            status=Submission.Status.RECEIVED
        )
        raise


def _grade(*, submission: Submission, version) -> str:
    question = submission.question
    references = reference_texts(question=question)
    prediction = get_predictor(version.path, **serving_options()).grade(
        question=question.prompt, reference_answers=references, answer=submission.answer
    )
    grade = compose_grade(submission=submission, references=references, prediction=prediction)

    with transaction.atomic():
        submission = Submission.objects.select_for_update().select_related("question").get(pk=submission.pk)
        if submission.grades.filter(source=Grade.Source.MODEL, model_version=version.version).exists():
            return "skipped: already graded by this model"
        record_model_grade(  # the question row is locked with the submission: its points are current
            submission=submission, score=grade.score_in(submission.question.max_points), verdict=grade.verdict,
            confidence=grade.confidence, feedback=grade.feedback, model_version=version.version,
        )
    return f"graded: {grade.verdict}"


def pending_submission_ids() -> list[int]:
    """Submissions waiting for the grader (e.g. stored while no grader was active or the broker was down)."""
    return list(Submission.objects.filter(status__in=PENDING).order_by("submitted_at").values_list("pk", flat=True))
