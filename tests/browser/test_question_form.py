"""The answer form of the question page (static/js/question.js) in Debian's chromium."""

import time

import pytest
from django.urls import reverse

from student_model import services as submission_services
from student_model.models import Submission
from tests import factories

from .conftest import BROWSER_MARKS, sign_in, sync_api

pytestmark = BROWSER_MARKS


@pytest.fixture
def question(course, student):
    return factories.QuestionFactory(course=course, prompt="What does REPL stand for?")


def test_the_counter_agrees_with_the_server_and_the_button_sends_once(
    live_server, question, student, page, monkeypatch
):
    expect = sync_api.expect
    monkeypatch.setattr(submission_services, "_queue_grading", lambda pk: None)  # grading is not under test
    sign_in(page, live_server.url, "stu")
    page.goto(live_server.url + reverse("question-detail", args=[question.course.slug, question.pk]))

    box = page.get_by_role("textbox", name="Your answer")
    box.fill("  " + "😀" * 400 + "\n")  # the server strips, then counts code points
    expect(page.locator("[data-char-count]")).to_have_text("400 / 5,000 characters")
    box.fill("read\neval")  # the browser sends the line break as CRLF: two characters for the server
    expect(page.locator("[data-char-count]")).to_have_text("10 / 5,000 characters")

    real_submit = submission_services.submit_answer

    def slow_submit(**kwargs):  # a loaded server: the page stays up while the answer is being stored
        time.sleep(1.5)
        return real_submit(**kwargs)

    monkeypatch.setattr(submission_services, "submit_answer", slow_submit)
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    # Two more clicks while the first one's response is awaited (a locator would wait for the navigation).
    page.evaluate("""() => {
        const form = document.querySelector("textarea[data-max-chars]").form;
        const button = form.querySelector("button[type=submit]");
        form.addEventListener("submit", () => setTimeout(() => {
            button.click();
            button.click();
        }, 200));
        button.click();
    }""")
    expect(page.get_by_text("Your answer was saved")).to_be_visible()
    assert len(posts) == 1
    assert Submission.objects.filter(question=question).count() == 1
    assert Submission.objects.get(question=question).answer == "read\r\neval"
    assert page.js_errors == []
