"""Retrain a course's grader on its teacher-confirmed answers (LoRA adapter, champion/challenger)."""

import json
import os
from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domain.models import Course
from student_model import retraining


class Command(BaseCommand):
    help = (
        "Fine-tune a LoRA adapter for one course from its active grader on its teacher-confirmed answers; "
        "promote it only if it beats the current grader on held-out answers without losing on the benchmark."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, metavar="SLUG")
        parser.add_argument("--max-steps", type=int, help="cap on optimiser steps")
        parser.add_argument("--max-examples", type=int, help="cap on training answers")
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--threads", type=int, dest="num_threads")
        parser.add_argument("--global-per-source", type=int, help="benchmark answers per source (default 150)")
        parser.add_argument("--queue", action="store_true",
                            help="send the run to the `training` queue instead of running it here")
        parser.add_argument("--json", action="store_true", help="print the run's result as JSON")

    def handle(self, *args, **options):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        course = Course.objects.filter(slug=options["course"]).first()
        if course is None:
            raise CommandError(f"No course {options['course']!r}.")
        adapter = {key: options[name] for key, name in (
            ("max_steps", "max_steps"), ("max_examples", "max_examples"), ("epochs", "epochs"), ("seed", "seed"),
            ("num_threads", "num_threads"),
        ) if options[name] is not None}
        policy = {"global_per_source": options["global_per_source"]} if options["global_per_source"] else {}
        defaults = retraining.default_options()
        run_options = retraining.RetrainingOptions.from_dict(
            {**asdict(defaults), "adapter": {**defaults.adapter, **adapter}, "policy": {**defaults.policy, **policy}}
        )
        try:
            run = retraining.start_retraining(
                course=course, started_by=None, options=run_options, enqueue=options["queue"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if options["queue"]:
            self.stdout.write(f"Queued training run {run.pk} for {course.slug}.")
            return
        run = retraining.run_retraining(run_id=run.pk)
        if options["json"]:
            self.stdout.write(json.dumps({"run": run.pk, "status": run.status, **run.result}, indent=2))
        else:
            self.stdout.write(f"Run {run.pk} {run.status}: {run.message}")
        if run.status == run.Status.FAILED:
            raise CommandError(run.message)
