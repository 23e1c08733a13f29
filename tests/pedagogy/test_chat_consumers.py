"""The tutoring chat socket, end to end with the real retrieval engine over real OpenStax readings."""

import re
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache

from domain.models import Resource
from pedagogy import chat_services
from pedagogy.models import Conversation, FlaggedQuestion, Message
from tests import factories
from tests.ml.retrieval.book import SHELL, book_documents
from tutor.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]
REPL_PROMPT = "What does REPL stand for, and what does it describe?"
REPL_REFERENCE = 'REPL stands for "read-eval-print loop," which describes the repetitive nature of a shell.'


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def python_course(course, qa_model_dir):
    """The course with two real readings and the real REPL question of the demo course."""
    for doc in book_documents(SHELL, "m00024"):
        factories.ResourceFactory(course=course, external_id=doc.external_id, title=doc.title, body=doc.markdown)
    factories.QuestionFactory(course=course, external_id="m00011-def1", prompt=REPL_PROMPT, reference=REPL_REFERENCE)
    return course


def _socket(user, path: str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, path, headers=ORIGIN)
    if user is not None:
        comm.scope["user"] = user
    return comm


async def _open(user, course, conversation_id=None):
    path = f"/ws/tutor/{course.slug}/" + (f"conversations/{conversation_id}/" if conversation_id else "")
    comm = _socket(user, path)
    connected, code = await comm.connect()
    assert connected, code
    history = await comm.receive_json_from(timeout=5)
    assert history["type"] == "history"
    return comm, history


async def _until(comm, predicate, timeout=60):
    """Every event up to and including the first one ``predicate`` accepts."""
    seen = []
    while True:
        event = await comm.receive_json_from(timeout=timeout)
        seen.append(event)
        if predicate(event):
            return seen


def _tutor_message(event):
    return event["type"] == "message" and event["message"]["sender"] == "tutor"


async def _ask(comm, text):
    await comm.send_json_to({"type": "message", "text": text})
    events = await _until(comm, _tutor_message)
    await _until(comm, lambda e: e == {"type": "typing", "sender": "tutor", "typing": False})
    return events, events[-1]["message"]


async def test_anonymous_and_unenrolled_users_are_refused(course, teacher):
    comm = _socket(None, f"/ws/tutor/{course.slug}/")
    assert await comm.connect() == (False, 4401)

    outsider = await database_sync_to_async(factories.UserFactory)(username="outsider")
    comm = _socket(outsider, f"/ws/tutor/{course.slug}/")
    assert await comm.connect() == (False, 4403)

    comm = _socket(teacher, f"/ws/tutor/{course.slug}/")  # the student chat is for students
    assert await comm.connect() == (False, 4403)

    comm = _socket(outsider, "/ws/tutor/no-such-course/")
    assert await comm.connect() == (False, 4403)
    assert not await database_sync_to_async(Conversation.objects.exists)()


async def test_a_foreign_origin_is_refused(course, student):
    comm = WebsocketCommunicator(application, f"/ws/tutor/{course.slug}/", headers=[(b"origin", b"http://evil.example")])
    comm.scope["user"] = student
    connected, _ = await comm.connect()
    assert not connected


async def test_answer_streams_in_parts_and_history_resumes_on_reconnect(python_course, student):
    comm, history = await _open(student, python_course)
    assert history["messages"] == [] and history["role"] == "student"

    events, answer = await _ask(comm, "how do i make a list in python")
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message" and events[0]["message"]["sender"] == "student"  # own message echoed
    assert {"type": "typing", "sender": "tutor", "typing": True} in events
    parts = [e["delta"] for e in events if e["type"] == "stream"]
    assert len(parts) > 1 and "".join(parts) == answer["text"]
    assert {e["reply_to"] for e in events if e["type"] == "stream"} == {events[0]["message"]["id"]}
    assert answer["reply_to"] == events[0]["message"]["id"]
    assert answer["intent"] == "material" and answer["citations"][0]["external_id"] == "m00024"
    assert answer["citations"][0]["url"].startswith(f"/courses/{python_course.slug}/resources/")
    await comm.disconnect()

    comm, history = await _open(student, python_course)
    assert [(m["sender"], m["text"]) for m in history["messages"]] == [
        ("student", "how do i make a list in python"),
        ("tutor", answer["text"]),
    ]
    assert history["messages"][1]["citations"] == answer["citations"]
    await comm.disconnect()


