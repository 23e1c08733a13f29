from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .models import (
    Grade,
    GradeEvent,
    GraderVersion,
    MasteryEvent,
    RegradeRun,
    ReleasePolicy,
    SkillMastery,
    Submission,
    TracerVersion,
    TrainingRun,
)


class ReadOnlyGrades:
    """Grades are given and changed on the review pages, which check the points and keep the audit trail
    (``GradeEvent``); the admin shows them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class GradeInline(ReadOnlyGrades, admin.TabularInline):
    model = Grade
    extra = 0
    fields = ["score", "verdict", "confidence", "source", "model_version", "graded_by", "feedback", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["graded_by"]
    ordering = ["-created_at", "-id"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "student", "question", "status", "submitted_at"]
    list_select_related = ["student", "question"]
    search_fields = ["student__username", "question__external_id", "answer", "external_id"]
    list_filter = ["status", "question__course"]
    date_hierarchy = "submitted_at"
    raw_id_fields = ["student", "question"]
    inlines = [GradeInline]
    show_full_result_count = False  # counting thousands of rows twice per page is wasted work


@admin.register(Grade)
class GradeAdmin(ReadOnlyGrades, admin.ModelAdmin):
    list_display = ["id", "submission", "score", "verdict", "source", "confidence", "model_version", "created_at"]
    list_select_related = ["submission__student", "submission__question"]
    search_fields = ["submission__student__username", "submission__question__external_id", "feedback"]
    list_filter = ["source", "verdict", "model_version", "submission__question__course"]
    date_hierarchy = "created_at"
    raw_id_fields = ["submission", "graded_by"]
    readonly_fields = ["created_at"]
    show_full_result_count = False


@admin.register(GraderVersion)
class GraderVersionAdmin(admin.ModelAdmin):
    """Versions are registered by the training commands; here they are inspected and activated."""

    list_display = ["version", "course", "base", "is_active", "created_at", "path"]
    list_filter = ["is_active", "course"]
    search_fields = ["version", "notes"]
    readonly_fields = ["version", "course", "base", "path", "created_at", "metrics", "training_summary", "is_active"]
    fields = ["version", "course", "base", "is_active", "path", "created_at", "metrics", "training_summary", "notes"]
    actions = ["activate"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Make the selected version the active grader (of its course, or globally)")
    def activate(self, request, queryset):
        from .ml_registry import activate_version

        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        version = queryset.get().version
        try:
            activate_version(version=version)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, f"Grader {version} is now active.", messages.SUCCESS)


# --- review, release and retraining ---


@admin.register(ReleasePolicy)
class ReleasePolicyAdmin(admin.ModelAdmin):
    list_display = ["course", "auto_release", "confidence_threshold", "updated_at", "updated_by"]
    raw_id_fields = ["updated_by"]


@admin.register(GradeEvent)
class GradeEventAdmin(admin.ModelAdmin):
    """The audit trail is written by the services only."""

    list_display = ["id", "submission", "action", "actor", "created_at"]
    list_filter = ["action", "submission__question__course"]
    raw_id_fields = ["submission", "actor"]
    readonly_fields = ["submission", "action", "actor", "before", "after", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "course", "status", "progress", "created_at", "finished_at", "version"]
    list_filter = ["status", "course"]
    raw_id_fields = ["started_by", "version"]
    readonly_fields = ["created_at"]


@admin.register(RegradeRun)
class RegradeRunAdmin(admin.ModelAdmin):
    list_display = ["id", "course", "question", "status", "done", "total", "changed", "kept", "model_version",
                    "created_at", "finished_at"]
    list_filter = ["status", "course"]
    raw_id_fields = ["started_by", "question"]
    readonly_fields = ["created_at"]


# --- mastery and knowledge tracing ---


@admin.register(SkillMastery)
class SkillMasteryAdmin(admin.ModelAdmin):
    list_display = ["student", "skill", "p_mastery", "attempts", "correct", "last_practiced_at"]
    list_filter = ["skill__course"]
    search_fields = ["student__username", "skill__name"]
    raw_id_fields = ["student", "skill"]


@admin.register(MasteryEvent)
class MasteryEventAdmin(admin.ModelAdmin):
    list_display = ["student", "skill", "correct", "p_before", "p_after", "created_at"]
    list_filter = ["skill__course", "correct"]
    raw_id_fields = ["student", "skill", "submission"]


@admin.register(TracerVersion)
class TracerVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "course", "kind", "is_active", "interactions", "created_at"]
    list_filter = ["kind", "is_active", "course"]
    readonly_fields = ["created_at"]
