"""A small world of two courses and the six roles the API distinguishes."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

ROLES = ("anonymous", "student", "other_student", "teacher", "other_teacher", "admin")
PASSWORD = "pass-1234"  # tests.factories.UserFactory's


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()  # the token endpoint's throttle counts live in the cache
    yield
    cache.clear()


def _course_content(course, prefix):
    unit = factories.UnitFactory(course=course, order=1, title=f"{prefix} unit")
    skill = factories.SkillFactory(course=course, unit=unit, slug=f"{prefix}-evaporation")
    dependent = factories.SkillFactory(course=course, unit=unit, slug=f"{prefix}-mixtures")
    dependent.prerequisites.add(skill)
    question = factories.QuestionFactory(course=course, unit=unit, external_id=f"{prefix}-EM_45b")
    question.skills.add(skill)
    factories.RubricCriterionFactory(question=question)
    resource = factories.ResourceFactory(course=course, unit=unit)
    resource.skills.add(skill)
    return unit, skill, dependent, question, resource


@pytest.fixture
def world(db):
    """Course A (the target of every request) and course B, each with content, people and work."""
    course, other_course = factories.CourseFactory(slug="course-a"), factories.CourseFactory(slug="course-b")
    users = {
        "student": factories.UserFactory(username="student-a"),
        "other_student": factories.UserFactory(username="student-b"),
        "teacher": factories.UserFactory(username="teacher-a"),
        "other_teacher": factories.UserFactory(username="teacher-b"),
        "admin": factories.AdminFactory(username="admin"),
    }
    enrollment = factories.EnrollmentFactory(user=users["student"], course=course, role="student")
    factories.EnrollmentFactory(user=users["teacher"], course=course, role="teacher")
    factories.EnrollmentFactory(user=users["other_student"], course=other_course, role="student")
    factories.EnrollmentFactory(user=users["other_teacher"], course=other_course, role="teacher")

    unit, skill, dependent, question, resource = _course_content(course, "a")
    _, _, _, other_question, _ = _course_content(other_course, "b")
    submission = factories.SubmissionFactory(student=users["student"], question=question, status="graded")
    grade = factories.GradeFactory(submission=submission)
    other_submission = factories.SubmissionFactory(student=users["other_student"], question=other_question, status="graded")
    other_grade = factories.GradeFactory(submission=other_submission, score=0.0, verdict="incorrect")

    return SimpleNamespace(
        course=course,
        other_course=other_course,
        users=users,
        unit=unit,
        skill=skill,
        dependent_skill=dependent,
        question=question,
        other_question=other_question,
        resource=resource,
        enrollment=enrollment,
        submission=submission,
        grade=grade,
        other_submission=other_submission,
        other_grade=other_grade,
        newcomer=factories.UserFactory(username="newcomer"),
    )


@pytest.fixture
def client_for(world):
    """``client_for(role)``: an API client authenticated with the role's token (none for anonymous)."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            token, _ = Token.objects.get_or_create(user=world.users[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture(autouse=True)
def _retraining_needs_no_teacher_grades(settings):
    """The API's rules are under test here, not how many teacher grades a retraining needs."""
    settings.GRADER_RETRAINING = {**getattr(settings, "GRADER_RETRAINING", {}), "min_train": 0, "min_holdout": 0}
