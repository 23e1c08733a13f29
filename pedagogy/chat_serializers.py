"""API shapes of the tutoring chat."""

from rest_framework import serializers

from .chat_services import MAX_MESSAGE_CHARS
from .models import Conversation, FlaggedQuestion, Message


class ConversationSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    student_username = serializers.CharField(source="student.username", read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "course", "student", "student_username", "created_at", "last_message_at"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    author_username = serializers.CharField(source="author.username", read_only=True, default=None)

    class Meta:
        model = Message
        fields = [
            "id", "conversation", "sender", "author", "author_username", "text", "intent", "citations",
            "confidence", "hint_level", "created_at",
        ]
        read_only_fields = fields


class FlaggedQuestionSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    student_username = serializers.CharField(source="conversation.student.username", read_only=True)

    class Meta:
        model = FlaggedQuestion
        fields = [
            "id", "course", "conversation", "message", "student_username", "text", "status", "answer",
            "answered_by", "answered_at", "resource", "created_at",
        ]
        read_only_fields = fields


class FlaggedAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=MAX_MESSAGE_CHARS)
