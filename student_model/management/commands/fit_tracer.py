"""Fit a course's knowledge tracer on its released history, activate it and recompute mastery."""

import json

from django.core.management.base import BaseCommand, CommandError

from domain.models import Course
from student_model import mastery


class Command(BaseCommand):
    help = (
        "Fit the knowledge tracer of a course (BKT, or the Transformer once the course has enough history "
        "and it predicts held-out students at least as well), make it the active one and recompute every "
        "learner's mastery."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, metavar="SLUG")
        parser.add_argument("--kind", choices=("auto", "bkt", "transformer"), default="auto")
        parser.add_argument("--json", action="store_true", help="print only a JSON object")

    def handle(self, *args, course, kind, json: bool = False, **options):
        found = Course.objects.filter(slug=course).first()
        if found is None:
            raise CommandError(f"No course with slug '{course}'.")
        version = mastery.fit_tracer(course=found, kind=kind)
        summary = {"course": course, "version": version.version, "kind": version.kind,
                   "interactions": version.interactions, "metrics": version.metrics}
        if json:
            self.stdout.write(_dumps(summary))
            return
        self.stdout.write(f"{course}: {version.kind} tracer {version.version} on {version.interactions} interactions")
        self.stdout.write(f"  {version.metrics.get('why', '')}")
        for name in ("bkt", "transformer"):
            if name in version.metrics:
                self.stdout.write(f"  {name}: {_dumps(version.metrics[name])}")
        self.stdout.write(self.style.SUCCESS("Active; mastery recomputed."))


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True)
