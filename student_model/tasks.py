"""Celery tasks: thin adapters that call one service each."""

from celery import shared_task

from . import grading


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=10)
def grade_submission(self, submission_id: int) -> str:
    """Grade one stored submission; idempotent, so a redelivered task does no harm."""
    return grading.grade_submission(submission_id=submission_id)
