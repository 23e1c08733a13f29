"""Import and export of whole courses in the ``tutor-course`` JSON format (docs/course_format.md).

Import checks the whole document first and collects every problem, each prefixed with
its JSON path; only a valid document is written, in one transaction, with bulk queries.
Objects are matched as the format says (units by ``id``, skills by ``slug``, questions and
resources by ``external_id``) and nothing absent from the file is deleted.

Objects created without an external id (through the API or the admin) are exported with a
generated one (``unit-3``, ``question-42``, ``resource-7``); importing that file back into
the same course adopts them instead of creating copies.
"""

import gzip
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .models import Course, Question, ReferenceAnswer, Resource, RubricCriterion, Skill, SkillPrerequisite, Unit
from .prerequisites import find_cycle, format_cycle

FORMAT = "tutor-course"
VERSION = 1
KINDS = [k.value for k in Resource.Kind]


class CourseFormatError(ValidationError):
    """A course document that cannot be imported; ``problems`` lists each problem with its JSON path."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)


# --- reading and writing files ----------------------------------------------------------------


def load_document(path: str | Path) -> dict:
    """Read a course document from ``.json`` or gzip-compressed ``.json.gz``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        document = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise CourseFormatError([f"{path}: no such file"]) from None
    except (OSError, EOFError) as exc:  # unreadable file, truncated or corrupt gzip
        raise CourseFormatError([f"{path}: cannot be read: {exc}"]) from None
    except UnicodeDecodeError as exc:
        raise CourseFormatError([f"{path}: not UTF-8 text: {exc}"]) from None
    except json.JSONDecodeError as exc:
        raise CourseFormatError([f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]) from None
    if not isinstance(document, dict):
        raise CourseFormatError(["$: the document must be a JSON object"])
    return document


