"""Train a knowledge tracer on a practice-log file and score it on another; print one JSON object."""

import json

from django.core.management.base import BaseCommand, CommandError

from tutor.ml.tracing.data import FORMATS, KTFormatError
from tutor.ml.tracing.evaluate import MODELS, evaluate_files


class Command(BaseCommand):
    help = (
        "Train BKT or the Transformer tracer on --train (early stopping on --valid, or on 10% of the "
        "training students) and report auc / accuracy / rmse / n on --test, one prediction per "
        "interaction from the past only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--train", required=True, help="three-line file (plain or .gz)")
        parser.add_argument("--valid", help="validation file for early stopping (optional)")
        parser.add_argument("--test", required=True)
        parser.add_argument("--model", required=True, choices=MODELS)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--max-seconds", type=float, help="transformer training budget (seconds)")
        parser.add_argument("--json", action="store_true", help="print only the JSON object, on one line")

    def handle(self, *args, **options):
        overrides = {}
        if options["max_seconds"] is not None and options["model"] == "transformer":
            overrides["max_seconds"] = options["max_seconds"]
        try:
            result = evaluate_files(
                fmt=options["format"],
                train=options["train"],
                valid=options["valid"],
                test=options["test"],
                model=options["model"],
                seed=options["seed"],
                **overrides,
            )
        except (FileNotFoundError, KTFormatError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(result, indent=None if options["json"] else 2))
