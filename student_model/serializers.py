"""API shapes of submissions and grades."""

from rest_framework import serializers

from domain import selectors as domain_selectors
from domain.models import Question

from .models import Grade, Submission


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


class GradeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grade
        fields = [
            "id", "submission", "score", "verdict", "confidence", "feedback", "source", "model_version", "created_at",
        ]
        read_only_fields = fields
