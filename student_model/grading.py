"""Automatic grading of stored submissions.

The grader itself (a fine-tuned cross-encoder) lives in ``tutor.ml.grading``; this
module connects it to the database. Until a grader model is active, submissions stay
``received`` and wait: nothing is guessed and nothing is lost.
"""

import logging

from .models import Submission

logger = logging.getLogger(__name__)


def grade_submission(*, submission_id: int) -> str:
    submission = Submission.objects.select_related("question").get(pk=submission_id)
    if submission.status != Submission.Status.RECEIVED:
        return f"skipped: already {submission.status}"
    logger.info("No active grader model; submission %s waits in status 'received'.", submission_id)
    return "waiting: no active grader"
