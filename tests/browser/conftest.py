"""Shared pieces of the browser tests: Debian's chromium driven by Playwright.

Each test module sets ``pytestmark = BROWSER_MARKS``: its tests are marked ``browser`` and skipped,
with the reason said, when chromium or the playwright package is absent (never silently).
"""

from pathlib import Path

import pytest

try:
    from playwright import sync_api
except ImportError:  # the skip marks below say so; nothing here is used then
    sync_api = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_COURSE = Path(__file__).resolve().parents[2] / "data" / "demo" / "intro-python.course.json.gz"
SCREENSHOT_DIR = Path("/tmp")
PASSWORD = "pass-1234"  # the factories' password


def chromium_path() -> Path:
    return CHROMIUM


def missing_browser_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not chromium_path().exists():
        return f"chromium is absent: {chromium_path()} not found (apt-get install chromium)"
    if sync_api is None:
        return "the playwright Python package is not installed"
    return None


_SKIP_REASON = missing_browser_reason()
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.skipif(_SKIP_REASON is not None, reason=_SKIP_REASON or "")]


@pytest.fixture
def browser(monkeypatch):
    """Chromium, launched for one test and closed after it."""
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path()), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, timeout: int = 15_000):
    """A page in a context of its own (its own cookies: one signed-in person per page); JS errors are kept
    in ``page.js_errors``."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(timeout)
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    return page


@pytest.fixture
def page(browser):
    return new_page(browser)


def submit_login(page, username: str, password: str = PASSWORD) -> None:
    """Fill in and send the login form the page shows."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, base_url: str, username: str, password: str = PASSWORD, landing: str | None = "My courses"):
    """Sign in through the login form; wait for the ``landing`` heading unless it is None."""
    page.goto(base_url + "/login/")
    submit_login(page, username, password)
    if landing is not None:
        sync_api.expect(page.get_by_role("heading", name=landing)).to_be_visible()
    return page


def screenshot(page, name: str) -> None:
    """A full-page picture in SCREENSHOT_DIR for a person to look at (not compared by the tests)."""
    page.evaluate("() => new Promise(done => { window.scrollTo(0, 0); requestAnimationFrame(() => requestAnimationFrame(done)); })")
    page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True)
