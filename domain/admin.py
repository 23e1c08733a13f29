from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import (
    Course,
    Enrollment,
    Question,
    ReferenceAnswer,
    Resource,
    RubricCriterion,
    Skill,
    SkillPrerequisite,
    Unit,
)
from .services import skill_check_prerequisites


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    raw_id_fields = ["user"]


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ["order", "title", "external_id"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "licence", "updated_at"]
    search_fields = ["title", "slug", "description"]
    list_filter = ["licence"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [UnitInline, EnrollmentInline]

    def get_readonly_fields(self, request, obj=None):
        # A course's slug is its address (domain.services.course_update): set once, when it is created.
        return [*self.readonly_fields, "slug"] if obj is not None else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if obj is None else {}


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "course", "external_id"]
    list_select_related = ["course"]
    search_fields = ["title", "external_id"]
    list_filter = ["course"]
    ordering = ["course", "order"]


class PrerequisiteFormSet(forms.BaseInlineFormSet):
    """Refuse prerequisites that would form a cycle, with the service's message."""

    def clean(self):
        super().clean()
        kept = [
            form.cleaned_data["prerequisite"]
            for form in self.forms
            if form.cleaned_data.get("prerequisite") and not form.cleaned_data.get("DELETE")
        ]
        try:
            skill_check_prerequisites(skill=self.instance, prerequisites=kept)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["prerequisites"]) from None


class SkillPrerequisiteForm(forms.ModelForm):
    class Meta:
        model = SkillPrerequisite
        fields = ["skill", "prerequisite"]

    def clean(self):
        data = super().clean()
        skill, prerequisite = data.get("skill"), data.get("prerequisite")
        if skill and prerequisite:
            others = skill.prerequisites.exclude(pk=getattr(self.instance, "prerequisite_id", None))
            try:
                skill_check_prerequisites(skill=skill, prerequisites=[*others, prerequisite])
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["prerequisites"]) from None
        return data


class SkillPrerequisiteInline(admin.TabularInline):
    model = SkillPrerequisite
    formset = PrerequisiteFormSet
    fk_name = "skill"
    extra = 0
    autocomplete_fields = ["prerequisite"]
    verbose_name = "prerequisite"
    verbose_name_plural = "prerequisites (must be mastered before this skill)"


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "course", "unit"]
    list_select_related = ["course", "unit"]
    search_fields = ["name", "slug", "description"]
    list_filter = ["course"]
    raw_id_fields = ["unit"]
    inlines = [SkillPrerequisiteInline]


@admin.register(SkillPrerequisite)
class SkillPrerequisiteAdmin(admin.ModelAdmin):
    list_display = ["prerequisite", "skill"]
    list_select_related = ["prerequisite", "skill"]
    search_fields = ["skill__slug", "skill__name", "prerequisite__slug", "prerequisite__name"]
    list_filter = ["skill__course"]
    autocomplete_fields = ["skill", "prerequisite"]
    form = SkillPrerequisiteForm


class ReferenceAnswerInline(admin.TabularInline):
    model = ReferenceAnswer
    extra = 0
    min_num = 1
    validate_min = True
    fields = ["order", "text", "external_id"]


class RubricCriterionInline(admin.TabularInline):
    model = RubricCriterion
    extra = 0
    fields = ["order", "description", "points"]


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = "__all__"

    def clean_max_points(self) -> float:
        from student_model.services import check_new_points  # the student model builds on the domain

        max_points = self.cleaned_data["max_points"]
        if self.instance.pk:
            try:
                check_new_points(question=self.instance, max_points=max_points)
            except ValidationError as error:
                raise ValidationError(error.message_dict["max_points"]) from error
        return max_points


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionAdminForm
    list_display = ["short_prompt", "external_id", "course", "unit", "order", "max_points"]
    list_select_related = ["course", "unit"]
    search_fields = ["prompt", "external_id"]
    list_filter = ["course"]
    raw_id_fields = ["unit"]
    autocomplete_fields = ["skills"]
    inlines = [ReferenceAnswerInline, RubricCriterionInline]

    def save_model(self, request, obj: Question, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "max_points" in form.changed_data:
            from student_model.services import rescale_question_grades  # the student model builds on the domain

            rescale_question_grades(question=obj, old_max_points=form.initial["max_points"], actor=request.user)

    @admin.display(description="prompt", ordering="prompt")
    def short_prompt(self, obj: Question) -> str:
        return obj.prompt if len(obj.prompt) <= 80 else obj.prompt[:79] + "…"


@admin.register(ReferenceAnswer)
class ReferenceAnswerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "question", "order", "external_id"]
    list_select_related = ["question"]
    search_fields = ["text", "external_id", "question__external_id"]
    list_filter = ["question__course"]
    raw_id_fields = ["question"]


@admin.register(RubricCriterion)
class RubricCriterionAdmin(admin.ModelAdmin):
    list_display = ["description", "points", "question", "order"]
    list_select_related = ["question"]
    search_fields = ["description", "question__external_id"]
    list_filter = ["question__course"]
    raw_id_fields = ["question"]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "course", "unit", "order", "external_id"]
    list_select_related = ["course", "unit"]
    search_fields = ["title", "external_id", "body"]
    list_filter = ["kind", "course", "licence"]
    raw_id_fields = ["unit"]
    autocomplete_fields = ["skills"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "role", "created_at"]
    list_select_related = ["user", "course"]
    search_fields = ["user__username", "user__email", "course__title", "course__slug"]
    list_filter = ["role", "course"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
