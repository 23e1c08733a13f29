"""Mastery per skill from graded submissions (knowledge tracing in the product).

Flow: ``record_grade`` commits -> :func:`record_graded_submission` -> the course's active tracer
(fitted lazily as BKT on the course's history the first time) replays the learner's released
attempts on the question's skills -> ``SkillMastery`` (current estimate) and ``MasteryEvent``
(one per attempt and skill, for trends). Replaying the whole sequence, not just the new answer,
means a teacher's override of an earlier outcome rewrites that skill's events from that point.
A bulk regrade stores its grades without this per-grade update and calls
:func:`record_regraded_answers` once at its end: one replay per learner.

Retraining: when a course's released interactions have grown by ``retrain_every`` since the
active tracer was fitted (or cross the Transformer threshold), ``retrain_course_tracer`` is queued
on the ``training`` queue; :func:`fit_tracer` fits, records a ``TracerVersion``, activates it and
recomputes every learner's mastery with it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction

from domain.models import Course, Skill
from tutor.ml.registry import new_version_name, version_dir
from tutor.ml.tracing.course import (
    CourseTracer,
    CourseTracerConfig,
    bkt_parameters,
    fit_course_tracer,
    load_course_tracer,
)

from . import mastery_selectors as selectors
from .models import MasteryEvent, SkillMastery, Submission, TracerVersion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MasteryConfig:
    retrain_every: int = 200  # new released interactions before the course's tracer is refitted
    tracer: CourseTracerConfig = field(default_factory=CourseTracerConfig)


def mastery_config() -> MasteryConfig:
    """Defaults, with overrides from the optional ``TUTOR_MASTERY`` setting (a dict)."""
    overrides = dict(getattr(settings, "TUTOR_MASTERY", {}))
    tracer_overrides = overrides.pop("tracer", {})
    config = MasteryConfig(**overrides)
    return replace(config, tracer=replace(config.tracer, **tracer_overrides)) if tracer_overrides else config


def tracer_root():
    return settings.MODEL_DIR / "tracer"


# ------------------------------------------------------------------------- the active tracer

_loaded: dict[str, CourseTracer] = {}
_lock = threading.Lock()


def _load(version: TracerVersion) -> CourseTracer:
    with _lock:
        tracer = _loaded.get(version.version)
        if tracer is None:
            tracer = load_course_tracer(
                version.kind, path=version.path or None, parameters=version.parameters or None,
                probe_questions=mastery_config().tracer.probe_questions,
            )
            _loaded[version.version] = tracer
        return tracer


def course_tracer(*, course: Course) -> CourseTracer:
    """The course's active tracer, loaded once per process (BKT with initial parameters when none yet)."""
    version = selectors.active_tracer_version(course=course)
    if version is None:
        return load_course_tracer("bkt")
    return _load(version)


def ensure_active_tracer(*, course: Course) -> TracerVersion:
    """The course's active tracer version; fits BKT on the course's history the first time."""
    version = selectors.active_tracer_version(course=course)
    return version or fit_tracer(course=course, kind="bkt")


# ------------------------------------------------------------------------------------ fitting


@transaction.atomic
def _activate(*, course: Course, version: TracerVersion) -> TracerVersion:
    TracerVersion.objects.select_for_update().filter(course=course, is_active=True).update(is_active=False)
    version.is_active = True
    version.full_clean()
    version.save()
    return version