def write_document(document: dict, path: str | Path) -> None:
    """Write a course document as JSON, gzip-compressed when ``path`` ends in ``.gz``."""
    path = Path(path)
    data = dumps_document(document).encode("utf-8")
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def dumps_document(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --- export -------------------------------------------------------------------------------------


def _ids(objects: list, generated_prefix: str, key) -> dict[int, str]:
    """Map pk -> exported id: the external id, or a generated one that no other object uses."""
    taken = {o.external_id for o in objects if o.external_id}
    ids = {}
    for obj in objects:
        if obj.external_id:
            ids[obj.pk] = obj.external_id
            continue
        candidate = base = f"{generated_prefix}-{key(obj)}"
        n = 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        ids[obj.pk] = candidate
    return ids


def export_course(*, course: Course) -> dict:
    """The course as a ``tutor-course`` document (see docs/course_format.md)."""
    units = list(Unit.objects.filter(course=course).order_by("order"))
    unit_ids = _ids(units, "unit", lambda u: u.order)
    skills = list(Skill.objects.filter(course=course).prefetch_related("prerequisites"))
    questions = list(
        Question.objects.filter(course=course).prefetch_related("skills", "reference_answers", "rubric_criteria")
    )
    question_ids = _ids(questions, "question", lambda q: q.pk)
    resources = list(Resource.objects.filter(course=course).prefetch_related("skills"))
    resource_ids = _ids(resources, "resource", lambda r: r.pk)

    def unit_ref(unit_id: int | None) -> str | None:
        return unit_ids[unit_id] if unit_id is not None else None

    def slugs(skill_set) -> list[str]:
        return sorted(s.slug for s in skill_set.all())

    return {
        "format": FORMAT,
        "version": VERSION,
        "course": {name: getattr(course, name) for name in _COURSE_KEYS},
        "units": [{"id": unit_ids[u.pk], "order": u.order, "title": u.title} for u in units],
        "skills": [
            {
                "slug": s.slug,
                "name": s.name,
                "description": s.description,
                "unit": unit_ref(s.unit_id),
                "prerequisites": slugs(s.prerequisites),
            }
            for s in skills
        ],
        "questions": [
            {
                "external_id": question_ids[q.pk],
                "unit": unit_ref(q.unit_id),
                "order": q.order,
                "prompt": q.prompt,
                "max_points": q.max_points,
                "skills": slugs(q.skills),
                "reference_answers": [
                    {"external_id": a.external_id, "text": a.text} for a in q.reference_answers.all()
                ],
                "rubric": [{"description": c.description, "points": c.points} for c in q.rubric_criteria.all()],
            }
            for q in questions
        ],
        "resources": [
            {
                "external_id": resource_ids[r.pk],
                "unit": unit_ref(r.unit_id),
                "kind": r.kind,
                "order": r.order,
                "title": r.title,
                "body": r.body,
                "url": r.url,
                "skills": slugs(r.skills),
                "source": r.source,
                "licence": r.licence,
            }
            for r in resources
        ],
    }


# --- validation ---------------------------------------------------------------------------------

# key: (kind, required, default). Kinds: str, int, number, list, ref (a string or null).
_COURSE_KEYS = ("slug", "title", "description", "source", "source_url", "licence", "attribution")
_SPECS: dict[str, dict[str, tuple[str, bool, Any]]] = {
    "course": {k: ("str", k in ("slug", "title"), "") for k in _COURSE_KEYS},
    "unit": {"id": ("str", True, None), "order": ("int", True, None), "title": ("str", True, None)},
    "skill": {
        "slug": ("str", True, None),
        "name": ("str", True, None),
        "description": ("str", False, ""),
        "unit": ("ref", False, None),
        "prerequisites": ("list", False, []),
    },
    "question": {
        "external_id": ("str", True, None),
        "unit": ("ref", False, None),
        "order": ("int", False, 0),
        "prompt": ("str", True, None),
        "max_points": ("number", False, 1.0),
        "skills": ("list", False, []),
        "reference_answers": ("list", True, None),
        "rubric": ("list", False, []),
    },
    "reference_answer": {"external_id": ("str", False, ""), "text": ("str", True, None)},
    "rubric": {"description": ("str", True, None), "points": ("number", True, None)},
    "resource": {
        "external_id": ("str", True, None),
        "unit": ("ref", False, None),
        "kind": ("str", False, Resource.Kind.READING.value),
        "order": ("int", False, 0),
        "title": ("str", True, None),
        "body": ("str", False, ""),
        "url": ("str", False, ""),
        "skills": ("list", False, []),
        "source": ("str", False, ""),
        "licence": ("str", False, ""),
    },
}
_KIND_NAMES = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "list": "a list",
    "ref": "a unit id (string) or null",
}
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "list":
        return isinstance(value, list)
    if kind == "ref":
        return value is None or isinstance(value, str)
    raise AssertionError(kind)


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def read(self, obj: Any, path: str, spec_name: str) -> dict | None:
        """Check an object's keys and value types; return its values with defaults filled.

        A value of the wrong type is reported and left out of the result.
        """
        if not isinstance(obj, dict):
            self.add(path, "must be an object")
            return None
        spec = _SPECS[spec_name]
        for key in obj:
            if key not in spec:
                self.add(f"{path}.{key}", f"unknown key (expected one of: {', '.join(spec)})")
        values = {}
        for key, (kind, required, default) in spec.items():
            if key not in obj:
                if required:
                    self.add(f"{path}.{key}", "missing")
                else:
                    values[key] = default
                continue
            if _type_ok(kind, obj[key]):
                values[key] = obj[key]
            else:
                self.add(f"{path}.{key}", f"must be {_KIND_NAMES[kind]}")
        return values

    def fields(self, model: type[models.Model], path: str, values: dict, key_of: dict[str, str] | None = None) -> None:
        """Run the model's own field validation (lengths, slugs, URLs, minimums) on ``values``."""
        key_of = key_of or {}
        field_of = {key_of.get(f.name, f.name): f.name for f in model._meta.concrete_fields if not f.primary_key}
        present = {field_of[k]: v for k, v in values.items() if k in field_of}
        instance = model(**present)
        exclude = [f.name for f in model._meta.concrete_fields if f.name not in present]
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add(f"{path}.{key_of.get(name, name)}", " ".join(messages))

    def names(self, items: Any, path: str, known: set[str], what: str) -> list[str]:
        """Check a list of references (skill slugs); return the unique valid ones in order."""
        result: list[str] = []
        for j, name in enumerate(items):
            if not isinstance(name, str):
                self.add(f"{path}[{j}]", f"must be a {what} slug (string)")
            elif name not in known:
                self.add(f"{path}[{j}]", f"unknown {what} '{name}'")
            elif name not in result:
                result.append(name)
        return result

    def unit_ref(self, values: dict, path: str, unit_ids: set[str]) -> None:
        unit = values.get("unit")
        if unit is not None and unit not in unit_ids:
            self.add(f"{path}.unit", f"unknown unit '{unit}'")

    def list_of(self, document: dict, key: str) -> list:
        items = document.get(key, [])
        if not isinstance(items, list):
            self.add(f"$.{key}", "must be a list")
            return []
        return items


