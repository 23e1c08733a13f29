"""Mastery per skill from graded submissions (knowledge tracing in the product)."""


def record_graded_submission(*, submission_id: int) -> None:
    """Update the learner's mastery of the question's skills from the submission's current grade."""
