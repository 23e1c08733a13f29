"""Behaviour of the domain API beyond the permission matrix."""

import pytest
from django.urls import reverse

from domain.models import Enrollment, Question
from tests import factories

pytestmark = pytest.mark.django_db

QUESTIONS = reverse("api-question-list")


def question_url(question):
    return reverse("api-question-detail", kwargs={"pk": question.pk})


def results(response):
    assert response.status_code == 200, response.data
    return response.data["results"]


# --- reference answers and rubric: managers only ------------------------------------------------


@pytest.mark.parametrize("role", ["student", "other_student"])
def test_students_never_get_reference_answers_or_rubric(world, client_for, role):
    client = client_for(role)
    listed = results(client.get(QUESTIONS))
    assert listed, "the student should see their course's questions"
    for question in listed:
        assert "reference_answers" not in question and "rubric" not in question
    mine = world.question if role == "student" else world.other_question
    detail = client.get(question_url(mine)).data
    assert detail["prompt"] == mine.prompt
    assert "reference_answers" not in detail and "rubric" not in detail


def test_teacher_gets_reference_answers_and_rubric_of_their_course(world, client_for):
    detail = client_for("teacher").get(question_url(world.question)).data
    assert detail["reference_answers"] == ["The water was evaporated, leaving the salt."]
    assert detail["rubric"] == [{"description": "Names evaporation", "points": 1.0}]
    assert detail["skills"] == [world.skill.slug]


def test_teacher_who_is_a_student_elsewhere_gets_answers_only_where_they_teach(world, client_for):
    factories.EnrollmentFactory(user=world.users["teacher"], course=world.other_course, role="student")
    listed = {q["id"]: q for q in results(client_for("teacher").get(QUESTIONS))}
    assert "reference_answers" in listed[world.question.pk]
    assert "reference_answers" not in listed[world.other_question.pk]
    detail = client_for("teacher").get(question_url(world.other_question)).data
    assert "reference_answers" not in detail and "rubric" not in detail


def test_admin_gets_reference_answers_everywhere(world, client_for):
    for question in results(client_for("admin").get(QUESTIONS)):
        assert question["reference_answers"] and question["rubric"]


# --- visibility and filters -------------------------------------------------------------------


def test_lists_hold_only_the_users_courses(world, client_for):
    client = client_for("other_student")
    assert [c["slug"] for c in results(client.get(reverse("api-course-list")))] == ["course-b"]
    assert {q["course"] for q in results(client.get(QUESTIONS))} == {"course-b"}
    assert {r["course"] for r in results(client.get(reverse("api-resource-list")))} == {"course-b"}
    assert {e["username"] for e in results(client.get(reverse("api-enrollment-list")))} == {"student-b"}


def test_teacher_sees_every_enrollment_of_their_course_only(world, client_for):
    listed = results(client_for("teacher").get(reverse("api-enrollment-list")))
    enrolled = {(e["username"], e["course"]) for e in listed}
    assert enrolled == {("student-a", "course-a"), ("teacher-a", "course-a")}


def test_course_is_looked_up_by_slug(world, client_for):
    response = client_for("student").get(reverse("api-course-detail", kwargs={"slug": "course-a"}))
    assert response.status_code == 200
    assert response.data["title"] == world.course.title


def test_question_filters(world, client_for):
    extra = factories.QuestionFactory(course=world.course, external_id="a-extra", prompt="What is a solution?")
    client = client_for("admin")
    by_course = {q["id"] for q in results(client.get(QUESTIONS, {"course": "course-a"}))}
    assert by_course == {world.question.pk, extra.pk}
    assert [q["id"] for q in results(client.get(QUESTIONS, {"unit": world.unit.pk}))] == [world.question.pk]
    assert [q["id"] for q in results(client.get(QUESTIONS, {"skill": world.skill.slug}))] == [world.question.pk]
    assert [q["id"] for q in results(client.get(QUESTIONS, {"search": "solution"}))] == [extra.pk]


