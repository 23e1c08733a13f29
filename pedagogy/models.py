"""Tutoring dialogue: a student's conversation with the course tutor, its messages, and the
questions the tutor could not answer and handed to the teacher."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Conversation(models.Model):
    """One per student and course: the chat resumes where it stopped."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    course = models.ForeignKey("domain.Course", on_delete=models.CASCADE, related_name="conversations")
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = [models.F("last_message_at").desc(nulls_last=True), "-id"]
        constraints = [
            models.UniqueConstraint(fields=["student", "course"], name="conversation_unique_student_course")
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.course}"


class Message(models.Model):
    class Sender(models.TextChoices):
        STUDENT = "student", "Student"
        TUTOR = "tutor", "Tutor"
        TEACHER = "teacher", "Teacher"

    class Intent(models.TextChoices):
        MATERIAL = "material", "Question about the material"
        ANSWER_REQUEST = "answer_request", "Asks for an assigned question's answer"
        NEXT_STEP = "next_step", "What to do next"
        SITE_HELP = "site_help", "Help with the site"
        SMALL_TALK = "small_talk", "Small talk"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="chat_messages",
        help_text="The person who wrote it (empty for the tutor).",
    )
    text = models.TextField()
    intent = models.CharField(max_length=20, choices=Intent.choices, blank=True)
    citations = models.JSONField(default=list, blank=True, help_text="Resources cited: title, section, url.")
    confidence = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)],
        help_text="The tutor's retrieval confidence (cosine), when it answered from the material.",
    )
    question = models.ForeignKey(
        "domain.Question", on_delete=models.SET_NULL, null=True, blank=True, related_name="chat_messages",
        help_text="The assigned question a hint is about.",
    )
    hint_level = models.PositiveSmallIntegerField(default=0)
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies",
        help_text="The student's message a tutor reply answers.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["conversation", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:60]}"


class FlaggedQuestion(models.Model):
    """A student's question the tutor was unsure about, waiting for (or answered by) the teacher."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="flagged_questions")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="flag")
    course = models.ForeignKey("domain.Course", on_delete=models.CASCADE, related_name="flagged_questions")
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="answered_flags"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    resource = models.ForeignKey(
        "domain.Resource", on_delete=models.SET_NULL, null=True, blank=True, related_name="answered_flags",
        help_text="The course resource the answer was added to, so the tutor knows it next time.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["status", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:80]
