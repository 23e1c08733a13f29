"""The grader's memory in the product: the teacher-confirmed grades of a question's earlier answers
vote on each new answer to it (tutor/ml/grading/memory.py says how and what it gains).

Every accepted or overridden grade joins the memory at once, so a teacher's correction changes the
next similar answer's grade without waiting for a retraining. The memory of a question is built on
first use and rebuilt when its teacher grades change (one cheap query decides), per process.
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.memory import AnswerMemory, GradedExample, blend
from tutor.ml.retrieval.embedder import get_embedder

from .models import Grade

_CACHE: dict[int, tuple[tuple, AnswerMemory]] = {}
_LOCK = threading.Lock()


def _teacher_grades(question_id: int):
    return Grade.objects.filter(source=Grade.Source.TEACHER, submission__question_id=question_id)


def teacher_graded_examples(*, question_id: int) -> list[GradedExample]:
    """Each teacher-graded answer of the question once, with its latest teacher grade."""
    latest: dict[int, GradedExample] = {}
    rows = (
        _teacher_grades(question_id)
        .order_by("created_at", "id")
        .values_list("submission_id", "submission__answer", "verdict", "score", "submission__question__max_points")
    )
    for submission_id, answer, verdict, score, max_points in rows:
        normalised = score / max_points if max_points else None
        latest[submission_id] = GradedExample(answer=answer, label=verdict, score=normalised, answer_id=str(submission_id))
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


def with_memory(*, prediction, question_id: int, question: str, submission_id: int, answer: str):
    """``prediction`` blended with the votes of the question's teacher-graded answers (unchanged without any)."""
    memory = memory_for_question(question_id=question_id, question=question)
    if memory is None:
        return prediction
    item = GradedAnswer(
        dataset="", subset="", split="", question_id=str(question_id), question=question,
        reference_answers=(), answer_id=str(submission_id), answer=answer,
    )
    [vote] = memory.votes([item])
    return blend(prediction, vote, allowed=None, config=memory.config)


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
