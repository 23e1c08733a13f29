"""Celery tasks: thin adapters that call one service each."""

from celery import shared_task

from . import grading, services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5, default_retry_delay=10)
def grade_submission(self, submission_id: int) -> str:
    """Grade one stored submission; idempotent, so a redelivered task does no harm."""
    try:
        return grading.grade_submission(submission_id=submission_id)
    except grading.Submission.DoesNotExist:
        return "skipped: submission deleted"
    except Exception as error:  # a transient failure (database, model files): try again later
        raise self.retry(exc=error) from error


@shared_task
def queue_pending_grading() -> int:
    """Re-queue submissions still waiting for the grader (run by beat, or after a grader is activated)."""
    return services.queue_pending_grading()
