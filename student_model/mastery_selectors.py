"""Reads of mastery: learners' attempt histories, current estimates, and the class heatmap.

Only released outcomes count: a submission whose status is ``graded``, judged by its latest
grade (a teacher's override replaces the model's verdict). An answer is right when that
grade's verdict is ``correct``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, QuerySet, Subquery

from domain.models import Course, Enrollment, Question, Skill
from tutor.ml.tracing.course import Attempt

from .models import Grade, SkillMastery, Submission, TracerVersion


@dataclass(frozen=True)
class GradedAttempt:
    submission_id: int
    student_id: int
    question_id: int
    skills: tuple[int, ...]
    correct: bool
    submitted_at: datetime

    def as_attempt(self) -> Attempt:
        return Attempt(self.question_id, self.skills, self.correct)


def question_skills(*, course: Course) -> dict[int, tuple[int, ...]]:
    """Each question of the course with its skill ids (questions without skills are left out)."""
    out: dict[int, list[int]] = defaultdict(list)
    for question_id, skill_id in Question.skills.through.objects.filter(question__course=course).values_list(
        "question_id", "skill_id"
    ):
        out[question_id].append(skill_id)
    return {q: tuple(sorted(s)) for q, s in out.items()}


def skill_questions(*, course: Course) -> dict[int, list[int]]:
    """Every skill of the course with its question ids (possibly none)."""
    out: dict[int, list[int]] = {k: [] for k in Skill.objects.filter(course=course).values_list("pk", flat=True)}
    for question_id, skills in question_skills(course=course).items():
        for skill in skills:
            out.setdefault(skill, []).append(question_id)
    return out


def released_attempts(*, course: Course, student_id: int | None = None) -> dict[int, list[GradedAttempt]]:
    """Released, graded attempts on questions with skills, per student, in time order."""
    skills = question_skills(course=course)
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    qs = Submission.objects.filter(
        question__course=course, status=Submission.Status.GRADED, question_id__in=list(skills)
    ).annotate(verdict=Subquery(latest.values("verdict")[:1]))
    if student_id is not None:
        qs = qs.filter(student_id=student_id)
    out: dict[int, list[GradedAttempt]] = defaultdict(list)
    rows = qs.order_by("submitted_at", "id").values_list("pk", "student_id", "question_id", "verdict", "submitted_at")
    for pk, student, question, verdict, submitted_at in rows:
        if verdict is None:
            continue
        out[student].append(
            GradedAttempt(pk, student, question, skills[question], verdict == Grade.Verdict.CORRECT, submitted_at)
        )
    return dict(out)


def released_interaction_count(*, course: Course) -> int:
    return Submission.objects.filter(
        question__course=course, status=Submission.Status.GRADED, question__skills__isnull=False
    ).values("pk").distinct().count()


def released_student_count(*, course: Course) -> int:
    return Submission.objects.filter(
        question__course=course, status=Submission.Status.GRADED, question__skills__isnull=False
    ).values("student_id").distinct().count()


def active_tracer_version(*, course: Course) -> TracerVersion | None:
    return TracerVersion.objects.filter(course=course, is_active=True).first()


def skill_mastery_list(*, course: Course, student_ids: list[int] | None = None) -> QuerySet[SkillMastery]:
    qs = SkillMastery.objects.filter(skill__course=course).select_related("skill", "student")
    if student_ids is not None:
        qs = qs.filter(student_id__in=student_ids)
    return qs


def tracer_priors(*, course: Course) -> dict[int, float]:
    """The active tracer's starting estimate per skill (what an unpractised skill shows)."""
    from .mastery import course_tracer  # the loaded tracer is cached per process by the writes module

    tracer = course_tracer(course=course)
    return tracer.mastery([], skill_questions(course=course))


@dataclass(frozen=True)
class SkillEstimate:
    skill: Skill
    p_mastery: float
    attempts: int
    correct: int
    last_practiced_at: datetime | None
    practised: bool


