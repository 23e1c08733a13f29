"""The real-service paths: a Celery worker process consuming from Redis, and the Redis channel layer."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from student_model import ml_registry, tasks
from student_model.models import Grade, Submission
from tests import factories
from tutor.celery import app, ping, serving_threads
from tutor.ml.threads import WORKER_PROCESSES_ENV, available_cores

pytestmark = pytest.mark.services


def _test_database_url() -> str:
    """DATABASE_URL pointing at the database pytest-django created for this run."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    """A real Celery worker process consuming one queue through the Redis broker."""

    def __init__(self, queue: str, pool: tuple[str, ...] = ("--pool", "solo"), **env: str):
        self.queue = queue
        self.pool = pool
        self.env = dict(os.environ, DATABASE_URL=_test_database_url(), CELERY_TASK_ALWAYS_EAGER="false", **env)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tutor", "worker", *self.pool, "-Q", self.queue,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def workers(transactional_db):
    started: list[Worker] = []
    queue = f"test-{uuid.uuid4().hex[:8]}"

    def start(pool: tuple[str, ...] = ("--pool", "solo"), **env: str) -> Worker:
        started.append(Worker(queue, pool, **env).start())
        return started[-1]

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.kill(signal.SIGTERM)


def _wait_for(condition, timeout: float = 180.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting after {timeout:.0f} s")


def test_settings_use_the_real_services():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert app.conf.broker_url.startswith("redis://")
    assert not app.conf.task_always_eager


def test_a_worker_process_runs_a_task_through_the_redis_broker(workers):
    worker = workers()
    result = ping.apply_async(queue=worker.queue)
    # The result travels back through django-celery-results in the test database.
    assert result.get(timeout=60) == "pong"
    from django_celery_results.models import TaskResult

    assert TaskResult.objects.filter(task_id=result.id, status="SUCCESS").exists()


def test_the_processes_of_a_prefork_worker_share_the_cores(workers, monkeypatch):
    monkeypatch.delenv(WORKER_PROCESSES_ENV, raising=False)
    monkeypatch.delenv("GRADER_THREADS", raising=False)
    worker = workers(pool=("--pool", "prefork", "--concurrency", "2"))
    # Two processes of a thread per core each would run twice as many threads as there are cores.
    assert serving_threads.apply_async(queue=worker.queue).get(timeout=60) == max(1, available_cores() // 2)


def test_a_solo_worker_serves_with_every_core(workers, monkeypatch):
    monkeypatch.delenv(WORKER_PROCESSES_ENV, raising=False)
    monkeypatch.delenv("GRADER_THREADS", raising=False)
    worker = workers()
    assert serving_threads.apply_async(queue=worker.queue).get(timeout=60) == 0


def test_channel_layer_group_send_reaches_a_member_through_redis():
    layer = get_channel_layer()
    group = f"test-{uuid.uuid4().hex[:8]}"

    async def roundtrip():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "hello", "text": "through redis"})
        message = await layer.receive(channel)
        await layer.group_discard(group, channel)
        return message

    message = async_to_sync(roundtrip)()
    assert message == {"type": "hello", "text": "through redis"}


@pytest.mark.slow
def test_a_submission_is_graded_even_when_its_worker_dies_mid_task(workers, grader):
    ml_registry.register_version(version="test-grader", path=grader.path, activate=True)
    submission = factories.SubmissionFactory(
        question=factories.QuestionFactory(reference="The water was evaporated, leaving the salt."),
        answer="Let the water evaporate and the salt is left behind.",
    )
    first = workers(CELERY_VISIBILITY_TIMEOUT="3")
    tasks.grade_submission.apply_async(args=[submission.pk], queue=first.queue)

    # The worker marks the submission 'grading' before it loads the model (seconds): kill it then.
    _wait_for(lambda: Submission.objects.filter(pk=submission.pk, status="grading").exists())
    first.kill()
    assert not Grade.objects.filter(submission=submission).exists()

    workers(CELERY_VISIBILITY_TIMEOUT="3")  # after a restart the unacknowledged task is delivered again
    # Graded: released, or held for review under the default release policy (a briefly trained model is unsure).
    _wait_for(lambda: Submission.objects.filter(pk=submission.pk, status__in=["graded", "needs_review"]).exists())
    grade = Grade.objects.get(submission=submission)
    assert grade.source == "model" and grade.model_version == "test-grader" and grade.feedback