def fit_tracer(*, course: Course, kind: str = "auto", recompute: bool = True) -> TracerVersion:
    """Fit a tracer on the course's released history, store and activate it, and (unless
    ``recompute=False``) recompute every learner's mastery with it."""
    config = mastery_config().tracer
    attempts = selectors.released_attempts(course=course)
    histories = [[a.as_attempt() for a in rows] for rows in attempts.values()]
    result = fit_course_tracer(histories, config, kind=kind)
    name = new_version_name(f"tracer-{course.slug}"[:60])
    version = TracerVersion(
        course=course, kind=result.tracer.kind, version=name, metrics=result.metrics,
        interactions=result.interactions,
    )
    if result.tracer.kind == "bkt":
        version.parameters = bkt_parameters(result.tracer)
    else:
        path = version_dir(tracer_root(), "transformer", name)
        result.tracer.save(path)
        version.path = str(path)
        version.parameters = {"probe_questions": config.probe_questions}
    version = _activate(course=course, version=version)
    with _lock:
        _loaded[version.version] = result.tracer
    logger.info("Tracer %s (%s) active for %s: %s", name, version.kind, course.slug, result.metrics.get("why"))
    if recompute:
        recompute_course_mastery(course=course)
    return version


def retraining_due(*, course: Course) -> bool:
    """Whether enough new history has come in since the active tracer was fitted."""
    version = selectors.active_tracer_version(course=course)
    if version is None:
        return False
    config = mastery_config()
    now = selectors.released_interaction_count(course=course)
    if now - version.interactions >= config.retrain_every:
        return True
    # enough history for the Transformer, and it was never tried against BKT on it
    if version.kind != "bkt" or "transformer" in version.metrics:
        return False
    return (
        now >= config.tracer.transformer_min_interactions
        and selectors.released_student_count(course=course) >= config.tracer.transformer_min_students
    )


# ---------------------------------------------------------------------------- mastery updates


def record_graded_submission(*, submission_id: int) -> None:
    """Update the learner's mastery of the question's skills from the submission's current grade.

    Only released grades count (status ``graded``); a submission held for review changes nothing
    until a teacher releases it.
    """
    submission = Submission.objects.select_related("question__course").filter(pk=submission_id).first()
    if submission is None or submission.status != Submission.Status.GRADED:
        return
    skill_ids = list(submission.question.skills.values_list("pk", flat=True))
    if not skill_ids:
        return
    course = submission.question.course
    ensure_active_tracer(course=course)
    update_student_mastery(course=course, student_id=submission.student_id, skill_ids=skill_ids)
    if retraining_due(course=course):
        transaction.on_commit(lambda: _queue_retraining(course.pk))


def record_regraded_answers(*, course: Course, skills_by_student: dict[int, set[int]]) -> None:
    """After a bulk regrade: each learner's mastery of the regraded questions' skills, replayed once rather
    than once per regraded answer. ``skills_by_student``: student id -> skill ids."""
    skills_by_student = {student_id: ids for student_id, ids in skills_by_student.items() if ids}
    if not skills_by_student:
        return
    ensure_active_tracer(course=course)
    for student_id, skill_ids in sorted(skills_by_student.items()):
        update_student_mastery(course=course, student_id=student_id, skill_ids=sorted(skill_ids))
    if retraining_due(course=course):
        transaction.on_commit(lambda: _queue_retraining(course.pk))


def _queue_retraining(course_id: int) -> None:
    from .tasks import retrain_course_tracer

    try:
        retrain_course_tracer.delay(course_id)
    except Exception:  # broker down: the next graded answer asks again
        logger.exception("Could not queue retraining of the tracer of course %s.", course_id)


@transaction.atomic
def update_student_mastery(*, course: Course, student_id: int, skill_ids: list[int] | None = None) -> None:
    """Replay the learner's released attempts with the active tracer and store the estimates of
    ``skill_ids`` (all practised skills when None): ``SkillMastery`` rows and their events."""
    attempts = selectors.released_attempts(course=course, student_id=student_id).get(student_id, [])
    version = selectors.active_tracer_version(course=course)
    tracer = course_tracer(course=course)
    skill_qs = selectors.skill_questions(course=course)
    steps = tracer.replay([a.as_attempt() for a in attempts], skill_qs)
    practised = {k for a in attempts for k in a.skills}
    targets = practised if skill_ids is None else set(skill_ids)
    for skill_id in targets:
        rows = [
            (attempt, step[skill_id]) for attempt, step in zip(attempts, steps) if skill_id in step
        ]
        _store_skill(student_id=student_id, skill_id=skill_id, rows=rows,
                     tracer_name=version.version if version else "")


