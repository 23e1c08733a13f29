"""Writes of the domain model: courses, units, skills, questions, resources, enrollments.

Every function is keyword-only, runs in one transaction, validates with ``full_clean()``
and raises ``django.core.exceptions.ValidationError`` (keyed by field) with a message
a teacher can act on.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from .models import (
    Course,
    Enrollment,
    Question,
    ReferenceAnswer,
    Resource,
    RubricCriterion,
    Skill,
    SkillPrerequisite,
    Unit,
)
from .prerequisites import find_cycle, format_cycle

COURSE_FIELDS = ("slug", "title", "description", "source", "source_url", "licence", "attribution")
UNIT_FIELDS = ("order", "title", "external_id")
SKILL_FIELDS = ("slug", "name", "description", "unit")
QUESTION_FIELDS = ("unit", "external_id", "order", "prompt", "max_points")
RESOURCE_FIELDS = ("title", "kind", "body", "url", "unit", "external_id", "order", "source", "licence")


# --- helpers -----------------------------------------------------------------------------


def _apply_fields(obj: models.Model, fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Set ``fields`` on ``obj``; a field outside ``allowed`` may only be "set" to its current value."""
    for name, value in fields.items():
        if name in allowed:
            setattr(obj, name, value)
            continue
        if name == "course" and value is not None and getattr(value, "pk", value) == obj.course_id:
            continue  # re-sending the same course is harmless
        if name == "course":
            raise ValidationError({"course": f"A {obj._meta.verbose_name} cannot be moved to another course."})
        raise ValidationError({name: f"'{name}' is not a field that can be changed here."})


def _save(obj: models.Model) -> None:
    obj.full_clean()
    obj.save()


def _check_unit(*, course: Course, unit: Unit | None) -> None:
    if unit is not None and unit.course_id != course.pk:
        raise ValidationError({"unit": f"Unit '{unit.title}' belongs to another course."})


def _check_skills(*, course: Course, skills: Iterable[Skill]) -> list[Skill]:
    skills = list(skills)
    foreign = [s.slug for s in skills if s.course_id != course.pk]
    if foreign:
        raise ValidationError(
            {"skills": f"These skills belong to another course: {', '.join(sorted(foreign))}."}
        )
    return skills


# --- courses -------------------------------------------------------------------------------


@transaction.atomic
def course_create(
    *,
    slug: str,
    title: str,
    description: str = "",
    source: str = "",
    source_url: str = "",
    licence: str = "",
    attribution: str = "",
) -> Course:
    course = Course(
        slug=slug,
        title=title,
        description=description,
        source=source,
        source_url=source_url,
        licence=licence,
        attribution=attribution,
    )
    _save(course)
    return course


@transaction.atomic
def course_update(*, course: Course, **fields: Any) -> Course:
    """Change a course's fields. Its slug is its address (pages, API, course files, exports): it stays."""
    if "slug" in fields and fields["slug"] != course.slug:
        raise ValidationError({"slug": "A course's slug is its address: links, course files and exports name it, "
                                       "so it cannot change. Change its title instead."})
    fields.pop("slug", None)
    for name in fields:
        if name not in COURSE_FIELDS:
            raise ValidationError({name: f"'{name}' is not a field that can be changed here."})
    for name, value in fields.items():
        setattr(course, name, value)
    _save(course)
    return course


@transaction.atomic
def course_delete(*, course: Course) -> None:
    """Delete a course with everything in it (units, skills, questions, resources, submissions)."""
    course.delete()


# --- units ---------------------------------------------------------------------------------


@transaction.atomic
def unit_create(*, course: Course, order: int, title: str, external_id: str = "") -> Unit:
    unit = Unit(course=course, order=order, title=title, external_id=external_id)
    _save(unit)
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, **fields: Any) -> Unit:
    _apply_fields(unit, fields, UNIT_FIELDS)
    _save(unit)
    return unit


@transaction.atomic
def unit_delete(*, unit: Unit) -> None:
    """Delete a unit; its skills, questions and resources stay in the course without a unit."""
    unit.delete()


# --- skills --------------------------------------------------------------------------------


@transaction.atomic
def skill_create(
    *,
    course: Course,
    slug: str,
    name: str,
    description: str = "",
    unit: Unit | None = None,
    prerequisites: Iterable[Skill] = (),
) -> Skill:
    _check_unit(course=course, unit=unit)
    skill = Skill(course=course, slug=slug, name=name, description=description, unit=unit)
    _save(skill)
    prerequisites = list(prerequisites)
    if prerequisites:
        skill_set_prerequisites(skill=skill, prerequisites=prerequisites)
    return skill


@transaction.atomic
def skill_update(*, skill: Skill, prerequisites: Iterable[Skill] | None = None, **fields: Any) -> Skill:
    _apply_fields(skill, fields, SKILL_FIELDS)
    _check_unit(course=skill.course, unit=skill.unit)
    _save(skill)
    if prerequisites is not None:
        skill_set_prerequisites(skill=skill, prerequisites=prerequisites)
    return skill


