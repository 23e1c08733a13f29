"""The progress pages: my progress (chart, released grades, next steps), a student's page as their
teacher sees it, and the class view (risk list, heatmap, study groups); who may open which."""

import pytest
from django.urls import reverse

from tests import factories
from tests.student_model.mastery_helpers import answer, days_ago, small_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(qa_model_dir, django_capture_on_commit_callbacks):
    w = small_course()
    capture = django_capture_on_commit_callbacks
    w.bob = factories.UserFactory(username="bob")
    factories.EnrollmentFactory(user=w.bob, course=w.course, role="student")
    w.chloe = factories.UserFactory(username="chloe")
    factories.EnrollmentFactory(user=w.chloe, course=w.course, role="student")
    answer(capture, w.student, w.q["b1"], correct=False, when=days_ago(3),
           text="print keeps the value in a variable", feedback="Not quite: print shows a value on the screen.")
    answer(capture, w.student, w.q["b2"], correct=True, when=days_ago(2), feedback="Right: a name for a value.")
    answer(capture, w.student, w.q["l1"], correct=True, status="needs_review", feedback="HELD-BACK feedback")
    answer(capture, w.bob, w.q["b1"], correct=False, when=days_ago(1), text="print saves the value into a variable")
    answer(capture, w.chloe, w.q["b1"], correct=True, when=days_ago(1), text="It shows the value on the screen.")
    w.outsider = factories.UserFactory(username="outsider")
    other = factories.CourseFactory(slug="other")
    factories.EnrollmentFactory(user=w.outsider, course=other, role="teacher")
    return w


def test_my_progress_shows_chart_released_grades_and_next_steps(client, world):
    client.force_login(world.student)
    response = client.get(reverse("my-progress", args=["py"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "My progress" in html
    assert '<svg class="mastery-chart"' in html and 'data-skill="Basics"' in html and 'data-skill="Loops"' in html
    assert "Not quite: print shows a value on the screen." in html and "Right: a name for a value." in html
    assert "HELD-BACK feedback" not in html  # waiting for review: not released
    assert '<span class="grade__verdict">Incorrect</span>' in html
    recommendations = response.context["recommendations"]
    assert recommendations and recommendations[0].kind == "skill"
    for step in recommendations:
        assert f'href="{step.url}"' in html and step.reason in html
    assert 'id="risk-title"' not in html  # the risk card is for teachers


def test_course_page_and_nav_link_to_progress(client, world):
    client.force_login(world.student)
    html = client.get(reverse("course-detail", args=["py"])).content.decode()
    assert html.count(f'href="{reverse("my-progress", args=["py"])}"') >= 2  # course page and nav
    client.force_login(world.teacher)
    html = client.get(reverse("course-detail", args=["py"])).content.decode()
    assert f'href="{reverse("class-progress", args=["py"])}"' in html


def test_teacher_sees_the_class_view_and_opens_a_student(client, world):
    client.force_login(world.teacher)
    assert client.get(reverse("my-progress", args=["py"])).url == reverse("class-progress", args=["py"])
    response = client.get(reverse("class-progress", args=["py"]))
    assert response.status_code == 200
    html = response.content.decode()
    rows = response.context["rows"]
    assert [r["student"].username for r in rows][0] in ("ada", "bob")  # strugglers first
    assert {r["student"].username for r in rows} == {"ada", "bob", "chloe"}
    assert [r["risk"].score for r in rows] == sorted((r["risk"].score for r in rows), reverse=True)
    ada_row = next(r for r in rows if r["student"].username == "ada")
    assert [c["value"] is None for c in ada_row["cells"]] == [False, True]  # loops held for review: unpractised
    assert "Mastery heatmap" in html and 'class="heat heat--' in html
    # bob and ada both said print stores the value in a variable: one shared misconception
    groups = response.context["groups"]
    assert groups and groups[0].students == ["ada", "bob"]
    assert "chloe" not in groups[0].students
    assert '<svg class="network"' in html and "M1" in html
    student_url = reverse("student-progress", args=["py", world.student.pk])
    assert f'href="{student_url}"' in html
    page = client.get(student_url)
    assert page.status_code == 200
    assert "Progress of ada" in page.content.decode() and page.context["risk"].reasons


def test_who_may_open_which_page(client, world):
    student_url = reverse("student-progress", args=["py", world.bob.pk])
    client.force_login(world.student)
    assert client.get(reverse("class-progress", args=["py"])).status_code == 403
    assert client.get(student_url).status_code == 404  # another learner's progress
    client.force_login(world.outsider)
    for url in (reverse("my-progress", args=["py"]), reverse("class-progress", args=["py"]), student_url):
        assert client.get(url).status_code == 404
    client.force_login(world.teacher)
    assert client.get(reverse("student-progress", args=["py", world.outsider.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("my-progress", args=["py"])).status_code == 302


def test_mastery_api_scopes_the_learner(world):
    from rest_framework.test import APIClient

    api = APIClient()
    url = reverse("api-course-mastery", args=["py"])
    api.force_authenticate(world.student)
    data = api.get(url).json()
    assert data["student"]["username"] == "ada" and data["tracer_kind"] == "bkt"
    skills = {row["skill"]: row for row in data["skills"]}
    assert skills["basics"]["attempts"] == 2 and skills["basics"]["practised"]
    assert not skills["loops"]["practised"]
    assert api.get(url, {"student": world.bob.pk}).status_code == 404
    api.force_authenticate(world.teacher)
    assert api.get(url, {"student": world.bob.pk}).json()["student"]["username"] == "bob"
    assert api.get(url, {"student": world.outsider.pk}).status_code == 404


def test_risk_and_recommendation_apis(world):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.teacher)
    risks = api.get(reverse("api-course-risk", args=["py"])).json()
    assert risks["count"] == 3 and risks["results"][0]["reasons"]
    assert risks["results"][0]["score"] >= risks["results"][-1]["score"]
    steps = api.get(reverse("api-course-recommendations", args=["py"]), {"student": world.student.pk, "limit": 2})
    assert len(steps.json()) == 2 and steps.json()[0]["kind"] == "skill"
    api.force_authenticate(world.student)
    assert api.get(reverse("api-course-risk", args=["py"])).status_code == 403
    own = api.get(reverse("api-course-recommendations", args=["py"])).json()
    assert own[0]["url"].startswith("/courses/py/") and own[0]["reason"]


def test_class_mastery_api_is_the_heatmap(world):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.teacher)
    data = api.get(reverse("api-course-class-mastery", args=["py"])).json()
    assert data["count"] == 3
    rows = {row["student"]["username"]: {c["skill"]: c["p_mastery"] for c in row["skills"]} for row in data["results"]}
    assert rows["ada"]["loops"] is None and 0 < rows["ada"]["basics"] < 1
    assert rows["chloe"]["basics"] > rows["bob"]["basics"]  # right vs wrong on the same question


def test_class_view_narrows_to_one_unit(client, world):
    client.force_login(world.teacher)
    basics_unit, loops_unit = world.units
    response = client.get(reverse("class-progress", args=["py"]), {"unit": basics_unit.pk})
    assert [s.slug for s in response.context["skills"]] == ["basics"]
    assert len(response.context["rows"]) == 3  # everyone's current unit is the first
    assert response.context["group_unit"] == basics_unit
    response = client.get(reverse("class-progress", args=["py"]), {"unit": loops_unit.pk})
    assert response.context["rows"] == [] and "No student is working on this unit now." in response.content.decode()
    assert response.context["groups"] == []  # no released wrong answers on loops questions