def test_resource_and_skill_filters(world, client_for):
    video = factories.ResourceFactory(course=world.course, kind="video", url="https://example.org/v", body="")
    client = client_for("teacher")
    assert [r["id"] for r in results(client.get(reverse("api-resource-list"), {"kind": "video"}))] == [video.pk]
    resources = results(client.get(reverse("api-resource-list"), {"course": "course-a", "unit": world.unit.pk}))
    assert [r["id"] for r in resources] == [world.resource.pk]
    skills = results(client.get(reverse("api-skill-list"), {"prerequisite": world.skill.slug}))
    assert [(s["slug"], s["prerequisites"], s["prerequisite_ids"]) for s in skills] == [
        (world.dependent_skill.slug, [world.skill.slug], [world.skill.pk])
    ]


def test_filtering_by_an_invisible_course_returns_nothing(world, client_for):
    assert results(client_for("student").get(QUESTIONS, {"course": "course-b"})) == []


# --- writes go through the services ---------------------------------------------------------------


def test_teacher_creates_a_question_with_answers_rubric_and_skills(world, client_for):
    payload = {
        "course": "course-a",
        "prompt": "Why does the salt stay behind?",
        "reference_answers": ["Salt does not evaporate.", "Only the water turns into vapour."],
        "rubric": [{"description": "Says salt does not evaporate", "points": 1.5}],
        "max_points": 1.5,
        "skills": [world.skill.slug],
        "unit": world.unit.pk,
    }
    response = client_for("teacher").post(QUESTIONS, payload, format="json")
    assert response.status_code == 201, response.data
    question = Question.objects.get(pk=response.data["id"])
    assert [a.text for a in question.reference_answers.all()] == payload["reference_answers"]
    assert response.data["reference_answers"] == payload["reference_answers"]
    assert response.data["rubric"] == payload["rubric"]
    assert response.data["skills"] == [world.skill.slug]


def test_question_without_reference_answer_is_a_400(world, client_for):
    payload = {"course": "course-a", "prompt": "Why?", "reference_answers": ["   "]}
    response = client_for("teacher").post(QUESTIONS, payload, format="json")
    assert response.status_code == 400
    assert "at least one non-empty reference answer" in str(response.data["reference_answers"])


def test_unknown_skill_slug_is_a_400_naming_it(world, client_for):
    payload = {"course": "course-a", "slug": "new", "name": "New", "prerequisites": ["b-evaporation"]}
    response = client_for("teacher").post(reverse("api-skill-list"), payload, format="json")
    assert response.status_code == 400
    assert "b-evaporation" in str(response.data["prerequisites"])


def test_prerequisite_cycle_is_a_400_with_the_services_message(world, client_for):
    url = reverse("api-skill-detail", kwargs={"pk": world.skill.pk})
    response = client_for("teacher").patch(url, {"prerequisites": [world.dependent_skill.slug]}, format="json")
    assert response.status_code == 400
    assert "cycle" in str(response.data["prerequisites"])


def test_unit_of_another_course_is_refused(world, client_for):
    other_unit = world.other_question.unit
    url = question_url(world.question)
    response = client_for("admin").patch(url, {"unit": other_unit.pk}, format="json")
    assert response.status_code == 400
    assert "belongs to another course" in str(response.data["unit"])
    world.question.refresh_from_db()
    assert world.question.unit_id == world.unit.pk


def test_course_field_cannot_move_content_on_update(world, client_for):
    url = reverse("api-unit-detail", kwargs={"pk": world.unit.pk})
    response = client_for("admin").patch(url, {"course": "course-b", "title": "Moved"}, format="json")
    assert response.status_code == 200  # "course" is not an update field: ignored
    world.unit.refresh_from_db()
    assert (world.unit.course_id, world.unit.title) == (world.course.pk, "Moved")


def test_teacher_enrolls_only_students(world, client_for):
    url = reverse("api-enrollment-list")
    client = client_for("teacher")
    as_teacher = client.post(url, {"user": "newcomer", "course": "course-a", "role": "teacher"}, format="json")
    assert as_teacher.status_code == 403
    as_student = client.post(url, {"user": "newcomer", "course": "course-a"}, format="json")
    assert as_student.status_code == 201
    assert as_student.data["role"] == "student"
    again = client.post(url, {"user": "newcomer", "course": "course-a"}, format="json")
    assert again.status_code == 400
    assert "already enrolled" in str(again.data["user"])


