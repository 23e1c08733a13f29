"""What is taught: courses, their units, skills, questions and resources, and who takes part."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Course(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text="Where the material comes from (provenance).")
    source_url = models.URLField(max_length=500, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    attribution = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Unit(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="units")
    order = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["course", "order"]
        constraints = [models.UniqueConstraint(fields=["course", "order"], name="unit_unique_order_per_course")]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Skill(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="skills")
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="skills")
    slug = models.SlugField(max_length=120)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, through="SkillPrerequisite", related_name="dependents", blank=True
    )

    class Meta:
        # NULLs first on every database (SQLite and PostgreSQL disagree by default).
        ordering = ["course", models.F("unit__order").asc(nulls_first=True), "slug"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="skill_unique_slug_per_course")]

    def __str__(self) -> str:
        return self.name


class SkillPrerequisite(models.Model):
    """An edge ``prerequisite -> skill``: ``prerequisite`` must be mastered before ``skill``."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="prerequisite_edges")
    prerequisite = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="dependent_edges")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["skill", "prerequisite"], name="prerequisite_unique_edge"),
            models.CheckConstraint(condition=~models.Q(skill=models.F("prerequisite")), name="prerequisite_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.prerequisite} -> {self.skill}"


MIN_POINTS = 0.01  # below this, scores of a share of the points are lost to float rounding


def validate_points(value: float) -> None:
    if 0 < value < MIN_POINTS:
        raise ValidationError(f"A question is worth 0 points (practice) or at least {MIN_POINTS:g}.")
    if round(value, 2) != value:  # grades are shown to two decimals: 0.015 would read "0.01 / 0.02"
        raise ValidationError("Points take at most two decimals (for example 2.5 or 0.25).")


class Question(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions")
    external_id = models.CharField(max_length=120, blank=True, help_text="Identifier in the source data set.")
    order = models.PositiveIntegerField(default=0)
    prompt = models.TextField()
    MAX_POINTS_LIMIT = 1000.0
    max_points = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(MAX_POINTS_LIMIT), validate_points],
        help_text=f"0 (practice, not scored) or {MIN_POINTS:g} to {MAX_POINTS_LIMIT:g}.",
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="questions")
    updated_at = models.DateTimeField(auto_now=True)  # with the count and the top id: the tutor's caches' version

    class Meta:
        ordering = ["course", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "external_id"],
                condition=~models.Q(external_id=""),
                name="question_unique_external_id_per_course",
                violation_error_message="Another question of this course has this external id.",
            )
        ]

    def __str__(self) -> str:
        return self.prompt[:80]


class ReferenceAnswer(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="reference_answers")
    order = models.PositiveIntegerField(default=0)
    text = models.TextField()
    external_id = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class RubricCriterion(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="rubric_criteria")
    order = models.PositiveIntegerField(default=0)
    description = models.TextField()
    points = models.FloatField(validators=[MinValueValidator(0.0)])

    class Meta:
        ordering = ["question", "order", "id"]
        verbose_name_plural = "rubric criteria"

    def __str__(self) -> str:
        return f"{self.description[:60]} ({self.points:g})"


class Resource(models.Model):
    class Kind(models.TextChoices):
        READING = "reading", "Reading"
        VIDEO = "video", "Video"
        EXERCISE = "exercise", "Exercise"
        LINK = "link", "Link"
        FAQ = "faq", "Question answered by a teacher"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="resources")
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="resources")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.READING)
    title = models.CharField(max_length=300)
    order = models.PositiveIntegerField(default=0)
    body = models.TextField(blank=True, help_text="Markdown text of the resource.")
    url = models.URLField(max_length=500, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="resources")
    external_id = models.CharField(max_length=120, blank=True)
    source = models.TextField(blank=True)
    licence = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)  # with the count and the top id: the tutor's index version

    class Meta:
        ordering = ["course", models.F("unit__order").asc(nulls_first=True), "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "external_id"],
                condition=~models.Q(external_id=""),
                name="resource_unique_external_id_per_course",
                violation_error_message="Another resource of this course has this external id.",
            ),
            models.CheckConstraint(
                condition=~(models.Q(body="") & models.Q(url="")), name="resource_has_body_or_url"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "role", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="enrollment_unique_user_course")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} as {self.role}"
