"""The grader registry's API: promoting a version (admins) and rolling a course back (its teachers)."""

import pytest
from rest_framework.test import APIClient

from student_model import ml_registry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _models_in_tmp(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_only_admins_promote_a_version(grader, teacher, admin_user):
    serving = ml_registry.register_version(version="global-a", path=grader.path, activate=True)
    older = ml_registry.register_version(version="global-b", path=grader.path)
    url = f"/api/v1/grader-versions/{older.pk}/promote/"
    assert _client(teacher).post(url).status_code == 403
    assert ml_registry.active_version() == serving
    response = _client(admin_user).post(url)
    assert response.status_code == 200 and response.json()["version"] == "global-b"
    assert response.json()["is_active"] is True and ml_registry.active_version() == older


def test_a_teacher_rolls_their_course_back_then_is_told_there_is_nothing_left(grader, course, teacher, student):
    global_grader = ml_registry.register_version(version="global-a", path=grader.path, activate=True)
    ml_registry.register_version(version="course-v1", path=grader.path, course=course, base=global_grader, activate=True)
    url = "/api/v1/grader-versions/rollback/"
    assert _client(student).post(url, {"course": course.slug}, format="json").status_code == 403
    other = factories.CourseFactory()
    assert _client(teacher).post(url, {"course": other.slug}, format="json").status_code == 400  # not visible

    response = _client(teacher).post(url, {"course": course.slug}, format="json")
    assert response.status_code == 200
    assert response.json()["course"] == course.slug and response.json()["serving"]["version"] == "global-a"
    assert ml_registry.active_version(course_id=course.pk) == global_grader

    again = _client(teacher).post(url, {"course": course.slug}, format="json")
    assert again.status_code == 400 and "nothing to roll back" in str(again.json())
