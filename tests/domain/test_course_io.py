import copy
import gzip
import json
from pathlib import Path

import pytest
from django.conf import settings

from domain import services
from domain.course_io import CourseFormatError, export_course, import_course, import_course_document, load_document
from domain.models import Course, Question, ReferenceAnswer, Resource, RubricCriterion, Skill, SkillPrerequisite, Unit
from student_model.models import Submission
from tests import factories

from .documents import sample_document, scaled_document

pytestmark = pytest.mark.django_db


def problems_of(document) -> list[str]:
    with pytest.raises(CourseFormatError) as info:
        import_course(document=document)
    return info.value.problems


def counts() -> dict:
    models = [Course, Unit, Skill, SkillPrerequisite, Question, ReferenceAnswer, RubricCriterion, Resource]
    return {m.__name__: m.objects.count() for m in models}


# --- import ----------------------------------------------------------------------------------


def test_import_creates_everything_in_the_document():
    course = import_course(document=sample_document())

    assert course.slug == "intro-python" and course.licence == "CC BY 4.0"
    assert list(course.units.values_list("external_id", "order")) == [("ch1", 1), ("ch2", 2)]
    conversion = course.skills.get(slug="ch2-type-conversion")
    assert conversion.unit.external_id == "ch2"
    assert sorted(conversion.prerequisites.values_list("slug", flat=True)) == ["ch1-variables", "ch2-the-python-shell"]
    salt = course.questions.get(external_id="EM_45b")
    assert [a.text for a in salt.reference_answers.all()] == ["The water was evaporated, leaving the salt."]
    assert [(c.description, c.points) for c in salt.rubric_criteria.all()] == [("Names evaporation", 1.0)]
    assert list(salt.skills.values_list("slug", flat=True)) == ["separating-mixtures"]
    assert course.questions.get(external_id="EM_16b").max_points == 2.0
    assert course.resources.count() == 7
    assert course.resources.get(external_id="openstax-book").url.startswith("https://openstax.org/")


def test_import_twice_changes_nothing_and_says_so():
    import_course(document=sample_document())
    before = counts()
    report = import_course_document(document=sample_document())
    assert counts() == before
    assert not report.course_created
    assert report.created == {"units": 0, "skills": 0, "questions": 0, "resources": 0}
    assert report.updated == {"units": 0, "skills": 0, "questions": 0, "resources": 0}
    assert report.unchanged == {"units": 2, "skills": 5, "questions": 3, "resources": 7}


def test_reimport_updates_in_place_replaces_answers_and_keeps_absent_objects_and_submissions():
    course = import_course(document=sample_document())
    salt = course.questions.get(external_id="EM_45b")
    submission = factories.SubmissionFactory(question=salt)
    extra = factories.QuestionFactory(course=course, external_id="teacher-made")

    doc = sample_document()
    doc["course"]["title"] = "Intro to Python"
    doc["units"][0]["title"] = "Statements and output"
    doc["units"][0]["order"], doc["units"][1]["order"] = 2, 1  # swap orders
    doc["questions"][0]["reference_answers"] = [
        {"external_id": "EM_45b-a2", "text": "Evaporate the water; the salt stays behind."}
    ]
    doc["questions"][0]["rubric"] = []
    doc["questions"][0]["skills"] = []
    doc["skills"][3]["prerequisites"] = ["ch1-variables"]
    del doc["questions"][1]  # absent: kept
    report = import_course_document(document=doc)

    course.refresh_from_db()
    assert course.title == "Intro to Python"
    assert list(course.units.order_by("order").values_list("external_id", "title")) == [
        ("ch2", "Expressions"),
        ("ch1", "Statements and output"),
    ]
    salt.refresh_from_db()
    assert [a.text for a in salt.reference_answers.all()] == ["Evaporate the water; the salt stays behind."]
    assert salt.rubric_criteria.count() == 0 and salt.skills.count() == 0
    assert list(course.skills.get(slug="ch2-type-conversion").prerequisites.values_list("slug", flat=True)) == [
        "ch1-variables"
    ]
    assert Submission.objects.filter(pk=submission.pk).exists()
    assert course.questions.filter(external_id__in=["EM_45c", "teacher-made"]).count() == 2
    assert extra.pk in course.questions.values_list("pk", flat=True)
    assert report.updated["units"] == 2 and report.updated["questions"] == 1 and report.updated["skills"] == 1


