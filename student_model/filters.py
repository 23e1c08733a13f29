"""Query-string filters of the submissions and grades API.

Ids are plain numbers, not model choices: an id outside the user's visible set simply
matches nothing instead of telling whether it exists.
"""

import django_filters

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
