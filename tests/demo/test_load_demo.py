"""The committed demo data (data/ in the repository) and its idempotent loading."""

import gzip
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from domain.course_io import import_course, load_document
from domain.demo import DATA_DIR, SLUGS, read_history
from domain.models import Course, Enrollment, Question, Resource
from student_model.history import import_history
from student_model.models import Grade, Submission
from tutor.ml.data.asag import read_jsonl_gz

pytestmark = pytest.mark.django_db


def _counts():
    return {
        "users": get_user_model().objects.count(),
        "enrollments": Enrollment.objects.count(),
        "courses": Course.objects.count(),
        "questions": Question.objects.count(),
        "submissions": Submission.objects.count(),
        "grades": Grade.objects.count(),
    }


def test_load_demo_twice_creates_no_duplicates():
    out = StringIO()
    call_command("load_demo", "--only", "computer-networks", stdout=out)
    first = _counts()
    history = read_history(DATA_DIR / "demo" / "computer-networks.history.jsonl.gz")
    assert first["courses"] == 1 and first["questions"] == 18
    assert first["submissions"] == first["grades"] == len(history) == 1476
    assert "teacher.networks" in out.getvalue() and "student-demo-pass" in out.getvalue()

    call_command("load_demo", "--only", "computer-networks", stdout=StringIO())
    assert _counts() == first


def test_demo_people_and_roles():
    call_command("load_demo", "--only", "data-structures", stdout=StringIO())
    User = get_user_model()
    course = Course.objects.get(slug="data-structures")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin-demo-pass")
    teacher = User.objects.get(username="teacher.datastructures")
    assert teacher.check_password("teacher-demo-pass")
    assert Enrollment.objects.get(user=teacher, course=course).role == "teacher"
    for name in ("alice", "bob", "chloe"):
        user = User.objects.get(username=name)
        assert user.check_password("student-demo-pass")
        assert Enrollment.objects.get(user=user, course=course).role == "student"
    pseudonym = User.objects.get(username="ds-a01-s01")
    assert not pseudonym.has_usable_password()
    assert Enrollment.objects.get(user=pseudonym, course=course).role == "student"


def test_history_grades_are_teacher_grades_dated_after_the_answer():
    call_command("load_demo", "--only", "data-structures", stdout=StringIO())
    submission = Submission.objects.select_related("question").get(question__external_id="1.1", external_id="1.1.0")
    grade = submission.grades.get()
    assert submission.status == "graded" and submission.question.max_points == 5.0
    assert (grade.score, grade.verdict, grade.source) == (3.5, "partially_correct", "teacher")
    assert grade.created_at > submission.submitted_at
    # Submission times are spread over weeks, not all "now".
    dates = set(Submission.objects.values_list("submitted_at__date", flat=True))
    assert len(dates) > 20


def test_import_history_skips_rows_already_there_and_refuses_bad_rows():
    call_command("load_demo", "--only", "computer-networks", stdout=StringIO())
    course = Course.objects.get(slug="computer-networks")
    rows = read_history(DATA_DIR / "demo" / "computer-networks.history.jsonl.gz")[:5]
    report = import_history(course=course, rows=rows)
    assert (report.submissions, report.skipped) == (0, 5)
    bad = dict(rows[0], external_id="new-1", score=7)
    with pytest.raises(Exception, match="outside 0..1"):
        import_history(course=course, rows=[bad])
    assert not Submission.objects.filter(external_id="new-1").exists()


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_course_documents_import(slug):
    document = load_document(DATA_DIR / "demo" / f"{slug}.course.json.gz")
    course = import_course(document=document)
    assert course.slug == slug
    assert course.licence and course.source and course.attribution
    assert Question.objects.filter(course=course).count() == len(document["questions"])
    assert Resource.objects.filter(course=course).count() == len(document["resources"])


def test_intro_python_readings_are_the_book_modules():
    course = import_course(document=load_document(DATA_DIR / "demo" / "intro-python.course.json.gz"))
    reading = Resource.objects.get(course=course, external_id="m00011")
    assert reading.title == "2.1 The Python shell" and reading.unit.title == "Expressions"
    assert "## The interpreter" in reading.body and reading.licence == "CC BY 4.0"
    assert reading.skills.get().prerequisites.exists()
    assert "OpenStax" in course.attribution and course.licence == "CC BY 4.0"


def test_history_holds_training_answers_only():
    semeval = read_jsonl_gz(DATA_DIR / "asag" / "semeval.jsonl.gz")
    unseen = {r.answer_id for r in semeval if r.split == "unseen_answers"}
    history = read_history(DATA_DIR / "demo" / "physical-science.history.jsonl.gz")
    assert len(history) == 4969 + 3941
    assert not unseen & {row["external_id"] for row in history}


def test_committed_asag_copies_hold_every_visible_split():
    def splits(name):
        with gzip.open(DATA_DIR / "asag" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        return {(r["subset"], r["split"]) for r in rows}, len(rows)

    assert splits("semeval") == (
        {("sciEntsBank", "train"), ("sciEntsBank", "unseen_answers"), ("beetle", "train"), ("beetle", "unseen_answers")},
        9889,
    )
    assert splits("saf") == (
        {("english", "train"), ("english", "unseen_answers"), ("german", "train"), ("german", "unseen_answers")},
        3533,
    )
    assert splits("mohler") == ({("mohler", "all")}, 2273)
