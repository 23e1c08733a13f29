"""Pages of the tutoring chat: the student's chat, the teacher's conversations and flagged questions."""

import pytest
from django.urls import reverse

from pedagogy import chat_services
from pedagogy.models import FlaggedQuestion
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(course, student):
    conversation = chat_services.conversation_get_or_create(student=student, course=course)
    asked = chat_services.student_message_create(conversation=conversation, text="Is the exam open book?")
    return factories.FlaggedQuestionFactory(message=asked)


def test_course_page_links_students_to_the_chat_and_teachers_to_the_conversations(client, course, student, teacher):
    client.force_login(student)
    page = client.get(reverse("course-detail", args=[course.slug])).content.decode()
    assert reverse("tutor-chat", args=[course.slug]) in page and "Ask the tutor" in page
    client.force_login(teacher)
    page = client.get(reverse("course-detail", args=[course.slug])).content.decode()
    assert reverse("tutor-conversations", args=[course.slug]) in page


def test_student_opens_the_chat_page(client, course, student):
    client.force_login(student)
    response = client.get(reverse("tutor-chat", args=[course.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-socket-path="/ws/tutor/{course.slug}/"' in html and 'data-role="student"' in html
    assert "js/chat.js" in html


def test_chat_access(client, course, teacher):
    client.force_login(teacher)
    assert client.get(reverse("tutor-chat", args=[course.slug])).url == reverse("tutor-conversations", args=[course.slug])
    client.force_login(factories.UserFactory())
    assert client.get(reverse("tutor-chat", args=[course.slug])).status_code == 404
    assert client.get(reverse("tutor-conversations", args=[course.slug])).status_code == 404


def test_teacher_sees_conversations_and_flagged_questions(client, course, teacher, flagged):
    client.force_login(teacher)
    response = client.get(reverse("tutor-conversations", args=[course.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Is the exam open book?" in html and "1 open" in html
    assert reverse("tutor-conversation-join", args=[course.slug, flagged.conversation_id]) in html
    join = client.get(reverse("tutor-conversation-join", args=[course.slug, flagged.conversation_id]))
    assert join.status_code == 200
    assert f"/ws/tutor/{course.slug}/conversations/{flagged.conversation_id}/" in join.content.decode()


def test_students_may_not_see_the_teachers_pages(client, course, student, flagged):
    client.force_login(student)
    assert client.get(reverse("tutor-conversations", args=[course.slug])).status_code == 403
    url = reverse("tutor-flagged-answer", args=[course.slug, flagged.pk])
    assert client.post(url, {"answer": "Yes"}).status_code == 403
    assert FlaggedQuestion.objects.get().status == "open"


def test_teacher_answers_a_flagged_question_from_the_page(client, course, teacher, flagged):
    client.force_login(teacher)
    url = reverse("tutor-flagged-answer", args=[course.slug, flagged.pk])
    response = client.post(url, {"answer": "Yes, bring your notes."}, follow=True)
    assert "Your answer was sent to the student" in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.status == "answered" and flagged.conversation.messages.filter(sender="teacher").exists()
    response = client.post(url, {"answer": "Again"}, follow=True)
    assert "already been answered" in response.content.decode()
    response = client.post(url, {"answer": ""}, follow=True)
    assert "This field is required" in response.content.decode()
