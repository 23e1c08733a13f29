"""A student chats with the tutor of the real Python course in Debian's chromium, over a real websocket.

The pages and the socket are served by daphne (in a thread of the test process, so it shares the
test database) with the project's ASGI application, as in production.
"""

import re
import shutil
import socket
import threading
from pathlib import Path

import pytest

from domain import course_io
from tests import factories

from .conftest import BROWSER_MARKS, DEMO_COURSE, new_page, screenshot, sign_in, sync_api

ROOT = Path(__file__).resolve().parents[2]
VECTOR_CACHE = ROOT / "var" / "models" / "qa" / "vectors.npz"  # passage vectors by text hash, if built

pytestmark = BROWSER_MARKS


@pytest.fixture
def python_course(transactional_db):
    course = course_io.import_course(document=course_io.load_document(DEMO_COURSE))
    student = factories.UserFactory(username="ada")
    factories.EnrollmentFactory(user=student, course=course, role="student")
    teacher = factories.UserFactory(username="grace")
    factories.EnrollmentFactory(user=teacher, course=course, role="teacher")
    return {
        "course": course,
        "shell": course.resources.get(external_id="m00011"),  # "The Python shell"
        "question": course.questions.get(external_id="m00011-def1"),  # "What does REPL stand for ...?"
    }


@pytest.fixture
def model_dir(settings, tmp_path):
    """A MODEL_DIR of the test's own; the passage-vector cache is copied in when the project has one
    (a pure speed-up: vectors are looked up by the passage text's hash)."""
    from pedagogy.retrieval import clear_engines

    (tmp_path / "qa").mkdir()
    if VECTOR_CACHE.exists():
        shutil.copy(VECTOR_CACHE, tmp_path / "qa" / "vectors.npz")
    settings.MODEL_DIR = tmp_path
    clear_engines()
    yield tmp_path
    clear_engines()


@pytest.fixture
def asgi_server(transactional_db, monkeypatch):
    """The project's ASGI application (pages, static files, websockets) on daphne, on 127.0.0.1."""
    from daphne.server import Server
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from twisted.internet import reactor

    from tutor.asgi import application

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps a loop in this thread
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready = threading.Event()
    server = Server(
        application=ASGIStaticFilesHandler(application),
        endpoints=[f"tcp:port={port}:interface=127.0.0.1"],
        signal_handlers=False,
        ready_callable=ready.set,
        verbosity=0,
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert ready.wait(30), "daphne did not start"
    yield f"http://127.0.0.1:{port}"
    reactor.callFromThread(reactor.stop)
    thread.join(10)


@pytest.fixture
def browser(asgi_server, browser):
    """The shared chromium, started once the server is up (and closed before it stops)."""
    return browser


@pytest.fixture
def page(browser):
    return new_page(browser, timeout=20_000)


def test_student_asks_the_tutor_and_gets_a_reply_citing_the_python_shell(
    asgi_server, python_course, model_dir, browser, page
):
    from pedagogy.retrieval import course_qa_engine

    expect = sync_api.expect
    course, shell = python_course["course"], python_course["shell"]
    # Index the course before the clock starts: without the project's vector cache (a fresh checkout) the
    # textbook is embedded here, which on a busy 2-core machine can outlast any reasonable wait for a reply.
    course_qa_engine(course=course)

    sign_in(page, asgi_server, "ada")
    page.get_by_role("link", name=course.title).click()
    page.get_by_role("link", name="Ask the tutor").click()

    expect(page.get_by_role("heading", name="Ask the tutor")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    page.get_by_role("textbox", name="Your message").fill("What is the Python shell?")
    page.get_by_role("button", name="Send").click()

    log = page.get_by_role("list", name="Messages")
    expect(log.locator(".chat__msg--student")).to_have_text(re.compile("What is the Python shell\\?"))
    reply = log.locator(".chat__msg--tutor").last
    # the first answer loads the tutor's models: allow for it
    expect(reply.locator(".chat__sources a")).not_to_have_count(0, timeout=180_000)
    source = reply.locator(".chat__sources a").first
    expect(source).to_contain_text(shell.title)
    assert f"/courses/{course.slug}/resources/{shell.pk}/" in source.get_attribute("href")
    # A question about the reading gets the reading's answer.
    expect(reply).to_contain_text(re.compile("console or terminal", re.I))
    assert "Hint" not in reply.inner_text()
    screenshot(page, "tutor_chat.png")

    # The citation opens the module on the Python shell.
    source.click()
    expect(page.get_by_role("heading", name=shell.title)).to_be_visible()

    # Coming back, the conversation is still there (history on reconnect).
    page.go_back()
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    expect(log.locator(".chat__msg")).to_have_count(2)
    expect(log.locator(".chat__msg--tutor .chat__sources a").first).to_contain_text(shell.title)

    # The teacher has the course's conversations page open ...
    teacher_page = sign_in(new_page(browser, timeout=20_000), asgi_server, "grace", landing=None)
    teacher_page.goto(asgi_server + f"/courses/{course.slug}/")
    teacher_page.get_by_role("link", name="Tutor conversations").click()
    expect(teacher_page.locator("#tutor-activity[data-connected]")).to_have_count(1)
    expect(teacher_page.get_by_text("No flagged questions")).to_be_visible()
    conversation_row = teacher_page.get_by_role("row").filter(has_text="ada")
    expect(conversation_row.get_by_role("cell").nth(2)).to_have_text("2")

    # ... when the student asks a question the readings do not answer: the tutor says so and hands
    # it to the teacher, whose page shows it without a reload,
    page.get_by_role("textbox", name="Your message").fill("Can I bring notes to the exam?")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".chat__msg--tutor").last).to_contain_text("I'm not sure", timeout=60_000)
    expect(teacher_page.get_by_text("“Can I bring notes to the exam?”", exact=True)).to_be_visible()
    expect(teacher_page.get_by_role("status").filter(has_text="flagged for you")).to_be_visible()
    expect(teacher_page.locator("#open-flags")).to_have_text("1 open")
    expect(conversation_row.get_by_role("cell").nth(2)).to_have_text("4")
    screenshot(teacher_page, "tutor_chat_teacher.png")
    # and the teacher answers it from there; the answer arrives in the student's open chat.
    teacher_page.get_by_label("Your answer to “Can I bring notes to the exam?”").fill(
        "Yes: one page of your own notes is allowed."
    )
    teacher_page.get_by_role("button", name="Send answer").click()
    expect(teacher_page.get_by_text("Your answer was sent to the student")).to_be_visible()

    teacher_message = log.locator(".chat__msg--teacher")
    expect(teacher_message).to_contain_text("Yes: one page of your own notes is allowed.")
    expect(teacher_message).to_contain_text("(teacher)")
    screenshot(page, "tutor_chat.png")
    assert page.js_errors == [] and teacher_page.js_errors == []
