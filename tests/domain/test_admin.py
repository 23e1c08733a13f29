"""Every admin page of the domain and student-model apps opens for a superuser."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from domain.models import SkillPrerequisite
from django.utils import timezone

from student_model.models import (
    GradeEvent,
    GraderVersion,
    MasteryEvent,
    ReleasePolicy,
    SkillMastery,
    TracerVersion,
    RegradeRun,
    TrainingRun,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(course, student):
    unit = factories.UnitFactory(course=course)
    basics = factories.SkillFactory(course=course, unit=unit, slug="input-output")
    skill = factories.SkillFactory(course=course, unit=unit, slug="variables")
    SkillPrerequisite.objects.create(skill=skill, prerequisite=basics)
    question = factories.QuestionFactory(course=course, unit=unit)
    question.skills.add(skill)
    factories.RubricCriterionFactory(question=question)
    resource = factories.ResourceFactory(course=course, unit=unit)
    resource.skills.add(skill)
    submission = factories.SubmissionFactory(student=student, question=question)
    factories.GradeFactory(submission=submission)
    version = GraderVersion.objects.create(version="minilm-test", path="/nonexistent", metrics={"macro_f1": 0.6})
    ReleasePolicy.objects.create(course=course, confidence_threshold=0.8)
    GradeEvent.objects.create(submission=submission, action="accepted", before={"score": 0}, after={"score": 1})
    TrainingRun.objects.create(course=course, status="succeeded", progress=1.0, version=version)
    RegradeRun.objects.create(course=course, status="succeeded", total=1, done=1)
    SkillMastery.objects.create(student=student, skill=skill, p_mastery=0.4, attempts=1)
    MasteryEvent.objects.create(
        student=student, skill=skill, submission=submission, correct=True, p_before=0.3, p_after=0.4,
        created_at=timezone.now(),
    )
    TracerVersion.objects.create(course=course, kind="bkt", version="bkt-test", parameters={}, is_active=True)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def registered_models():
    return [m for m in admin.site._registry if m._meta.app_label in ("domain", "student_model")]


def test_all_models_of_both_apps_are_registered():
    from django.apps import apps

    expected = set(apps.get_app_config("domain").get_models()) | set(apps.get_app_config("student_model").get_models())
    assert expected <= set(registered_models())


@pytest.mark.parametrize("page", ["changelist", "add", "change"])
def test_admin_pages_open(client, admin_user, content, page):
    client.force_login(admin_user)
    for model in registered_models():
        opts = model._meta
        if page == "add" and not admin.site._registry[model].has_add_permission(_request(admin_user)):
            continue
        name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
        url = reverse(name, args=[model.objects.first().pk]) if page == "change" else reverse(name)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_admin_search_and_filters(client, admin_user, content, course):
    client.force_login(admin_user)
    for model in registered_models():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(url, {"q": "salt"}).status_code == 200, url


def test_admin_skill_inline_refuses_a_prerequisite_cycle(client, admin_user, course):
    loops = factories.SkillFactory(course=course, slug="loops")
    functions = factories.SkillFactory(course=course, slug="functions")
    SkillPrerequisite.objects.create(skill=functions, prerequisite=loops)
    client.force_login(admin_user)
    url = reverse("admin:domain_skill_change", args=[loops.pk])
    data = {
        "course": course.pk, "slug": "loops", "name": loops.name, "description": "", "unit": "",
        "prerequisite_edges-TOTAL_FORMS": "1", "prerequisite_edges-INITIAL_FORMS": "0",
        "prerequisite_edges-MIN_NUM_FORMS": "0", "prerequisite_edges-MAX_NUM_FORMS": "1000",
        "prerequisite_edges-0-prerequisite": functions.pk, "prerequisite_edges-0-skill": loops.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "Prerequisites would form a cycle: loops -&gt; functions -&gt; loops" in response.content.decode()
    assert loops.prerequisites.count() == 0


def test_admin_action_activates_a_grader_version(client, admin_user, tmp_path):
    versions = []
    for name in ("v1", "v2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
        versions.append(GraderVersion.objects.create(version=name, path=str(tmp_path / name), is_active=name == "v1"))
    client.force_login(admin_user)
    url = reverse("admin:student_model_graderversion_changelist")
    response = client.post(url, {"action": "activate", "_selected_action": [versions[1].pk]}, follow=True)
    assert "Grader v2 is now active." in response.content.decode()
    assert list(GraderVersion.objects.filter(is_active=True).values_list("version", flat=True)) == ["v2"]


def _question_change_data(question, **changes) -> dict:
    data = {
        "course": question.course_id, "unit": question.unit_id or "", "external_id": question.external_id,
        "order": question.order, "prompt": question.prompt, "max_points": question.max_points,
        "skills": [s.pk for s in question.skills.all()],
    }
    for prefix, rows in (("reference_answers", question.reference_answers.all()),
                         ("rubric_criteria", question.rubric_criteria.all())):
        data |= {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows),
                 f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
        for i, row in enumerate(rows):
            data |= {f"{prefix}-{i}-id": row.pk, f"{prefix}-{i}-question": question.pk}
            data |= {f"{prefix}-{i}-{name}": getattr(row, name) for name in ("order", "text", "description", "points")
                     if hasattr(row, name)}
    return data | changes


def test_admin_new_points_rescale_the_grades_and_zero_points_under_grades_is_refused(
    client, admin_user, course, student
):
    question = factories.QuestionFactory(course=course, max_points=2.0)
    grade = factories.GradeFactory(submission=factories.SubmissionFactory(student=student, question=question),
                                   score=1.5)
    client.force_login(admin_user)
    url = reverse("admin:domain_question_change", args=[question.pk])

    response = client.post(url, _question_change_data(question, max_points=0))
    assert response.status_code == 200  # the form again, with the error
    assert "its points must stay above 0" in response.content.decode()

    response = client.post(url, _question_change_data(question, max_points=4))
    assert response.status_code == 302, response.content.decode()[-3000:]
    grade.refresh_from_db()
    question.refresh_from_db()
    assert (question.max_points, grade.score) == (4.0, 3.0)
    assert grade.submission.events.get().actor == admin_user


def test_grades_are_read_not_edited_in_the_admin(client, admin_user, content):
    """A grade changed here would skip the points check and the audit trail of the review pages."""
    from student_model.models import Grade

    grade = Grade.objects.first()
    client.force_login(admin_user)
    url = reverse("admin:student_model_grade_change", args=[grade.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="score"' not in page.content.decode()
    response = client.post(url, {"score": 7, "verdict": "correct", "source": "teacher",
                                 "submission": grade.submission_id})
    assert response.status_code == 403
    grade.refresh_from_db()
    assert grade.score != 7
    assert client.get(reverse("admin:student_model_grade_add")).status_code == 403


def test_a_courses_slug_is_set_when_it_is_created_and_then_shown_read_only(admin_client, course):
    add = admin_client.get(reverse("admin:domain_course_add")).content.decode()
    assert 'name="slug"' in add
    change = admin_client.get(reverse("admin:domain_course_change", args=[course.pk])).content.decode()
    assert 'name="slug"' not in change and course.slug in change
