"""The grader's memory in the product: the teacher-confirmed grades of a question's earlier answers
vote on each new answer to it (tutor/ml/grading/memory.py says how and what it gains).

Every accepted or overridden grade joins the memory at once, so a teacher's correction changes the
next similar answer's grade without waiting for a retraining. The memory of a question is built on
first use and rebuilt when its teacher grades change (one cheap query decides), per process.

Feedback a teacher wrote (an override's or a group grade's own text, not the model's text that an
accepted grade keeps) is a note the next near-identical answer with the same verdict gets instead of
the model's template (``MemoryConfig.note_similarity``): SAF's tutors gave three in four such answers
the very same feedback.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db.models import Count, Max

from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.memory import AnswerMemory, GradedExample, blend, reusable_note
from tutor.ml.grading.predictor import Prediction
from tutor.ml.retrieval.embedder import get_embedder

from .models import Grade

_CACHE: dict[int, tuple[tuple, AnswerMemory]] = {}
_LOCK = threading.Lock()


def _teacher_grades(question_id: int):
    return Grade.objects.filter(source=Grade.Source.TEACHER, submission__question_id=question_id)


def teacher_graded_examples(*, question_id: int) -> list[GradedExample]:
    """Each teacher-graded answer of the question once, with its latest teacher grade and, where the
    teacher wrote it, that grade's feedback as its note."""
    model_texts = set(
        Grade.objects.filter(source=Grade.Source.MODEL, submission__question_id=question_id)
        .values_list("submission_id", "feedback")
    )
    latest: dict[int, GradedExample] = {}
    rows = (
        _teacher_grades(question_id)
        .order_by("created_at", "id")
        .values_list("submission_id", "submission__answer", "verdict", "score", "submission__question__max_points",
                     "feedback")
    )
    for submission_id, answer, verdict, score, max_points, text in rows:
        normalised = score / max_points if max_points else None
        note = text if text and (submission_id, text) not in model_texts else ""
        latest[submission_id] = GradedExample(
            answer=answer, label=verdict, score=normalised, answer_id=str(submission_id), note=note
        )
    return list(latest.values())


def memory_for_question(*, question_id: int, question: str) -> AnswerMemory | None:
    """The question's memory of teacher-graded answers, or None while it has none."""
    stamp = tuple(_teacher_grades(question_id).aggregate(n=Count("id"), last=Max("id")).values())
    with _LOCK:
        cached = _CACHE.get(question_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    examples = teacher_graded_examples(question_id=question_id)
    if not examples:
        return None
    memory = AnswerMemory(encoder=get_embedder())
    memory.add(question=question, examples=examples)
    with _LOCK:
        _CACHE[question_id] = (stamp, memory)
    return memory


@dataclass(frozen=True)
class Remembered:
    prediction: Prediction
    teacher_note: str = ""  # a teacher's note on a near-identical answer with the same verdict, or ""


def remember(*, prediction: Prediction, question_id: int, question: str, submission_id: int, answer: str) -> Remembered:
    """``prediction`` blended with the votes of the question's teacher-graded answers (unchanged without
    any), and the teacher's note this answer may reuse."""
    memory = memory_for_question(question_id=question_id, question=question)
    if memory is None:
        return Remembered(prediction=prediction)
    item = GradedAnswer(
        dataset="", subset="", split="", question_id=str(question_id), question=question,
        reference_answers=(), answer_id=str(submission_id), answer=answer,
    )
    [vote] = memory.votes([item])
    blended = blend(prediction, vote, allowed=None, config=memory.config)
    return Remembered(prediction=blended, teacher_note=reusable_note(blended.verdict, vote, config=memory.config))


def with_memory(*, prediction: Prediction, question_id: int, question: str, submission_id: int, answer: str) -> Prediction:
    return remember(prediction=prediction, question_id=question_id, question=question,
                    submission_id=submission_id, answer=answer).prediction


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
