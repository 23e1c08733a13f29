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


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retrain_course_tracer(course_id: int, kind: str = "auto") -> str:
    """Refit a course's knowledge tracer on its history (``training`` queue) and recompute mastery."""
    from domain.models import Course

    from . import mastery

    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        return "skipped: course deleted"
    return mastery.fit_tracer(course=course, kind=kind).version


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retrain_grader(run_id: int) -> str:
    """Run one queued grader retraining of a course (``training`` queue); the run records its outcome."""
    from . import retraining

    return retraining.run_retraining(run_id=run_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def compute_release_preview(course_id: int) -> int:
    """Grade a course's teacher-graded sample once, for the release-policy page (``training`` queue)."""
    from domain.models import Course

    from . import release_preview

    course = Course.objects.filter(pk=course_id).first()
    return release_preview.compute_predictions(course=course) if course is not None else 0


@shared_task(acks_late=True, reject_on_worker_lost=True)
def regrade(run_id: int) -> str:
    """Run one queued bulk regrade of a question or a course (``grading`` queue); the run records its outcome."""
    from . import regrading

    return regrading.run_regrade(run_id=run_id).status
