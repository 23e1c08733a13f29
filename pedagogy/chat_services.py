"""Writes of the tutoring chat: conversations, messages, the tutor's replies, flagged questions
and the teacher's answers (which are also added to the course's readings, so the tutor knows
them next time). Every stored message is broadcast to its conversation after the commit."""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from domain import services as domain_services
from domain.models import Course, Resource

from . import chat_events, chat_selectors
from .models import Conversation, FlaggedQuestion, Message
from .tutoring import TutorReply, compose_reply

MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class RateLimit:
    messages: int = 10
    seconds: int = 60


def rate_limit() -> RateLimit:
    """``TUTOR_CHAT_RATE_LIMIT`` (``{"messages": n, "seconds": s}``) overrides the default."""
    return RateLimit(**getattr(settings, "TUTOR_CHAT_RATE_LIMIT", {}))


_counter_cache = None


def _counters():
    """One cache client for the process. (``django.core.cache.cache`` is one per async context, and
    every chat message runs in a context of its own: each would open a new Redis connection.)"""
    global _counter_cache
    if _counter_cache is None:
        _counter_cache = caches.create_connection("default")
    return _counter_cache


def rate_limit_hit(*, user: AbstractBaseUser) -> int:
    """Count one message of ``user``; the seconds to wait when over the limit, else 0.

    A fixed window in the cache (``add`` + ``incr`` are atomic in locmem and Redis alike)."""
    cache = _counters()
    limit = rate_limit()
    now = time.time()
    window = int(now // limit.seconds)
    key = f"tutor-chat-rate:{user.pk}:{window}"
    if cache.add(key, 1, timeout=limit.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=limit.seconds + 1)
            count = 1
    if count <= limit.messages:
        return 0
    return max(1, math.ceil((window + 1) * limit.seconds - now))


def clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "The message is empty."})
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError({"text": f"The message is too long: at most {MAX_MESSAGE_CHARS} characters."})
    return text


@transaction.atomic
def conversation_get_or_create(*, student: AbstractBaseUser, course: Course) -> Conversation:
    if not chat_selectors.can_chat_as_student(user=student, course=course):
        raise PermissionDenied("The tutor chat is for the students of this course.")
    conversation, _ = Conversation.objects.get_or_create(student=student, course=course)
    return conversation


# Related rows a message is stored with are already loaded (and locked in by foreign keys): cleaning
# them again would cost a query each for every chat message.
_LOADED_RELATIONS = ["conversation", "author", "reply_to"]


def _store(*, conversation: Conversation, **fields) -> Message:
    message = Message(conversation=conversation, **fields)
    message.full_clean(exclude=_LOADED_RELATIONS)
    message.save()
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    transaction.on_commit(lambda: chat_events.broadcast_message(message))
    transaction.on_commit(lambda: chat_events.broadcast_message_activity(message, course_id=conversation.course_id))
    return message


@transaction.atomic
def student_message_create(*, conversation: Conversation, text: str) -> Message:
    return _store(
        conversation=conversation,
        sender=Message.Sender.STUDENT,
        author=conversation.student,
        text=clean_text(text),
    )


@dataclass
class TutorTurn:
    message: Message
    flagged: FlaggedQuestion | None


def tutor_reply_create(*, conversation: Conversation, student_message: Message) -> TutorTurn:
    """The tutor answers ``student_message``; when it is unsure, the message is flagged for the teacher."""
    reply = tutor_reply_compose(conversation=conversation, student_message=student_message)
    return tutor_reply_store(conversation=conversation, student_message=student_message, reply=reply)


def tutor_reply_compose(*, conversation: Conversation, student_message: Message) -> TutorReply:
    """The model work of a reply: reads only, so it can run in any worker thread."""
    previous = chat_selectors.previous_student_text(conversation=conversation, before=student_message)
    return compose_reply(conversation=conversation, text=student_message.text, previous=previous)


