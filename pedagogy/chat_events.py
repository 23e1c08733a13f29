"""What the chat sends over the channel layer: one group per conversation, the JSON of a message,
and its broadcast; and one group per course, where the course's teachers follow activity (a new
message in any conversation, a question flagged or answered) on their conversations page.
(A tutor's answer is streamed in parts by the socket that asked, before it is stored and broadcast
whole: ``stream_parts``.)"""

import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .models import Message

STREAM_PART_CHARS = 80
_WORDS = re.compile(r"\S+\s*")


def conversation_group(conversation_id: int) -> str:
    return f"tutor.conversation.{conversation_id}"


def course_group(course_id: int) -> str:
    return f"tutor.course.{course_id}"


def message_payload(message: Message) -> dict:
    author = message.author
    return {
        "id": message.pk,
        "sender": message.sender,
        "author": (author.get_full_name() or author.get_username()) if author else "Tutor",
        "text": message.text,
        "intent": message.intent,
        "citations": message.citations,
        "confidence": None if message.confidence is None else round(message.confidence, 3),
        "hint_level": message.hint_level,
        "reply_to": message.reply_to_id,
        "created_at": message.created_at.isoformat(),
    }


def stream_parts(text: str, size: int = STREAM_PART_CHARS) -> list[str]:
    """``text`` cut at word boundaries into parts of about ``size`` characters (joined, they are ``text``)."""
    parts, current = [], ""
    for word in _WORDS.findall(text):
        if current and len(current) + len(word) > size:
            parts.append(current)
            current = ""
        current += word
    if current or not parts:
        parts.append(current)
    return parts


def broadcast_message(message: Message) -> None:
    """Send ``message`` to everyone in its conversation (sync code, e.g. ``transaction.on_commit``)."""
    async_to_sync(get_channel_layer().group_send)(
        conversation_group(message.conversation_id), {"type": "chat.message", "message": message_payload(message)}
    )


def broadcast_typing(conversation_id: int, *, sender: str, typing: bool) -> None:
    async_to_sync(get_channel_layer().group_send)(
        conversation_group(conversation_id), {"type": "chat.typing", "sender": sender, "typing": typing}
    )


def _send_activity(course_id: int, activity: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(course_group(course_id), {"type": "course.activity", **activity})


def broadcast_message_activity(message: Message, *, course_id: int) -> None:
    """Tell the course's teachers that a conversation has a new message (no message text: the
    page fetches what it shows, with the teacher's own permissions)."""
    _send_activity(course_id, {"kind": "message", "conversation": message.conversation_id, "sender": message.sender})


def broadcast_flag_activity(flagged, *, status: str) -> None:
    """A question was flagged for the teachers (``status="open"``) or answered."""
    _send_activity(
        flagged.course_id, {"kind": "flag", "conversation": flagged.conversation_id, "flag": flagged.pk, "status": status}
    )