def test_reimport_with_new_points_rescales_the_questions_grades():
    course = import_course(document=sample_document())
    salt = course.questions.get(external_id="EM_45b")
    grade = factories.GradeFactory(submission=factories.SubmissionFactory(question=salt), score=salt.max_points / 2)

    doc = sample_document()
    doc["questions"][0]["max_points"] = salt.max_points * 4
    import_course_document(document=doc)

    grade.refresh_from_db()
    assert grade.score == salt.max_points * 2


def test_reimport_refuses_zero_points_for_a_question_with_grades_naming_it():
    course = import_course(document=sample_document())
    salt = course.questions.get(external_id="EM_45b")
    factories.GradeFactory(submission=factories.SubmissionFactory(question=salt), score=salt.max_points)
    doc = sample_document()
    doc["questions"][0]["max_points"] = 0

    assert problems_of(doc) == [
        "$.questions[0].max_points: This question has grades: its points must stay above 0 (grades keep their "
        "share of full marks when the points change)."
    ]
    salt.refresh_from_db()
    assert salt.max_points > 0


def test_import_refuses_a_unit_order_held_by_an_existing_unit_missing_from_the_file():
    course = import_course(document=sample_document())
    services.unit_create(course=course, order=3, title="Booleans", external_id="ch3")
    doc = sample_document()
    doc["units"].append({"id": "ch4", "order": 3, "title": "Loops"})
    before = counts()
    problems = problems_of(doc)
    assert len(problems) == 1 and problems[0].startswith("$.units[2].order: order 3 is taken by unit 'Booleans'")
    assert counts() == before


def test_import_is_bulk_query_count_does_not_grow_with_size(django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        import_course(document=scaled_document(200, 120))
    assert Question.objects.count() == 200 and Resource.objects.count() == 120
    assert ReferenceAnswer.objects.count() == 200
    doc = scaled_document(200, 120)
    for q in doc["questions"]:
        q["prompt"] += " (revised)"
    with django_assert_max_num_queries(30):
        import_course(document=doc)
    assert Question.objects.filter(prompt__endswith="(revised)").count() == 200


# --- round trip --------------------------------------------------------------------------------


def test_export_follows_the_documented_shape():
    course = import_course(document=sample_document())
    exported = export_course(course=course)
    assert exported["format"] == "tutor-course" and exported["version"] == 1
    assert set(exported) == {"format", "version", "course", "units", "skills", "questions", "resources"}
    assert set(exported["questions"][0]) == {
        "external_id", "unit", "order", "prompt", "max_points", "skills", "reference_answers", "rubric"
    }
    assert exported["questions"][0]["reference_answers"] == [
        {"external_id": "EM_45b-a1", "text": "The water was evaporated, leaving the salt."}
    ]
    json.dumps(exported)  # plain JSON


def test_export_import_round_trip_is_lossless():
    original = import_course(document=sample_document())
    first = export_course(course=original)

    copy_doc = copy.deepcopy(first)
    copy_doc["course"]["slug"] = "intro-python-copy"
    imported = import_course(document=copy_doc)
    second = export_course(course=imported)

    assert imported.pk != original.pk
    second["course"]["slug"] = "intro-python"
    assert second == first
    assert first == _normalised(sample_document())


def _normalised(document: dict) -> dict:
    """What export gives for ``document``: lists in the database's order, skills sorted."""
    doc = copy.deepcopy(document)
    for item in doc["skills"]:
        item["prerequisites"] = sorted(item["prerequisites"])
    unit_order = {u["id"]: u["order"] for u in doc["units"]}
    doc["skills"].sort(key=lambda s: (s["unit"] is not None, unit_order.get(s["unit"], 0), s["slug"]))
    doc["resources"].sort(key=lambda r: (r["unit"] is not None, unit_order.get(r["unit"], 0), r["order"]))
    return doc


def test_round_trip_of_content_made_without_external_ids():
    """Objects made through the API have no external ids; export invents stable ones."""
    course = services.course_create(slug="made-by-hand", title="Made by hand")
    unit = services.unit_create(course=course, order=1, title="Statements")
    skill = services.skill_create(course=course, slug="variables", name="Variables", unit=unit)
    services.question_create(
        course=course, prompt="How did you separate the salt from the water?",
        reference_answers=["The water was evaporated, leaving the salt."], unit=unit, skills=[skill],
    )
    services.resource_create(course=course, title="Variables", body="Variables allow programs to refer to values.")
    first = export_course(course=course)
    assert first["units"][0]["id"] == "unit-1"
    assert first["questions"][0]["external_id"].startswith("question-")
    assert first["questions"][0]["unit"] == "unit-1"

    # Into the same course: adopted, not copied.
    before = counts()
    import_course(document=first)
    assert counts() == before
    assert export_course(course=course) == first

    # Into another course: equal again.
    other = copy.deepcopy(first)
    other["course"]["slug"] = "made-by-hand-2"
    second = export_course(course=import_course(document=other))
    second["course"]["slug"] = "made-by-hand"
    assert second == first


def test_load_document_reads_json_and_gzip(tmp_path):
    doc = sample_document()
    plain = tmp_path / "course.json"
    plain.write_text(json.dumps(doc))
    packed = tmp_path / "course.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(doc).encode()))
    assert load_document(plain) == doc == load_document(packed)


def test_load_document_explains_bad_json_and_missing_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "tutor-course",\n "version": 1,,}')
    with pytest.raises(CourseFormatError) as info:
        load_document(bad)
    assert "not valid JSON" in info.value.problems[0] and "line 2" in info.value.problems[0]
    with pytest.raises(CourseFormatError, match="no such file"):
        load_document(tmp_path / "missing.json")
    top_list = tmp_path / "list.json"
    top_list.write_text("[]")
    with pytest.raises(CourseFormatError, match="must be a JSON object"):
        load_document(top_list)


