"""What we know about each learner: their submissions and the grades given to them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Submission(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        GRADING = "grading", "Grading"
        GRADED = "graded", "Graded"
        NEEDS_REVIEW = "needs_review", "Needs review"

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    question = models.ForeignKey("domain.Question", on_delete=models.CASCADE, related_name="submissions")
    answer = models.TextField()
    submitted_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    external_id = models.CharField(
        max_length=120, blank=True, help_text="Identifier of a historical answer in its source data set."
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["student", "question"])]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "external_id"],
                condition=~models.Q(external_id=""),
                name="submission_unique_external_id_per_question",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} on question {self.question_id} ({self.status})"


class Grade(models.Model):
    """One grading of a submission. A submission's current grade is its latest one."""

    class Verdict(models.TextChoices):
        CORRECT = "correct", "Correct"
        PARTIALLY_CORRECT = "partially_correct", "Partially correct"
        CONTRADICTORY = "contradictory", "Contradictory"
        INCORRECT = "incorrect", "Incorrect"

    class Source(models.TextChoices):
        MODEL = "model", "Model"
        TEACHER = "teacher", "Teacher"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="grades")
    score = models.FloatField(validators=[MinValueValidator(0.0)], help_text="Points, 0 .. question max points.")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    confidence = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    feedback = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    model_version = models.CharField(max_length=100, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="grades_given"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(source="model") | ~models.Q(model_version=""), name="grade_model_has_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.verdict} {self.score:g} ({self.source})"


class GraderVersion(models.Model):
    """A trained grader on disk (``MODEL_DIR/grader/<version>``); at most one is active."""

    version = models.CharField(max_length=100, unique=True)
    path = models.CharField(max_length=500, help_text="Model directory (config.json, weights, tokenizer).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    metrics = models.JSONField(default=dict, blank=True)
    training_summary = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False, db_index=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="grader_version_single_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version}{' (active)' if self.is_active else ''}"
