"""API shapes of grader versions, retraining runs and regrades."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from domain import selectors as domain_selectors
from domain.models import Course

from . import background
from .models import GraderVersion, RegradeRun, TrainingRun
from .serializers import VisibleQuestionField


class GraderVersionSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    base = serializers.SlugRelatedField(slug_field="version", read_only=True)
    scope = serializers.SerializerMethodField(help_text="global, or course (the course's own version)")

    class Meta:
        model = GraderVersion
        fields = ["id", "version", "course", "base", "scope", "is_active", "created_at", "metrics",
                  "training_summary", "notes"]
        read_only_fields = fields

    def get_scope(self, obj: GraderVersion) -> str:
        return "global" if obj.course_id is None else "course"


class SecondsLeftMixin(serializers.Serializer):
    seconds_left = serializers.SerializerMethodField(
        help_text="A running run's estimated seconds to its end, at its pace so far; null while queued, once "
                  "ended, or before a tenth of the work is done."
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_seconds_left(self, run) -> int | None:
        return background.seconds_left(status=run.status, progress=run.progress, started_at=run.started_at)


class TrainingRunSerializer(SecondsLeftMixin, serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.SlugRelatedField(slug_field="version", read_only=True)
    started_by = serializers.CharField(source="started_by.username", read_only=True, default=None)
    # Plain text (not an enum): "status" already names the submissions' status enum in the schema.
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded or failed")

    class Meta:
        model = TrainingRun
        fields = ["id", "course", "status", "progress", "seconds_left", "message", "started_by", "created_at",
                  "started_at", "finished_at", "version", "result"]
        read_only_fields = fields


class VisibleCourseField(serializers.SlugRelatedField):
    """A course slug among the courses the user may see (others: 'does not exist')."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Course.objects.all(), **kwargs)

    def get_queryset(self):
        return domain_selectors.course_list(user=self.context["request"].user)


class TrainingRunCreateSerializer(serializers.Serializer):
    course = VisibleCourseField(help_text="Slug of the course whose grader to retrain (you must teach it).")


class RollbackSerializer(serializers.Serializer):
    course = VisibleCourseField(help_text="Slug of the course to roll back (you must teach it).")


class RollbackResultSerializer(serializers.Serializer):
    course = serializers.CharField(help_text="The course's slug.")
    serving = GraderVersionSerializer(allow_null=True, help_text="The version now grading the course (null: none).")


class RegradeRunSerializer(SecondsLeftMixin, serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    started_by = serializers.CharField(source="started_by.username", read_only=True, default=None)
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded or failed")
    progress = serializers.FloatField(read_only=True, help_text="Share of the answers regraded so far, 0 .. 1.")

    class Meta:
        model = RegradeRun
        fields = ["id", "course", "question", "status", "progress", "seconds_left", "total", "done", "changed",
                  "kept", "model_version", "message", "started_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class RegradeRunCreateSerializer(serializers.Serializer):
    course = VisibleCourseField(help_text="Slug of the course to regrade (you must teach it).")
    question = VisibleQuestionField(
        required=False, allow_null=True,
        help_text="Only this question of the course (default: every question).",
    )

    def validate(self, attrs):
        question = attrs.get("question")
        if question is not None and question.course_id != attrs["course"].pk:
            raise serializers.ValidationError({"question": "This question belongs to another course."})
        return attrs
