"""Long jobs of the web process in embedded mode (eager Celery, no worker): a retraining run, a bulk
regrade, the release-policy preview. With a worker they go to their Celery queues instead; here a
daemon thread runs them so that the request returns at once and the page follows their progress."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

# Before a tenth of the work the pace says little (a retraining spends its first seconds collecting answers).
MIN_PROGRESS_FOR_ESTIMATE = 0.1


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


def seconds_left(
    *, status: str, progress: float, started_at: datetime | None, now: datetime | None = None
) -> int | None:
    """How long a running job (a retraining run, a bulk regrade) still needs at its pace so far: the time it
    has run times the share of work left over the share done. None when it is not running or too early to
    tell."""
    if status != "running" or started_at is None or not MIN_PROGRESS_FOR_ESTIMATE <= progress < 1.0:
        return None
    elapsed = ((now or timezone.now()) - started_at).total_seconds()
    return max(0, round(elapsed * (1.0 - progress) / progress))