@dataclass
class _Plan:
    """The validated document, normalised (defaults filled, references resolved to names)."""

    course: dict
    units: list[dict]
    skills: list[dict]
    questions: list[dict]
    resources: list[dict]


def _validate(document: Any) -> tuple[_Plan | None, list[str]]:
    v = _Validator()
    if not isinstance(document, dict):
        return None, ["$: the document must be a JSON object"]
    for key in document:
        if key not in ("format", "version", "course", "units", "skills", "questions", "resources"):
            v.add(f"$.{key}", "unknown key")
    if document.get("format") != FORMAT:
        v.add("$.format", f"must be '{FORMAT}' (got {document.get('format')!r})")
    if document.get("version") != VERSION or isinstance(document.get("version"), bool):
        v.add("$.version", f"must be {VERSION} (got {document.get('version')!r})")

    course = v.read(document.get("course"), "$.course", "course") if "course" in document else None
    if "course" not in document:
        v.add("$.course", "missing")
    if course is not None:
        for key in ("title",):
            if isinstance(course.get(key), str) and course[key] and not course[key].strip():
                v.add(f"$.course.{key}", "must not be empty")
        v.fields(Course, "$.course", course)

    # Units.
    units = []
    seen_ids: dict[str, int] = {}
    seen_orders: dict[int, int] = {}
    for i, raw in enumerate(v.list_of(document, "units")):
        path = f"$.units[{i}]"
        values = v.read(raw, path, "unit")
        if values is None:
            continue
        unit_id, order = values.get("id"), values.get("order")
        if unit_id is not None:
            if not unit_id.strip():
                v.add(f"{path}.id", "must not be empty")
            elif unit_id in seen_ids:
                v.add(f"{path}.id", f"duplicate unit id '{unit_id}' (also $.units[{seen_ids[unit_id]}])")
            else:
                seen_ids[unit_id] = i
        if order is not None:
            if order < 1:
                v.add(f"{path}.order", "must be a positive integer")
            elif order in seen_orders:
                v.add(f"{path}.order", f"duplicate order {order} (also $.units[{seen_orders[order]}])")
            else:
                seen_orders[order] = i
        if isinstance(values.get("title"), str) and not values["title"].strip():
            v.add(f"{path}.title", "must not be empty")
        else:
            v.fields(Unit, path, {k: values[k] for k in ("id", "title") if k in values}, {"external_id": "id"})
        units.append(values)
    unit_ids = set(seen_ids)

    # Skills: slugs first, so that prerequisites may name skills listed later.
    raw_skills = v.list_of(document, "skills")
    skill_values: list[tuple[str, dict]] = []
    seen_slugs: dict[str, int] = {}
    for i, raw in enumerate(raw_skills):
        path = f"$.skills[{i}]"
        values = v.read(raw, path, "skill")
        if values is None:
            continue
        slug = values.get("slug")
        if slug is not None:
            if not _SLUG.match(slug):
                v.add(f"{path}.slug", f"'{slug}' is not a slug (letters, digits, '-' and '_' only)")
            elif slug in seen_slugs:
                v.add(f"{path}.slug", f"duplicate skill slug '{slug}' (also $.skills[{seen_slugs[slug]}])")
            else:
                seen_slugs[slug] = i
        skill_values.append((path, values))
    skill_slugs = set(seen_slugs)
    skills = []
    edges: list[tuple[str, str]] = []
    for path, values in skill_values:
        checked = ("name", "description") + (("slug",) if values.get("slug") in skill_slugs else ())
        v.fields(Skill, path, {k: values[k] for k in checked if k in values})
        v.unit_ref(values, path, unit_ids)
        prerequisites = v.names(values.get("prerequisites", []), f"{path}.prerequisites", skill_slugs, "skill")
        slug = values.get("slug")
        if slug in prerequisites:
            v.add(f"{path}.prerequisites", f"skill '{slug}' cannot be its own prerequisite")
            prerequisites.remove(slug)
        values["prerequisites"] = prerequisites
        if slug is not None:
            edges += [(p, slug) for p in prerequisites]
        skills.append(values)
    cycle = find_cycle(edges)
    if cycle is not None:
        # The last edge of the path is "cycle[-2] is a prerequisite of cycle[0]".
        i = seen_slugs[cycle[0]]
        j = raw_skills[i]["prerequisites"].index(cycle[-2])
        v.add(f"$.skills[{i}].prerequisites[{j}]", f"prerequisites form a cycle: {format_cycle(cycle)}")

    # Questions.
    questions = []
    seen_questions: dict[str, int] = {}
    for i, raw in enumerate(v.list_of(document, "questions")):
        path = f"$.questions[{i}]"
        values = v.read(raw, path, "question")
        if values is None:
            continue
        _check_external_id(v, values, i, seen_questions, "question", "questions")
        if isinstance(values.get("prompt"), str) and not values["prompt"].strip():
            v.add(f"{path}.prompt", "must not be empty")
        v.fields(Question, path, {k: values[k] for k in ("external_id", "order", "prompt", "max_points") if k in values})
        v.unit_ref(values, path, unit_ids)
        values["skills"] = v.names(values.get("skills", []), f"{path}.skills", skill_slugs, "skill")
        answers = []
        for j, raw_answer in enumerate(values.get("reference_answers") or []):
            answer_path = f"{path}.reference_answers[{j}]"
            answer = v.read(raw_answer, answer_path, "reference_answer")
            if answer is None:
                continue
            if isinstance(answer.get("text"), str) and not answer["text"].strip():
                v.add(f"{answer_path}.text", "must not be empty")
            else:
                v.fields(ReferenceAnswer, answer_path, answer)
            answers.append(answer)
        if "reference_answers" in values and not values["reference_answers"]:
            v.add(f"{path}.reference_answers", "at least one reference answer is needed")
        values["reference_answers"] = answers
        rubric = []
        for j, raw_item in enumerate(values.get("rubric") or []):
            item_path = f"{path}.rubric[{j}]"
            item = v.read(raw_item, item_path, "rubric")
            if item is None:
                continue
            if isinstance(item.get("description"), str) and not item["description"].strip():
                v.add(f"{item_path}.description", "must not be empty")
            if isinstance(item.get("points"), int | float) and item["points"] < 0:
                v.add(f"{item_path}.points", "must be 0 or more")
            rubric.append(item)
        values["rubric"] = rubric
        questions.append(values)

    # Resources.
    resources = []
    seen_resources: dict[str, int] = {}
    for i, raw in enumerate(v.list_of(document, "resources")):
        path = f"$.resources[{i}]"
        values = v.read(raw, path, "resource")
        if values is None:
            continue
        _check_external_id(v, values, i, seen_resources, "resource", "resources")
        kind = values.get("kind")
        if kind is not None and kind not in KINDS:
            v.add(f"{path}.kind", f"'{kind}' is not one of {', '.join(KINDS)}")
        if isinstance(values.get("title"), str) and not values["title"].strip():
            v.add(f"{path}.title", "must not be empty")
        body, url = values.get("body"), values.get("url")
        if isinstance(body, str) and isinstance(url, str) and not body.strip() and not url.strip():
            v.add(path, "needs a body or a url")
        checked = ("external_id", "title", "order", "body", "url", "source", "licence")
        v.fields(Resource, path, {k: values[k] for k in checked if k in values})
        v.unit_ref(values, path, unit_ids)
        values["skills"] = v.names(values.get("skills", []), f"{path}.skills", skill_slugs, "skill")
        resources.append(values)

    if v.problems:
        return None, v.problems
    return _Plan(course=course, units=units, skills=skills, questions=questions, resources=resources), []


