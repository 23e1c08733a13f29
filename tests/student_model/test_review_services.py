"""Teacher review: release policy, accept, override, answer groups, release, and the audit trail."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from student_model import review_services, selectors
from student_model.models import Grade, GradeEvent, ReleasePolicy, Submission
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(course):
    return factories.QuestionFactory(course=course, max_points=2.0)


def model_graded(question, student=None, confidence=0.9, verdict="correct", score=2.0):
    submission = factories.SubmissionFactory(question=question, student=student or factories.UserFactory())
    review_services.record_model_grade(
        submission=submission, score=score, verdict=verdict, confidence=confidence,
        feedback="The model's feedback.", model_version="test-grader",
    )
    submission.refresh_from_db()
    return submission


def test_without_a_policy_the_default_threshold_decides(question):
    default = ReleasePolicy._meta.get_field("confidence_threshold").default
    assert model_graded(question, confidence=default).status == Submission.Status.GRADED  # at the threshold
    assert model_graded(question, confidence=default - 0.01).status == Submission.Status.NEEDS_REVIEW


def test_the_course_policy_releases_confident_grades_and_holds_the_rest(question, course):
    ReleasePolicy.objects.create(course=course, confidence_threshold=0.95)
    released = model_graded(question, confidence=0.96)
    held = model_graded(question, confidence=0.94)
    assert released.status == Submission.Status.GRADED
    assert held.status == Submission.Status.NEEDS_REVIEW
    event = released.events.get()
    assert event.action == GradeEvent.Action.AUTO_RELEASED and event.actor is None
    assert event.after["status"] == "graded" and event.after["threshold"] == 0.95
    assert held.events.get().action == GradeEvent.Action.HELD_FOR_REVIEW


def test_with_auto_release_off_every_model_grade_waits(question, course):
    ReleasePolicy.objects.create(course=course, auto_release=False, confidence_threshold=0.0)
    assert model_graded(question, confidence=1.0).status == Submission.Status.NEEDS_REVIEW


def test_a_held_grade_is_hidden_from_the_student_until_accepted(question, teacher):
    student = factories.UserFactory()
    submission = model_graded(question, student=student, confidence=0.1)
    assert not selectors.grade_list(user=student).exists()

    review_services.accept_grade(actor=teacher, submission=submission)

    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED
    current = selectors.latest_grade(submission=submission)
    assert current.source == Grade.Source.TEACHER and current.graded_by == teacher
    assert (current.score, current.verdict, current.feedback) == (2.0, "correct", "The model's feedback.")
    assert current in selectors.grade_list(user=student)
    event = submission.events.last()
    assert event.action == GradeEvent.Action.ACCEPTED and event.actor == teacher
    assert event.before["source"] == "model" and event.before["status"] == "needs_review"
    assert event.after["source"] == "teacher" and event.after["status"] == "graded"


def test_accepting_a_grade_a_second_time_records_nothing_more(question, teacher):
    # Exploratory QA: three clicks on Accept stored three teacher grades and three history entries.
    submission = model_graded(question, confidence=0.1)
    first = review_services.accept_grade(actor=teacher, submission=submission)
    again = review_services.accept_grade(actor=teacher, submission=submission)
    assert again == first
    assert submission.grades.filter(source=Grade.Source.TEACHER).count() == 1
    assert submission.events.filter(action=GradeEvent.Action.ACCEPTED).count() == 1
    # An override is a teacher's grade too: accepting it afterwards keeps it.
    overridden = review_services.override_grade(actor=teacher, submission=submission, score=1.0, verdict="incorrect")
    assert review_services.accept_grade(actor=teacher, submission=submission) == overridden


def test_override_records_from_what_to_what(question, teacher, django_capture_on_commit_callbacks, monkeypatch):
    notified = []
    monkeypatch.setattr(review_services, "notify_submission_changed", notified.append)
    monkeypatch.setattr("student_model.services.notify_submission_changed", notified.append)
    submission = model_graded(question, confidence=0.99)

    with django_capture_on_commit_callbacks(execute=True):
        grade = review_services.override_grade(
            actor=teacher, submission=submission, score=0.5, verdict="partially_correct",
            feedback="  You name evaporation but not what is left behind. ",
        )

    assert grade.feedback == "You name evaporation but not what is left behind."
    assert selectors.latest_grade(submission=submission) == grade
    event = submission.events.last()
    assert event.action == GradeEvent.Action.OVERRIDDEN and event.actor == teacher
    assert (event.before["score"], event.before["verdict"]) == (2.0, "correct")
    assert (event.after["score"], event.after["verdict"]) == (0.5, "partially_correct")
    assert event.after["feedback"] == grade.feedback
    assert [s.pk for s in notified] == [submission.pk]  # the student's open page is told


@pytest.mark.parametrize("score, verdict, field", [(2.5, "correct", "score"), (-1, "incorrect", "score"),
                                                    (1.0, "brilliant", "verdict")])
def test_override_is_validated(question, teacher, score, verdict, field):
    submission = model_graded(question)
    with pytest.raises(ValidationError) as info:
        review_services.override_grade(actor=teacher, submission=submission, score=score, verdict=verdict)
    assert field in info.value.message_dict
    assert submission.grades.count() == 1 and submission.events.count() == 1


def test_a_teacher_of_another_course_cannot_touch_the_grades(question):
    other_teacher = factories.UserFactory()
    factories.EnrollmentFactory(user=other_teacher, role="teacher")  # teaches another course
    student = factories.UserFactory()
    factories.EnrollmentFactory(user=student, course=question.course, role="student")
    submission = model_graded(question, student=student, confidence=0.1)
    for actor in (other_teacher, student):
        with pytest.raises(PermissionDenied):
            review_services.override_grade(actor=actor, submission=submission, score=0, verdict="incorrect")
        with pytest.raises(PermissionDenied):
            review_services.accept_grade(actor=actor, submission=submission)
        with pytest.raises(PermissionDenied):
            review_services.release_submission(actor=actor, submission=submission)
    assert submission.grades.count() == 1
    submission.refresh_from_db()
    assert submission.status == Submission.Status.NEEDS_REVIEW


def test_grading_a_group_accepts_agreeing_answers_and_overrides_the_others(question, teacher):
    agreeing = model_graded(question, verdict="incorrect", score=0.0)
    differing = model_graded(question, verdict="correct", score=2.0, confidence=0.3)
    grades = review_services.grade_answer_group(
        actor=teacher, submissions=[agreeing, differing], score=0.0, verdict="incorrect", feedback="Salt stays.",
    )
    assert [g.verdict for g in grades] == ["incorrect", "incorrect"]
    assert agreeing.events.last().action == GradeEvent.Action.ACCEPTED
    assert differing.events.last().action == GradeEvent.Action.OVERRIDDEN
    differing.refresh_from_db()
    assert differing.status == Submission.Status.GRADED


def test_an_answer_named_twice_in_a_group_is_graded_once(question, teacher):
    submission = model_graded(question, verdict="correct", score=2.0)
    other = model_graded(question, verdict="correct", score=2.0)
    same_row = Submission.objects.get(pk=submission.pk)  # as a serializer gives it: another instance
    grades = review_services.grade_answer_group(
        actor=teacher, submissions=[submission, other, same_row], score=1.0, verdict="partially_correct"
    )
    assert [g.submission_id for g in grades] == [submission.pk, other.pk]
    assert submission.grades.filter(source=Grade.Source.TEACHER).count() == 1
    assert submission.events.filter(action=GradeEvent.Action.OVERRIDDEN).count() == 1


def test_a_group_spans_one_question(question, teacher, course):
    other = factories.QuestionFactory(course=course)
    with pytest.raises(ValidationError):
        review_services.grade_answer_group(
            actor=teacher, submissions=[model_graded(question), model_graded(other)], score=0, verdict="incorrect"
        )


def test_release_keeps_the_grade_and_logs_it(question, teacher):
    submission = model_graded(question, confidence=0.2)
    review_services.release_submission(actor=teacher, submission=submission)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED and submission.grades.count() == 1
    assert submission.events.last().action == GradeEvent.Action.RELEASED
    with pytest.raises(ValidationError):  # already released
        review_services.release_submission(actor=teacher, submission=submission)


def test_the_queue_lists_unreviewed_model_grades_least_confident_first(question, teacher, course):
    sure, unsure, middle = (model_graded(question, confidence=c) for c in (0.95, 0.2, 0.6))
    reviewed = model_graded(question, confidence=0.1)
    review_services.accept_grade(actor=teacher, submission=reviewed)
    factories.GradeFactory(submission=factories.SubmissionFactory(question=question, status="graded"))  # teacher-graded

    assert list(selectors.review_queue(user=teacher)) == [unsure, middle, sure]
    outsider = factories.UserFactory()
    factories.EnrollmentFactory(user=outsider, role="teacher")
    assert not selectors.review_queue(user=outsider).exists()


def test_saving_the_policy_records_who(course, teacher, student):
    policy = review_services.release_policy_update(
        actor=teacher, course=course, auto_release=True, confidence_threshold=0.85
    )
    assert policy.updated_by == teacher and selectors.release_policy_for(course=course).confidence_threshold == 0.85
    with pytest.raises(ValidationError):
        review_services.release_policy_update(actor=teacher, course=course, auto_release=True, confidence_threshold=1.5)
    with pytest.raises(PermissionDenied):
        review_services.release_policy_update(actor=student, course=course, auto_release=False, confidence_threshold=0.5)