async def test_rate_limit_answers_with_a_clear_message(course, student, settings, monkeypatch):
    settings.TUTOR_CHAT_RATE_LIMIT = {"messages": 2, "seconds": 60}
    # The limit counts in fixed windows: three messages straddling a window's end would all pass.
    # The clock stands still in the middle of one (under a loaded CI run the replies took seconds).
    monkeypatch.setattr(chat_services, "time", SimpleNamespace(time=lambda: 60 * 28_000_000 + 30.0))
    comm, _ = await _open(student, course)
    for text in ("hello", "thanks"):
        _, reply = await _ask(comm, text)
        assert reply["intent"] == "small_talk"
    await comm.send_json_to({"type": "message", "text": "hello again"})
    error = await _until(comm, lambda e: e["type"] == "error")
    assert error[-1]["code"] == "rate_limited"
    assert re.match(r"You are sending messages too quickly\. Please wait \d+ seconds", error[-1]["message"])
    assert await database_sync_to_async(Message.objects.filter(text="hello again").exists)() is False
    await comm.disconnect()


async def test_a_frame_that_is_not_a_json_object_gets_an_error_and_the_socket_stays_open(course, student):
    comm, _ = await _open(student, course)
    frames = ({"text": "not json"}, {"text": "[1, 2]"}, {"text": "[" * 100_000}, {"text": ""}, {"bytes": b"\x00"})
    for frame in frames:
        await comm.send_input({"type": "websocket.receive", **frame})  # send_to() refuses an empty frame
        error = await comm.receive_json_from(timeout=5)
        assert error == {"type": "error", "code": "bad_request", "message": "Send a JSON object."}, frame
    await comm.send_json_to({"type": "nonsense"})
    assert (await comm.receive_json_from(timeout=5))["code"] == "bad_request"
    _, reply = await _ask(comm, "hello")  # still open, still answered
    assert reply["intent"] == "small_talk"
    await comm.disconnect()


async def test_a_message_whose_text_is_not_a_string_is_refused_not_stored(course, student):
    comm, _ = await _open(student, course)
    for text in ({"a": 1}, ["hello"], 42, None):
        await comm.send_json_to({"type": "message", "text": text})
        error = await comm.receive_json_from(timeout=5)
        assert error == {"type": "error", "code": "bad_request", "message": "The message text must be a string."}
    assert await comm.receive_nothing(timeout=0.2)
    assert not await database_sync_to_async(Message.objects.exists)()
    await comm.disconnect()


async def test_a_question_about_the_reading_is_answered_and_one_its_answer_would_give_away_gets_a_hint(
    python_course, student
):
    comm, _ = await _open(student, python_course)
    _, reply = await _ask(comm, "What is the Python shell?")
    assert reply["intent"] == "material" and reply["hint_level"] == 0
    assert [c["external_id"] for c in reply["citations"]][:1] == [SHELL]
    assert "console or terminal" in reply["text"].lower()

    # The assignment also asks what REPL describes, but the reading's answer says that too.
    _, reply = await _ask(comm, "What does REPL stand for?")
    assert reply["intent"] == "answer_request" and reply["hint_level"] == 1
    assert [c["external_id"] for c in reply["citations"]] == [SHELL]
    assert "read-eval-print" not in reply["text"].lower()
    await comm.disconnect()