def _check_external_id(v: _Validator, values: dict, i: int, seen: dict[str, int], what: str, key: str) -> None:
    path = f"$.{key}[{i}]"
    external_id = values.get("external_id")
    if external_id is None:
        return
    if not external_id.strip():
        v.add(f"{path}.external_id", "must not be empty")
    elif external_id in seen:
        v.add(f"{path}.external_id", f"duplicate {what} external_id '{external_id}' (also $.{key}[{seen[external_id]}])")
    else:
        seen[external_id] = i


# --- import -------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    course: Course
    course_created: bool
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        verb = "Created" if self.course_created else "Updated"
        lines = [f"{verb} course '{self.course.slug}' ({self.course.title})."]
        for kind in ("units", "skills", "questions", "resources"):
            lines.append(
                f"  {kind}: {self.created.get(kind, 0)} created, {self.updated.get(kind, 0)} updated, "
                f"{self.unchanged.get(kind, 0)} unchanged"
            )
        return "\n".join(lines)


def _bulk_update(model: type[models.Model], changed: list, fields: list[str]) -> None:
    """``bulk_update`` skips ``auto_now``: stamp ``updated_at`` so the tutor's caches see the change."""
    now = timezone.now()
    rows = [o for o in changed if o.pk]
    for obj in rows:
        obj.updated_at = now
    model.objects.bulk_update(rows, [*fields, "updated_at"])


