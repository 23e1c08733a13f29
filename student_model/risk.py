"""Risk that a learner does not reach mastery in their current unit, with the reasons in words.

Reads only. For each learner: the current unit is the unit of the skill they practised last (the
course's first unit before any practice). Four signals, each scaled to 0..1:

* gap: how far the mean predicted mastery of the unit's skills is below the target;
* decline: how much the estimates fell over the learner's last answers (the trend);
* inactivity: days without practice, counted to the course's latest activity (so an archived
  term's history is judged against its own calendar, a live course against today);
* coverage: the share of the unit's skills never practised.

The score is their weighted sum (``RiskConfig``); the reasons are the signals that contribute
most, each one sentence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils import timezone

from domain.models import Course, Skill, Unit

from . import mastery_selectors
from .models import MasteryEvent, SkillMastery, Submission


@dataclass(frozen=True)
class RiskConfig:
    target: float = 0.8
    trend_window: int = 5  # last answers the trend is measured over
    idle_days_full: float = 14.0  # this many idle days count as fully inactive
    weights: dict = field(default_factory=lambda: {"gap": 0.5, "decline": 0.2, "inactivity": 0.2, "coverage": 0.1})
    high: float = 0.55
    medium: float = 0.3


@dataclass(frozen=True)
class StudentRisk:
    student: AbstractBaseUser
    unit: Unit | None
    score: float  # 0 (on track) .. 1
    level: str  # "high" | "medium" | "low"
    mastery: float  # mean predicted mastery of the unit's skills
    trend: float  # change of the estimates over the last answers (+ rising, - falling)
    days_idle: float | None  # None: never practised
    reasons: list[str]


def _level(score: float, config: RiskConfig) -> str:
    return "high" if score >= config.high else "medium" if score >= config.medium else "low"


def _course_clock(course: Course) -> datetime:
    latest = Submission.objects.filter(question__course=course).aggregate(at=Max("submitted_at"))["at"]
    return min(timezone.now(), latest) if latest else timezone.now()


def _pct(value: float) -> str:
    return f"{round(100 * value)}%"


def _assess(student, *, skills: list[Skill], units: list[Unit], stored: dict[int, SkillMastery],
            priors: dict[int, float], deltas: list[float], clock: datetime, config: RiskConfig) -> StudentRisk:
    practised = [m for m in stored.values() if m.last_practiced_at]
    by_skill = {s.pk: s for s in skills}
    if practised:
        latest = max(practised, key=lambda m: (m.last_practiced_at, m.pk))
        unit_id = by_skill[latest.skill_id].unit_id if latest.skill_id in by_skill else None
    else:
        unit_id = next((s.unit_id for s in skills if s.unit_id), None)
    unit = next((u for u in units if u.pk == unit_id), None)
    unit_skills = [s for s in skills if s.unit_id == unit_id] or skills
    values = [stored[s.pk].p_mastery if s.pk in stored else priors.get(s.pk, 0.0) for s in unit_skills]
    mastery = sum(values) / len(values) if values else 0.0
    trend = sum(deltas[-config.trend_window:])
    last = max((m.last_practiced_at for m in practised), default=None)
    days_idle = max(0.0, (clock - last).total_seconds() / 86400) if last else None
    unpractised = [s for s in unit_skills if s.pk not in stored]

    w = config.weights
    gap = max(0.0, min(1.0, (config.target - mastery) / config.target))
    decline = max(0.0, min(1.0, -trend / 0.3))
    inactivity = 1.0 if days_idle is None else min(1.0, days_idle / config.idle_days_full)
    coverage = len(unpractised) / len(unit_skills) if unit_skills else 0.0
    where = f"unit {unit.order} ({unit.title})" if unit else "the course"
    signals = [
        (w["gap"] * gap, f"Predicted mastery of {where} is {_pct(mastery)}, below the {_pct(config.target)} target."),
        (w["decline"] * decline, f"Mastery fell by {round(-100 * trend)} points over the last "
                                 f"{min(len(deltas), config.trend_window)} answers."),
        (w["inactivity"] * inactivity, "No practice yet." if days_idle is None
         else f"No practice for {round(days_idle)} day{'s' if round(days_idle) != 1 else ''}."),
        (w["coverage"] * coverage, f"{len(unpractised)} of {len(unit_skills)} skills in {where} not practised yet."),
    ]
    score = sum(c for c, _ in signals)
    reasons = [text for c, text in sorted(signals, key=lambda s: -s[0]) if c >= 0.02][:3]
    if not reasons:
        reasons = [f"On track: predicted mastery of {where} is {_pct(mastery)} and practice is regular."]
    return StudentRisk(student, unit, round(score, 4), _level(score, config), mastery, trend, days_idle, reasons)


def course_risk_list(*, course: Course, students: list[AbstractBaseUser] | None = None,
                     config: RiskConfig | None = None) -> list[StudentRisk]:
    """Risk of each of the course's students (or ``students``), highest first."""
    config = config or RiskConfig()
    students = list(students if students is not None else mastery_selectors.course_students(course=course))
    ids = [s.pk for s in students]
    skills = list(Skill.objects.filter(course=course))
    units = list(Unit.objects.filter(course=course))
    stored: dict[int, dict[int, SkillMastery]] = defaultdict(dict)
    for m in SkillMastery.objects.filter(skill__course=course, student_id__in=ids):
        stored[m.student_id][m.skill_id] = m
    deltas: dict[int, list[float]] = defaultdict(list)
    for student_id, before, after in MasteryEvent.objects.filter(
        skill__course=course, student_id__in=ids
    ).order_by("created_at", "id").values_list("student_id", "p_before", "p_after"):
        deltas[student_id].append(after - before)
    priors = mastery_selectors.tracer_priors(course=course)
    clock = _course_clock(course)
    risks = [
        _assess(s, skills=skills, units=units, stored=stored[s.pk], priors=priors, deltas=deltas[s.pk],
                clock=clock, config=config)
        for s in students
    ]
    return sorted(risks, key=lambda r: (-r.score, r.student.get_username()))


def student_risk(*, course: Course, student: AbstractBaseUser, config: RiskConfig | None = None) -> StudentRisk:
    return course_risk_list(course=course, students=[student], config=config)[0]