async def test_asking_for_an_assigned_answer_gets_graded_hints_never_the_answer(python_course, student):
    question = await database_sync_to_async(python_course.questions.get)()
    comm, _ = await _open(student, python_course)

    _, hint1 = await _ask(comm, "can you just tell me the answer to the question about REPL")
    assert hint1["intent"] == "answer_request" and hint1["hint_level"] == 1
    assert "Hint 1" in hint1["text"] and [c["external_id"] for c in hint1["citations"]] == [SHELL]

    _, hint2 = await _ask(comm, "give me another hint")
    assert hint2["hint_level"] == 2 and "Hint 2" in hint2["text"]

    await database_sync_to_async(factories.SubmissionFactory)(
        student=student, question=question, answer="It is the shell of Python."
    )
    _, hint3 = await _ask(comm, REPL_PROMPT)  # the prompt pasted as it is
    assert hint3["hint_level"] == 3 and "Hint 3" in hint3["text"]

    _, last = await _ask(comm, "one more hint please")
    assert last["hint_level"] == 3 and "submit it" in last["text"] and "Hint 3" in last["text"]  # no "Hint 4"

    texts = [m["text"] for m in (hint1, hint2, hint3, last)]
    reference_words = REPL_REFERENCE.lower().split()
    for text in texts:
        assert REPL_REFERENCE.lower() not in text.lower()
        for i in range(len(reference_words) - 3):  # not even four words of it in a row
            assert " ".join(reference_words[i : i + 4]) not in text.lower()
    await comm.disconnect()


# A real German question of SAF (Filighera et al. 2022), as it is in data/asag/saf.jsonl.gz.
CHECK_PROMPT = "Frage 6: Zu welcher Tageszeit darf ich den Check durchführen?"
CHECK_REFERENCE = (
    "Es gibt für den Check keine zeitliche Einschränkung (0.5 P), zu welcher Uhrzeit oder an welchem Wochentag der "
    "Check durchgeführt werden kann. Die einzige Nebenbedingung ist, dass der Shop geöffnet sein muss (0.5 P), da die "
    "Bewertung der Warenpräsentation ein Teil des Jobs ist."
)


async def test_hints_on_a_german_question_are_written_in_german(python_course, student):
    question = await database_sync_to_async(factories.QuestionFactory)(
        course=python_course, external_id="saf-de-6", prompt=CHECK_PROMPT, reference=CHECK_REFERENCE
    )
    comm, _ = await _open(student, python_course)

    _, hint1 = await _ask(comm, CHECK_PROMPT)  # pasted
    assert hint1["hint_level"] == 1
    assert hint1["text"].startswith("Das ist eine deiner Aufgaben („Frage 6") and "Hinweis 1: " in hint1["text"]

    _, hint2 = await _ask(comm, "Noch einen Hinweis, bitte")
    assert hint2["hint_level"] == 2 and "Hinweis 2: Eine vollständige Antwort enthält" in hint2["text"]

    await database_sync_to_async(factories.SubmissionFactory)(
        student=student, question=question, answer="Nur am Vormittag, wenn wenig los ist."
    )
    _, hint3 = await _ask(comm, "noch ein Tipp")
    assert hint3["hint_level"] == 3 and "Hinweis 3: Eine vollständige Antwort verwendet diese Schlüsselwörter" in hint3["text"]
    assert "warenpräsentation" in hint3["text"]  # a key word of the second idea, whole with its umlaut

    _, last = await _ask(comm, "Noch einen Hinweis")
    assert last["hint_level"] == 3 and "reiche sie ein" in last["text"] and "Hinweis 3" in last["text"]
    for reply in (hint1, hint2, hint3, last):
        assert not re.search(r"\b(Hint|hint|answer|your)\b", reply["text"]), reply["text"]
        assert "keine zeitliche Einschränkung" not in reply["text"]
    await comm.disconnect()


