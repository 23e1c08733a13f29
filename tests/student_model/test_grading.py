"""Grading stored submissions with the active fine-tuned grader (a real, briefly fine-tuned MiniLM)."""

import pytest

from student_model import grading, ml_registry, services
from student_model.models import Grade, GradeEvent, ReleasePolicy, Submission
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def active_grader(grader):
    return ml_registry.register_version(version="test-grader", path=grader.path, activate=True)


@pytest.fixture
def submission():
    question = factories.QuestionFactory(
        prompt="You used several methods to separate and identify the substances in mock rocks. "
        "How did you separate the salt from the water?",
        reference="The water was evaporated, leaving the salt.",
        max_points=2.0,
    )
    return factories.SubmissionFactory(question=question, answer="By letting it sit in a dish for a day.")


def test_without_an_active_grader_the_submission_waits(submission):
    assert grading.grade_submission(submission_id=submission.pk) == "waiting: no active grader"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RECEIVED
    assert not submission.grades.exists()


def test_a_submission_gets_a_model_grade_with_confidence_and_feedback(active_grader, submission):
    ReleasePolicy.objects.create(course=submission.question.course, confidence_threshold=0.0)  # release all
    result = grading.grade_submission(submission_id=submission.pk)

    submission.refresh_from_db()
    grade = submission.grades.get()
    assert result == f"graded: {grade.verdict}"
    assert submission.status == Submission.Status.GRADED
    assert grade.source == Grade.Source.MODEL and grade.model_version == "test-grader"
    assert grade.verdict in Grade.Verdict.values
    assert 0.0 <= grade.score <= 2.0
    assert 0.0 < grade.confidence <= 1.0
    assert grade.feedback and "leaving the salt" not in grade.feedback
    assert submission.events.get().action == GradeEvent.Action.AUTO_RELEASED


def test_a_grade_below_the_course_threshold_waits_for_review(active_grader, submission):
    ReleasePolicy.objects.create(course=submission.question.course, auto_release=False)
    grading.grade_submission(submission_id=submission.pk)

    submission.refresh_from_db()
    assert submission.status == Submission.Status.NEEDS_REVIEW
    assert submission.events.get().action == GradeEvent.Action.HELD_FOR_REVIEW
    assert grading.grade_submission(submission_id=submission.pk) == "skipped: already needs_review"
    assert submission.grades.count() == 1


def test_a_course_with_its_own_grader_is_graded_by_it(active_grader, grader, submission):
    own = ml_registry.register_version(version="course-grader", path=grader.path)
    own.course = submission.question.course
    own.save(update_fields=["course"])
    ml_registry.activate_version(version="course-grader")
    grading.grade_submission(submission_id=submission.pk)
    assert submission.grades.get().model_version == "course-grader"


def test_grading_is_idempotent(active_grader, submission):
    ReleasePolicy.objects.create(course=submission.question.course, confidence_threshold=0.0)
    grading.grade_submission(submission_id=submission.pk)
    assert grading.grade_submission(submission_id=submission.pk) == "skipped: already graded"
    assert submission.grades.count() == 1


def test_a_submission_left_in_grading_by_a_dead_worker_is_graded_on_redelivery(active_grader, submission):
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.GRADING)
    assert grading.grade_submission(submission_id=submission.pk).startswith("graded: ")
    assert submission.grades.count() == 1


def test_pending_submissions_are_queued_again(submission, monkeypatch):
    graded = factories.SubmissionFactory(status=Submission.Status.GRADED)
    queued = []
    monkeypatch.setattr("student_model.tasks.grade_submission.delay", queued.append)
    assert services.queue_pending_grading() == 1
    assert queued == [submission.pk] and graded.pk not in queued


