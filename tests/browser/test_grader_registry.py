"""A teacher retrains the course's grader and follows the run; an admin reads the registry (real chromium).

The run itself is stood in for (its training is tested in tests/student_model/test_retraining.py):
the test moves it through its states as a worker would, and the page follows by polling the API.
"""

import re
from pathlib import Path

import pytest

from student_model import ml_registry, retraining
from student_model.models import TrainingRun
from tests import factories

from .conftest import BROWSER_MARKS, screenshot, sign_in, sync_api

pytestmark = BROWSER_MARKS


@pytest.fixture
def world(tmp_path, settings):
    settings.GRADER_RETRAINING = {"min_train": 0, "min_holdout": 0}  # the run is stood in for: no grades needed
    course = factories.CourseFactory(slug="physics", title="Physical science")
    teacher = factories.UserFactory(username="ms-frizzle")
    factories.EnrollmentFactory(user=teacher, course=course, role="teacher")
    admin = factories.AdminFactory(username="root")
    base_dir = tmp_path / "grader-minilm-v1"
    base_dir.mkdir()
    (base_dir / "config.json").write_text("{}")
    base = ml_registry.register_version(version="grader-minilm-v1", path=base_dir, activate=True,
                                        metrics={"validation": {"macro_f1": 0.64}})
    return {"course": course, "teacher": teacher, "admin": admin, "base": base}


@pytest.fixture
def dispatched(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(retraining, "_dispatch", ids.append)
    return ids


def test_a_teacher_retrains_and_follows_the_run_then_an_admin_sees_it_in_the_registry(
    live_server, world, dispatched, page
):
    expect = sync_api.expect
    course = world["course"]
    sign_in(page, live_server.url, "ms-frizzle")
    page.goto(f"{live_server.url}/courses/{course.slug}/")
    page.get_by_role("link", name="Grader and retraining").click()
    expect(page.get_by_role("heading", name=f"{course.title}: the grader")).to_be_visible()
    expect(page.get_by_text("global grader")).to_be_visible()

    page.get_by_role("button", name="Retrain the grader").click()
    expect(page.get_by_text(re.compile(r"Retraining started \(run \d+\)"))).to_be_visible()
    run = TrainingRun.objects.get()
    assert dispatched == [run.pk] and run.started_by == world["teacher"]
    expect(page.get_by_role("button", name="Retrain the grader")).to_be_hidden()

    # A worker picks it up: the card follows without a reload.
    TrainingRun.objects.filter(pk=run.pk).update(status="running", progress=0.4, message="Training: step 12/30")
    expect(page.locator("[data-run-message]")).to_have_text("Training: step 12/30")
    expect(page.locator("[data-run-status]")).to_have_text("Running")
    expect(page.locator(f'[data-run-row-status="{run.pk}"]')).to_have_text("Running")  # its row in the table
    assert float(page.locator("[data-run-progress]").evaluate("el => el.value")) == pytest.approx(0.4)
    screenshot(page, "tutor_course_grader_running.png")

    adapter_dir = Path(world["base"].path).with_name("physics-lora-1")
    adapter_dir.mkdir()
    (adapter_dir / "config.json").write_text("{}")
    version = ml_registry.register_version(
        version="physics-lora-1", path=adapter_dir, course=course, base=world["base"], activate=True,
        metrics={"evaluation": {"course": {"macro_f1": 0.71}, "global": {"macro_f1": 0.62}}},
    )
    TrainingRun.objects.filter(pk=run.pk).update(
        status="succeeded", progress=1.0, version=version, message="Promoted physics-lora-1",
        result={"decision": "promoted", "reasons": ["course macro-F1 improved 0.650 → 0.710"],
                "champion": {"version": "grader-minilm-v1", "course": {"macro_f1": 0.65}, "global": {"macro_f1": 0.63}},
                "challenger": {"version": "physics-lora-1", "course": {"macro_f1": 0.71}, "global": {"macro_f1": 0.62}},
                "data": {"train": 412, "holdout": 103}},
    )
    # Finished: the page reloads itself and shows the decision and the new serving version.
    expect(page.get_by_text("course macro-F1 improved 0.650 → 0.710")).to_be_visible()
    expect(page.get_by_text("this course's own version")).to_be_visible()
    expect(page.get_by_role("button", name="Retrain the grader")).to_be_visible()
    screenshot(page, "tutor_course_grader_done.png")
    assert page.js_errors == []

    page.get_by_role("button", name="Log out").click()
    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Model registry").click()
    expect(page.get_by_role("heading", name="Model registry")).to_be_visible()
    expect(page.locator(f"#course-{course.slug} svg.chart")).to_have_count(1)  # the course's versions
    screenshot(page, "tutor_model_registry.png")
    page.locator(f"#course-{course.slug}").get_by_role("button", name="Roll back").click()
    expect(page.get_by_text("Rolled back: grader-minilm-v1 now grades Physical science")).to_be_visible()
    assert ml_registry.active_version(course_id=course.pk).version == "grader-minilm-v1"


def test_a_teacher_regrades_the_course_and_the_card_follows_the_run(live_server, world, monkeypatch, page):
    from student_model import regrading
    from student_model.models import Grade, RegradeRun, Submission

    started: list[int] = []
    monkeypatch.setattr(regrading, "_dispatch", started.append)
    expect = sync_api.expect
    course = world["course"]
    question = factories.QuestionFactory(course=course, prompt="How did you separate the salt from the water?")
    for answer in ("Evaporation.", "A magnet."):
        submission = factories.SubmissionFactory(question=question, answer=answer, status=Submission.Status.GRADED)
        factories.GradeFactory(submission=submission, source=Grade.Source.MODEL, model_version="grader-minilm-v1")
    sign_in(page, live_server.url, "ms-frizzle")
    page.goto(f"{live_server.url}/courses/{course.slug}/grader/")

    page.get_by_role("button", name="Regrade").click()
    expect(page.get_by_text("Regrading the course's 2 model-graded answers.")).to_be_visible()
    run = RegradeRun.objects.get()
    assert started == [run.pk]
    expect(page.locator("[data-regrade-count]")).to_have_text("0 / 2")

    # A worker takes it: the card follows without a reload.
    RegradeRun.objects.filter(pk=run.pk).update(status="running", done=1, message="Regrading.")
    expect(page.locator("[data-regrade-count]")).to_have_text("1 / 2")
    expect(page.locator("[data-regrade-status]")).to_have_text("Running")
    assert float(page.locator("[data-regrade-progress]").evaluate("el => el.value")) == pytest.approx(0.5)

    RegradeRun.objects.filter(pk=run.pk).update(
        status="succeeded", done=2, message=("Regraded 2 answers with grader-minilm-v1: 1 changed; "
                                          "0 kept the grade a teacher gave, confirmed or released.")
    )
    # Finished: the page reloads itself, the form is back and the run is listed with its outcome.
    expect(page.get_by_text("Regraded 2 answers with grader-minilm-v1: 1 changed")).to_be_visible()
    expect(page.get_by_role("button", name="Regrade")).to_be_visible()
    assert page.js_errors == []
