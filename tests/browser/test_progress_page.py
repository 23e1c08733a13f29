"""A learner's progress page in Debian's chromium, driven by Playwright: chart, grades, next steps."""

import re
from contextlib import nullcontext

import pytest

from tests import factories
from tests.student_model.mastery_helpers import answer, days_ago, small_course

from .conftest import BROWSER_MARKS, screenshot, sign_in, sync_api

pytestmark = BROWSER_MARKS


def no_capture(execute):  # live_server runs in autocommit: on-commit work happens at once
    return nullcontext()


@pytest.fixture
def graded_course(settings, tmp_path):
    settings.MODEL_DIR = tmp_path
    world = small_course()
    reading = factories.ResourceFactory(
        course=world.course, unit=world.units[0], title="Printing output", external_id="printing",
        body="# Printing\n\nThe print function writes text to the screen.",
    )
    reading.skills.add(world.basics)
    answer(no_capture, world.student, world.q["b1"], correct=False, when=days_ago(2),
           feedback="Not quite: print shows a value on the screen.")
    answer(no_capture, world.student, world.q["b2"], correct=True, when=days_ago(1),
           feedback="Right: a variable names a value.")
    return world


def test_student_opens_progress_and_follows_a_recommendation(live_server, graded_course, page):
    expect = sync_api.expect
    sign_in(page, live_server.url, "ada", landing=None)
    page.get_by_role("link", name="Python").click()
    page.get_by_role("main").get_by_role("link", name="My progress").click()

    expect(page.get_by_role("heading", name="My progress", level=1)).to_be_visible()
    chart = page.get_by_role("img", name="Mastery per skill")
    expect(chart).to_be_visible()
    expect(chart.locator('[data-skill="Basics"] .mastery-chart__bar')).to_have_count(1)
    width = float(chart.locator('[data-skill="Basics"] .mastery-chart__bar').get_attribute("width"))
    assert 0 < width < 360
    expect(page.get_by_text("Not quite: print shows a value on the screen.")).to_be_visible()
    expect(page.get_by_text("Right: a variable names a value.")).to_be_visible()

    steps = page.get_by_role("region", name="Your next steps").get_by_role("listitem")
    expect(steps.first).to_contain_text("Basics")
    expect(steps.first).to_contain_text("below the 80% target")
    screenshot(page, "tutor_progress_page.png")

    question_step = steps.filter(has_text="chance you answer it correctly").or_(
        steps.filter(has_text="closest to the right difficulty"))
    question_step.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/courses/py/questions/\d+/$"))
    expect(page.get_by_role("button", name="Submit answer")).to_be_visible()
    assert page.js_errors == []
