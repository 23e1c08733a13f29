"""Risk of not reaching mastery in the current unit: score, level, reasons in words, ordering."""

import pytest

from student_model import risk
from tests import factories

from .mastery_helpers import answer, days_ago, small_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MODEL_DIR = tmp_path
    w = small_course()
    w.strong = factories.UserFactory(username="strong")
    factories.EnrollmentFactory(user=w.strong, course=w.course, role="student")
    w.idle = factories.UserFactory(username="idle")
    factories.EnrollmentFactory(user=w.idle, course=w.course, role="student")
    return w


def test_struggling_student_ranks_above_a_strong_one_with_reasons(world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    for i in range(4):  # strong: right every time, recently
        answer(capture, world.strong, world.q["b1" if i % 2 else "b2"], correct=True, when=days_ago(4 - i))
    for i, correct in enumerate([True, False, False, False]):  # falling, and quiet for ten days
        answer(capture, world.student, world.q["b1"], correct=correct, when=days_ago(14 - i))

    risks = risk.course_risk_list(course=world.course)
    assert [r.student.username for r in risks][:1] != ["strong"]
    by_name = {r.student.username: r for r in risks}
    weak, strong = by_name["ada"], by_name["strong"]
    assert weak.score > strong.score
    assert weak.level in ("high", "medium") and strong.level == "low"
    assert weak.unit == world.units[0]
    assert weak.trend < 0 and strong.trend > 0
    text = " ".join(weak.reasons)
    assert "below the 80% target" in text
    assert "Mastery fell by" in text
    assert "No practice for 10 days" in text  # counted to the course's latest answer
    assert len(weak.reasons) <= 3
    assert [r.score for r in risks] == sorted((r.score for r in risks), reverse=True)


def test_a_student_who_never_practised_is_told_so(world, django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.strong, world.q["b1"], correct=True)
    idle = risk.student_risk(course=world.course, student=world.idle)
    assert idle.days_idle is None and idle.unit == world.units[0]
    assert "No practice yet." in idle.reasons
    assert any("2 of 2 skills" in r or "1 of 1 skills" in r for r in idle.reasons)


def test_current_unit_follows_the_latest_practice(world, django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True, when=days_ago(2))
    answer(django_capture_on_commit_callbacks, world.student, world.q["l1"], correct=False, when=days_ago(1))
    assert risk.student_risk(course=world.course, student=world.student).unit == world.units[1]
