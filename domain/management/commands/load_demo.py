"""Load the four demo courses, their historical answers and the demo accounts (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from domain.demo import SLUGS, load_demo
from domain.models import Course
from student_model.mastery import fit_tracer


class Command(BaseCommand):
    help = "Import the demo courses from data/demo/ with their graded history and create the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", choices=SLUGS, metavar="SLUG",
                            help=f"Load only this course (repeatable): {', '.join(SLUGS)}.")

    def handle(self, *args, only=None, **options):
        try:
            report = load_demo(only=only)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for slug, info in report.courses.items():
            history = info["history"]
            past = (
                f"{history.submissions} historical answers added, {history.skipped} already there"
                if history is not None else "no history"
            )
            self.stdout.write(f"{slug}: {info['questions']} questions, {info['resources']} resources; {past}")
            if history is not None and history.submissions:  # new history: fit the course's knowledge tracer
                tracer = fit_tracer(course=Course.objects.get(slug=slug))
                self.stdout.write(f"{slug}: {tracer.get_kind_display()} fitted on {tracer.interactions} answers")
        width = max(len(u) for u, _, _ in report.credentials)
        pwidth = max(len(p) for _, p, _ in report.credentials)
        self.stdout.write("")
        self.stdout.write(f"{'username'.ljust(width)}  {'password'.ljust(pwidth)}  role")
        self.stdout.write(f"{'-' * width}  {'-' * pwidth}  ----")
        for username, password, role in report.credentials:
            self.stdout.write(f"{username.ljust(width)}  {password.ljust(pwidth)}  {role}")
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {report.seconds:.1f} s."))
