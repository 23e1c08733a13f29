"""What the progress pages show, assembled from the student model's selectors (reads only)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator

from domain.models import Course, Unit
from student_model import mastery_selectors, risk

from . import progress_charts, study_groups
from .recommendations import RecommendationConfig, recommend_next_steps

MAX_CHART_SKILLS = 24
STUDENTS_PER_PAGE = 25


def student_progress(*, course: Course, student: AbstractBaseUser) -> dict:
    """Mastery per skill (chart), recent released grades with feedback, next steps and risk."""
    target = RecommendationConfig().target
    estimates = mastery_selectors.student_mastery(course=course, student=student)
    shown = [e for e in estimates if e.practised]
    shown += [e for e in estimates if not e.practised][: max(0, MAX_CHART_SKILLS - len(shown))]
    order = {e.skill.pk: i for i, e in enumerate(estimates)}
    shown.sort(key=lambda e: order[e.skill.pk])
    chart = progress_charts.mastery_bars([(e.skill.name, e.p_mastery, e.practised) for e in shown], target=target)
    grades = mastery_selectors.released_grades(course=course, student_id=student.pk, limit=8)
    version = mastery_selectors.active_tracer_version(course=course)
    return {
        "student": student,
        "estimates": shown,
        "hidden_skills": len(estimates) - len(shown),
        "chart": chart,
        "target": target,
        "mastered": sum(1 for e in estimates if e.p_mastery >= target),
        "skill_count": len(estimates),
        "grades": grades,
        "recommendations": recommend_next_steps(student=student, course=course, limit=6),
        "risk": risk.student_risk(course=course, student=student),
        "tracer": version,
    }


def class_overview(*, course: Course, page: int | str | None = 1, unit_id: int | str | None = None) -> dict:
    """Risk list and heatmap of one page of students (highest risk first), and study groups; with a
    unit chosen, only the students whose current unit it is and that unit's skills."""
    units = list(Unit.objects.filter(course=course).order_by("order"))
    unit = next((u for u in units if str(u.pk) == str(unit_id)), None) if unit_id else None
    risks = risk.course_risk_list(course=course)
    if unit is not None:
        risks = [r for r in risks if r.unit == unit]
    paginator = Paginator(risks, STUDENTS_PER_PAGE)
    page_obj = paginator.get_page(page)
    students = [r.student for r in page_obj.object_list]
    heatmap = mastery_selectors.class_heatmap(course=course, students=students, unit_id=unit.pk if unit else None)
    risk_by_student = {r.student.pk: r for r in page_obj.object_list}
    rows = [
        {
            "student": student,
            "risk": risk_by_student[student.pk],
            "cells": [{"value": v, "css": progress_charts.heat_class(v), "skill": k}
                      for v, k in zip(values, heatmap.skills)],
        }
        for student, values in heatmap.rows
    ]
    group_unit = unit or study_groups.default_unit(course=course)
    groups = study_groups.shared_misconceptions(course=course, unit=group_unit)
    levels = {"high": 0, "medium": 0, "low": 0}
    for r in risks:
        levels[r.level] += 1
    return {
        "page_obj": page_obj,
        "skills": heatmap.skills,
        "rows": rows,
        "levels": levels,
        "student_count": len(risks),
        "units": units,
        "unit": unit,
        "group_unit": group_unit,
        "groups": groups,
        "network": study_groups.network_layout(groups) if groups else None,
        "tracer": mastery_selectors.active_tracer_version(course=course),
    }
