"""Mastery updates from graded submissions: released grades only, events, overrides, tracer versions."""

import pytest
from django.core.management import call_command

from student_model import mastery, mastery_selectors, services
from student_model.models import MasteryEvent, SkillMastery, TracerVersion

from .mastery_helpers import answer, days_ago, small_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MODEL_DIR = tmp_path
    return small_course()


def estimate(world, skill):
    return SkillMastery.objects.get(student=world.student, skill=skill).p_mastery


def test_first_grade_fits_a_bkt_tracer_and_stores_mastery_and_an_event(world, django_capture_on_commit_callbacks):
    submission = answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=False)
    prior = mastery_selectors.tracer_priors(course=world.course)[world.basics.pk]  # of the tracer just fitted

    version = TracerVersion.objects.get(course=world.course)
    assert version.is_active and version.kind == "bkt" and version.interactions == 1
    row = SkillMastery.objects.get(student=world.student, skill=world.basics)
    assert row.p_mastery < prior
    assert (row.attempts, row.correct, row.tracer_version) == (1, 0, version.version)
    event = MasteryEvent.objects.get(student=world.student, skill=world.basics)
    assert (event.submission, event.correct) == (submission, False)
    assert event.p_before == pytest.approx(prior) and event.p_after == pytest.approx(row.p_mastery)
    assert not SkillMastery.objects.filter(skill=world.loops).exists()


def test_wrong_then_right_moves_mastery_down_then_up(world, django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=False, when=days_ago(2))
    prior = mastery_selectors.tracer_priors(course=world.course)[world.basics.pk]
    after_wrong = estimate(world, world.basics)
    answer(django_capture_on_commit_callbacks, world.student, world.q["b2"], correct=True, when=days_ago(1))
    after_right = estimate(world, world.basics)
    assert after_wrong < prior < after_right
    events = list(MasteryEvent.objects.filter(student=world.student, skill=world.basics))
    assert [e.correct for e in events] == [False, True]
    assert events[1].p_before == pytest.approx(events[0].p_after)


def test_a_grade_held_for_review_changes_nothing_until_released(world, django_capture_on_commit_callbacks):
    submission = answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True,
                        status="needs_review")
    assert not SkillMastery.objects.exists() and not MasteryEvent.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the teacher accepts it
        services.record_grade(submission=submission, score=1.0, verdict="correct", source="teacher")
    assert SkillMastery.objects.get(student=world.student, skill=world.basics).correct == 1


def test_override_of_an_earlier_outcome_rewrites_the_skill_sequence(world, django_capture_on_commit_callbacks):
    first = answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=False, when=days_ago(3))
    answer(django_capture_on_commit_callbacks, world.student, world.q["b2"], correct=True, when=days_ago(2))
    before_override = estimate(world, world.basics)
    with django_capture_on_commit_callbacks(execute=True):  # the teacher overrides the first: it was right
        services.record_grade(submission=first, score=1.0, verdict="correct", source="teacher")
    events = list(MasteryEvent.objects.filter(student=world.student, skill=world.basics))
    assert [(e.submission_id, e.correct) for e in events] == [(first.pk, True), (events[1].submission_id, True)]
    assert events[1].p_before == pytest.approx(events[0].p_after)
    assert estimate(world, world.basics) > before_override
    assert SkillMastery.objects.get(student=world.student, skill=world.basics).correct == 2


def test_retraining_is_queued_when_enough_new_history_came_in(
    world, settings, django_capture_on_commit_callbacks, eager_celery
):
    settings.TUTOR_MASTERY = {"retrain_every": 2}
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=False, when=days_ago(3))
    first = TracerVersion.objects.get(is_active=True)
    answer(django_capture_on_commit_callbacks, world.student, world.q["b2"], correct=True, when=days_ago(2))
    assert TracerVersion.objects.get(is_active=True) == first  # one new interaction: not yet
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True, when=days_ago(1))
    active = TracerVersion.objects.get(is_active=True)  # eager Celery: the task ran
    assert active != first and active.interactions == 3
    assert TracerVersion.objects.filter(course=world.course).count() == 2
    assert SkillMastery.objects.get(student=world.student, skill=world.basics).tracer_version == active.version


