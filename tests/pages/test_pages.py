"""Server-rendered pages, seen as each role."""

import pytest
from django.conf import settings
from django.urls import reverse

from student_model.models import Submission
from tests import factories

pytestmark = pytest.mark.django_db

REFERENCE = "The water was evaporated, leaving the salt behind in the dish."


@pytest.fixture
def unit(course):
    return factories.UnitFactory(course=course, order=1, title="Mixtures")


@pytest.fixture
def question(course, unit):
    q = factories.QuestionFactory(course=course, unit=unit, prompt="How did you separate the salt?", reference=REFERENCE)
    factories.RubricCriterionFactory(question=q, description="Names evaporation as the method")
    return q


@pytest.fixture
def resources(course, unit):
    first = factories.ResourceFactory(course=course, unit=unit, order=1, title="Evaporation", body="# Evaporation\n\nWater *turns* into vapour.")
    second = factories.ResourceFactory(course=course, unit=unit, order=2, title="Filtering", body="Filters keep solids.")
    return first, second


@pytest.fixture
def other_course():
    return factories.CourseFactory(slug="secret-course", title="Secret course")


def page_urls(course, question, resource):
    return [
        reverse("my-courses"),
        reverse("course-detail", args=[course.slug]),
        reverse("resource-detail", args=[course.slug, resource.pk]),
        reverse("question-detail", args=[course.slug, question.pk]),
    ]


def test_root_redirects_by_sign_in_state(client, student):
    assert client.get("/").url == reverse("login")
    client.force_login(student)
    assert client.get("/").url == reverse("my-courses")


def test_anonymous_is_sent_to_login_from_every_page(client, course, question, resources):
    for url in page_urls(course, question, resources[0]):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login") + "?next="), url


def test_login_form_signs_in_and_lands_on_my_courses(client, student):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content
    bad = client.post(reverse("login"), {"username": "stu", "password": "wrong"})
    assert bad.status_code == 200 and b"correct username and password" in bad.content
    response = client.post(reverse("login"), {"username": "stu", "password": "pass-1234"})
    assert response.url == reverse("my-courses")


def test_logout_is_a_post_button(client, student):
    client.force_login(student)
    page = client.get(reverse("my-courses")).content.decode()
    assert f'action="{reverse("logout")}"' in page and 'method="post"' in page
    client.post(reverse("logout"))
    assert client.get(reverse("my-courses")).status_code == 302


def test_student_sees_only_enrolled_courses_with_role(client, student, course, other_course):
    client.force_login(student)
    page = client.get(reverse("my-courses")).content.decode()
    assert course.title in page and "Student" in page
    assert other_course.title not in page


def test_student_gets_404_for_a_course_not_enrolled(client, student, other_course):
    q = factories.QuestionFactory(course=other_course)
    r = factories.ResourceFactory(course=other_course)
    client.force_login(student)
    assert client.get(reverse("course-detail", args=[other_course.slug])).status_code == 404
    assert client.get(reverse("resource-detail", args=[other_course.slug, r.pk])).status_code == 404
    assert client.get(reverse("question-detail", args=[other_course.slug, q.pk])).status_code == 404
    assert client.get(reverse("course-detail", args=["no-such-course"])).status_code == 404


def test_resource_of_another_course_is_404_under_this_course(client, student, course, other_course):
    foreign = factories.ResourceFactory(course=other_course)
    client.force_login(student)
    assert client.get(reverse("resource-detail", args=[course.slug, foreign.pk])).status_code == 404


def test_course_page_shows_units_content_skills_and_source(client, student, course, unit, question, resources):
    course.description = "Separating mixtures at home."
    course.source = "SciEntsBank, SemEval-2013 Task 7"
    course.source_url = "https://example.org/scientsbank"
    course.attribution = "Dzikovska et al. 2013"
    course.save()
    basic = factories.SkillFactory(course=course, unit=unit, name="Mixtures basics")
    advanced = factories.SkillFactory(course=course, unit=unit, name="Evaporation method")
    advanced.prerequisites.add(basic)
    client.force_login(student)
    page = client.get(reverse("course-detail", args=[course.slug])).content.decode()
    for text in [course.title, course.description, unit.title, "Evaporation", "Filtering", question.prompt,
                 "Source and licence", course.source, course.source_url, course.licence, course.attribution,
                 "Mixtures basics", "Evaporation method"]:
        assert text in page, text
    assert page.index("Evaporation") < page.index("Filtering")
    assert reverse("question-detail", args=[course.slug, question.pk]) in page
    assert REFERENCE not in page


def test_resource_page_renders_markdown_escapes_html_and_links_neighbours(client, student, course, resources):
    first, second = resources
    first.body = "Water *turns* into vapour. <script>alert('x')</script> [bad](javascript:alert(1))"
    first.source = "OpenStax Chemistry"
    first.save()
    client.force_login(student)
    page = client.get(reverse("resource-detail", args=[course.slug, first.pk])).content.decode()
    assert "<em>turns</em>" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "javascript:" not in page
    assert "OpenStax Chemistry" in page and course.licence in page
    assert reverse("resource-detail", args=[course.slug, second.pk]) in page
    second_page = client.get(reverse("resource-detail", args=[course.slug, second.pk])).content.decode()
    assert reverse("resource-detail", args=[course.slug, first.pk]) in second_page


def test_student_never_sees_reference_answer_or_rubric(client, student, course, question):
    client.force_login(student)
    page = client.get(reverse("question-detail", args=[course.slug, question.pk])).content.decode()
    assert question.prompt in page
    assert REFERENCE not in page
    assert "Names evaporation as the method" not in page