def import_course(*, document: dict) -> Course:
    """Create or update the course described by ``document``; raises ``CourseFormatError``."""
    return import_course_document(document=document).course


@transaction.atomic
def import_course_document(*, document: dict) -> ImportReport:
    """Like ``import_course`` but also says what was created, updated or left unchanged."""
    plan, problems = _validate(document)
    if plan is None:
        raise CourseFormatError(problems)
    course = Course.objects.select_for_update().filter(slug=plan.course["slug"]).first()
    writer = _Writer(plan, course)
    problems = writer.match()
    if problems:
        raise CourseFormatError(problems)
    return writer.write()


_GENERATED = re.compile(r"^(?:question|resource)-(\d+)$")


class _Writer:
    """Matches the plan against the existing course, then writes it with bulk queries."""

    def __init__(self, plan: _Plan, course: Course | None):
        self.plan = plan
        self.course = course
        self.report = ImportReport(course=course or Course(), course_created=course is None)

    # Matching (reads only) --------------------------------------------------------------------

    def match(self) -> list[str]:
        course = self.course
        self.units: dict[str, Unit] = {}
        self.skills: dict[str, Skill] = {}
        self.questions: dict[str, Question] = {}
        self.resources: dict[str, Resource] = {}
        if course is None:
            return []
        problems = []
        existing_units = list(Unit.objects.filter(course=course))
        by_id = {u.external_id: u for u in existing_units if u.external_id}
        blank_by_order = {u.order: u for u in existing_units if not u.external_id}
        for unit in self.plan.units:
            match = by_id.get(unit["id"]) or blank_by_order.pop(unit["order"], None)
            if match is not None:
                self.units[unit["id"]] = match
        matched = {u.pk for u in self.units.values()}
        kept_orders = {u.order: u for u in existing_units if u.pk not in matched}
        for i, unit in enumerate(self.plan.units):
            other = kept_orders.get(unit["order"])
            if other is not None:
                problems.append(
                    f"$.units[{i}].order: order {unit['order']} is taken by unit '{other.title}' "
                    f"(id '{other.external_id}') of the existing course, which this file does not list"
                )
        self.skills = {s.slug: s for s in Skill.objects.filter(course=course)}
        self.questions = self._match_external(
            Question.objects.filter(course=course).prefetch_related("skills", "reference_answers", "rubric_criteria"),
            self.plan.questions,
        )
        self.resources = self._match_external(
            Resource.objects.filter(course=course).prefetch_related("skills"), self.plan.resources
        )
        from student_model.services import check_new_points  # the student model builds on the domain

        for i, item in enumerate(self.plan.questions):
            existing = self.questions.get(item["external_id"])
            if existing is not None and float(item["max_points"]) != existing.max_points:
                try:
                    check_new_points(question=existing, max_points=float(item["max_points"]))
                except ValidationError as error:
                    problems += [f"$.questions[{i}].max_points: {m}" for m in error.message_dict["max_points"]]
        return problems

    @staticmethod
    def _match_external(queryset, items: list[dict]) -> dict:
        existing = list(queryset)
        by_id = {o.external_id: o for o in existing if o.external_id}
        blank_by_pk = {o.pk: o for o in existing if not o.external_id}
        matches = {}
        for item in items:
            match = by_id.get(item["external_id"])
            generated = _GENERATED.match(item["external_id"])
            if match is None and generated:
                match = blank_by_pk.pop(int(generated.group(1)), None)
            if match is not None:
                matches[item["external_id"]] = match
        return matches

    # Writing ---------------------------------------------------------------------------------

    def write(self) -> ImportReport:
        self._write_course()
        self._write_units()
        self._write_skills()
        self._write_questions()
        self._write_resources()
        return self.report

    def _count(self, kind: str, created: int, updated: int, unchanged: int) -> None:
        self.report.created[kind] = created
        self.report.updated[kind] = updated
        self.report.unchanged[kind] = unchanged

    @staticmethod
    def _assign(obj: models.Model, values: dict) -> bool:
        """Set ``values`` on ``obj``; True when anything changed."""
        changed = False
        for name, value in values.items():
            if name == "unit":  # compare ids: reading ``obj.unit`` would cost a query per object
                same = obj.unit_id == (value.pk if value is not None else None)
            else:
                same = getattr(obj, name) == value
            if not same:
                setattr(obj, name, value)
                changed = True
        return changed

    def _write_course(self) -> None:
        values = {k: self.plan.course[k] for k in _COURSE_KEYS}
        course = self.course or Course()
        if self._assign(course, values) or course.pk is None:
            course.full_clean()
            course.save()
        self.course = self.report.course = course

    def _write_units(self) -> None:
        new, changed, order_moves = [], [], []
        for unit in self.plan.units:
            values = {"external_id": unit["id"], "order": unit["order"], "title": unit["title"]}
            obj = self.units.get(unit["id"])
            if obj is None:
                obj = self.units[unit["id"]] = Unit(course=self.course, **values)
                new.append(obj)
                continue
            if obj.order != unit["order"]:
                order_moves.append(obj)
            if self._assign(obj, values):
                changed.append(obj)
        if order_moves:
            # Park moved units on free orders first so that swapping two orders never collides.
            top = max(Unit.objects.filter(course=self.course).values_list("order", flat=True)) + 1
            final = [u.order for u in order_moves]
            for i, unit in enumerate(order_moves):
                unit.order = top + i
            Unit.objects.bulk_update(order_moves, ["order"])
            for unit, order in zip(order_moves, final):
                unit.order = order
        Unit.objects.bulk_update(changed, ["external_id", "order", "title"])
        Unit.objects.bulk_create(new)
        self._count("units", len(new), len(changed), len(self.plan.units) - len(new) - len(changed))

    def _unit(self, ref: str | None) -> Unit | None:
        return self.units[ref] if ref is not None else None

    def _write_skills(self) -> None:
        new, changed = [], []
        for skill in self.plan.skills:
            values = {"name": skill["name"], "description": skill["description"], "unit": self._unit(skill["unit"])}
            obj = self.skills.get(skill["slug"])
            if obj is None:
                obj = self.skills[skill["slug"]] = Skill(course=self.course, slug=skill["slug"], **values)
                new.append(obj)
            elif self._assign(obj, values):
                changed.append(obj)
        Skill.objects.bulk_update(changed, ["name", "description", "unit"])
        Skill.objects.bulk_create(new)

        # Prerequisites of the file's skills are replaced by the file's.
        file_skill_ids = [self.skills[s["slug"]].pk for s in self.plan.skills]
        current: dict[int, set[int]] = {}
        for skill_id, prerequisite_id in SkillPrerequisite.objects.filter(skill_id__in=file_skill_ids).values_list(
            "skill_id", "prerequisite_id"
        ):
            current.setdefault(skill_id, set()).add(prerequisite_id)
        changed_ids = set(o.pk for o in changed)
        stale, edges = [], []
        for skill in self.plan.skills:
            obj = self.skills[skill["slug"]]
            wanted = {self.skills[p].pk for p in skill["prerequisites"]}
            if wanted != current.get(obj.pk, set()):
                stale.append(obj.pk)
                edges += [SkillPrerequisite(skill=obj, prerequisite_id=p) for p in wanted]
                if obj not in new:
                    changed_ids.add(obj.pk)
        SkillPrerequisite.objects.filter(skill_id__in=stale).delete()
        SkillPrerequisite.objects.bulk_create(edges)
        total = len(self.plan.skills)
        self._count("skills", len(new), len(changed_ids), total - len(new) - len(changed_ids))

    def _write_questions(self) -> None:
        fields = ["external_id", "unit", "order", "prompt", "max_points"]
        new, changed, replace, repointed = [], [], [], []
        for item in self.plan.questions:
            values = {
                "external_id": item["external_id"],
                "unit": self._unit(item["unit"]),
                "order": item["order"],
                "prompt": item["prompt"],
                "max_points": float(item["max_points"]),
            }
            obj = self.questions.get(item["external_id"])
            if obj is None:
                obj = self.questions[item["external_id"]] = Question(course=self.course, **values)
                new.append(obj)
                replace.append((obj, item))
                continue
            old_max_points = obj.max_points
            fields_changed = self._assign(obj, values)
            if fields_changed:
                changed.append(obj)
            if obj.max_points != old_max_points:
                repointed.append((obj, old_max_points))
            if self._children(obj) != self._file_children(item):
                replace.append((obj, item))
                if not fields_changed:
                    changed.append(obj)
        _bulk_update(Question, changed, fields)
        Question.objects.bulk_create(new)
        if repointed:
            from student_model.services import rescale_question_grades  # the student model builds on the domain

            for obj, old_max_points in repointed:
                rescale_question_grades(question=obj, old_max_points=old_max_points)

        ids = [obj.pk for obj, _ in replace if obj not in new]
        ReferenceAnswer.objects.filter(question_id__in=ids).delete()
        RubricCriterion.objects.filter(question_id__in=ids).delete()
        through = Question.skills.through
        through.objects.filter(question_id__in=ids).delete()
        answers, criteria, links = [], [], []
        for obj, item in replace:
            answers += [
                ReferenceAnswer(question=obj, order=j, text=a["text"], external_id=a["external_id"])
                for j, a in enumerate(item["reference_answers"])
            ]
            criteria += [
                RubricCriterion(question=obj, order=j, description=c["description"], points=float(c["points"]))
                for j, c in enumerate(item["rubric"])
            ]
            links += [through(question_id=obj.pk, skill_id=self.skills[s].pk) for s in item["skills"]]
        ReferenceAnswer.objects.bulk_create(answers)
        RubricCriterion.objects.bulk_create(criteria)
        through.objects.bulk_create(links)
        total = len(self.plan.questions)
        self._count("questions", len(new), len(changed), total - len(new) - len(changed))

    @staticmethod
    def _children(question: Question) -> tuple:
        return (
            sorted(s.slug for s in question.skills.all()),
            [(a.external_id, a.text) for a in question.reference_answers.all()],
            [(c.description, c.points) for c in question.rubric_criteria.all()],
        )

    @staticmethod
    def _file_children(item: dict) -> tuple:
        return (
            sorted(item["skills"]),
            [(a["external_id"], a["text"]) for a in item["reference_answers"]],
            [(c["description"], float(c["points"])) for c in item["rubric"]],
        )

    def _write_resources(self) -> None:
        fields = ["external_id", "unit", "kind", "order", "title", "body", "url", "source", "licence"]
        new, changed, relink = [], [], []
        for item in self.plan.resources:
            values = {name: item[name] for name in fields if name != "unit"}
            values["unit"] = self._unit(item["unit"])
            obj = self.resources.get(item["external_id"])
            if obj is None:
                obj = self.resources[item["external_id"]] = Resource(course=self.course, **values)
                new.append(obj)
                relink.append((obj, item))
                continue
            fields_changed = self._assign(obj, values)
            if fields_changed:
                changed.append(obj)
            if sorted(s.slug for s in obj.skills.all()) != sorted(item["skills"]):
                relink.append((obj, item))
                if not fields_changed:
                    changed.append(obj)
        _bulk_update(Resource, changed, fields)
        Resource.objects.bulk_create(new)
        through = Resource.skills.through
        through.objects.filter(resource_id__in=[o.pk for o, _ in relink if o not in new]).delete()
        through.objects.bulk_create(
            [through(resource_id=obj.pk, skill_id=self.skills[s].pk) for obj, item in relink for s in item["skills"]]
        )
        total = len(self.plan.resources)
        self._count("resources", len(new), len(changed), total - len(new) - len(changed))
