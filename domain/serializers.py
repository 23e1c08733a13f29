"""API shapes of the domain: output serializers read models, input serializers feed the services.

Input serializers resolve references (course slug, unit id, skill slugs) within what the
requesting user may see, so an object outside that set reads as "does not exist".
"""

from django.contrib.auth import get_user_model
from rest_framework import exceptions, serializers

from . import selectors
from .models import Course, Enrollment, Question, Resource, RubricCriterion, Skill, Unit

# --- reference fields, scoped to the requesting user -----------------------------------------


class VisibleCourseField(serializers.SlugRelatedField):
    """A course named by slug, among the courses the user may see."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Course.objects.all(), **kwargs)

    def get_queryset(self):
        return selectors.course_list(user=self.context["request"].user)


class VisibleUnitField(serializers.PrimaryKeyRelatedField):
    """A unit id, among the units the user may see (the service checks it is the right course)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Unit.objects.all(), **kwargs)

    def get_queryset(self):
        return selectors.unit_list(user=self.context["request"].user)


def _managed_course(course: Course, request) -> Course:
    if not selectors.can_manage_course(user=request.user, course=course):
        raise exceptions.PermissionDenied("Only the course's teachers and admins may change its content.")
    return course


def _skills_by_slug(course: Course, slugs: list[str], field: str) -> list[Skill]:
    found = {s.slug: s for s in Skill.objects.filter(course=course, slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise serializers.ValidationError(
            {field: f"No skill with slug {', '.join(missing)} in course '{course.slug}'."}
        )
    return [found[slug] for slug in dict.fromkeys(slugs)]


class CourseContentInput(serializers.Serializer):
    """Base of content inputs: on create the body names the course; on update it is the object's."""

    skill_list_fields: tuple[str, ...] = ()

    def target_course(self, attrs) -> Course:
        return attrs["course"] if "course" in attrs else self.context["course"]

    def validate(self, attrs):
        course = self.target_course(attrs)
        for field in self.skill_list_fields:
            if field in attrs:
                attrs[field] = _skills_by_slug(course, attrs[field], field)
        return attrs


class WithCourseInput(serializers.Serializer):
    """Mixin for create inputs: the course, by slug, which the user must manage."""

    course = VisibleCourseField(help_text="Slug of a course you manage.")

    def validate_course(self, course: Course) -> Course:
        return _managed_course(course, self.context["request"])


# --- courses ----------------------------------------------------------------------------------


class CourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = [
            "slug", "title", "description", "source", "source_url", "licence", "attribution",
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class CourseInputSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=80)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.CharField(required=False, allow_blank=True, default="")
    source_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    licence = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    attribution = serializers.CharField(required=False, allow_blank=True, default="")


# --- units ------------------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "course", "order", "title", "external_id"]
        read_only_fields = fields


class UnitUpdateSerializer(CourseContentInput):
    order = serializers.IntegerField(min_value=0)
    title = serializers.CharField(max_length=200)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class UnitCreateSerializer(WithCourseInput, UnitUpdateSerializer):
    pass


# --- skills -----------------------------------------------------------------------------------


class SkillSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    prerequisites = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True, help_text="Slugs of the skills to master first."
    )
    prerequisite_ids = serializers.PrimaryKeyRelatedField(source="prerequisites", many=True, read_only=True)

    class Meta:
        model = Skill
        fields = ["id", "course", "unit", "slug", "name", "description", "prerequisites", "prerequisite_ids"]
        read_only_fields = fields


class SkillUpdateSerializer(CourseContentInput):
    skill_list_fields = ("prerequisites",)

    slug = serializers.SlugField(max_length=120)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    unit = VisibleUnitField(required=False, allow_null=True, default=None)
    prerequisites = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list, help_text="Slugs of skills of the same course."
    )


class SkillCreateSerializer(WithCourseInput, SkillUpdateSerializer):
    pass


# --- questions --------------------------------------------------------------------------------


class RubricCriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RubricCriterion
        fields = ["description", "points"]


class QuestionSerializer(serializers.ModelSerializer):
    """A question as a student sees it: no reference answers, no rubric."""

    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    skills = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "course", "unit", "external_id", "order", "prompt", "max_points", "skills"]
        read_only_fields = fields


class QuestionManagerSerializer(QuestionSerializer):
    """A question as its course's teachers and admins see it."""

    reference_answers = serializers.SlugRelatedField(slug_field="text", many=True, read_only=True)
    rubric = RubricCriterionSerializer(source="rubric_criteria", many=True, read_only=True)

    class Meta(QuestionSerializer.Meta):
        fields = QuestionSerializer.Meta.fields + ["reference_answers", "rubric"]
        read_only_fields = fields


class QuestionUpdateSerializer(CourseContentInput):
    skill_list_fields = ("skills",)

    prompt = serializers.CharField()
    # Blank texts are dropped by the service, which asks for at least one non-empty answer.
    reference_answers = serializers.ListField(child=serializers.CharField(allow_blank=True))
    max_points = serializers.FloatField(min_value=0.0, max_value=Question.MAX_POINTS_LIMIT, required=False, default=1.0)
    unit = VisibleUnitField(required=False, allow_null=True, default=None)
    external_id = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    order = serializers.IntegerField(min_value=0, required=False, default=0)
    skills = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    rubric = RubricCriterionSerializer(many=True, required=False, default=list)


class QuestionCreateSerializer(WithCourseInput, QuestionUpdateSerializer):
    pass


# --- resources --------------------------------------------------------------------------------


class ResourceSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    skills = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Resource
        fields = [
            "id", "course", "unit", "kind", "title", "order", "body", "url", "skills",
            "external_id", "source", "licence",
        ]
        read_only_fields = fields


class ResourceUpdateSerializer(CourseContentInput):
    skill_list_fields = ("skills",)

    title = serializers.CharField(max_length=300)
    kind = serializers.ChoiceField(choices=Resource.Kind.choices, required=False, default=Resource.Kind.READING)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    unit = VisibleUnitField(required=False, allow_null=True, default=None)
    skills = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    external_id = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    order = serializers.IntegerField(min_value=0, required=False, default=0)
    source = serializers.CharField(required=False, allow_blank=True, default="")
    licence = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ResourceCreateSerializer(WithCourseInput, ResourceUpdateSerializer):
    pass


# --- enrollments ------------------------------------------------------------------------------


class EnrollmentSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "user", "username", "course", "role", "created_at"]
        read_only_fields = fields


class EnrollmentCreateSerializer(WithCourseInput):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), help_text="Username of the person to enroll."
    )
    role = serializers.ChoiceField(choices=Enrollment.Role.choices, required=False, default=Enrollment.Role.STUDENT)

    def validate(self, attrs):
        user = self.context["request"].user
        if attrs["role"] != Enrollment.Role.STUDENT and not selectors.is_admin(user):
            raise exceptions.PermissionDenied("Only admins may enroll teachers.")
        return attrs


class AuthTokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
