"""A teacher overrides a grade in the review queue with the keyboard; the student's page shows it (real chromium)."""

import json
import re

import pytest

from student_model import review_services
from student_model.models import Grade, GradeEvent
from tests import factories

from .conftest import BROWSER_MARKS, new_page, screenshot, sign_in, sync_api

pytestmark = BROWSER_MARKS


@pytest.fixture
def held_answers():
    """Two answers the model graded without enough confidence to release them."""
    course = factories.CourseFactory(slug="chemistry", title="Chemistry basics")
    question = factories.QuestionFactory(
        course=course, max_points=2.0, prompt="How did you separate the salt from the water?",
        reference="The water was evaporated, leaving the salt.",
    )
    student = factories.UserFactory(username="ada")
    teacher = factories.UserFactory(username="grace")
    factories.EnrollmentFactory(user=student, course=course, role="student")
    factories.EnrollmentFactory(user=teacher, course=course, role="teacher")
    answers = []
    for text, confidence in [("I heated it until the water was gone.", 0.31), ("With a sieve.", 0.55)]:
        submission = factories.SubmissionFactory(student=student, question=question, answer=text)
        review_services.record_model_grade(
            submission=submission, score=2.0, verdict="correct", confidence=confidence,
            feedback="Right: heating evaporates the water.", model_version="test-grader",
        )
        answers.append(submission)
    return {"course": course, "question": question, "answers": answers}


def test_teacher_overrides_with_the_keyboard_and_the_student_sees_the_new_grade(live_server, held_answers, browser):
    expect = sync_api.expect
    course, question = held_answers["course"], held_answers["question"]
    first, second = held_answers["answers"]

    student = sign_in(new_page(browser), live_server.url, "ada")
    sockets = []
    student.route_web_socket(re.compile(r".*/ws/submissions/$"), lambda ws: sockets.append(ws))
    student.goto(f"{live_server.url}/courses/{course.slug}/questions/{question.pk}/")
    item = student.locator(f'[data-submission-id="{first.pk}"]')
    expect(item.get_by_text("A teacher will review this answer")).to_be_visible()
    expect(student.get_by_text("Right: heating evaporates the water.")).to_have_count(0)  # held: not shown

    teacher = sign_in(new_page(browser), live_server.url, "grace")
    teacher.get_by_role("link", name="Review queue").first.click()
    expect(teacher.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    teacher.evaluate("window.__sameDocument = true")
    cards = teacher.locator("[data-review-item]")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("I heated it until the water was gone.")  # least confident first
    expect(cards.first).to_have_class(re.compile(r"\bis-current\b"))
    screenshot(teacher, "tutor_review_queue.png")

    teacher.keyboard.press("2")  # verdict: partially correct (score follows: half of 2 points)
    expect(cards.first.get_by_label("Verdict")).to_have_value("partially_correct")
    expect(cards.first.get_by_label(re.compile(r"^Score"))).to_have_value("1")
    teacher.keyboard.press("o")  # to the score
    expect(cards.first.get_by_label(re.compile(r"^Score"))).to_be_focused()
    teacher.keyboard.type("0.5")  # "o" selected the score: typing replaces it
    cards.first.get_by_label("Feedback to the student").fill("Heating works, but say that the salt is left behind.")
    cards.first.get_by_label(re.compile(r"^Score")).press("Enter")

    expect(cards.first.locator("[data-done]")).to_have_text("Overridden and released: 0.5 points, Partially correct.")
    expect(cards.nth(1)).to_have_class(re.compile(r"\bis-current\b"))  # on to the next answer
    assert teacher.evaluate("window.__sameDocument") is True  # no reload
    grade = Grade.objects.filter(submission=first).order_by("-id").first()
    assert (grade.source, grade.score, grade.verdict, grade.graded_by.username) == ("teacher", 0.5, "partially_correct", "grace")
    assert first.events.last().action == GradeEvent.Action.OVERRIDDEN

    # The student's open page is told (the websocket is Playwright's stand-in) and shows the teacher's grade.
    assert sockets, "the student's page did not open the submissions websocket"
    sockets[-1].send(json.dumps({"submission_id": first.pk, "status": "graded"}))
    expect(item.locator("[data-status]")).to_have_text("Graded")
    expect(item.get_by_text("Heating works, but say that the salt is left behind.")).to_be_visible()
    expect(item.locator(".grade__score")).to_contain_text("0.5")
    expect(item.get_by_text("Partially correct")).to_be_visible()
    expect(student.get_by_text("Right: heating evaporates the water.")).to_have_count(0)
    assert student.js_errors == [] and teacher.js_errors == []
