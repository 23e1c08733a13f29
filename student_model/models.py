"""What we know about each learner: their submissions and the grades given to them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


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
    course = models.ForeignKey(
        "domain.Course",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grader_versions",
        help_text="Empty for the global grader; set for a course's own version (e.g. a LoRA adapter).",
    )
    base = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived",
        help_text="The version this one was fine-tuned from.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True, course__isnull=True),
                name="grader_version_single_active",
            ),
            models.UniqueConstraint(
                fields=["course"],
                condition=models.Q(is_active=True, course__isnull=False),
                name="grader_version_single_active_per_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version}{' (active)' if self.is_active else ''}"


class ReleasePolicy(models.Model):
    """When a course's model grades reach students without a teacher's review."""

    course = models.OneToOneField("domain.Course", on_delete=models.CASCADE, related_name="release_policy")
    auto_release = models.BooleanField(
        default=True, help_text="Release model grades at or above the threshold without review."
    )
    confidence_threshold = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.course}: release at confidence >= {self.confidence_threshold:g}"


class GradeEvent(models.Model):
    """Audit trail: every change of a submission's grade or release state (who, when, from what to what)."""

    class Action(models.TextChoices):
        MODEL_GRADED = "model_graded", "Graded by the model"
        AUTO_RELEASED = "auto_released", "Released automatically"
        HELD_FOR_REVIEW = "held_for_review", "Held for review"
        ACCEPTED = "accepted", "Accepted by a teacher"
        OVERRIDDEN = "overridden", "Overridden by a teacher"
        RELEASED = "released", "Released by a teacher"
        RESCALED = "rescaled", "Rescaled with the question's new points"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(default=dict, blank=True, help_text="score, verdict, feedback, status before")
    after = models.JSONField(default=dict, blank=True, help_text="score, verdict, feedback, status after")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on submission {self.submission_id}"


class TrainingRun(models.Model):
    """A retraining of the grader for a course, started from the UI or the command line."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    course = models.ForeignKey("domain.Course", on_delete=models.CASCADE, related_name="grader_training_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    message = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker began it (it was queued before).")
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="metrics, decision (promoted or not) and why")
    version = models.ForeignKey(
        GraderVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="training_runs"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"training for {self.course} ({self.status})"


class SkillMastery(models.Model):
    """The tracer's current estimate that a learner has mastered a skill."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="masteries")
    skill = models.ForeignKey("domain.Skill", on_delete=models.CASCADE, related_name="masteries")
    p_mastery = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    attempts = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    last_practiced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    tracer_version = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["student_id", "skill_id"]
        constraints = [models.UniqueConstraint(fields=["student", "skill"], name="skill_mastery_unique")]

    def __str__(self) -> str:
        return f"{self.student} / {self.skill}: {self.p_mastery:.2f}"


class MasteryEvent(models.Model):
    """One update of a mastery estimate, kept for trends and charts."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mastery_events")
    skill = models.ForeignKey("domain.Skill", on_delete=models.CASCADE, related_name="mastery_events")
    submission = models.ForeignKey(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="mastery_events"
    )
    correct = models.BooleanField()
    p_before = models.FloatField()
    p_after = models.FloatField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["student", "skill", "created_at"])]


class TracerVersion(models.Model):
    """A knowledge tracer fitted for one course (BKT parameters or a Transformer on disk)."""

    class Kind(models.TextChoices):
        BKT = "bkt", "Bayesian Knowledge Tracing"
        TRANSFORMER = "transformer", "Transformer tracer"

    course = models.ForeignKey("domain.Course", on_delete=models.CASCADE, related_name="tracer_versions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.CharField(max_length=100, unique=True)
    path = models.CharField(max_length=500, blank=True, help_text="Model directory for a Transformer tracer.")
    parameters = models.JSONField(default=dict, blank=True, help_text="BKT parameters per skill, or settings.")
    metrics = models.JSONField(default=dict, blank=True)
    interactions = models.PositiveIntegerField(default=0, help_text="Interactions it was fitted on.")
    is_active = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course"], condition=models.Q(is_active=True), name="tracer_version_single_active_per_course"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version}{' (active)' if self.is_active else ''}"


class RegradeRun(models.Model):
    """A teacher's bulk regrade of a question or a whole course with the grader active now.

    Answers whose current grade a teacher gave, confirmed or released keep it; the others get a new model grade."""

    Status = TrainingRun.Status  # the same life: queued, running, succeeded or failed

    course = models.ForeignKey("domain.Course", on_delete=models.CASCADE, related_name="regrade_runs")
    question = models.ForeignKey(
        "domain.Question", on_delete=models.CASCADE, null=True, blank=True, related_name="regrade_runs",
        help_text="Empty: every question of the course.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    model_version = models.CharField(max_length=100, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Answers to regrade.")
    done = models.PositiveIntegerField(default=0, help_text="Answers regraded so far.")
    changed = models.PositiveIntegerField(default=0, help_text="Regraded answers whose verdict or score changed.")
    kept = models.PositiveIntegerField(default=0, help_text="Answers skipped: a teacher gave or confirmed their grade.")
    message = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker began it (or took it over from one that died)."
    )
    updated_at = models.DateTimeField(default=timezone.now, help_text="Last sign of life: written after every batch.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"regrade of {self.question or self.course} ({self.status})"

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.status == self.Status.SUCCEEDED else 0.0)
