"""API shapes of mastery, risk and recommendations (read-only; built from the selectors' dataclasses)."""

from rest_framework import serializers


class SkillEstimateSerializer(serializers.Serializer):
    skill = serializers.SlugField(source="skill.slug")
    skill_name = serializers.CharField(source="skill.name")
    unit = serializers.IntegerField(source="skill.unit.order", allow_null=True, default=None)
    p_mastery = serializers.FloatField()
    attempts = serializers.IntegerField()
    correct = serializers.IntegerField()
    last_practiced_at = serializers.DateTimeField(allow_null=True)
    practised = serializers.BooleanField()


class LearnerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField(source="get_username")


class MasterySerializer(serializers.Serializer):
    course = serializers.SlugField()
    student = LearnerSerializer()
    tracer = serializers.CharField(allow_blank=True, help_text="Version of the course's active tracer.")
    tracer_kind = serializers.CharField(allow_blank=True)
    skills = SkillEstimateSerializer(many=True)


class RiskSerializer(serializers.Serializer):
    student = LearnerSerializer()
    unit = serializers.IntegerField(source="unit.order", allow_null=True, default=None)
    unit_title = serializers.CharField(source="unit.title", allow_null=True, default=None)
    score = serializers.FloatField(help_text="0 (on track) .. 1")
    level = serializers.ChoiceField(choices=["high", "medium", "low"])
    mastery = serializers.FloatField(help_text="Mean predicted mastery of the current unit's skills.")
    trend = serializers.FloatField(help_text="Change of the estimates over the last answers.")
    days_idle = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class RiskPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RiskSerializer(many=True)


class RecommendationSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="skill, question, resource or review")
    title = serializers.CharField()
    url = serializers.CharField()
    reason = serializers.CharField()
    skill = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(allow_null=True)


class SkillValueSerializer(serializers.Serializer):
    skill = serializers.SlugField()
    p_mastery = serializers.FloatField(allow_null=True, help_text="Empty: never practised.")


class ClassMasteryRowSerializer(serializers.Serializer):
    student = LearnerSerializer()
    skills = SkillValueSerializer(many=True)


class ClassMasteryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ClassMasteryRowSerializer(many=True)
