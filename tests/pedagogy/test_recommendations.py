"""Next steps: skill (prerequisites first), question at the right difficulty, resources matched to
wrong answers, spaced review; and the end-to-end path from graded answers to a changed recommendation."""

import pytest

from pedagogy.recommendations import RecommendationConfig, recommend_next_steps
from student_model import mastery_selectors
from tests import factories
from tests.student_model.mastery_helpers import answer, days_ago, small_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(qa_model_dir):
    w = small_course()
    w.printing = factories.ResourceFactory(
        course=w.course, unit=w.units[0], title="Printing output", external_id="printing",
        body="# Printing\n\nThe print function writes text to the screen. Call print with the value to show.",
    )
    w.printing.skills.add(w.basics)
    w.variables = factories.ResourceFactory(
        course=w.course, unit=w.units[0], title="Variables and names", external_id="variables",
        body="# Variables\n\nA variable is a name that refers to a value stored in memory. Assignment binds the name.",
    )
    w.variables.skills.add(w.basics)
    w.loops_reading = factories.ResourceFactory(
        course=w.course, unit=w.units[1], title="Loops", external_id="loops",
        body="# Loops\n\nA for loop repeats its body once for every item of a sequence.",
    )
    w.loops_reading.skills.add(w.loops)
    return w


def steps_by_kind(world, **kwargs):
    steps = recommend_next_steps(student=world.student, course=world.course, limit=10, **kwargs)
    out = {}
    for step in steps:
        out.setdefault(step.kind, []).append(step)
    return steps, out


def test_wrong_then_right_answers_move_mastery_and_change_the_recommendation(world, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    answer(capture, world.student, world.q["b1"], correct=False, when=days_ago(0.3),
           text="It keeps a number in memory and gives it a name.")
    after_wrong = mastery_selectors.skill_mastery_list(course=world.course).get(skill=world.basics).p_mastery
    steps, kinds = steps_by_kind(world)
    assert steps[0].kind == "skill" and steps[0].title == "Basics"  # Loops needs Basics first
    assert "prerequisites" not in steps[0].reason and "needs no other skill first" in steps[0].reason
    assert kinds["question"][0].skill == "Basics"
    # the wrong answer talked about names and memory: the variables reading is the closest passage
    resources = kinds["resource"]
    assert resources[0].title == "Variables and names"
    assert "What does print do?" in resources[0].reason

    levels = [after_wrong]
    for i in range(4):
        answer(capture, world.student, world.q["b2" if i % 2 else "b1"], correct=True, when=days_ago(0.2 - i * 0.01))
        levels.append(mastery_selectors.skill_mastery_list(course=world.course).get(skill=world.basics).p_mastery)
        if levels[-1] >= RecommendationConfig().target:
            break
    assert levels == sorted(levels) and levels[-1] > levels[0]  # every right answer raised it
    assert levels[-1] >= RecommendationConfig().target
    steps, kinds = steps_by_kind(world)
    assert steps[0].kind == "skill" and steps[0].title == "Loops"
    assert "its prerequisites are in place" in steps[0].reason
    assert kinds["question"][0].url.endswith((f"/questions/{world.q['l1'].pk}/", f"/questions/{world.q['l2'].pk}/"))
    assert kinds["resource"][0].title == "Loops"


def test_question_is_chosen_for_predicted_success_in_the_band(world, django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.student, world.q["b2"], correct=False, when=days_ago(2))
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True, when=days_ago(1))
    _, kinds = steps_by_kind(world)
    assert kinds["skill"][0].title == "Basics"
    question = kinds["question"][0]
    assert question.score is not None and 0 <= question.score <= 1
    low, high = RecommendationConfig().success_band
    if low <= question.score <= high:
        assert "chance you answer it correctly" in question.reason
    else:
        assert "closest to the right difficulty" in question.reason
    # the question already answered right comes last
    assert question.url.endswith(f"/questions/{world.q['b2'].pk}/")


def test_review_is_recommended_for_a_skill_left_alone_too_long(world, django_capture_on_commit_callbacks):
    for i in range(4):
        answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True, when=days_ago(40 - i))
    _, kinds = steps_by_kind(world)
    review = kinds["review"][0]
    assert review.title == "Review Basics"
    assert "days ago" in review.reason and "review" in review.reason
    assert review.url.endswith(f"/questions/{world.q['b1'].pk}/")


def test_every_recommendation_has_a_link_and_one_sentence(world, django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=False)
    steps = recommend_next_steps(student=world.student, course=world.course, limit=3)
    assert len(steps) == 3
    for step in steps:
        assert step.url.startswith("/courses/py/")
        assert step.reason.endswith(".") and step.reason.count(". ") == 0
