"""Long jobs of the web process in embedded mode (eager Celery, no worker): a retraining run, a bulk
regrade, the release-policy preview. With a worker they go to their Celery queues instead; here a
daemon thread runs them so that the request returns at once and the page follows their progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)


def start_thread(*, name: str, target: Callable[..., object], args: tuple = ()) -> threading.Thread:
    """Run ``target(*args)`` in a daemon thread named ``name``. A failure is logged (the job records its
    own outcome); the thread's database connections are closed when it ends."""

    def run() -> None:
        try:
            target(*args)
        except Exception:
            logger.exception("The background job %s failed.", name)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
