"""A student's journey through the real pages in Debian's chromium, driven by Playwright."""

import json
import re

import pytest

from domain import course_io
from student_model import services as submission_services
from student_model.models import Submission
from tests import factories

from .conftest import BROWSER_MARKS, DEMO_COURSE, screenshot, submit_login, sync_api

pytestmark = BROWSER_MARKS


@pytest.fixture
def python_course():
    """The real demo course, imported from the file ``make run`` loads."""
    course = course_io.import_course(document=course_io.load_document(DEMO_COURSE))
    student = factories.UserFactory(username="ada")
    factories.EnrollmentFactory(user=student, course=course, role="student")
    resource = course.resources.get(external_id="m00011")  # "The Python shell"
    question = course.questions.get(external_id="m00011-def1")  # "What does REPL stand for ...?"
    return {"course": course, "resource": resource, "question": question, "student": student}


@pytest.fixture
def queued(monkeypatch):
    """Grading is not under test here: record what would be queued so the status stays 'received'."""
    ids: list[int] = []
    monkeypatch.setattr(submission_services, "_queue_grading", ids.append)
    return ids


def test_student_reads_answers_and_sees_the_submission(live_server, python_course, queued, page):
    expect = sync_api.expect
    course, resource, question = python_course["course"], python_course["resource"], python_course["question"]

    # The websocket for live status is stood in for by Playwright, so the test can push an update.
    sockets = []
    page.route_web_socket(re.compile(r".*/ws/submissions/$"), lambda ws: sockets.append(ws))

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    submit_login(page, "ada")

    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/courses/$"))
    page.get_by_role("link", name=course.title).click()

    expect(page.get_by_role("heading", name=course.title, level=1)).to_be_visible()
    expect(page.get_by_text("Source and licence")).to_be_visible()
    expect(page.get_by_text(course.attribution)).to_be_visible()
    screenshot(page, "tutor_course_page.png")

    page.get_by_role("link", name=resource.title, exact=True).click()
    expect(page.get_by_role("heading", name=resource.title)).to_be_visible()
    expect(page.get_by_text("stands for \"read-eval-print loop", exact=False)).to_be_visible()
    screenshot(page, "tutor_resource_page.png")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=course.title).click()
    page.get_by_role("link", name=question.prompt).click()
    expect(page.get_by_text(question.prompt)).to_be_visible()
    expect(page.get_by_text(question.reference_answers.get().text)).to_have_count(0)

    # An empty answer is refused with the service's message and nothing is stored.
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_text("The answer is empty")).to_be_visible()
    assert not Submission.objects.exists()

    answer = "It means read, evaluate, print, loop: the shell keeps reading and running what you type."
    page.get_by_role("textbox", name="Your answer").fill(answer)
    page.get_by_role("button", name="Submit answer").click()

    expect(page.get_by_text("Your answer was saved")).to_be_visible()
    submission = Submission.objects.get(student=python_course["student"], question=question)
    assert submission.answer == answer and submission.status == Submission.Status.RECEIVED
    assert queued == [submission.pk]
    item = page.locator(f'[data-submission-id="{submission.pk}"]')
    expect(item.get_by_text(answer)).to_be_visible()
    expect(item.locator("[data-status]")).to_have_text("Received")
    screenshot(page, "tutor_question_page.png")

    # A grade arrives: the page updates that submission in place, without reloading.
    page.evaluate("window.__sameDocument = true")
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.GRADED)
    factories.GradeFactory(submission=submission, score=1.0, verdict="correct", feedback="Right: the shell repeats read, eval, print.")
    assert sockets, "the page did not open the submissions websocket"
    sockets[-1].send(json.dumps({"submission_id": submission.pk, "status": "graded"}))
    expect(item.locator("[data-status]")).to_have_text("Graded")
    expect(page.get_by_text("Right: the shell repeats read, eval, print.")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "tutor_question_page_graded.png")

    # An answer sent from another tab (or the API) joins the list; one to another question does not.
    elsewhere = factories.SubmissionFactory(student=python_course["student"],
                                            question=course.questions.exclude(pk=question.pk).first())
    sockets[-1].send(json.dumps({"submission_id": elsewhere.pk, "question_id": elsewhere.question_id,
                                 "status": "received"}))
    other_tab = factories.SubmissionFactory(student=python_course["student"], question=question,
                                            answer="Read, evaluate, print, loop (sent from my phone).")
    sockets[-1].send(json.dumps({"submission_id": other_tab.pk, "question_id": question.pk, "status": "received"}))
    expect(page.get_by_text("Read, evaluate, print, loop (sent from my phone).")).to_be_visible()
    expect(page.locator(f'[data-submission-id="{elsewhere.pk}"]')).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True

    assert page.js_errors == []
