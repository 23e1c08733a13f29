"""Query-string filters of the domain API (``?course=<slug>&unit=<id>&skill=<slug>`` …).

Ids are plain numbers, not model choices: an id outside the user's visible set simply
matches nothing instead of telling whether it exists.
"""

import django_filters

from .models import Course, Enrollment, Question, Resource, Skill, Unit


class CourseFilter(django_filters.FilterSet):
    class Meta:
        model = Course
        fields = {"slug": ["exact"]}


class UnitFilter(django_filters.FilterSet):
    course = django_filters.CharFilter(field_name="course__slug", help_text="Course slug.")

    class Meta:
        model = Unit
        fields = ["course"]


class SkillFilter(django_filters.FilterSet):
    unit = django_filters.NumberFilter(field_name="unit")
    course = django_filters.CharFilter(field_name="course__slug", help_text="Course slug.")
    prerequisite = django_filters.CharFilter(
        field_name="prerequisites__slug", distinct=True, help_text="Skills that need the skill with this slug."
    )

    class Meta:
        model = Skill
        fields = ["course", "unit", "slug", "prerequisite"]


class QuestionFilter(django_filters.FilterSet):
    unit = django_filters.NumberFilter(field_name="unit")
    course = django_filters.CharFilter(field_name="course__slug", help_text="Course slug.")
    skill = django_filters.CharFilter(field_name="skills__slug", distinct=True, help_text="Skill slug.")

    class Meta:
        model = Question
        fields = ["course", "unit", "skill", "external_id"]


class ResourceFilter(django_filters.FilterSet):
    unit = django_filters.NumberFilter(field_name="unit")
    course = django_filters.CharFilter(field_name="course__slug", help_text="Course slug.")
    skill = django_filters.CharFilter(field_name="skills__slug", distinct=True, help_text="Skill slug.")

    class Meta:
        model = Resource
        fields = ["course", "kind", "unit", "skill"]


class EnrollmentFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user")
    course = django_filters.CharFilter(field_name="course__slug", help_text="Course slug.")
    username = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Enrollment
        fields = ["course", "role", "user", "username"]
