"""The model registry page (admins), a course's grader page (its teachers) and their POST actions."""

import json

import pytest
from django.urls import reverse

from student_model import ml_registry, registry_selectors
from student_model.models import GraderVersion, TrainingRun
from tests import factories

pytestmark = pytest.mark.django_db

CURVE = {
    "benchmark": "teacher_loop", "base": "grader-minilm-v1", "ns": [0, 2, 5, 10], "seeds": [13],
    "finished_at": "2026-11-22T18:00:00Z",
    "datasets": {
        "saf": {"questions": ["english/8.3_MM", "english/10.1_TC"], "test_answers_per_seed": 172, "curve": [
            {"n": 0, "corrected": 0, "macro_f1": 0.576, "accuracy": 0.529, "pearson": 0.679},
            {"n": 2, "corrected": 4, "macro_f1": 0.626, "accuracy": 0.628, "pearson": 0.739},
            {"n": 5, "corrected": 10, "macro_f1": 0.651, "accuracy": 0.64, "pearson": 0.75},
            {"n": 10, "corrected": 20, "macro_f1": 0.701, "accuracy": 0.7, "pearson": 0.77},
        ]},
    },
}


def _version_dir(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    (path / "config.json").write_text("{}")
    return path


@pytest.fixture
def registry_world(tmp_path, course, monkeypatch):
    curve = tmp_path / "teacher_loop.json"
    curve.write_text(json.dumps(CURVE))
    monkeypatch.setattr(registry_selectors, "learning_curve_path", lambda: curve)
    base = ml_registry.register_version(version="grader-minilm-v1", path=_version_dir(tmp_path, "g1"),
                                        metrics={"validation": {"macro_f1": 0.64}}, activate=True)
    older = ml_registry.register_version(version="grader-minilm-v0", path=_version_dir(tmp_path, "g0"),
                                         metrics={"validation": {"macro_f1": 0.58}})
    adapter = ml_registry.register_version(
        version=f"{course.slug}-lora-1", path=_version_dir(tmp_path, "a1"), course=course, base=base, activate=True,
        metrics={"evaluation": {"course": {"macro_f1": 0.71}, "global": {"macro_f1": 0.62}}, "train_steps": 120},
        training_summary={"train": {"n": 412, "datasets": {"": {"n": 412}}}},
    )
    run = factories.TrainingRunFactory(
        course=course, status=TrainingRun.Status.SUCCEEDED, progress=1.0, version=adapter,
        result={"decision": "promoted", "reasons": ["course macro-F1 improved 0.650 → 0.710"],
                "champion": {"version": base.version, "course": {"macro_f1": 0.65}, "global": {"macro_f1": 0.63}},
                "challenger": {"version": adapter.version, "course": {"macro_f1": 0.71}, "global": {"macro_f1": 0.62}},
                "data": {"train": 412, "holdout": 103}},
    )
    return {"base": base, "older": older, "adapter": adapter, "run": run}


class TestRegistryPage:
    url = reverse("grader-registry")

    def test_only_admins_see_it(self, client, student, teacher):
        assert client.get(self.url).status_code == 302  # to the login page
        for user in (student, teacher):
            client.force_login(user)
            assert client.get(self.url).status_code == 403

    def test_it_shows_versions_per_scope_runs_and_charts(self, client, admin_user, registry_world, course):
        client.force_login(admin_user)
        response = client.get(self.url)
        assert response.status_code == 200
        html = response.content.decode()
        for name in ("grader-minilm-v1", "grader-minilm-v0", registry_world["adapter"].version):
            assert name in html
        assert course.title in html and "412 answers" in html
        assert "Promoted" in html and "course macro-F1 improved 0.650 → 0.710" in html
        assert html.count('<svg class="chart"') == 3  # global versions, the course, the learning curve
        assert "Course held-out macro-F1" in html and "SAF macro-F1" in html
        assert "0.701" in html  # the learning curve's table
        assert html.count(">Promote</button>") == 1  # the inactive global version; active ones have none
        assert reverse("course-grader-rollback", args=[course.slug]) in html
        assert "csrfmiddlewaretoken" in html

    def test_the_chart_places_better_versions_higher(self, client, admin_user, registry_world):
        client.force_login(admin_user)
        chart = client.get(self.url).context["global_chart"]
        older, newer = chart["series"][0]["points"]  # oldest first
        assert older["label"].startswith("grader-minilm-v1") and newer["label"].startswith("grader-minilm-v0")
        assert newer["y"] > older["y"]  # 0.58 is drawn lower (larger y) than 0.64

    def test_without_a_benchmark_result_it_says_how_to_get_one(self, client, admin_user, monkeypatch, tmp_path):
        monkeypatch.setattr(registry_selectors, "learning_curve_path", lambda: tmp_path / "missing.json")
        client.force_login(admin_user)
        assert "Not measured yet" in client.get(self.url).content.decode()


class TestPromote:
    def test_an_admin_promotes_an_older_global_version(self, client, admin_user, registry_world):
        client.force_login(admin_user)
        older = registry_world["older"]
        response = client.post(reverse("grader-promote", args=[older.pk]), follow=True)
        assert response.redirect_chain[-1][0] == reverse("grader-registry")
        assert ml_registry.active_version().version == "grader-minilm-v0"
        assert "now grades every course" in response.content.decode()

    def test_teachers_cannot_promote_and_get_is_refused(self, client, teacher, admin_user, registry_world):
        older = registry_world["older"]
        client.force_login(teacher)
        assert client.post(reverse("grader-promote", args=[older.pk])).status_code == 403
        client.force_login(admin_user)
        assert client.get(reverse("grader-promote", args=[older.pk])).status_code == 405
        assert ml_registry.active_version().version == "grader-minilm-v1"


class TestCourseGraderPage:
    def test_its_teacher_sees_the_serving_version_runs_and_the_retrain_button(self, client, teacher, course,
                                                                             registry_world):
        client.force_login(teacher)
        html = client.get(reverse("course-grader", args=[course.slug])).content.decode()
        assert registry_world["adapter"].version in html and "this course's own version" in html
        assert "Retrain the grader" in html and reverse("course-grader-retrain", args=[course.slug]) in html
        assert '<svg class="chart"' in html and ">Promote</button>" not in html  # promoting is for admins

    def test_other_courses_teachers_get_404_and_students_403(self, client, course, student):
        other_teacher = factories.UserFactory(username="other")
        factories.EnrollmentFactory(user=other_teacher, role="teacher")
        client.force_login(other_teacher)
        assert client.get(reverse("course-grader", args=[course.slug])).status_code == 404
        assert client.post(reverse("course-grader-retrain", args=[course.slug])).status_code == 404
        client.force_login(student)
        assert client.get(reverse("course-grader", args=[course.slug])).status_code == 403
        assert client.post(reverse("course-grader-retrain", args=[course.slug])).status_code == 403
        assert not TrainingRun.objects.exists()

    def test_retrain_queues_a_run_and_the_page_follows_it(self, client, teacher, course, registry_world, settings):
        settings.GRADER_RETRAINING = {"min_train": 0, "min_holdout": 0}  # the course has no teacher grades
        client.force_login(teacher)
        response = client.post(reverse("course-grader-retrain", args=[course.slug]), follow=True)
        run = TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED).get()
        assert run.course == course and run.started_by == teacher
        html = response.content.decode()
        assert f"Retraining started (run {run.pk})" in html
        assert reverse("api-training-run-detail", args=[run.pk]) in html  # polled by static/js/run_progress.js
        again = client.post(reverse("course-grader-retrain", args=[course.slug]), follow=True)
        assert "already queued or running" in again.content.decode()

    def test_its_teacher_rolls_back_to_the_global_grader(self, client, teacher, course, registry_world):
        client.force_login(teacher)
        response = client.post(reverse("course-grader-rollback", args=[course.slug]), follow=True)
        assert "Rolled back: grader-minilm-v1 now grades" in response.content.decode()
        assert ml_registry.active_version(course_id=course.pk).version == "grader-minilm-v1"
        assert GraderVersion.objects.filter(version=registry_world["adapter"].version).exists()  # kept

    def test_the_course_page_links_to_it_for_teachers_only(self, client, teacher, student, course):
        link = reverse("course-grader", args=[course.slug])
        client.force_login(teacher)
        assert link in client.get(reverse("course-detail", args=[course.slug])).content.decode()
        client.force_login(student)
        assert link not in client.get(reverse("course-detail", args=[course.slug])).content.decode()