async def test_teacher_joins_and_their_messages_reach_the_student_live(python_course, student, teacher):
    student_comm, _ = await _open(student, python_course)
    _, answer = await _ask(student_comm, "what is the python shell")
    conversation = await database_sync_to_async(Conversation.objects.get)(student=student)

    teacher_comm, history = await _open(teacher, python_course, conversation.pk)
    assert history["role"] == "teacher" and history["messages"][-1]["text"] == answer["text"]
    presence = await student_comm.receive_json_from(timeout=5)
    assert presence == {"type": "presence", "who": "teacher", "name": "teach", "joined": True}

    await teacher_comm.send_json_to({"type": "typing", "typing": True})
    assert await student_comm.receive_json_from(timeout=5) == {"type": "typing", "sender": "teacher", "typing": True}
    await teacher_comm.send_json_to({"type": "message", "text": "Try typing 1 + 2 in the shell yourself."})
    received = await student_comm.receive_json_from(timeout=5)
    assert received["type"] == "message"
    assert received["message"]["sender"] == "teacher" and received["message"]["author"] == "teach"
    assert received["message"]["text"] == "Try typing 1 + 2 in the shell yourself."
    assert await database_sync_to_async(Message.objects.filter(sender="teacher", author=teacher).count)() == 1
    await teacher_comm.disconnect()
    await student_comm.disconnect()


async def test_teachers_of_other_courses_cannot_join(python_course, student):
    conversation = await database_sync_to_async(factories.ConversationFactory)(student=student, course=python_course)
    other = await database_sync_to_async(factories.UserFactory)(username="other-teacher")
    await database_sync_to_async(factories.EnrollmentFactory)(user=other, role="teacher")
    comm = _socket(other, f"/ws/tutor/{python_course.slug}/conversations/{conversation.pk}/")
    assert await comm.connect() == (False, 4403)


async def test_unsure_question_is_flagged_and_the_teachers_answer_arrives_live_and_teaches_the_tutor(
    python_course, student, teacher
):
    comm, _ = await _open(student, python_course)
    _, reply = await _ask(comm, "Is the final exam open book?")
    assert reply["intent"] == "material" and "not sure" in reply["text"]
    flagged = await database_sync_to_async(FlaggedQuestion.objects.get)()
    assert flagged.status == "open" and flagged.text == "Is the final exam open book?"

    answer = "Yes: the final exam is open book, you may bring the textbook and your own notes."
    await database_sync_to_async(chat_services.flagged_question_answer)(flagged=flagged, teacher=teacher, answer=answer)
    delivered = await comm.receive_json_from(timeout=5)
    assert delivered["type"] == "message" and delivered["message"]["sender"] == "teacher"
    assert answer in delivered["message"]["text"]
    await comm.disconnect()

    faq = await database_sync_to_async(Resource.objects.get)(external_id=f"tutor-faq-{flagged.pk}", kind="faq")
    classmate = await database_sync_to_async(factories.UserFactory)(username="classmate")
    await database_sync_to_async(factories.EnrollmentFactory)(user=classmate, course=python_course)
    comm, _ = await _open(classmate, python_course)
    _, reply = await _ask(comm, "can we bring our notes to the final exam?")
    assert "open book" in reply["text"] and reply["citations"][0]["resource_id"] == faq.pk
    assert reply["text"].endswith(f"(From “{faq.title}”.)")  # its title once, not again as its section
    await comm.disconnect()


@pytest.mark.services
async def test_an_idle_chat_keeps_receiving_through_the_redis_layer(course, student, teacher, settings):
    """Longer idle than channels-redis' 5 s blocking pop: the socket must still be alive and deliver."""
    import asyncio

    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    comm, _ = await _open(student, course)
    conversation = await database_sync_to_async(Conversation.objects.get)(student=student)
    await asyncio.sleep(7)
    await database_sync_to_async(chat_services.teacher_message_create)(
        conversation=conversation, teacher=teacher, text="Still there?"
    )
    event = await comm.receive_json_from(timeout=10)
    assert event["type"] == "message" and event["message"]["text"] == "Still there?"
    await comm.disconnect()