def test_a_broker_failure_keeps_the_answer(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(_):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("student_model.tasks.grade_submission.delay", broker_down)
    enrollment = factories.EnrollmentFactory()
    question = factories.QuestionFactory(course=enrollment.course)
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_answer(student=enrollment.user, question=question, answer="Evaporation.")
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RECEIVED


def test_teacher_grades_of_similar_answers_vote_on_the_model_grade(active_grader, submission):
    from student_model import grading_memory

    grading_memory.clear_cache()
    question = submission.question
    plain = factories.SubmissionFactory(question=question, answer=submission.answer)
    grading.grade_submission(submission_id=plain.pk)
    model_only = plain.grades.get()

    # A teacher marked three near-identical answers "correct" with full points.
    for answer in ("We let it sit in a dish for a day.", "By letting it sit in a dish for one day.",
                   "Letting it sit in a dish for a day."):
        factories.GradeFactory(
            submission=factories.SubmissionFactory(question=question, answer=answer),
            verdict="correct", score=2.0, source="teacher",
        )
    grading.grade_submission(submission_id=submission.pk)
    remembered = submission.grades.get()
    assert remembered.verdict == "correct"
    assert remembered.score > model_only.score or model_only.verdict == "correct"
    assert remembered.confidence > (model_only.confidence if model_only.verdict == "correct" else 0.5)
    grading_memory.clear_cache()


def test_an_almost_identical_answer_gets_the_note_its_teacher_wrote(active_grader, submission):
    from student_model import grading_memory, review_services

    grading_memory.clear_cache()
    question = submission.question
    teacher = factories.UserFactory()
    factories.EnrollmentFactory(user=teacher, course=question.course, role="teacher")
    note = "Leaving it in a dish does work: the water evaporates and the salt stays behind. Say so."
    graded = factories.SubmissionFactory(question=question, answer="By letting it sit in a dish for one day.")
    grading.grade_submission(submission_id=graded.pk)
    review_services.override_grade(actor=teacher, submission=graded, score=2.0, verdict="correct", feedback=note)
    accepted = factories.SubmissionFactory(question=question, answer="We boiled it in a pan until only salt was left.")
    grading.grade_submission(submission_id=accepted.pk)
    review_services.accept_grade(actor=teacher, submission=accepted)

    grading.grade_submission(submission_id=submission.pk)
    grade = submission.grades.get()
    assert grade.verdict == "correct"
    assert grade.feedback == f"Your teacher's note on an answer almost identical to yours: {note}"

    # The accepted grade kept the model's own text: nothing of it is passed on as a teacher's note.
    again = factories.SubmissionFactory(question=question, answer="We boiled it in a pan until just salt was left.")
    grading.grade_submission(submission_id=again.pk)
    assert "teacher's note" not in again.grades.get().feedback
    grading_memory.clear_cache()


def test_an_answer_to_a_german_question_gets_german_feedback(active_grader):
    from tests.ml.saf_texts import SAF_DE_QUESTION, SAF_DE_REFERENCE

    question = factories.QuestionFactory(prompt=SAF_DE_QUESTION, reference=SAF_DE_REFERENCE, max_points=1.0)
    submission = factories.SubmissionFactory(question=question, answer="Arbeitskleidung, Kundensprache")
    grading.grade_submission(submission_id=submission.pk)
    text = submission.grades.get().feedback
    assert text.split(".")[0] in ("Richtig", "Teilweise richtig", "Noch nicht richtig",
                                  "Deine Antwort widerspricht der erwarteten Antwort")


def test_a_failure_while_grading_puts_the_submission_back_to_wait(active_grader, submission, monkeypatch):
    from tutor.ml.grading.predictor import GraderPredictor

    def broken(self, answers):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(GraderPredictor, "grade_many", broken)
    with pytest.raises(RuntimeError):
        grading.grade_submission(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RECEIVED  # not 'grading' for ever
    assert grading.pending_submission_ids() == [submission.pk]


def test_a_model_grade_keeps_its_share_in_points_changed_while_it_was_computed():
    from student_model.grading import ModelGrade

    grade = ModelGrade(score=1.5, verdict="partially_correct", confidence=0.8, feedback="", max_points=2.0)
    assert (grade.score_in(2.0), grade.score_in(4.0), grade.score_in(1.0)) == (1.5, 3.0, 0.75)
    assert ModelGrade(score=0.0, verdict="incorrect", confidence=0.8, feedback="", max_points=0.0).score_in(3.0) == 0.0
    assert ModelGrade(score=0.0, verdict="correct", confidence=0.8, feedback="", max_points=0.0).score_in(3.0) == 3.0


def _confident(verdict: str):
    from tutor.ml.grading.config import LABELS
    from tutor.ml.grading.predictor import Prediction

    return Prediction(verdict=verdict, probabilities={k: 0.9 if k == verdict else 0.1 / 3 for k in LABELS},
                      score=1.0 if verdict == "correct" else 0.0, confidence=0.9)


def test_a_correct_verdict_for_an_answer_covering_none_of_the_reference_waits_for_a_teacher(submission):
    # Exploratory QA: "PEP is a thing used in Python programs." was graded correct at 0.87 and released, with
    # feedback that named the missing ideas. The verdict and the idea alignment disagree: a teacher decides.
    submission.answer = "It is something you do in the lab with the rocks."
    grade = grading.compose_grade(submission=submission, references=["The water was evaporated, leaving the salt."],
                                  prediction=_confident("correct"))
    assert grade.verdict == "correct" and grade.score == 2.0  # the model's, unchanged
    assert grade.confidence == grading.UNSUPPORTED_CORRECT_CONFIDENCE
    assert grade.confidence < ReleasePolicy._meta.get_field("confidence_threshold").default

    submission.answer = "We evaporated the water and the salt was left."
    grade = grading.compose_grade(submission=submission, references=["The water was evaporated, leaving the salt."],
                                  prediction=_confident("correct"))
    assert grade.confidence == 0.9
    submission.answer = "It is something you do in the lab with the rocks."
    grade = grading.compose_grade(submission=submission, references=["The water was evaporated, leaving the salt."],
                                  prediction=_confident("incorrect"))
    assert grade.confidence == 0.9  # only a "correct" is checked


@pytest.mark.parametrize("verdict", ["correct", "incorrect"])
def test_an_answer_in_a_script_the_grader_never_read_waits_for_a_teacher(submission, verdict):
    # Exploratory QA: a correct answer in Japanese was released as "incorrect" at confidence 0.75.
    submission.answer = "水が蒸発して、塩が残りました。"
    grade = grading.compose_grade(submission=submission, references=["The water was evaporated, leaving the salt."],
                                  prediction=_confident(verdict))
    assert grade.verdict == verdict and grade.confidence == grading.UNREADABLE_SCRIPT_CONFIDENCE
    submission.answer = "Das Wasser ist verdunstet, das Salz bleibt zurück."  # German is read
    grade = grading.compose_grade(submission=submission, references=["The water was evaporated, leaving the salt."],
                                  prediction=_confident(verdict))
    assert grade.confidence > grading.UNREADABLE_SCRIPT_CONFIDENCE
