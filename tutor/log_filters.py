"""Logging filters named in ``settings.LOGGING``."""

from __future__ import annotations

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """A request refused with a 4xx (a 403 from ``PermissionDenied`` on ``django.request``, a 400 from a
    ``SuspiciousOperation`` on ``django.security.*``) is an expected answer, not a fault: its one log line
    stays, the traceback Django attaches goes. On the console handler, which every record reaches."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