@transaction.atomic
def skill_set_prerequisites(*, skill: Skill, prerequisites: Iterable[Skill]) -> Skill:
    """Replace the skill's prerequisites, refusing other courses' skills and cycles."""
    wanted = skill_check_prerequisites(skill=skill, prerequisites=prerequisites)
    current = set(SkillPrerequisite.objects.filter(skill=skill).values_list("prerequisite_id", flat=True))
    SkillPrerequisite.objects.filter(skill=skill).exclude(prerequisite_id__in=wanted).delete()
    new_edges = [SkillPrerequisite(skill=skill, prerequisite=p) for pk, p in wanted.items() if pk not in current]
    for edge in new_edges:
        edge.full_clean()
    SkillPrerequisite.objects.bulk_create(new_edges)
    return skill


def skill_check_prerequisites(*, skill: Skill, prerequisites: Iterable[Skill]) -> dict[int, Skill]:
    """Raise a ValidationError if ``prerequisites`` cannot be the skill's prerequisites; writes nothing.

    Returns the prerequisites by primary key.
    """
    wanted: dict[int, Skill] = {}
    for prerequisite in prerequisites:
        wanted[prerequisite.pk] = prerequisite
    if skill.pk in wanted:
        raise ValidationError({"prerequisites": f"Skill '{skill.slug}' cannot be its own prerequisite."})
    foreign = sorted(p.slug for p in wanted.values() if p.course_id != skill.course_id)
    if foreign:
        raise ValidationError(
            {"prerequisites": f"Prerequisites must be skills of the same course; these are not: {', '.join(foreign)}."}
        )

    if skill.pk is None:  # a skill not saved yet has no dependents, so it closes no cycle
        return wanted
    slugs = dict(Skill.objects.filter(course_id=skill.course_id).values_list("pk", "slug"))
    slugs[skill.pk] = skill.slug
    other_edges = (
        SkillPrerequisite.objects.filter(skill__course_id=skill.course_id)
        .exclude(skill_id=skill.pk)
        .values_list("prerequisite_id", "skill_id")
    )
    edges = [(slugs.get(p, str(p)), slugs.get(s, str(s))) for p, s in other_edges]
    edges += [(slugs[pk], skill.slug) for pk in wanted]
    cycle = find_cycle(edges)
    if cycle is not None:
        if skill.slug in cycle[:-1]:  # start the path at the skill being edited
            i = cycle.index(skill.slug)
            cycle = cycle[i:-1] + cycle[:i] + [skill.slug]
        raise ValidationError({"prerequisites": f"Prerequisites would form a cycle: {format_cycle(cycle)}"})
    return wanted


@transaction.atomic
def skill_delete(*, skill: Skill) -> None:
    """Delete a skill; its prerequisite edges go with it, questions and resources stay."""
    skill.delete()


# --- questions -----------------------------------------------------------------------------


def _clean_reference_answers(reference_answers: Iterable[str | Mapping[str, str]]) -> list[tuple[str, str]]:
    """Texts (or ``{"text", "external_id"}`` items, as in the course format) -> (text, external_id)."""
    if isinstance(reference_answers, str | Mapping):
        raise ValidationError({"reference_answers": "Give the reference answers as a list of texts."})
    answers = []
    for answer in reference_answers:
        text, external_id = answer, ""
        if isinstance(answer, Mapping):
            text, external_id = answer.get("text"), answer.get("external_id") or ""
        if not isinstance(text, str) or not isinstance(external_id, str):
            raise ValidationError({"reference_answers": "Each reference answer must be a text."})
        if text.strip():
            answers.append((text.strip(), external_id))
    if not answers:
        raise ValidationError({"reference_answers": "A question needs at least one non-empty reference answer."})
    return answers


def _clean_rubric(rubric: Iterable[Mapping[str, Any]]) -> list[tuple[str, float]]:
    items = []
    for i, item in enumerate(rubric, start=1):
        if not isinstance(item, Mapping):
            raise ValidationError({"rubric": f"Rubric item {i} must have a 'description' and 'points'."})
        description = str(item.get("description") or "").strip()
        points = item.get("points")
        if not description:
            raise ValidationError({"rubric": f"Rubric item {i} needs a description."})
        if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
            raise ValidationError({"rubric": f"Rubric item {i} needs points, a number of 0 or more."})
        items.append((description, float(points)))
    return items


def _replace_reference_answers(question: Question, texts: list[tuple[str, str]]) -> None:
    question.reference_answers.all().delete()
    answers = [
        ReferenceAnswer(question=question, order=i, text=text, external_id=external_id)
        for i, (text, external_id) in enumerate(texts)
    ]
    for answer in answers:
        answer.full_clean()
    ReferenceAnswer.objects.bulk_create(answers)


def _replace_rubric(question: Question, items: list[tuple[str, float]]) -> None:
    question.rubric_criteria.all().delete()
    criteria = [
        RubricCriterion(question=question, order=i, description=d, points=p) for i, (d, p) in enumerate(items)
    ]
    for criterion in criteria:
        criterion.full_clean()
    RubricCriterion.objects.bulk_create(criteria)


