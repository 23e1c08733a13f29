"""The websocket that pushes submission status changes to a student's open pages."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from student_model import services
from tests import factories
from tutor.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


def _communicator(user=None) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, "/ws/submissions/", headers=ORIGIN)
    if user is not None:
        comm.scope["user"] = user
    return comm


async def test_anonymous_user_is_refused():
    comm = _communicator()
    connected, code = await comm.connect()
    assert not connected
    assert code == 4401


async def test_foreign_origin_is_refused():
    user = await database_sync_to_async(factories.UserFactory)()
    comm = WebsocketCommunicator(application, "/ws/submissions/", headers=[(b"origin", b"http://evil.example")])
    comm.scope["user"] = user
    connected, _ = await comm.connect()
    assert not connected


async def test_student_hears_when_their_submission_is_graded():
    submission = await database_sync_to_async(factories.SubmissionFactory)()
    other = await database_sync_to_async(factories.SubmissionFactory)()
    mine, theirs = _communicator(submission.student), _communicator(other.student)
    assert (await mine.connect())[0] and (await theirs.connect())[0]

    await database_sync_to_async(services.record_grade)(
        submission=submission, score=1.0, verdict="correct", source="teacher", feedback="Right."
    )

    assert await mine.receive_json_from(timeout=5) == {
        "submission_id": submission.pk, "question_id": submission.question_id, "status": "graded"}
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()
