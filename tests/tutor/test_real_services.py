"""The real-service paths: a Celery worker process consuming from Redis, and the Redis channel layer."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from tutor.celery import app, ping

pytestmark = pytest.mark.services


def _test_database_url() -> str:
    """DATABASE_URL pointing at the database pytest-django created for this run."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    env = dict(os.environ, DATABASE_URL=_test_database_url(), CELERY_TASK_ALWAYS_EAGER="false")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tutor", "worker", "--pool", "solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield queue
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_settings_use_the_real_services():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert app.conf.broker_url.startswith("redis://")
    assert not app.conf.task_always_eager


def test_a_worker_process_runs_a_task_through_the_redis_broker(celery_worker_process):
    result = ping.apply_async(queue=celery_worker_process)
    # The result travels back through django-celery-results in the test database.
    assert result.get(timeout=60) == "pong"
    from django_celery_results.models import TaskResult

    assert TaskResult.objects.filter(task_id=result.id, status="SUCCESS").exists()


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
