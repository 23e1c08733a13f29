"""The tutoring chat socket (``/ws/tutor/<course>/``; a teacher joins at ``.../conversations/<id>/``),
and the teachers' activity feed of a course (``/ws/tutor/<course>/activity/``).

Thin: every decision is in ``chat_services``. Model work (reads only) runs in a thread pool, as a
task of its own, so the socket keeps delivering (the answer's parts, other people's messages)
meanwhile and one student's question never stalls another's chat.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection

from . import chat_events, chat_selectors, chat_services

_model_pool = ThreadPoolExecutor(max_workers=getattr(settings, "TUTOR_CHAT_WORKERS", 8), thread_name_prefix="tutor")
# SQLite takes one writer at a time: its writes stay on Channels' one database thread. Other
# databases write from a pool, so a burst of messages is not queued behind a single thread.
_db_pool = (
    None
    if connection.vendor == "sqlite"
    else ThreadPoolExecutor(max_workers=getattr(settings, "TUTOR_CHAT_DB_WORKERS", 8), thread_name_prefix="tutor-db")
)


def _off_loop(func):
    return database_sync_to_async(func, thread_sensitive=False, executor=_model_pool)


def _db(func):
    if _db_pool is None:
        return database_sync_to_async(func)
    return database_sync_to_async(func, thread_sensitive=False, executor=_db_pool)


class _JsonObjectConsumer(AsyncJsonWebsocketConsumer):
    """Answers a frame that is not a JSON object (binary, empty, malformed) with an error event; the
    base class would raise and close the socket with 1011."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = await self.decode_json(text_data) if text_data else None
        except (ValueError, RecursionError):  # RecursionError: nesting too deep for the json module
            content = None
        if not isinstance(content, dict):
            await self.bad_request("Send a JSON object.")
            return
        await self.receive_json(content, **kwargs)

    async def bad_request(self, message: str) -> None:
        await self.send_json({"type": "error", "code": "bad_request", "message": message})


class TutorChatConsumer(_JsonObjectConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        kwargs = self.scope["url_route"]["kwargs"]
        try:
            session = await _db(chat_services.chat_session_open)(
                user=user, course_slug=kwargs["slug"], conversation_id=kwargs.get("conversation_id")
            )
        except (PermissionDenied, ObjectDoesNotExist):
            await self.close(code=4403)
            return
        self.user, self.role, self.conversation = user, session.role, session.conversation
        self.group = chat_events.conversation_group(self.conversation.pk)
        self.tasks: set[asyncio.Task] = set()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(
            {"type": "history", "conversation": self.conversation.pk, "role": self.role, "messages": session.history}
        )
        if self.role == "teacher":
            await self._presence(joined=True)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        for task in list(self.tasks):
            task.cancel()
        if self.role == "teacher":
            await self._presence(joined=False)
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type")
        if kind == "typing":
            await self.channel_layer.group_send(
                self.group, {"type": "chat.typing", "sender": self.role, "typing": bool(content.get("typing"))}
            )
        elif kind == "message":
            text = content.get("text", "")
            if not isinstance(text, str):
                await self.bad_request("The message text must be a string.")
                return
            # handled as a task: this consumer keeps pulling its channel (other people's messages, the
            # answer's parts) while the message waits for the database and the model
            self._spawn(self._message(text))
        else:
            await self.bad_request("Unknown message type.")

    async def _message(self, text: str) -> None:
        wait = await _db(chat_services.rate_limit_hit)(user=self.user)
        if wait:
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "retry_after": wait,
                    "message": f"You are sending messages too quickly. Please wait {wait} seconds and try again.",
                }
            )
            return
        try:
            if self.role == "teacher":
                await _db(chat_services.teacher_message_create)(
                    conversation=self.conversation, teacher=self.user, text=text
                )
                return
            message = await _db(chat_services.student_message_create)(
                conversation=self.conversation, text=text
            )
        except ValidationError as exc:
            await self.send_json({"type": "error", "code": "invalid", "message": " ".join(exc.messages)})
            return
        await self._tutor_reply(message)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _tutor_reply(self, message) -> None:
        await self.channel_layer.group_send(self.group, {"type": "chat.typing", "sender": "tutor", "typing": True})
        try:
            reply = await _off_loop(chat_services.tutor_reply_compose)(
                conversation=self.conversation, student_message=message
            )
            # the answer appears in parts on the asking socket, then is stored and sent whole to everyone
            for part in chat_events.stream_parts(reply.text):
                await self.send_json({"type": "stream", "reply_to": message.pk, "delta": part})
            await _db(chat_services.tutor_reply_store)(
                conversation=self.conversation, student_message=message, reply=reply
            )
        finally:
            await self.channel_layer.group_send(self.group, {"type": "chat.typing", "sender": "tutor", "typing": False})

    async def _presence(self, *, joined: bool) -> None:
        name = self.user.get_full_name() or self.user.get_username()
        await self.channel_layer.group_send(
            self.group, {"type": "chat.presence", "who": "teacher", "name": name, "joined": joined}
        )

    # group events -> this socket
    async def chat_message(self, event: dict) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def chat_typing(self, event: dict) -> None:
        if event["sender"] != self.role:
            await self.send_json({"type": "typing", "sender": event["sender"], "typing": event["typing"]})

    async def chat_presence(self, event: dict) -> None:
        if self.role != "teacher":
            await self.send_json({"type": "presence", **{k: event[k] for k in ("who", "name", "joined")}})


class CourseActivityConsumer(_JsonObjectConsumer):
    """Pushes the course's chat activity to its teachers' conversations page (which then fetches
    what changed). Receives nothing."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            course = await _db(chat_selectors.course_feed_open)(
                user=user, course_slug=self.scope["url_route"]["kwargs"]["slug"]
            )
        except (PermissionDenied, ObjectDoesNotExist):
            await self.close(code=4403)
            return
        self.group = chat_events.course_group(course.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        await self.bad_request("This feed only sends.")

    async def course_activity(self, event: dict) -> None:
        await self.send_json({"type": "activity", **{k: v for k, v in event.items() if k != "type"}})