def tutor_reply_store(*, conversation: Conversation, student_message: Message, reply: TutorReply) -> TutorTurn:
    with transaction.atomic():
        student_message.intent = reply.intent
        student_message.save(update_fields=["intent"])
        message = _store(
            conversation=conversation,
            reply_to=student_message,
            sender=Message.Sender.TUTOR,
            text=reply.text,
            intent=reply.intent,
            citations=reply.citations,
            confidence=None if reply.confidence is None else max(-1.0, min(1.0, reply.confidence)),
            question_id=reply.question_id,
            hint_level=reply.hint_level,
        )
        flagged = None
        if reply.unsure:
            flagged = FlaggedQuestion(
                # A follow-up goes to the teacher as it was looked up: with the message before it.
                conversation=conversation, message=student_message, course=conversation.course,
                text=reply.asked or student_message.text,
            )
            flagged.full_clean(exclude=["conversation", "message", "course"])
            flagged.save()
            transaction.on_commit(lambda: chat_events.broadcast_flag_activity(flagged, status="open"))
    return TutorTurn(message, flagged)


@transaction.atomic
def teacher_message_create(*, conversation: Conversation, teacher: AbstractBaseUser, text: str) -> Message:
    """A teacher who joined the conversation writes to the student."""
    if not chat_selectors.can_join_conversation(user=teacher, conversation=conversation):
        raise PermissionDenied("Only the course's teachers can join this conversation.")
    return _store(conversation=conversation, sender=Message.Sender.TEACHER, author=teacher, text=clean_text(text))


@transaction.atomic
def flagged_question_answer(*, flagged: FlaggedQuestion, teacher: AbstractBaseUser, answer: str) -> Message:
    """The teacher answers a flagged question: the answer goes into the student's chat and into the
    course's readings (a resource titled with the question), so the tutor can answer it next time."""
    flagged = FlaggedQuestion.objects.select_for_update().select_related("conversation", "course").get(pk=flagged.pk)
    if not chat_selectors.can_join_conversation(user=teacher, conversation=flagged.conversation):
        raise PermissionDenied("Only the course's teachers can answer this question.")
    if flagged.status == FlaggedQuestion.Status.ANSWERED:
        raise ValidationError({"answer": "This question has already been answered."})
    answer = clean_text(answer)
    teacher_name = teacher.get_full_name() or teacher.get_username()
    resource = domain_services.resource_create(
        course=flagged.course,
        title=f"Q&A: {flagged.text}"[:300],
        kind=Resource.Kind.FAQ,
        body=answer,
        external_id=f"tutor-faq-{flagged.pk}",
        source=f"Answered by {teacher_name} in the tutoring chat on {timezone.now():%Y-%m-%d}.",
    )
    message = _store(
        conversation=flagged.conversation,
        sender=Message.Sender.TEACHER,
        author=teacher,
        text=f"About your question “{flagged.text[:200]}”: {answer}",
    )
    flagged.status = FlaggedQuestion.Status.ANSWERED
    flagged.answer = answer
    flagged.answered_by = teacher
    flagged.answered_at = timezone.now()
    flagged.resource = resource
    flagged.full_clean()
    flagged.save()
    transaction.on_commit(lambda: chat_events.broadcast_flag_activity(flagged, status="answered"))
    return message


@dataclass
class ChatSession:
    conversation: Conversation
    role: str  # "student" or "teacher"
    history: list[dict]


def chat_session_open(*, user: AbstractBaseUser, course_slug: str, conversation_id: int | None = None) -> ChatSession:
    """Who may open the chat socket: a course's student opens (or resumes) their conversation; a teacher
    of the course joins a student's conversation by id. Raises ``PermissionDenied`` or ``DoesNotExist``."""
    course = Course.objects.get(slug=course_slug)
    if conversation_id is None:
        conversation = conversation_get_or_create(student=user, course=course)
        role = "student"
    else:
        conversation = Conversation.objects.select_related("course", "student").get(pk=conversation_id, course=course)
        if not chat_selectors.can_join_conversation(user=user, conversation=conversation):
            raise PermissionDenied("Only the course's teachers can join this conversation.")
        role = "teacher"
    history = [chat_events.message_payload(m) for m in chat_selectors.message_list(conversation=conversation)]
    return ChatSession(conversation, role, history)
