"""Query-string filters of the submissions and grades API.

Ids are plain numbers, not model choices: an id outside the user's visible set simply
matches nothing instead of telling whether it exists.
"""

import django_filters

from domain import selectors as domain_selectors
from domain.models import Course

from .models import Grade, Submission


class SubmissionFilter(django_filters.FilterSet):
    course = django_filters.CharFilter(field_name="question__course__slug", help_text="Course slug.")
    question = django_filters.NumberFilter(field_name="question")
    student = django_filters.NumberFilter(field_name="student")
    submitted_after = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = Submission
        fields = ["course", "question", "status", "student", "submitted_after", "submitted_before"]


class GradeFilter(django_filters.FilterSet):
    submission = django_filters.NumberFilter(field_name="submission")
    course = django_filters.CharFilter(field_name="submission__question__course__slug", help_text="Course slug.")
    question = django_filters.NumberFilter(field_name="submission__question")

    class Meta:
        model = Grade
        fields = ["submission", "verdict", "source", "course", "question"]


def _taught_courses(request):
    if request is None:  # schema generation
        return Course.objects.none()
    return domain_selectors.course_list_taught(user=request.user).order_by("title")


class ReviewQueueFilter(django_filters.FilterSet):
    """Filters of the review queue (page and API). The queryset carries the current grade as ``grade_*``."""

    course = django_filters.ModelChoiceFilter(
        field_name="question__course", queryset=_taught_courses, to_field_name="slug", empty_label="All my courses",
        help_text="Course slug.",
    )
    question = django_filters.NumberFilter(field_name="question", help_text="Question id.")
    verdict = django_filters.ChoiceFilter(
        field_name="grade_verdict", choices=Grade.Verdict.choices, empty_label="Any verdict",
        help_text="The model's verdict.",
    )
    status = django_filters.ChoiceFilter(
        field_name="status",
        choices=[(Submission.Status.NEEDS_REVIEW, "Waiting for review"), (Submission.Status.GRADED, "Released")],
        empty_label="Held and released",
    )
    confidence_min = django_filters.NumberFilter(
        field_name="grade_confidence", lookup_expr="gte", label="Confidence from", help_text="0 .. 1, inclusive."
    )
    confidence_max = django_filters.NumberFilter(
        field_name="grade_confidence", lookup_expr="lte", label="Confidence to", help_text="0 .. 1, inclusive."
    )

    class Meta:
        model = Submission
        fields = ["course", "question", "verdict", "status", "confidence_min", "confidence_max"]