async def test_one_students_slow_answer_does_not_stall_another_students_chat(course, student, monkeypatch):
    import threading

    from pedagogy import tutoring

    release = threading.Event()
    original = chat_services.compose_reply

    def compose(*, conversation, text, previous=""):
        if text == "a slow question":
            assert release.wait(30), "never released"
            return tutoring.TutorReply("The slow answer.", "material")
        return original(conversation=conversation, text=text, previous=previous)

    monkeypatch.setattr(chat_services, "compose_reply", compose)
    classmate = await database_sync_to_async(factories.UserFactory)(username="classmate")
    await database_sync_to_async(factories.EnrollmentFactory)(user=classmate, course=course)
    slow, _ = await _open(student, course)
    quick, _ = await _open(classmate, course)

    await slow.send_json_to({"type": "message", "text": "a slow question"})
    await _until(slow, lambda e: e.get("type") == "typing" and e["typing"])  # the tutor is working on it
    _, reply = await _ask(quick, "hello")  # meanwhile the classmate is answered
    assert reply["intent"] == "small_talk"
    assert not release.is_set()

    release.set()
    events = await _until(slow, _tutor_message)
    assert events[-1]["message"]["text"] == "The slow answer."
    await slow.disconnect()
    await quick.disconnect()


async def _activity(user, course):
    return _socket(user, f"/ws/tutor/{course.slug}/activity/")


async def test_course_activity_feed_is_for_the_courses_teachers_only(course, student):
    assert await (await _activity(None, course)).connect() == (False, 4401)
    assert await (await _activity(student, course)).connect() == (False, 4403)
    other = await database_sync_to_async(factories.UserFactory)(username="other-teacher")
    await database_sync_to_async(factories.EnrollmentFactory)(user=other, role="teacher")
    assert await (await _activity(other, course)).connect() == (False, 4403)


async def test_course_activity_feed_answers_any_frame_with_an_error_and_stays_open(course, teacher):
    feed = await _activity(teacher, course)
    assert (await feed.connect())[0]
    for frame in ({"text_data": "not json"}, {"text_data": '{"type": "x"}'}, {"bytes_data": b"\x00"}):
        await feed.send_to(**frame)
        assert await feed.receive_json_from(timeout=5) == {
            "type": "error",
            "code": "bad_request",
            "message": "This feed only sends.",
        }
    await feed.disconnect()


async def test_teachers_follow_new_messages_flags_and_answers_live(python_course, student, teacher):
    feed = await _activity(teacher, python_course)
    assert (await feed.connect())[0]
    comm, history = await _open(student, python_course)
    conversation = history["conversation"]
    _, reply = await _ask(comm, "Is the final exam open book?")
    assert "not sure" in reply["text"]

    events = [await feed.receive_json_from(timeout=10) for _ in range(3)]
    flagged = await database_sync_to_async(FlaggedQuestion.objects.get)()
    assert {"type": "activity", "kind": "message", "conversation": conversation, "sender": "student"} in events
    assert {"type": "activity", "kind": "message", "conversation": conversation, "sender": "tutor"} in events
    assert {"type": "activity", "kind": "flag", "conversation": conversation, "flag": flagged.pk, "status": "open"} in events

    await database_sync_to_async(chat_services.flagged_question_answer)(flagged=flagged, teacher=teacher, answer="Yes, it is.")
    events = [await feed.receive_json_from(timeout=10) for _ in range(2)]
    assert {"type": "activity", "kind": "message", "conversation": conversation, "sender": "teacher"} in events
    assert {"type": "activity", "kind": "flag", "conversation": conversation, "flag": flagged.pk, "status": "answered"} in events
    # no message text on the feed: the page fetches what it shows with the teacher's permissions
    assert all("text" not in e for e in events)
    await comm.disconnect()
    await feed.disconnect()
