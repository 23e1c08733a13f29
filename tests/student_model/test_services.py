from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from student_model.models import Grade, Submission
from student_model.services import record_grade, submit_answer
from tests import factories

pytestmark = pytest.mark.django_db

ANSWER = "Let the water evaporate and the salt is left behind."


@pytest.fixture
def question(course):
    return factories.QuestionFactory(course=course, external_id="EM_45b", max_points=1.0)


def test_submit_answer_stores_a_received_submission_and_queues_grading_after_commit(
    student, question, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = submit_answer(student=student, question=question, answer=f"  {ANSWER}\n")
    stored = Submission.objects.get(pk=submission.pk)
    assert stored.status == Submission.Status.RECEIVED
    assert stored.answer == ANSWER and stored.student == student and stored.question == question
    assert stored.submitted_at is not None
    assert len(callbacks) == 1  # grading waits for the commit


@pytest.mark.parametrize("answer", ["", "   \n\t ", "\u200b\u200b", " \ufeff\u200d\u00a0"])
def test_empty_answer_is_refused(student, question, answer):
    with pytest.raises(ValidationError) as info:
        submit_answer(student=student, question=question, answer=answer)
    assert info.value.message_dict["answer"] == ["The answer is empty: write your answer before submitting."]
    assert not Submission.objects.exists()


def test_answer_over_5000_characters_is_refused_with_the_limit(student, question):
    submit_answer(student=student, question=question, answer="a" * 5000)  # at the limit: fine
    with pytest.raises(ValidationError) as info:
        submit_answer(student=student, question=question, answer="a" * 5001)
    message = info.value.message_dict["answer"][0]
    assert "5,001 characters" in message and "the limit is 5,000" in message
    assert Submission.objects.count() == 1


def test_student_not_enrolled_in_the_course_is_refused(question):
    outsider = factories.UserFactory(username="outsider")
    factories.EnrollmentFactory(user=outsider)  # enrolled elsewhere only
    with pytest.raises(PermissionDenied, match="not enrolled"):
        submit_answer(student=outsider, question=question, answer=ANSWER)
    assert not Submission.objects.exists()


def test_the_courses_teacher_does_not_submit_answers(teacher, question):
    with pytest.raises(PermissionDenied, match="Only the course's students"):
        submit_answer(student=teacher, question=question, answer=ANSWER)
    assert not Submission.objects.exists()


def test_the_same_answer_sent_twice_at_once_is_stored_once(student, question, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = submit_answer(student=student, question=question, answer=ANSWER)
        again = submit_answer(student=student, question=question, answer=f"{ANSWER} ")
        other = submit_answer(student=student, question=question, answer="The salt stays when the water boils off.")
    assert again.pk == first.pk and other.pk != first.pk
    assert Submission.objects.count() == 2 and len(callbacks) == 2
    Submission.objects.filter(pk=first.pk).update(submitted_at=first.submitted_at - timedelta(seconds=11))
    assert submit_answer(student=student, question=question, answer=ANSWER).pk != first.pk  # a later attempt


def test_record_grade_stores_the_grade_and_moves_the_status(student, question, teacher):
    submission = factories.SubmissionFactory(student=student, question=question)
    grade = record_grade(
        submission=submission, score=1.0, verdict=Grade.Verdict.CORRECT, source=Grade.Source.TEACHER,
        feedback="Right: evaporation leaves the salt.", graded_by=teacher,
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED
    assert grade.pk and grade.graded_by == teacher


def test_record_grade_refuses_a_score_above_max_points(student, question):
    submission = factories.SubmissionFactory(student=student, question=question)
    with pytest.raises(ValidationError) as info:
        record_grade(submission=submission, score=1.5, verdict=Grade.Verdict.CORRECT, source=Grade.Source.TEACHER)
    message = info.value.message_dict["score"][0]
    assert "1.5" in message and "above" in message
    assert not Grade.objects.exists()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RECEIVED
