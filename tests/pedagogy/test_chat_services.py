"""Services and selectors of the tutoring chat: access, rate limit, replies, flagged questions."""

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError

from domain.models import Resource
from pedagogy import chat_events, chat_selectors, chat_services
from pedagogy.models import FlaggedQuestion, Message
from pedagogy.tutoring import compose_reply
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def conversation(course, student):
    return chat_services.conversation_get_or_create(student=student, course=course)


def test_one_conversation_per_student_and_course_for_enrolled_students_only(course, student, teacher, conversation):
    assert chat_services.conversation_get_or_create(student=student, course=course) == conversation
    with pytest.raises(PermissionDenied):
        chat_services.conversation_get_or_create(student=teacher, course=course)
    with pytest.raises(PermissionDenied):
        chat_services.conversation_get_or_create(student=factories.UserFactory(), course=course)


def test_rate_limit_counts_per_user_in_a_window(student, teacher, settings):
    settings.TUTOR_CHAT_RATE_LIMIT = {"messages": 2, "seconds": 60}
    assert [chat_services.rate_limit_hit(user=student) for _ in range(2)] == [0, 0]
    wait = chat_services.rate_limit_hit(user=student)
    assert 1 <= wait <= 60
    assert chat_services.rate_limit_hit(user=teacher) == 0  # someone else is not affected


def test_messages_must_have_text_within_the_limit(conversation):
    with pytest.raises(ValidationError, match="empty"):
        chat_services.student_message_create(conversation=conversation, text="   ")
    with pytest.raises(ValidationError, match="too long"):
        chat_services.student_message_create(conversation=conversation, text="x" * 2001)
    message = chat_services.student_message_create(conversation=conversation, text="  hello  ")
    assert message.text == "hello" and message.author == conversation.student
    conversation.refresh_from_db()
    assert conversation.last_message_at == message.created_at


def test_only_the_courses_teachers_write_into_a_conversation(conversation, teacher, student):
    message = chat_services.teacher_message_create(conversation=conversation, teacher=teacher, text="Hi, I'm here.")
    assert message.sender == Message.Sender.TEACHER and message.author == teacher
    with pytest.raises(PermissionDenied):
        chat_services.teacher_message_create(conversation=conversation, teacher=student, text="I'm a teacher")
    outsider = factories.UserFactory()
    factories.EnrollmentFactory(user=outsider, role="teacher")
    with pytest.raises(PermissionDenied):
        chat_services.teacher_message_create(conversation=conversation, teacher=outsider, text="me too")


def test_answering_a_flagged_question_once_adds_it_to_the_readings(conversation, teacher, student):
    asked = chat_services.student_message_create(conversation=conversation, text="Is the exam open book?")
    flagged = factories.FlaggedQuestionFactory(message=asked)
    with pytest.raises(PermissionDenied):
        chat_services.flagged_question_answer(flagged=flagged, teacher=student, answer="Yes")

    message = chat_services.flagged_question_answer(flagged=flagged, teacher=teacher, answer="Yes, bring your notes.")
    flagged.refresh_from_db()
    assert flagged.status == FlaggedQuestion.Status.ANSWERED and flagged.answered_by == teacher
    assert message.sender == "teacher" and "Yes, bring your notes." in message.text
    resource = Resource.objects.get(pk=flagged.resource_id)
    assert resource.course == conversation.course and resource.body == "Yes, bring your notes."
    assert "Is the exam open book?" in resource.title
    with pytest.raises(ValidationError, match="already been answered"):
        chat_services.flagged_question_answer(flagged=flagged, teacher=teacher, answer="No")


def test_what_next_without_recommendations_points_to_the_first_unanswered_question(course, student, conversation):
    unit = factories.UnitFactory(course=course)
    reading = factories.ResourceFactory(course=course, unit=unit, title="Variables")
    first = factories.QuestionFactory(course=course, unit=unit, prompt="What is a variable?", order=1)
    second = factories.QuestionFactory(course=course, unit=unit, prompt="What is a type?", order=2)
    factories.SubmissionFactory(student=student, question=first)

    reply = compose_reply(conversation=conversation, text="what should I do next?")
    assert reply.intent == "next_step"
    assert "What is a type?" in reply.text and "Variables" in reply.text
    urls = [c["url"] for c in reply.citations]
    assert f"/courses/{course.slug}/resources/{reading.pk}/" in urls
    assert f"/courses/{course.slug}/questions/{second.pk}/" in urls


def test_site_help_and_small_talk_are_short_canned_replies(course, conversation):
    help_reply = compose_reply(conversation=conversation, text="how do i submit my answer")
    assert help_reply.intent == "site_help" and "Submit answer" in help_reply.text
    assert f"/courses/{course.slug}/" in [c["url"] for c in help_reply.citations]
    assert compose_reply(conversation=conversation, text="thanks!").text.startswith("You're welcome")


def test_selectors_scope_conversations_and_flags(course, student, teacher, conversation):
    other = factories.UserFactory()
    other_course = factories.CourseFactory()
    factories.EnrollmentFactory(user=other, course=other_course)
    theirs = chat_services.conversation_get_or_create(student=other, course=other_course)
    factories.FlaggedQuestionFactory(message=factories.MessageFactory(conversation=theirs))
    mine = factories.FlaggedQuestionFactory(message=factories.MessageFactory(conversation=conversation))

    assert list(chat_selectors.conversation_list(user=student)) == [conversation]
    assert list(chat_selectors.conversation_list(user=teacher)) == [conversation]
    assert list(chat_selectors.flagged_question_list(user=teacher)) == [mine]
    assert list(chat_selectors.flagged_question_list(user=other)) == [theirs.flagged_questions.get()]
    assert chat_selectors.open_flag_count(course=course) == 1
    assert chat_selectors.conversation_list_for_course(course=course).get().open_flags == 1


def test_stream_parts_cut_at_words_and_join_back():
    text = "REPL stands for read-eval-print loop. " * 6
    parts = chat_events.stream_parts(text, size=40)
    assert len(parts) > 3 and "".join(parts) == text
    assert all(len(p) <= 45 for p in parts)
