"""Regrade a question or a whole course in bulk with its active grader (answers a teacher graded keep their grade)."""

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domain.models import Course
from student_model import regrading


class Command(BaseCommand):
    help = (
        "Grade again, in batches, the answers of a course (or of one of its questions) whose current grade came "
        "from the model, with the grader active now; answers a teacher graded or confirmed keep their grade."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, metavar="SLUG")
        parser.add_argument("--question", type=int, metavar="ID", help="only this question of the course")
        parser.add_argument("--queue", action="store_true",
                            help="send the run to the `grading` queue instead of running it here")

    def handle(self, *args, **options):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        course = Course.objects.filter(slug=options["course"]).first()
        if course is None:
            raise CommandError(f"No course {options['course']!r}.")
        question = None
        if options["question"] is not None:
            question = course.questions.filter(pk=options["question"]).first()
            if question is None:
                raise CommandError(f"No question {options['question']} in {course.slug}.")
        try:
            run = regrading.start_regrade(course=course, question=question, started_by=None, enqueue=False)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if options["queue"]:  # to a worker through the broker, even where the web server would use a thread
            regrading.queue(run_id=run.pk)
            run.refresh_from_db()
            if run.status == run.Status.FAILED:
                raise CommandError(run.message)
            self.stdout.write(f"Queued regrade {run.pk} of {run.total} answers in {course.slug}.")
            return
        run = regrading.run_regrade(run_id=run.pk)
        self.stdout.write(f"Regrade {run.pk} {run.status}: {run.message}")
        if run.status == run.Status.FAILED:
            raise CommandError(run.message)
