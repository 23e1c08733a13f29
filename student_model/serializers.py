"""API shapes of submissions and grades."""

from rest_framework import serializers

from domain import selectors as domain_selectors
from domain.models import Course, Question

from .models import Grade, ReleasePolicy, Submission


class SubmissionSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(source="question.course", slug_field="slug", read_only=True)
    student_username = serializers.CharField(source="student.username", read_only=True)

    class Meta:
        model = Submission
        fields = ["id", "question", "course", "student", "student_username", "answer", "submitted_at", "status"]
        read_only_fields = fields


class VisibleQuestionField(serializers.PrimaryKeyRelatedField):
    """A question id among the questions the user may see."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Question.objects.all(), **kwargs)

    def get_queryset(self):
        return domain_selectors.question_list(user=self.context["request"].user)


class SubmissionCreateSerializer(serializers.Serializer):
    question = VisibleQuestionField()
    # Blank and over-long answers are refused by the service, with a message saying what to do.
    answer = serializers.CharField(allow_blank=True, trim_whitespace=False)


class PointsField(serializers.FloatField):
    """Points as people write them: a rescaled 6.8999999999999995 reads 6.9 (kept to four decimals)."""

    def to_representation(self, value):
        return round(super().to_representation(value), 4)


class GradeSerializer(serializers.ModelSerializer):
    score = PointsField(read_only=True)
    is_current = serializers.BooleanField(read_only=True, help_text="Whether this is the submission's latest grading.")

    class Meta:
        model = Grade
        fields = [
            "id", "submission", "score", "verdict", "confidence", "feedback", "source", "model_version", "created_at",
            "is_current",
        ]
        read_only_fields = fields


# --- teacher review ------------------------------------------------------------------------------


class CurrentGradeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="grade_id")
    score = PointsField(source="grade_score")
    verdict = serializers.CharField(source="grade_verdict")
    confidence = serializers.FloatField(source="grade_confidence", allow_null=True)
    feedback = serializers.CharField(source="grade_feedback")
    source = serializers.CharField(source="grade_source")
    model_version = serializers.CharField(source="grade_model_version")


class ReviewItemSerializer(serializers.ModelSerializer):
    """An auto-graded answer as a reviewer sees it: question, reference answers, answer, current grade."""

    course = serializers.SlugRelatedField(source="question.course", slug_field="slug", read_only=True)
    question_prompt = serializers.CharField(source="question.prompt", read_only=True)
    max_points = serializers.FloatField(source="question.max_points", read_only=True)
    reference_answers = serializers.SerializerMethodField()
    student_username = serializers.CharField(source="student.username", read_only=True)
    grade = CurrentGradeSerializer(source="*", read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id", "course", "question", "question_prompt", "max_points", "reference_answers", "student",
            "student_username", "answer", "submitted_at", "status", "grade",
        ]
        read_only_fields = fields

    def get_reference_answers(self, submission: Submission) -> list[str]:
        return [r.text for r in submission.question.reference_answers.all()]


class TeacherGradeSerializer(serializers.Serializer):
    # The range of the score (0 .. the question's points) is checked by the service.
    score = serializers.FloatField()
    verdict = serializers.ChoiceField(choices=Grade.Verdict.choices)
    feedback = serializers.CharField(required=False, allow_blank=True, default="")


class VisibleSubmissionField(serializers.PrimaryKeyRelatedField):
    """A submission id among those the user may see (others: "does not exist")."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Submission.objects.all(), **kwargs)

    def get_queryset(self):
        from .selectors import submission_list

        return submission_list(user=self.context["request"].user).select_related("question__course")


class GroupGradeSerializer(TeacherGradeSerializer):
    submissions = serializers.ListField(child=VisibleSubmissionField(), min_length=1, max_length=1000)


class ReleasePolicySerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ReleasePolicy
        fields = ["id", "course", "auto_release", "confidence_threshold", "updated_at", "updated_by"]
        read_only_fields = fields


class ReleasePolicyUpdateSerializer(serializers.Serializer):
    auto_release = serializers.BooleanField(required=False)
    confidence_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)


class VisibleCourseField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Course.objects.all(), **kwargs)

    def get_queryset(self):
        return domain_selectors.course_list(user=self.context["request"].user)


class ReleasePolicyCreateSerializer(ReleasePolicyUpdateSerializer):
    """Set a course's policy (created, or replaced when it has one)."""

    course = VisibleCourseField()
    auto_release = serializers.BooleanField(default=True)
    confidence_threshold = serializers.FloatField(min_value=0.0, max_value=1.0)


class QuestionQuerySerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, help_text="The question's id.")


class AnswerGroupSerializer(serializers.Serializer):
    """A group of similar answers (``answer_groups.AnswerGroupView``)."""

    number = serializers.IntegerField()
    size = serializers.IntegerField()
    representative = serializers.IntegerField(source="representative.pk", help_text="The most typical answer's id.")
    submissions = serializers.SerializerMethodField(help_text="Answer ids, most typical first.")
    verdicts = serializers.SerializerMethodField(help_text="The members' current verdicts, most common first.")

    def get_submissions(self, group) -> list[int]:
        return [s.pk for s in group.submissions]

    def get_verdicts(self, group) -> list[dict]:
        return [{"verdict": v, "label": label, "count": n} for v, label, n in group.verdicts]
