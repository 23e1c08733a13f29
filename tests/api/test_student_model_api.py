"""Submissions and grades through the API: who sees whose work, and how answers are taken in."""

import pytest
from django.conf import settings
from django.urls import reverse

from student_model.models import Submission
from tests import factories

pytestmark = pytest.mark.django_db

SUBMISSIONS = reverse("api-submission-list")
GRADES = reverse("api-grade-list")


def ids(response):
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


# --- submitting -------------------------------------------------------------------------------


def test_student_submits_and_the_answer_is_stored_as_received(world, client_for):
    answer = "  The water evaporated and the salt was left in the dish.  "
    response = client_for("student").post(SUBMISSIONS, {"question": world.question.pk, "answer": answer}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["status"] == "received"
    stored = Submission.objects.get(pk=response.data["id"])
    assert stored.student == world.users["student"]
    assert stored.question == world.question
    assert stored.answer == answer.strip()
    assert stored.status == Submission.Status.RECEIVED


def test_the_same_answer_resent_at_once_answers_200_with_the_stored_submission(world, client_for):
    student = client_for("student")
    payload = {"question": world.question.pk, "answer": "Evaporation."}
    first = student.post(SUBMISSIONS, payload, format="json")
    again = student.post(SUBMISSIONS, payload, format="json")
    other = student.post(SUBMISSIONS, payload | {"answer": "The water boiled away."}, format="json")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.data["id"] == first.data["id"] != other.data["id"]
    assert Submission.objects.filter(student=world.users["student"], status="received").count() == 2


def test_submission_is_queued_for_grading_only_after_commit(world, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for("student").post(
            SUBMISSIONS, {"question": world.question.pk, "answer": "Evaporation."}, format="json"
        )
    assert response.status_code == 201
    assert len(callbacks) == 1  # grading waits for the commit, so the stored answer can never be lost
    assert Submission.objects.get(pk=response.data["id"]).status == Submission.Status.RECEIVED


@pytest.mark.parametrize("answer", ["", "   \n  "])
def test_empty_answer_is_a_400_with_the_services_message(world, client_for, answer):
    before = Submission.objects.count()
    response = client_for("student").post(SUBMISSIONS, {"question": world.question.pk, "answer": answer}, format="json")
    assert response.status_code == 400
    assert response.data["answer"] == ["The answer is empty: write your answer before submitting."]
    assert Submission.objects.count() == before


def test_too_long_answer_is_a_400_saying_the_limit(world, client_for):
    answer = "salt " * (settings.MAX_ANSWER_CHARS // 5 + 1)
    response = client_for("student").post(SUBMISSIONS, {"question": world.question.pk, "answer": answer}, format="json")
    assert response.status_code == 400
    message = str(response.data["answer"][0])
    assert f"the limit is {settings.MAX_ANSWER_CHARS:,}" in message


def test_missing_fields_are_a_400(world, client_for):
    response = client_for("student").post(SUBMISSIONS, {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"question", "answer"}


def test_student_cannot_submit_to_another_course(world, client_for):
    response = client_for("student").post(
        SUBMISSIONS, {"question": world.other_question.pk, "answer": "Evaporation."}, format="json"
    )
    assert response.status_code == 400
    assert "question" in response.data
    assert not Submission.objects.filter(student=world.users["student"], question=world.other_question).exists()


def test_admin_outside_the_course_cannot_submit(world, client_for):
    response = client_for("admin").post(SUBMISSIONS, {"question": world.question.pk, "answer": "x"}, format="json")
    assert response.status_code == 403
    assert "not enrolled" in str(response.data["detail"])


# --- who sees what ----------------------------------------------------------------------------


@pytest.fixture
def classmate_work(world):
    classmate = factories.UserFactory(username="classmate")
    factories.EnrollmentFactory(user=classmate, course=world.course)
    submission = factories.SubmissionFactory(student=classmate, question=world.question, status="graded")
    grade = factories.GradeFactory(submission=submission, score=0.5, verdict="partially_correct")
    return submission, grade


def test_student_sees_only_their_own_submissions_and_grades(world, client_for, classmate_work):
    submission, grade = classmate_work
    client = client_for("student")
    assert ids(client.get(SUBMISSIONS)) == {world.submission.pk}
    assert ids(client.get(GRADES)) == {world.grade.pk}
    assert client.get(reverse("api-submission-detail", kwargs={"pk": submission.pk})).status_code == 404
    assert client.get(reverse("api-grade-detail", kwargs={"pk": grade.pk})).status_code == 404


def test_student_does_not_see_a_grade_waiting_for_review_but_the_teacher_does(world, client_for):
    waiting = factories.SubmissionFactory(student=world.users["student"], question=world.question, status="needs_review")
    grade = factories.GradeFactory(submission=waiting, source="model", model_version="v1", confidence=0.4)
    assert grade.pk not in ids(client_for("student").get(GRADES))
    assert grade.pk in ids(client_for("teacher").get(GRADES))


def test_accepting_twice_answers_200_with_the_same_grade(world, client_for):
    waiting = factories.SubmissionFactory(student=world.users["student"], question=world.question, status="needs_review")
    factories.GradeFactory(submission=waiting, source="model", model_version="v1", confidence=0.4)
    url = reverse("api-review-accept", kwargs={"pk": waiting.pk})
    first = client_for("teacher").post(url)
    again = client_for("teacher").post(url)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["id"] == first.data["id"] and waiting.grades.count() == 2
    assert first.data["is_current"] is True and again.data["is_current"] is True  # as the grades list says


def test_teacher_sees_their_courses_submissions_only(world, client_for, classmate_work):
    submission, grade = classmate_work
    client = client_for("teacher")
    assert ids(client.get(SUBMISSIONS)) == {world.submission.pk, submission.pk}
    assert ids(client.get(GRADES)) == {world.grade.pk, grade.pk}
    assert client.get(reverse("api-submission-detail", kwargs={"pk": world.other_submission.pk})).status_code == 404


def test_admin_sees_every_submission(world, client_for):
    assert ids(client_for("admin").get(SUBMISSIONS)) == {world.submission.pk, world.other_submission.pk}


def test_submission_and_grade_shapes(world, client_for):
    submission = client_for("student").get(reverse("api-submission-detail", kwargs={"pk": world.submission.pk})).data
    assert submission["course"] == "course-a"
    assert submission["student_username"] == "student-a"
    grade = client_for("student").get(reverse("api-grade-detail", kwargs={"pk": world.grade.pk})).data
    assert set(grade) == {
        "id", "submission", "score", "verdict", "confidence", "feedback", "source", "model_version", "created_at",
        "is_current",
    }
    assert (grade["submission"], grade["verdict"], grade["source"]) == (world.submission.pk, "correct", "teacher")
    assert grade["is_current"] is True


def test_a_teacher_sees_which_grading_is_current_and_scores_without_float_noise(world, client_for):
    # Exploratory QA: teachers got every grading with nothing marking the current one, and scores like
    # 6.8999999999999995 after a change of points.
    newer = factories.GradeFactory(submission=world.submission, score=0.1 + 0.2, verdict="partially_correct")
    rows = {g["id"]: g for g in client_for("teacher").get(GRADES, {"submission": world.submission.pk}).data["results"]}
    assert (rows[world.grade.pk]["is_current"], rows[newer.pk]["is_current"]) == (False, True)
    assert rows[newer.pk]["score"] == 0.3


# --- filters ----------------------------------------------------------------------------------


def test_submission_filters(world, client_for, classmate_work):
    classmate_submission, _ = classmate_work
    client = client_for("admin")
    assert ids(client.get(SUBMISSIONS, {"course": "course-b"})) == {world.other_submission.pk}
    assert ids(client.get(SUBMISSIONS, {"question": world.question.pk})) == {
        world.submission.pk, classmate_submission.pk
    }
    received = factories.SubmissionFactory(student=world.users["student"], question=world.question)
    assert ids(client.get(SUBMISSIONS, {"status": "received"})) == {received.pk}
    assert received.pk not in ids(client.get(SUBMISSIONS, {"status": "graded"}))
    assert ids(client.get(SUBMISSIONS, {"student": world.users["student"].pk})) == {world.submission.pk, received.pk}
    assert client.get(SUBMISSIONS, {"status": "lost"}).status_code == 400


def test_grade_filters(world, client_for, classmate_work):
    _, classmate_grade = classmate_work
    model_grade = factories.GradeFactory(
        submission=world.submission, source="model", model_version="grader-v1", verdict="incorrect", score=0.0
    )
    client = client_for("teacher")
    assert ids(client.get(GRADES, {"submission": world.submission.pk})) == {world.grade.pk, model_grade.pk}
    assert ids(client.get(GRADES, {"verdict": "partially_correct"})) == {classmate_grade.pk}
    assert ids(client.get(GRADES, {"source": "model"})) == {model_grade.pk}
    # a submission outside the teacher's courses matches nothing rather than leaking
    assert ids(client.get(GRADES, {"submission": world.other_submission.pk})) == set()


def test_grades_are_read_only(world, client_for):
    url = reverse("api-grade-detail", kwargs={"pk": world.grade.pk})
    assert client_for("admin").patch(url, {"score": 0}, format="json").status_code == 405
    assert client_for("admin").post(GRADES, {}, format="json").status_code == 405


# --- teacher review ---------------------------------------------------------------------------

REVIEW = reverse("api-review-list")


def _model_graded(world, confidence, verdict="correct", score=1.0):
    from student_model import review_services

    submission = factories.SubmissionFactory(student=world.users["student"], question=world.question)
    review_services.record_model_grade(submission=submission, score=score, verdict=verdict, confidence=confidence,
                                       feedback="Model says so.", model_version="test-grader")
    return submission


def test_review_queue_lists_model_grades_least_confident_first_and_filters(world, client_for):
    sure, unsure = _model_graded(world, 0.9), _model_graded(world, 0.2, verdict="incorrect", score=0.0)
    response = client_for("teacher").get(REVIEW)
    assert [row["id"] for row in response.data["results"]] == [unsure.pk, sure.pk]
    row = response.data["results"][0]
    assert row["grade"]["confidence"] == 0.2 and row["grade"]["source"] == "model"
    assert row["reference_answers"] == list(world.question.reference_answers.values_list("text", flat=True))
    assert ids(client_for("teacher").get(REVIEW, {"verdict": "correct"})) == {sure.pk}
    assert ids(client_for("teacher").get(REVIEW, {"confidence_max": 0.5, "course": "course-a"})) == {unsure.pk}
    assert ids(client_for("other_teacher").get(REVIEW)) == set()


def test_override_through_the_api_releases_the_teachers_grade(world, client_for):
    submission = _model_graded(world, 0.2)
    url = reverse("api-review-override", kwargs={"pk": submission.pk})
    refused = client_for("teacher").post(url, {"score": 5, "verdict": "correct"}, format="json")
    assert refused.status_code == 400 and "score" in refused.data
    response = client_for("teacher").post(url, {"score": 0.5, "verdict": "partially_correct", "feedback": "Half."},
                                          format="json")
    assert response.status_code == 201 and response.data["source"] == "teacher"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED
    # The student sees the released grade through the grades API, not the model's replaced one.
    student_grades = client_for("student").get(GRADES, {"submission": submission.pk}).data["results"]
    assert [g["feedback"] for g in student_grades] == ["Half."]
    teacher_grades = client_for("teacher").get(GRADES, {"submission": submission.pk}).data["results"]
    assert [g["feedback"] for g in teacher_grades] == ["Half.", "Model says so."]
    assert submission.pk not in ids(client_for("teacher").get(REVIEW))


def test_bulk_grade_and_release_policy_through_the_api(world, client_for):
    first, second = _model_graded(world, 0.3), _model_graded(world, 0.4)
    response = client_for("teacher").post(reverse("api-review-bulk-grade"), {
        "submissions": [first.pk, second.pk], "score": 0.0, "verdict": "incorrect", "feedback": "Not quite."},
        format="json")
    assert response.status_code == 201 and len(response.data) == 2
    assert [g["is_current"] for g in response.data] == [True, True]

    created = client_for("teacher").post(reverse("api-release-policy-list"),
                                         {"course": "course-a", "confidence_threshold": 0.8}, format="json")
    assert created.status_code == 201 and created.data["updated_by"] == "teacher-a"
    changed = client_for("teacher").patch(reverse("api-release-policy-detail", kwargs={"pk": created.data["id"]}),
                                          {"auto_release": False}, format="json")
    assert changed.data["auto_release"] is False and changed.data["confidence_threshold"] == 0.8


def test_release_through_the_api_shows_the_held_grade_to_the_student_as_it_is(world, client_for):
    held = _model_graded(world, 0.3)
    url = reverse("api-review-release", kwargs={"pk": held.pk})
    assert client_for("student").post(url).status_code in (403, 404)
    assert client_for("other_teacher").post(url).status_code == 404
    assert client_for("student").get(GRADES, {"submission": held.pk}).data["results"] == []

    response = client_for("teacher").post(url)
    assert response.status_code == 200 and response.data["status"] == "graded"
    assert response.data["grade"]["source"] == "model" and response.data["grade"]["feedback"] == "Model says so."
    assert [g["feedback"] for g in client_for("student").get(GRADES, {"submission": held.pk}).data["results"]] == [
        "Model says so."
    ]
    again = client_for("teacher").post(url)
    assert again.status_code == 400 and "waiting for review" in str(again.data)


def test_answer_groups_through_the_api_put_similar_answers_together(world, client_for):
    from student_model import review_services

    answers = ["The water evaporated and left the salt.", "Water evaporates, the salt stays behind.",
               "I used a magnet to pull the salt out.", "The water evaporated, leaving salt."]
    made = []
    for answer in answers:
        submission = factories.SubmissionFactory(student=world.users["student"], question=world.question, answer=answer)
        review_services.record_model_grade(submission=submission, score=1.0, verdict="correct", confidence=0.3,
                                           feedback="", model_version="test-grader")
        made.append(submission.pk)
    url = reverse("api-review-answer-groups")
    response = client_for("teacher").get(url, {"question": world.question.pk})
    assert response.status_code == 200
    groups = {frozenset(g["submissions"]) for g in response.data}
    assert set().union(*groups) >= set(made)
    magnet = next(g for g in response.data if made[2] in g["submissions"])
    assert made[0] not in magnet["submissions"]  # evaporation answers are not grouped with the magnet
    assert any({made[0], made[3]} <= set(g["submissions"]) for g in response.data)
    assert response.data[0]["verdicts"][0]["verdict"] == "correct"

    assert client_for("teacher").get(url).status_code == 400
    assert client_for("student").get(url, {"question": world.question.pk}).status_code == 403
    assert client_for("other_teacher").get(url, {"question": world.question.pk}).status_code == 404
