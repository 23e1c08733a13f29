"""What the grader-version and training-run API returns to whom (the statuses are in the permission matrix)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from student_model import ml_registry
from student_model.models import RegradeRun, TrainingRun
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(course):
    other_course = factories.CourseFactory(slug="elsewhere")
    return {
        "global": factories.GraderVersionFactory(version="global-1", is_active=True),
        "mine": factories.GraderVersionFactory(version="mine-lora", course=course),
        "theirs": factories.GraderVersionFactory(version="theirs-lora", course=other_course),
    }


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_teacher_lists_the_global_versions_and_their_courses_not_others(teacher, student, admin_user, versions):
    names = {row["version"]: row["scope"] for row in
             _client(teacher).get(reverse("api-grader-version-list")).json()["results"]}
    assert names == {"global-1": "global", "mine-lora": "course"}
    assert _client(student).get(reverse("api-grader-version-list")).json()["results"] == []
    assert len(_client(admin_user).get(reverse("api-grader-version-list")).json()["results"]) == 3


def test_a_run_reports_progress_and_its_decision(teacher, course, versions):
    run = factories.TrainingRunFactory(course=course, status=TrainingRun.Status.RUNNING, progress=0.42,
                                       message="Training: step 21/50", started_by=teacher)
    factories.TrainingRunFactory(course=versions["theirs"].course)
    body = _client(teacher).get(reverse("api-training-run-detail", args=[run.pk])).json()
    assert body["status"] == "running" and body["progress"] == 0.42 and body["message"] == "Training: step 21/50"
    assert body["course"] == course.slug and body["started_by"] == "teach"
    listed = _client(teacher).get(reverse("api-training-run-list")).json()["results"]
    assert [row["id"] for row in listed] == [run.pk]


def test_a_running_run_estimates_its_time_left_from_its_pace(teacher, course):
    started = timezone.now() - timedelta(seconds=300)
    running = factories.TrainingRunFactory(course=course, status=TrainingRun.Status.RUNNING, progress=0.25,
                                           started_at=started)
    body = _client(teacher).get(reverse("api-training-run-detail", args=[running.pk])).json()
    assert 895 <= body["seconds_left"] <= 905  # 300 s for a quarter: 900 s for the rest
    assert body["started_at"] is not None

    queued = factories.TrainingRunFactory(course=course)
    assert _client(teacher).get(reverse("api-training-run-detail", args=[queued.pk])).json()["seconds_left"] is None


def test_a_running_regrade_estimates_its_time_left_and_an_ended_one_does_not(teacher, course):
    started = timezone.now() - timedelta(seconds=60)
    regrade = RegradeRun.objects.create(course=course, status=RegradeRun.Status.RUNNING, total=40, done=30,
                                        started_at=started)
    url = reverse("api-regrade-detail", args=[regrade.pk])
    assert 19 <= _client(teacher).get(url).json()["seconds_left"] <= 21
    RegradeRun.objects.filter(pk=regrade.pk).update(status=RegradeRun.Status.SUCCEEDED, done=40)
    assert _client(teacher).get(url).json()["seconds_left"] is None


def test_starting_a_run_needs_a_grader_to_start_from(teacher, course):
    response = _client(teacher).post(reverse("api-training-run-list"), {"course": course.slug}, format="json")
    assert response.status_code == 400
    assert "No grader is active" in str(response.json())
    assert not TrainingRun.objects.exists()


# --- promote and roll back ---------------------------------------------------------------------

def test_only_admins_promote_a_version(grader, teacher, admin_user, settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    serving = ml_registry.register_version(version="global-a", path=grader.path, activate=True)
    older = ml_registry.register_version(version="global-b", path=grader.path)
    url = f"/api/v1/grader-versions/{older.pk}/promote/"
    assert _client(teacher).post(url).status_code == 403
    assert ml_registry.active_version() == serving
    response = _client(admin_user).post(url)
    assert response.status_code == 200 and response.json()["version"] == "global-b"
    assert response.json()["is_active"] is True and ml_registry.active_version() == older


def test_a_teacher_rolls_their_course_back_then_is_told_there_is_nothing_left(
    grader, course, teacher, student, settings, tmp_path
):
    settings.MODEL_DIR = tmp_path / "models"
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