def test_fit_tracer_command_fits_the_transformer_when_asked(world, settings, django_capture_on_commit_callbacks,
                                                            capsys):
    settings.TUTOR_MASTERY = {"tracer": {"transformer_min_students": 1}}
    for i, correct in enumerate([False, True, True, False, True]):
        answer(django_capture_on_commit_callbacks, world.student, world.q["b1" if i % 2 else "l1"], correct,
               when=days_ago(10 - i))
    other = world.student.__class__.objects.create(username="bob")
    world.course.enrollments.create(user=other, role="student")
    for i, correct in enumerate([True, False, True]):
        answer(django_capture_on_commit_callbacks, other, world.q["b2"], correct, when=days_ago(5 - i))
    from tutor.ml.tracing.transformer import TransformerConfig

    settings.TUTOR_MASTERY = {"tracer": {"transformer": TransformerConfig(d_model=8, n_heads=2, max_epochs=1),
                                         "holdout_fraction": 0.5}}
    call_command("fit_tracer", "--course", "py", "--kind", "transformer", "--json")
    version = TracerVersion.objects.get(is_active=True)
    assert version.kind == "transformer" and version.interactions == 8
    assert (settings.MODEL_DIR / "tracer" / "transformer" / version.version / "weights.pt").exists()
    assert '"kind": "transformer"' in capsys.readouterr().out
    rows = SkillMastery.objects.filter(tracer_version=version.version)
    assert rows.count() == 3  # ada: basics and loops; bob: basics
    assert all(0 <= r.p_mastery <= 1 for r in rows)
    assert MasteryEvent.objects.count() == 8


def test_fit_tracer_command_refuses_an_unknown_course(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No course"):
        call_command("fit_tracer", "--course", "nope")


def test_student_mastery_lists_every_skill_with_the_prior_for_unpractised_ones(world,
                                                                             django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True)
    rows = {e.skill.slug: e for e in mastery_selectors.student_mastery(course=world.course, student=world.student)}
    assert rows["basics"].practised and rows["basics"].attempts == 1
    assert not rows["loops"].practised
    assert rows["loops"].p_mastery == pytest.approx(mastery_selectors.tracer_priors(course=world.course)[world.loops.pk])


def test_recompute_rebuilds_every_learners_rows(world, django_capture_on_commit_callbacks):
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True, when=days_ago(1))
    SkillMastery.objects.all().delete()
    MasteryEvent.objects.all().delete()
    assert mastery.recompute_course_mastery(course=world.course) == 1
    assert SkillMastery.objects.count() == 1 and MasteryEvent.objects.count() == 1


def test_a_course_that_outgrew_bkt_gets_the_transformer_tried(
    world, settings, django_capture_on_commit_callbacks, eager_celery
):
    settings.TUTOR_MASTERY = {"tracer": {"transformer_min_interactions": 3, "transformer_min_students": 1}}
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=False, when=days_ago(3))
    answer(django_capture_on_commit_callbacks, world.student, world.q["b2"], correct=True, when=days_ago(2))
    assert not mastery.retraining_due(course=world.course)  # 2 answers: below the threshold
    answer(django_capture_on_commit_callbacks, world.student, world.q["b1"], correct=True, when=days_ago(1))
    # the third answer crossed the threshold: the retraining task ran (eagerly) and tried the Transformer
    versions = list(TracerVersion.objects.filter(course=world.course))
    assert len(versions) == 2
    active = TracerVersion.objects.get(is_active=True)
    assert "transformer" in active.metrics and active.metrics["chosen"] in ("bkt", "transformer")
    assert not mastery.retraining_due(course=world.course)  # tried once: not again until more history


def test_load_demo_fits_the_tracer_of_a_course_with_history(settings, tmp_path):
    from io import StringIO

    settings.MODEL_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", "--only", "computer-networks", stdout=out)
    version = TracerVersion.objects.get(course__slug="computer-networks", is_active=True)
    assert version.kind == "bkt" and version.interactions > 1000  # the test settings keep the demo on BKT
    assert "Bayesian Knowledge Tracing fitted on" in out.getvalue()
    assert SkillMastery.objects.filter(skill__course__slug="computer-networks").count() > 50
    assert MasteryEvent.objects.filter(skill__course__slug="computer-networks").count() == version.interactions
