"""Teacher-confirmed grades of a question's answers vote on its next answers."""

import pytest

from student_model import grading_memory
from tests import factories
from tutor.ml.grading.config import LABELS
from tutor.ml.grading.predictor import Prediction

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    grading_memory.clear_cache()
    yield
    grading_memory.clear_cache()


def _unsure_correct():
    return Prediction(
        verdict="correct",
        probabilities={"correct": 0.4, "partially_correct": 0.2, "contradictory": 0.2, "incorrect": 0.2},
        score=0.7,
        confidence=0.4,
    )


def _grade(question, answer, *, verdict, score, source="teacher", feedback=""):
    submission = factories.SubmissionFactory(question=question, answer=answer)
    return factories.GradeFactory(
        submission=submission, verdict=verdict, score=score, source=source, feedback=feedback,
        model_version="m1" if source == "model" else "",
    )


def _blend(question, answer, submission_id=0):
    return grading_memory.with_memory(
        prediction=_unsure_correct(), question_id=question.pk, question=question.prompt,
        submission_id=submission_id, answer=answer,
    )


def test_without_teacher_grades_the_prediction_is_unchanged(course):
    question = factories.QuestionFactory(course=course)
    _grade(question, "The salt is left when water evaporates.", verdict="correct", score=1.0, source="model")
    assert _blend(question, "We boiled the water away.") == _unsure_correct()


def test_a_teacher_override_changes_the_next_similar_answer(course):
    question = factories.QuestionFactory(course=course)
    graded = _grade(question, "We filtered the salt out with filter paper.", verdict="correct", score=1.0)
    before = _blend(question, "We filtered it through paper to get the salt.")
    assert before.verdict == "correct"
    assert before.confidence > _unsure_correct().confidence

    factories.GradeFactory(submission=graded.submission, verdict="incorrect", score=0.0, source="teacher")
    after = _blend(question, "We filtered it through paper to get the salt.")
    assert after.verdict == "incorrect"
    assert after.score < before.score
    assert sum(after.probabilities.values()) == pytest.approx(1.0)
    assert set(after.probabilities) == set(LABELS)


def test_only_the_latest_teacher_grade_of_a_submission_counts(course):
    question = factories.QuestionFactory(course=course)
    first = _grade(question, "Evaporation.", verdict="incorrect", score=0.0)
    factories.GradeFactory(submission=first.submission, verdict="correct", score=1.0, source="teacher")
    [example] = grading_memory.teacher_graded_examples(question_id=question.pk)
    assert (example.label, example.score) == ("correct", 1.0)


def test_a_submission_never_votes_on_its_own_regrade(course):
    question = factories.QuestionFactory(course=course)
    own = _grade(question, "We filtered the salt out.", verdict="incorrect", score=0.0)
    regraded = _blend(question, "We filtered the salt out.", submission_id=own.submission.pk)
    assert regraded == _unsure_correct()


NOTE = "Filtering keeps the sand back, but the salt is dissolved: it passes through the paper with the water."


def test_feedback_a_teacher_wrote_is_a_note_and_feedback_a_teacher_accepted_is_not(course):
    question = factories.QuestionFactory(course=course)
    written = _grade(question, "We filtered the salt out.", verdict="incorrect", score=0.0, feedback=NOTE)
    accepted = _grade(question, "We boiled the water away.", verdict="correct", score=1.0, source="model",
                      feedback="Correct. You explained the key idea well.")
    factories.GradeFactory(submission=accepted.submission, verdict="correct", score=1.0, source="teacher",
                           feedback=accepted.feedback)
    notes = {e.answer_id: e.note for e in grading_memory.teacher_graded_examples(question_id=question.pk)}
    assert notes == {str(written.submission.pk): NOTE, str(accepted.submission.pk): ""}


def test_an_almost_identical_answer_with_the_same_verdict_gets_the_teachers_note(course):
    question = factories.QuestionFactory(course=course)
    _grade(question, "We filtered the salt out with filter paper.", verdict="incorrect", score=0.0, feedback=NOTE)
    _grade(question, "We filtered the salt out using filter paper.", verdict="incorrect", score=0.0)

    remembered = grading_memory.remember(
        prediction=_unsure_correct(), question_id=question.pk, question=question.prompt,
        submission_id=0, answer="We filtered out the salt with filter paper.",
    )
    assert remembered.prediction.verdict == "incorrect"
    assert remembered.teacher_note == NOTE
    different = grading_memory.remember(
        prediction=_unsure_correct(), question_id=question.pk, question=question.prompt,
        submission_id=0, answer="The water was boiled off in a pan until only the salt was left.",
    )
    assert different.teacher_note == ""