def _store_skill(*, student_id: int, skill_id: int, rows, tracer_name: str) -> None:
    """Make the skill's events match ``rows`` (append when only new attempts came in; rewrite from
    the first difference when an earlier outcome changed) and update the SkillMastery row."""
    existing = list(MasteryEvent.objects.filter(student_id=student_id, skill_id=skill_id).order_by("created_at", "id"))
    keep = 0
    for event, (attempt, (before, after)) in zip(existing, rows):
        same = (
            event.submission_id == attempt.submission_id
            and event.correct == attempt.correct
            and abs(event.p_before - before) < 1e-6
            and abs(event.p_after - after) < 1e-6
        )
        if not same:
            break
        keep += 1
    stale = [e.pk for e in existing[keep:]]
    if stale:
        MasteryEvent.objects.filter(pk__in=stale).delete()
    new_events = [
        MasteryEvent(
            student_id=student_id, skill_id=skill_id, submission_id=attempt.submission_id,
            correct=attempt.correct, p_before=before, p_after=after, created_at=attempt.submitted_at,
        )
        for attempt, (before, after) in rows[keep:]
    ]
    for event in new_events:
        event.full_clean()
    MasteryEvent.objects.bulk_create(new_events)

    if not rows:
        SkillMastery.objects.filter(student_id=student_id, skill_id=skill_id).delete()
        return
    last_attempt, (_, p_after) = rows[-1]
    values = {
        "p_mastery": min(1.0, max(0.0, p_after)),
        "attempts": len(rows),
        "correct": sum(1 for attempt, _ in rows if attempt.correct),
        "last_practiced_at": last_attempt.submitted_at,
        "tracer_version": tracer_name,
    }
    mastery = SkillMastery.objects.filter(student_id=student_id, skill_id=skill_id).first() or SkillMastery(
        student_id=student_id, skill_id=skill_id
    )
    for name, value in values.items():
        setattr(mastery, name, value)
    mastery.full_clean()
    mastery.save()


def recompute_course_mastery(*, course: Course) -> int:
    """Every learner's mastery of every practised skill with the active tracer; returns learners updated."""
    attempts = selectors.released_attempts(course=course)
    version = ensure_active_tracer(course=course)
    tracer = course_tracer(course=course)
    skill_qs = selectors.skill_questions(course=course)
    masteries, events = [], []
    all_steps = tracer.replay_many([[a.as_attempt() for a in rows] for rows in attempts.values()], skill_qs)
    for (student_id, rows), steps in zip(attempts.items(), all_steps):
        last: dict[int, tuple] = {}
        for attempt, step in zip(rows, steps):
            for skill_id, (before, after) in step.items():
                events.append(MasteryEvent(
                    student_id=student_id, skill_id=skill_id, submission_id=attempt.submission_id,
                    correct=attempt.correct, p_before=before, p_after=after, created_at=attempt.submitted_at,
                ))
                count, right, _, _ = last.get(skill_id, (0, 0, None, None))
                last[skill_id] = (count + 1, right + int(attempt.correct), after, attempt.submitted_at)
        for skill_id, (count, right, p, when) in last.items():
            masteries.append(SkillMastery(
                student_id=student_id, skill_id=skill_id, p_mastery=min(1.0, max(0.0, p)), attempts=count,
                correct=right, last_practiced_at=when, tracer_version=version.version,
            ))
    with transaction.atomic():
        skills = Skill.objects.filter(course=course)
        MasteryEvent.objects.filter(skill__in=skills).delete()
        SkillMastery.objects.filter(skill__in=skills).delete()
        MasteryEvent.objects.bulk_create(events, batch_size=1000)
        SkillMastery.objects.bulk_create(masteries, batch_size=1000)
    return len(attempts)