@pytest.mark.parametrize("who", ["teacher", "admin_user"])
def test_teacher_and_admin_see_reference_answer_and_rubric(client, request, course, question, who):
    client.force_login(request.getfixturevalue(who))
    page = client.get(reverse("question-detail", args=[course.slug, question.pk])).content.decode()
    assert REFERENCE in page
    assert "Names evaporation as the method" in page


def test_navigation_by_role(client, student, admin_user):
    client.force_login(student)
    page = client.get(reverse("my-courses")).content.decode()
    assert "My courses" in page and "/admin/" not in page and "/api/docs/" not in page
    client.force_login(admin_user)
    page = client.get(reverse("my-courses")).content.decode()
    assert "/admin/" in page and "/api/docs/" in page


def test_admin_sees_every_course(client, admin_user, course, other_course):
    client.force_login(admin_user)
    page = client.get(reverse("my-courses")).content.decode()
    assert course.title in page and other_course.title in page
    assert client.get(reverse("course-detail", args=[other_course.slug])).status_code == 200


def test_submitting_an_answer_stores_it_and_shows_it_received(client, student, course, question):
    client.force_login(student)
    url = reverse("question-detail", args=[course.slug, question.pk])
    response = client.post(url, {"answer": "  We boiled the water away.  "}, follow=True)
    assert response.redirect_chain[0][0].startswith(url)
    submission = Submission.objects.get(student=student, question=question)
    assert submission.answer == "We boiled the water away."
    assert submission.status == Submission.Status.RECEIVED
    page = response.content.decode()
    assert "Your answer was saved" in page
    assert f'data-submission-id="{submission.pk}"' in page
    assert "Received" in page and "We boiled the water away." in page


@pytest.mark.parametrize(
    ("answer", "message"),
    [("   ", "The answer is empty"), ("x" * (settings.MAX_ANSWER_CHARS + 1), "the limit is")],
)
def test_bad_answer_shows_the_service_message_and_stores_nothing(client, student, course, question, answer, message):
    client.force_login(student)
    url = reverse("question-detail", args=[course.slug, question.pk])
    response = client.post(url, {"answer": answer})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Your answer was saved" not in page
    if answer.strip():
        assert answer in page  # the typed text is kept in the form
    assert not Submission.objects.exists()


def test_graded_submission_shows_score_verdict_and_feedback(client, student, course, question):
    submission = factories.SubmissionFactory(student=student, question=question, status=Submission.Status.GRADED)
    factories.GradeFactory(submission=submission, score=0.5, verdict="partially_correct", feedback="Say what happens to the water.")
    client.force_login(student)
    page = client.get(reverse("question-detail", args=[course.slug, question.pk])).content.decode()
    assert "Graded" in page and "Partially correct" in page and "Say what happens to the water." in page
    assert "0.5" in page


def test_grade_waiting_for_review_is_not_shown(client, student, course, question):
    submission = factories.SubmissionFactory(student=student, question=question, status=Submission.Status.NEEDS_REVIEW)
    factories.GradeFactory(submission=submission, feedback="Hidden until reviewed.")
    client.force_login(student)
    page = client.get(reverse("question-detail", args=[course.slug, question.pk])).content.decode()
    assert "Needs review" in page and "Hidden until reviewed." not in page


def test_student_sees_only_own_submissions(client, student, course, question):
    classmate = factories.UserFactory(username="classmate")
    factories.EnrollmentFactory(user=classmate, course=course)
    factories.SubmissionFactory(student=classmate, question=question, answer="Classmate's private answer")
    client.force_login(student)
    page = client.get(reverse("question-detail", args=[course.slug, question.pk])).content.decode()
    assert "Classmate&#x27;s private answer" not in page and "Classmate's private answer" not in page


def test_submission_list_fragment_for_live_updates(client, student, course, question):
    submission = factories.SubmissionFactory(student=student, question=question, status=Submission.Status.GRADING)
    client.force_login(student)
    response = client.get(reverse("question-submissions", args=[course.slug, question.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-submission-id="{submission.pk}"' in body and "Grading" in body
    assert "<html" not in body


@pytest.mark.parametrize("who", ["teacher", "admin_user"])
def test_only_students_get_the_answer_form(client, request, course, question, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("question-detail", args=[course.slug, question.pk])
    page = client.get(url).content.decode()
    assert "Submit answer" not in page and question.prompt in page
    response = client.post(url, {"answer": "The salt stays behind."})
    assert response.status_code == 403
    assert b"Only students enrolled in this course" in response.content
    assert not Submission.objects.exists()


def test_reading_headings_carry_the_anchors_that_tutor_citations_link_to(client, student, course, unit):
    from tutor.ml.retrieval.chunking import Document, chunk_document

    body = "# The Python shell\n\nIntro.\n\n## Running the shell\n\nType python.\n\n## Running the shell\n\nAgain."
    resource = factories.ResourceFactory(course=course, unit=unit, title="Shell", body=body)
    client.force_login(student)
    html = client.get(reverse("resource-detail", args=[course.slug, resource.pk])).content.decode()
    anchors = {p.anchor for p in chunk_document(Document("shell", "Shell", body, resource.pk), size=1)} - {""}
    assert anchors == {"the-python-shell", "running-the-shell", "running-the-shell_1"}
    for anchor in anchors:
        assert f'id="{anchor}"' in html