@transaction.atomic
def question_create(
    *,
    course: Course,
    prompt: str,
    reference_answers: list[str] | list[dict],
    max_points: float = 1.0,
    unit: Unit | None = None,
    external_id: str = "",
    order: int = 0,
    skills: Iterable[Skill] = (),
    rubric: list[dict] | None = None,
) -> Question:
    _check_unit(course=course, unit=unit)
    skills = _check_skills(course=course, skills=skills)
    texts = _clean_reference_answers(reference_answers)
    items = _clean_rubric(rubric or [])
    question = Question(
        course=course, unit=unit, external_id=external_id, order=order, prompt=prompt, max_points=max_points
    )
    _save(question)
    question.skills.set(skills)
    _replace_reference_answers(question, texts)
    _replace_rubric(question, items)
    return question


@transaction.atomic
def question_update(
    *,
    question: Question,
    reference_answers: list[str] | list[dict] | None = None,
    rubric: list[dict] | None = None,
    skills: Iterable[Skill] | None = None,
    actor: AbstractBaseUser | None = None,
    **fields: Any,
) -> Question:
    """Change a question; ``reference_answers``, ``rubric`` and ``skills`` are replaced when given. New points
    rescale the question's grades, so that each keeps its share of full marks (``actor``: who changed them,
    for the grades' audit trail)."""
    # Read under a lock: two teachers changing the points at once must not rescale the grades from a stale value.
    old_max_points = (
        Question.objects.select_for_update().filter(pk=question.pk).values_list("max_points", flat=True).first()
        if question.pk else question.max_points
    )
    _apply_fields(question, fields, QUESTION_FIELDS)
    _check_unit(course=question.course, unit=question.unit)
    texts = _clean_reference_answers(reference_answers) if reference_answers is not None else None
    items = _clean_rubric(rubric) if rubric is not None else None
    skills = _check_skills(course=question.course, skills=skills) if skills is not None else None
    _save(question)
    if question.max_points != old_max_points:
        from student_model.services import rescale_question_grades  # the student model builds on the domain

        rescale_question_grades(question=question, old_max_points=old_max_points, actor=actor)
    if texts is not None:
        _replace_reference_answers(question, texts)
    if items is not None:
        _replace_rubric(question, items)
    if skills is not None:
        question.skills.set(skills)
    return question


@transaction.atomic
def question_delete(*, question: Question) -> None:
    """Delete a question no student has answered. An answered question is refused: its students' answers
    and grades would go with it."""
    from student_model.selectors import question_answer_count  # the student model builds on the domain

    Question.objects.select_for_update().filter(pk=question.pk).first()  # an answer sent meanwhile waits, then fails
    answers = question_answer_count(question=question)
    if answers:
        raise ValidationError(
            f"Students have answered this question ({answers} answer{'s' if answers != 1 else ''}): deleting it "
            "would delete their answers and grades, so it is kept."
        )
    question.delete()


# --- resources -----------------------------------------------------------------------------


@transaction.atomic
def resource_create(
    *,
    course: Course,
    title: str,
    kind: str = Resource.Kind.READING,
    body: str = "",
    url: str = "",
    unit: Unit | None = None,
    skills: Iterable[Skill] = (),
    external_id: str = "",
    order: int = 0,
    source: str = "",
    licence: str = "",
) -> Resource:
    _check_unit(course=course, unit=unit)
    skills = _check_skills(course=course, skills=skills)
    _check_body_or_url(body=body, url=url)
    resource = Resource(
        course=course,
        unit=unit,
        kind=kind,
        title=title,
        order=order,
        body=body,
        url=url,
        external_id=external_id,
        source=source,
        licence=licence,
    )
    _save(resource)
    resource.skills.set(skills)
    return resource


def _check_body_or_url(*, body: str, url: str) -> None:
    if not (body or "").strip() and not (url or "").strip():
        raise ValidationError({"body": "A resource needs a body text or a URL."})


@transaction.atomic
def resource_update(*, resource: Resource, skills: Iterable[Skill] | None = None, **fields: Any) -> Resource:
    _apply_fields(resource, fields, RESOURCE_FIELDS)
    _check_unit(course=resource.course, unit=resource.unit)
    _check_body_or_url(body=resource.body, url=resource.url)
    skills = _check_skills(course=resource.course, skills=skills) if skills is not None else None
    _save(resource)
    if skills is not None:
        resource.skills.set(skills)
    return resource


@transaction.atomic
def resource_delete(*, resource: Resource) -> None:
    resource.delete()


# --- enrollments ---------------------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *, user: AbstractBaseUser, course: Course, role: str = Enrollment.Role.STUDENT
) -> Enrollment:
    if Enrollment.objects.filter(user=user, course=course).exists():
        raise ValidationError({"user": f"{user} is already enrolled in {course}."})
    enrollment = Enrollment(user=user, course=course, role=role)
    _save(enrollment)
    return enrollment


@transaction.atomic
def enrollment_delete(*, enrollment: Enrollment) -> None:
    """Remove a user from a course; their submissions are kept."""
    enrollment.delete()