def student_mastery(*, course: Course, student: AbstractBaseUser) -> list[SkillEstimate]:
    """Every skill of the course, in course order, with the learner's estimate (the prior when unpractised)."""
    stored = {m.skill_id: m for m in SkillMastery.objects.filter(student=student, skill__course=course)}
    priors = tracer_priors(course=course) if len(stored) < Skill.objects.filter(course=course).count() else {}
    out = []
    for skill in Skill.objects.filter(course=course).select_related("unit").prefetch_related("prerequisites"):
        m = stored.get(skill.pk)
        if m is not None:
            out.append(SkillEstimate(skill, m.p_mastery, m.attempts, m.correct, m.last_practiced_at, True))
        else:
            out.append(SkillEstimate(skill, float(priors.get(skill.pk, 0.0)), 0, 0, None, False))
    return out


def course_students(*, course: Course) -> QuerySet:
    """The course's students (enrolled with the student role), by username."""
    return get_user_model().objects.filter(
        enrollments__course=course, enrollments__role=Enrollment.Role.STUDENT
    ).order_by("username")


def is_course_student(*, course: Course, student_id: int) -> bool:
    return Enrollment.objects.filter(course=course, user_id=student_id, role=Enrollment.Role.STUDENT).exists()


@dataclass(frozen=True)
class Heatmap:
    skills: list[Skill]
    rows: list[tuple[AbstractBaseUser, list[float | None]]]  # None: never practised


def class_heatmap(*, course: Course, students: list[AbstractBaseUser], unit_id: int | None = None) -> Heatmap:
    """Mastery of ``students`` (rows, in the given order) × the course's skills, or one unit's (columns)."""
    skills = Skill.objects.filter(course=course).select_related("unit")
    skills = list(skills.filter(unit_id=unit_id) if unit_id is not None else skills)
    values: dict[tuple[int, int], float] = {
        (m.student_id, m.skill_id): m.p_mastery
        for m in SkillMastery.objects.filter(skill__course=course, student__in=[s.pk for s in students])
    }
    rows = [(s, [values.get((s.pk, k.pk)) for k in skills]) for s in students]
    return Heatmap(skills, rows)


@dataclass(frozen=True)
class WrongAnswer:
    submission_id: int
    student_id: int
    question_id: int
    question_prompt: str
    answer: str
    verdict: str
    submitted_at: datetime


def wrong_answers(*, course: Course, student_id: int | None = None, question_ids: list[int] | None = None,
                  limit: int | None = None) -> list[WrongAnswer]:
    """Released answers whose current grade is not ``correct``, newest first."""
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    qs = (
        Submission.objects.filter(question__course=course, status=Submission.Status.GRADED)
        .annotate(verdict=Subquery(latest.values("verdict")[:1]))
        .exclude(verdict=Grade.Verdict.CORRECT)
        .exclude(verdict__isnull=True)
        .order_by("-submitted_at", "-id")
    )
    if student_id is not None:
        qs = qs.filter(student_id=student_id)
    if question_ids is not None:
        qs = qs.filter(question_id__in=question_ids)
    rows = qs.values_list("pk", "student_id", "question_id", "question__prompt", "answer", "verdict", "submitted_at")
    if limit is not None:
        rows = rows[:limit]
    return [WrongAnswer(*row) for row in rows]


@dataclass(frozen=True)
class ReleasedGrade:
    submission_id: int
    question_id: int
    question_prompt: str
    max_points: float
    submitted_at: datetime
    score: float
    verdict: str
    feedback: str

    @property
    def verdict_label(self) -> str:
        return Grade.Verdict(self.verdict).label


def released_grades(*, course: Course, student_id: int, limit: int = 10) -> list[ReleasedGrade]:
    """The learner's latest released grades in the course (status ``graded``), newest first."""
    latest = Grade.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    rows = (
        Submission.objects.filter(question__course=course, student_id=student_id, status=Submission.Status.GRADED)
        .annotate(
            score=Subquery(latest.values("score")[:1]),
            verdict=Subquery(latest.values("verdict")[:1]),
            feedback=Subquery(latest.values("feedback")[:1]),
        )
        .exclude(verdict__isnull=True)
        .order_by("-submitted_at", "-id")
        .values_list("pk", "question_id", "question__prompt", "question__max_points", "submitted_at",
                     "score", "verdict", "feedback")[:limit]
    )
    return [ReleasedGrade(*row) for row in rows]
