"""Bulk import of historical answers with their teachers' grades (the demo courses' past).

Each row is a dict::

    {"question": "<question external_id>", "external_id": "<answer id in the source>",
     "student": "<pseudonymous username>", "answer": "...", "score": 0.5,
     "verdict": "partially_correct", "feedback": "...", "submitted_at": "2025-02-03T09:12:00Z"}

Rows already imported (same question and external id) are skipped, so importing the same
file twice changes nothing. Students are created with unusable passwords (they cannot log
in) and enrolled as students. Everything is written with ``bulk_create``: a course's whole
history is a few queries, not one per answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from domain.models import Course, Enrollment, Question

from .models import Grade, Submission

BATCH = 1000
# Teachers' grades are dated a day after the answer (the sources do not say when they graded).
GRADING_DELAY = timedelta(days=1)
REQUIRED = ("question", "external_id", "student", "answer", "score", "verdict", "submitted_at")


@dataclass
class HistoryReport:
    submissions: int = 0
    skipped: int = 0
    students_created: int = 0
    enrollments_created: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _check_rows(rows: list[Mapping], questions: Mapping[str, Question]) -> None:
    problems = []
    verdicts = set(Grade.Verdict.values)
    for i, row in enumerate(rows):
        missing = [k for k in REQUIRED if row.get(k) in (None, "")]
        if missing:
            problems.append(f"row {i}: missing {', '.join(missing)}")
            continue
        question = questions.get(row["question"])
        if question is None:
            problems.append(f"row {i}: no question '{row['question']}' in the course")
        elif not 0 <= float(row["score"]) <= question.max_points:
            problems.append(f"row {i}: score {row['score']} outside 0..{question.max_points:g}")
        if row["verdict"] not in verdicts:
            problems.append(f"row {i}: unknown verdict '{row['verdict']}'")
        if parse_datetime(row["submitted_at"]) is None:
            problems.append(f"row {i}: submitted_at '{row['submitted_at']}' is not an ISO date-time")
        if len(problems) >= 20:
            break
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def import_history(*, course: Course, rows: Iterable[Mapping]) -> HistoryReport:
    """Create pseudonymous students, their enrollments, graded submissions and teacher grades."""
    rows = list(rows)
    questions = {q.external_id: q for q in Question.objects.filter(course=course).exclude(external_id="")}
    _check_rows(rows, questions)
    report = HistoryReport()

    existing = set(
        Submission.objects.filter(question__course=course)
        .exclude(external_id="")
        .values_list("question_id", "external_id")
    )
    new_rows, seen = [], set()
    for row in rows:
        key = (questions[row["question"]].pk, row["external_id"])
        if key in existing or key in seen:
            report.skipped += 1
            continue
        seen.add(key)
        new_rows.append(row)
    if not new_rows:
        return report

    students = _ensure_students(sorted({row["student"] for row in new_rows}), report)
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    enrollments = [
        Enrollment(user_id=user_id, course=course, role=Enrollment.Role.STUDENT)
        for user_id in sorted(set(students.values()) - enrolled)
    ]
    Enrollment.objects.bulk_create(enrollments, batch_size=BATCH)
    report.enrollments_created = len(enrollments)

    submissions = [
        Submission(
            student_id=students[row["student"]],
            question=questions[row["question"]],
            answer=row["answer"],
            submitted_at=parse_datetime(row["submitted_at"]),
            status=Submission.Status.GRADED,
            external_id=row["external_id"],
        )
        for row in new_rows
    ]
    Submission.objects.bulk_create(submissions, batch_size=BATCH)
    # Primary keys: bulk_create sets them on PostgreSQL and SQLite >= 3.35; look them up otherwise.
    if any(s.pk is None for s in submissions):
        ids = dict(
            ((q, e), pk)
            for pk, q, e in Submission.objects.filter(question__course=course)
            .exclude(external_id="")
            .values_list("pk", "question_id", "external_id")
        )
        for submission in submissions:
            submission.pk = submission.id = ids[(submission.question_id, submission.external_id)]

    grades = [
        Grade(
            submission=submission,
            score=float(row["score"]),
            verdict=row["verdict"],
            feedback=row.get("feedback") or "",
            source=Grade.Source.TEACHER,
        )
        for submission, row in zip(submissions, new_rows, strict=True)
    ]
    Grade.objects.bulk_create(grades, batch_size=BATCH)
    # created_at is auto_now_add (set to now by bulk_create): date each grade after its answer instead.
    for grade, submission in zip(grades, submissions, strict=True):
        grade.created_at = submission.submitted_at + GRADING_DELAY
    Grade.objects.bulk_update(grades, ["created_at"], batch_size=BATCH)
    report.submissions = len(submissions)
    return report


def _ensure_students(usernames: list[str], report: HistoryReport) -> dict[str, int]:
    User = get_user_model()
    found: dict[str, int] = {}
    for start in range(0, len(usernames), 500):  # stay under SQLite's limit on query parameters
        chunk = usernames[start : start + 500]
        found.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    missing = [name for name in usernames if name not in found]
    unusable = make_password(None)  # cheap: no hashing for an unusable password
    User.objects.bulk_create(
        [User(username=name, password=unusable) for name in missing],
        batch_size=BATCH,
    )
    report.students_created = len(missing)
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        found.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    return found