# --- malformed documents ------------------------------------------------------------------------


def _broken(change) -> dict:
    doc = sample_document()
    change(doc)
    return doc


MALFORMED = [
    ("wrong format", lambda d: d.update(format="moodle-xml"), "$.format"),
    ("wrong version", lambda d: d.update(version=2), "$.version"),
    ("missing course", lambda d: d.pop("course"), "$.course: missing"),
    ("bad course slug", lambda d: d["course"].update(slug="intro python"), "$.course.slug"),
    ("empty course title", lambda d: d["course"].update(title=""), "$.course.title"),
    ("unknown key", lambda d: d["questions"][1].update(promt="typo"), "$.questions[1].promt: unknown key"),
    ("units not a list", lambda d: d.update(units={"ch1": 1}), "$.units: must be a list"),
    ("duplicate unit id", lambda d: d["units"][1].update(id="ch1"), "$.units[1].id: duplicate unit id 'ch1'"),
    ("duplicate unit order", lambda d: d["units"][1].update(order=1), "$.units[1].order: duplicate order 1"),
    ("unit order zero", lambda d: d["units"][0].update(order=0), "$.units[0].order: must be a positive integer"),
    ("unit order text", lambda d: d["units"][0].update(order="1"), "$.units[0].order: must be an integer"),
    ("bad skill slug", lambda d: d["skills"][0].update(slug="input output"), "$.skills[0].slug"),
    ("duplicate skill", lambda d: d["skills"][1].update(slug="ch1-input-output"), "$.skills[1].slug: duplicate"),
    ("unknown skill unit", lambda d: d["skills"][0].update(unit="ch9"), "$.skills[0].unit: unknown unit 'ch9'"),
    ("unknown prerequisite", lambda d: d["skills"][1].update(prerequisites=["loops"]),
     "$.skills[1].prerequisites[0]: unknown skill 'loops'"),
    ("self prerequisite", lambda d: d["skills"][0].update(prerequisites=["ch1-input-output"]),
     "$.skills[0].prerequisites: skill 'ch1-input-output' cannot be its own prerequisite"),
    ("missing prompt", lambda d: d["questions"][2].pop("prompt"), "$.questions[2].prompt: missing"),
    ("blank prompt", lambda d: d["questions"][2].update(prompt="  "), "$.questions[2].prompt: must not be empty"),
    ("empty external id", lambda d: d["questions"][0].update(external_id=""), "$.questions[0].external_id"),
    ("duplicate question", lambda d: d["questions"][1].update(external_id="EM_45b"),
     "$.questions[1].external_id: duplicate question external_id 'EM_45b'"),
    ("negative max points", lambda d: d["questions"][0].update(max_points=-1), "$.questions[0].max_points"),
    ("too many points", lambda d: d["questions"][0].update(max_points=1e308), "$.questions[0].max_points"),
    ("no reference answer", lambda d: d["questions"][0].update(reference_answers=[]),
     "$.questions[0].reference_answers: at least one reference answer"),
    ("blank reference answer", lambda d: d["questions"][0]["reference_answers"][0].update(text=""),
     "$.questions[0].reference_answers[0].text: must not be empty"),
    ("negative rubric points", lambda d: d["questions"][0]["rubric"][0].update(points=-0.5),
     "$.questions[0].rubric[0].points: must be 0 or more"),
    ("unknown question skill", lambda d: d["questions"][1].update(skills=["separating-mixtures", "x"]),
     "$.questions[1].skills[1]: unknown skill 'x'"),
    ("unknown question unit", lambda d: d["questions"][1].update(unit="ch7"), "$.questions[1].unit: unknown unit"),
    ("question not an object", lambda d: d["questions"].append("What is salt?"), "$.questions[3]: must be an object"),
    ("bad resource kind", lambda d: d["resources"][0].update(kind="podcast"),
     "$.resources[0].kind: 'podcast' is not one of reading, video, exercise, link"),
    ("resource without body or url", lambda d: d["resources"][1].update(body=""),
     "$.resources[1]: needs a body or a url"),
    ("bad resource url", lambda d: d["resources"][6].update(url="openstax dot org"), "$.resources[6].url"),
    ("duplicate resource", lambda d: d["resources"][1].update(external_id="m00003"),
     "$.resources[1].external_id: duplicate resource external_id 'm00003'"),
    ("unknown resource skill", lambda d: d["resources"][0].update(skills=["loops"]),
     "$.resources[0].skills[0]: unknown skill 'loops'"),
    ("too long title", lambda d: d["units"][0].update(title="x" * 201), "$.units[0].title: Ensure this value has at most 200"),
]


