import logging
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from student_model import background
from student_model.models import RegradeRun
from tests import factories


@pytest.mark.django_db(transaction=True)  # the thread's own connection sees the committed rows
def test_a_background_job_runs_in_its_own_thread_and_closes_its_connections_after(monkeypatch):
    course = factories.CourseFactory()
    seen, closed_in = {}, []
    close_all = connections.close_all
    monkeypatch.setattr(connections, "close_all",
                        lambda: closed_in.append(threading.current_thread().name) or close_all())

    def job(course_id: int) -> None:
        seen["thread"] = threading.current_thread().name
        seen["runs"] = RegradeRun.objects.filter(course_id=course_id).count()

    background.start_thread(name="job", target=job, args=(course.pk,)).join(30)

    assert seen == {"thread": "job", "runs": 0}
    assert closed_in == ["job"]


def test_a_failing_background_job_is_logged_and_still_closes_its_connections(caplog, monkeypatch):
    closed_in = []
    monkeypatch.setattr(connections, "close_all", lambda: closed_in.append(threading.current_thread().name))

    def job() -> None:
        raise RuntimeError("broken")

    with caplog.at_level(logging.ERROR):
        background.start_thread(name="broken-job", target=job).join(30)
    assert "The background job broken-job failed." in caplog.text and "RuntimeError: broken" in caplog.text
    assert closed_in == ["broken-job"]


def test_the_time_left_follows_the_pace_so_far_once_a_tenth_is_done():
    now = timezone.now()
    started = now - timedelta(minutes=10)
    assert background.seconds_left(status="running", progress=0.5, started_at=started, now=now) == 600
    assert background.seconds_left(status="running", progress=0.8, started_at=started, now=now) == 150
    assert background.seconds_left(status="running", progress=0.05, started_at=started, now=now) is None  # too early
    assert background.seconds_left(status="running", progress=1.0, started_at=started, now=now) is None
    assert background.seconds_left(status="running", progress=0.5, started_at=None, now=now) is None
    for ended in ("queued", "succeeded", "failed"):
        assert background.seconds_left(status=ended, progress=0.5, started_at=started, now=now) is None
