"""Reads of the tutoring chat, with the access rules of ``domain.selectors``.

- a student sees their own conversation in each course they are enrolled in, and the questions
  of theirs that were flagged for the teacher;
- a teacher sees every conversation and flagged question of the courses they teach, and may join
  a conversation or answer a flagged question there;
- an admin sees and may do everything.
"""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from domain import selectors as domain_selectors
from domain.models import Course, Enrollment

from .models import Conversation, FlaggedQuestion, Message

User = AbstractBaseUser | AnonymousUser

LIVE_WINDOW = timedelta(minutes=15)  # a conversation with a message this recent is shown as live
HISTORY_LIMIT = 100  # messages sent to a (re)connecting chat


def can_chat_as_student(*, user: User, course: Course) -> bool:
    """The tutor chat is for the course's enrolled students."""
    return bool(
        user.is_authenticated
        and Enrollment.objects.filter(user=user, course=course, role=Enrollment.Role.STUDENT).exists()
    )


def can_join_conversation(*, user: User, conversation: Conversation) -> bool:
    return domain_selectors.can_manage_course(user=user, course=conversation.course)


def conversation_list(*, user: User) -> QuerySet[Conversation]:
    """Admins see every conversation, teachers those of their courses, students their own."""
    if not user.is_authenticated:
        return Conversation.objects.none()
    if domain_selectors.is_admin(user):
        qs = Conversation.objects.all()
    else:
        taught = domain_selectors.course_list_taught(user=user)
        qs = Conversation.objects.filter(Q(course__in=taught) | Q(student=user))
    return qs.select_related("student", "course").distinct()


def conversation_list_for_course(*, course: Course) -> QuerySet[Conversation]:
    """A course's conversations for its teacher, most recent first, with counts."""
    since = timezone.now() - LIVE_WINDOW
    return (
        Conversation.objects.filter(course=course)
        .select_related("student")
        .annotate(
            message_count=Count("messages", distinct=True),
            open_flags=Count("flagged_questions", filter=Q(flagged_questions__status="open"), distinct=True),
        )
        .annotate(is_live=ExpressionWrapper(Q(last_message_at__gte=since), output_field=BooleanField()))
    )


def message_list(*, conversation: Conversation, limit: int = HISTORY_LIMIT) -> list[Message]:
    """The last ``limit`` messages of a conversation, oldest first."""
    recent = conversation.messages.select_related("author").order_by("-created_at", "-id")[:limit]
    return list(reversed(recent))


def previous_student_text(*, conversation: Conversation, before: Message) -> str:
    """The student's message before ``before`` in the conversation ("" when it is the first)."""
    earlier = conversation.messages.filter(sender=Message.Sender.STUDENT, id__lt=before.pk).order_by("-id")
    return earlier.values_list("text", flat=True).first() or ""


def flagged_question_list(*, user: User) -> QuerySet[FlaggedQuestion]:
    """Admins see all flagged questions, teachers those of their courses, students their own."""
    if not user.is_authenticated:
        return FlaggedQuestion.objects.none()
    if domain_selectors.is_admin(user):
        qs = FlaggedQuestion.objects.all()
    else:
        taught = domain_selectors.course_list_taught(user=user)
        qs = FlaggedQuestion.objects.filter(Q(course__in=taught) | Q(conversation__student=user))
    return qs.select_related("course", "conversation__student", "answered_by", "resource").distinct()


def flagged_question_list_for_course(*, course: Course) -> QuerySet[FlaggedQuestion]:
    return FlaggedQuestion.objects.filter(course=course).select_related(
        "conversation__student", "answered_by", "resource"
    )


def open_flag_count(*, course: Course) -> int:
    return FlaggedQuestion.objects.filter(course=course, status=FlaggedQuestion.Status.OPEN).count()


def hints_given(*, conversation: Conversation, question_id: int) -> int:
    """How many hints the tutor already gave in this conversation for one assigned question."""
    return conversation.messages.filter(
        sender=Message.Sender.TUTOR, intent=Message.Intent.ANSWER_REQUEST, question_id=question_id
    ).count()


def last_hinted_question_id(*, conversation: Conversation) -> int | None:
    return (
        conversation.messages.filter(sender=Message.Sender.TUTOR, question__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("question_id", flat=True)
        .first()
    )


def course_feed_open(*, user: AbstractBaseUser, course_slug: str) -> Course:
    """Who may follow a course's chat activity: its teachers (and admins). Raises ``PermissionDenied``
    or ``Course.DoesNotExist``."""
    course = Course.objects.get(slug=course_slug)
    if not domain_selectors.can_manage_course(user=user, course=course):
        raise PermissionDenied("Only the course's teachers follow its tutoring conversations.")
    return course
