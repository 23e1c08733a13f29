"""A small course for the mastery tests: skill ``basics`` -> skill ``loops``, questions, people, and
``answer()``, which grades through the real ``record_grade`` and runs its on-commit mastery update."""

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from student_model import services
from tests import factories


def small_course():
    course = factories.CourseFactory(slug="py", title="Python")
    unit1 = factories.UnitFactory(course=course, order=1, title="Basics")
    unit2 = factories.UnitFactory(course=course, order=2, title="Loops")
    basics = factories.SkillFactory(course=course, unit=unit1, slug="basics", name="Basics")
    loops = factories.SkillFactory(course=course, unit=unit2, slug="loops", name="Loops")
    loops.prerequisites.add(basics)
    questions = {}
    for key, unit, skill, prompt in [
        ("b1", unit1, basics, "What does print do?"),
        ("b2", unit1, basics, "What is a variable?"),
        ("l1", unit2, loops, "What does a for loop repeat?"),
        ("l2", unit2, loops, "When does a while loop stop?"),
    ]:
        q = factories.QuestionFactory(course=course, unit=unit, external_id=key, prompt=prompt)
        q.skills.add(skill)
        questions[key] = q
    student = factories.UserFactory(username="ada")
    factories.EnrollmentFactory(user=student, course=course, role="student")
    teacher = factories.UserFactory(username="grace")
    factories.EnrollmentFactory(user=teacher, course=course, role="teacher")
    return SimpleNamespace(course=course, units=(unit1, unit2), basics=basics, loops=loops, q=questions,
                           student=student, teacher=teacher)


def answer(capture, student, question, correct, *, text=None, when=None, status="graded", feedback=""):
    """A submission graded right or wrong by a teacher; ``capture`` is django_capture_on_commit_callbacks."""
    submission = factories.SubmissionFactory(
        student=student, question=question, status="grading",
        answer=text or ("A right answer." if correct else "A wrong answer."),
        submitted_at=when or timezone.now(),
    )
    with capture(execute=True):
        services.record_grade(
            submission=submission, score=1.0 if correct else 0.0,
            verdict="correct" if correct else "incorrect", source="teacher", status=status, feedback=feedback,
        )
    return submission


def days_ago(n: float):
    return timezone.now() - timedelta(days=n)