@pytest.mark.parametrize("change,expected", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_each_problem_is_reported_with_its_json_path_and_nothing_is_written(change, expected):
    problems = problems_of(_broken(change))
    assert any(p.startswith(expected) for p in problems), problems
    assert counts()["Course"] == 0


def test_prerequisite_cycle_is_named():
    def cycle(doc):
        doc["skills"][0]["prerequisites"] = ["ch2-type-conversion"]  # input-output needs type-conversion ...

    problems = problems_of(_broken(cycle))
    assert len(problems) == 1
    assert "prerequisites form a cycle: " in problems[0]
    path = problems[0].split("cycle: ")[1].split(" -> ")
    assert path[0] == path[-1] and set(path) <= {"ch1-input-output", "ch1-variables", "ch2-type-conversion",
                                                 "ch2-the-python-shell"}
    assert problems[0].startswith("$.skills[")


def test_all_problems_are_collected_at_once_and_an_existing_course_is_untouched():
    import_course(document=sample_document())
    before = counts()
    doc = sample_document()
    doc["course"]["title"] = "Changed title"
    doc["questions"][0]["reference_answers"] = []
    doc["resources"][0]["kind"] = "podcast"
    doc["skills"][1]["prerequisites"] = ["loops"]
    problems = problems_of(doc)
    assert [p.split(":")[0] for p in problems] == [
        "$.skills[1].prerequisites[0]",
        "$.questions[0].reference_answers",
        "$.resources[0].kind",
    ]
    assert counts() == before
    assert Course.objects.get().title == "Introduction to Python Programming"


def test_not_an_object():
    assert problems_of([]) == ["$: the document must be a JSON object"]


DEMO_FILES = sorted((Path(settings.BASE_DIR) / "data" / "demo").glob("*.course.json.gz"))


@pytest.mark.skipif(not DEMO_FILES, reason="no demo course files in data/demo")
@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_the_shipped_demo_courses_import_and_round_trip(path, django_assert_max_num_queries):
    document = load_document(path)
    with django_assert_max_num_queries(30):
        course = import_course(document=document)
    first = export_course(course=course)
    assert len(first["questions"]) == len(document.get("questions", []))
    assert len(first["resources"]) == len(document.get("resources", []))
    again = copy.deepcopy(first)
    again["course"]["slug"] += "-copy"
    second = export_course(course=import_course(document=again))
    second["course"]["slug"] = first["course"]["slug"]
    assert second == first
