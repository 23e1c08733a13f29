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

from .test_student_journey import CHROMIUM, CHROMIUM_ARGS, DEMO_COURSE, SCREENSHOT_DIR

ROOT = Path(__file__).resolve().parents[2]
VECTOR_CACHE = ROOT / "var" / "models" / "qa" / "vectors.npz"  # passage vectors by text hash, if built

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"chromium is absent: {CHROMIUM} not found (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


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
def browser(asgi_server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _new_page(browser):
    """A page in a context of its own (its own cookies: one signed-in person per page)."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    return page


@pytest.fixture
def page(browser):
    return _new_page(browser)


def test_student_asks_the_tutor_and_gets_a_reply_citing_the_python_shell(
    asgi_server, python_course, model_dir, browser, page
):
    expect = sync_api.expect
    course, shell = python_course["course"], python_course["shell"]

    page.goto(asgi_server + "/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("pass-1234")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    page.get_by_role("link", name=course.title).click()
    page.get_by_role("link", name="Ask the tutor").click()

    expect(page.get_by_role("heading", name="Ask the tutor")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    page.get_by_role("textbox", name="Your message").fill("What does REPL stand for?")
    page.get_by_role("button", name="Send").click()

    log = page.get_by_role("list", name="Messages")
    expect(log.locator(".chat__msg--student")).to_have_text(re.compile("What does REPL stand for\\?"))
    reply = log.locator(".chat__msg--tutor").last
    # the first answer builds the course's index (and loads the model): allow for it
    expect(reply.locator(".chat__sources a")).not_to_have_count(0, timeout=180_000)
    source = reply.locator(".chat__sources a").first
    expect(source).to_contain_text(shell.title)
    assert f"/courses/{course.slug}/resources/{shell.pk}/" in source.get_attribute("href")
    # A question about the reading gets the reading's answer (the homework asks for more than this).
    expect(reply).to_contain_text(re.compile("read-eval-print loop", re.I))
    assert "Hint" not in reply.inner_text()
    screenshot_path = SCREENSHOT_DIR / "tutor_chat.png"
    page.screenshot(path=str(screenshot_path), full_page=True)

    # The citation opens the module on the Python shell.
    source.click()
    expect(page.get_by_role("heading", name=shell.title)).to_be_visible()

    # Coming back, the conversation is still there (history on reconnect).
    page.go_back()
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    expect(log.locator(".chat__msg")).to_have_count(2)
    expect(log.locator(".chat__msg--tutor .chat__sources a").first).to_contain_text(shell.title)

    # A question the readings do not answer: the tutor says so and hands it to the teacher ...
    page.get_by_role("textbox", name="Your message").fill("Can I bring notes to the exam?")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".chat__msg--tutor").last).to_contain_text("I'm not sure", timeout=60_000)

    # ... who answers it from their page; the answer arrives in the student's open chat.
    teacher_page = _new_page(browser)
    teacher_page.goto(asgi_server + "/login/")
    teacher_page.get_by_label("Username").fill("grace")
    teacher_page.get_by_label("Password").fill("pass-1234")
    teacher_page.get_by_role("button", name="Sign in").click()
    teacher_page.goto(asgi_server + f"/courses/{course.slug}/")
    teacher_page.get_by_role("link", name="Tutor conversations").click()
    expect(teacher_page.get_by_text("“Can I bring notes to the exam?”", exact=True)).to_be_visible()
    teacher_page.screenshot(path=str(SCREENSHOT_DIR / "tutor_chat_teacher.png"), full_page=True)
    teacher_page.get_by_label("Your answer to “Can I bring notes to the exam?”").fill(
        "Yes: one page of your own notes is allowed."
    )
    teacher_page.get_by_role("button", name="Send answer").click()
    expect(teacher_page.get_by_text("Your answer was sent to the student")).to_be_visible()

    teacher_message = log.locator(".chat__msg--teacher")
    expect(teacher_message).to_contain_text("Yes: one page of your own notes is allowed.")
    expect(teacher_message).to_contain_text("(teacher)")
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert page.js_errors == [] and teacher_page.js_errors == []