def test_teacher_cannot_remove_a_fellow_teacher_but_admin_can(world, client_for):
    colleague = factories.EnrollmentFactory(course=world.course, role=Enrollment.Role.TEACHER)
    url = reverse("api-enrollment-detail", kwargs={"pk": colleague.pk})
    assert client_for("teacher").delete(url).status_code == 403
    assert client_for("admin").delete(url).status_code == 204
    assert not Enrollment.objects.filter(pk=colleague.pk).exists()


def test_admin_creates_a_course(world, client_for):
    payload = {"slug": "intro-python", "title": "Introduction to Python Programming", "licence": "CC BY 4.0"}
    response = client_for("admin").post(reverse("api-course-list"), payload, format="json")
    assert response.status_code == 201
    assert response.data["slug"] == "intro-python"
    duplicate = client_for("admin").post(reverse("api-course-list"), payload, format="json")
    assert duplicate.status_code == 400
    assert "slug" in duplicate.data


# --- authentication and schema ----------------------------------------------------------------


def test_token_obtained_with_password_authenticates(world, client):
    response = client.post(
        reverse("api-auth-token"), {"username": "student-a", "password": "pass-1234"}, content_type="application/json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    courses = client.get(reverse("api-course-list"), HTTP_AUTHORIZATION=f"Token {token}")
    assert courses.status_code == 200
    assert [c["slug"] for c in courses.json()["results"]] == ["course-a"]


def test_wrong_password_and_bad_token_are_refused(world, client):
    bad = client.post(reverse("api-auth-token"), {"username": "student-a", "password": "nope"})
    assert bad.status_code == 400
    assert "token" not in bad.json()
    response = client.get(reverse("api-course-list"), HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_session_authentication_works(world, client):
    client.force_login(world.users["teacher"])
    response = client.get(reverse("api-course-list"))
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["course-a"]


def test_session_writes_need_the_csrf_token(world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["admin"])
    response = client.post(reverse("api-course-list"), {"slug": "x", "title": "X"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in str(response.data["detail"])


def test_schema_and_docs_are_served(db, client):
    schema = client.get(reverse("schema"))
    assert schema.status_code == 200
    body = schema.content.decode()
    assert "/api/v1/questions/" in body and "/api/v1/auth/token/" in body
    assert client.get(reverse("api-docs")).status_code == 200


def test_new_points_rescale_the_grades_and_bad_points_are_a_400(world, client_for):
    url = question_url(world.question)
    grade = factories.GradeFactory(submission=factories.SubmissionFactory(question=world.question),
                                   score=world.question.max_points / 2)
    teacher = client_for("teacher")
    for bad in (1e308, -1, 0, 1e-300):
        response = teacher.patch(url, {"max_points": bad}, format="json")
        assert response.status_code == 400 and "max_points" in response.data, (bad, response.data)
    response = teacher.patch(url, {"max_points": world.question.max_points * 3}, format="json")
    assert response.status_code == 200, response.data
    grade.refresh_from_db()
    assert grade.score == pytest.approx(world.question.max_points * 1.5)
    assert grade.submission.events.get().actor == world.users["teacher"]  # the audit trail names who


def test_deleting_an_answered_question_is_refused_and_keeps_the_answers(world, client_for):
    question = factories.QuestionFactory(course=world.course)
    submission = factories.SubmissionFactory(question=question, student=world.users["student"], status="graded")
    factories.GradeFactory(submission=submission)
    url = reverse("api-question-detail", kwargs={"pk": question.pk})

    response = client_for("teacher").delete(url)

    assert response.status_code == 400
    assert "would delete their answers and grades" in str(response.data)
    assert Question.objects.filter(pk=question.pk).exists()
    assert client_for("student").get(reverse("api-submission-detail", kwargs={"pk": submission.pk})).status_code == 200


def test_a_second_question_with_the_same_external_id_is_a_clear_400(world, client_for):
    # Exploratory QA: the API answered "Constraint “question_unique_external_id_per_course” is violated."
    payload = {"course": "course-a", "prompt": "Why?", "reference_answers": ["Because."],
               "external_id": world.question.external_id}
    response = client_for("teacher").post(QUESTIONS, payload, format="json")
    assert response.status_code == 400
    assert "Another question of this course has this external id." in str(response.data)
    assert "Constraint" not in str(response.data)
