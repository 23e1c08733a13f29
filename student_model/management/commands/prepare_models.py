"""Make sure a fine-tuned grader is active: install the shipped one, or fine-tune a quick one."""

import json
import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from student_model import grading, ml_registry, services


class Command(BaseCommand):
    help = (
        "Install the grader versions shipped in data/models and activate the newest if none is active "
        "(or if the active one is an older shipped version); "
        "with none shipped, fine-tune a quick grader (--quick-steps). Then queue waiting submissions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quick-steps", type=int, default=400,
                            help="optimiser steps of the fallback fine-tune when no grader is shipped")

    def handle(self, *args, quick_steps: int, **options):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        shipped = ml_registry.install_shipped_versions()
        active = ml_registry.activate_shipped_default(shipped=shipped)
        if active is None:
            self.stderr.write(f"No grader shipped: fine-tuning a quick one ({quick_steps} steps, a few minutes on CPU).")
            call_command(
                "train_grader", "--datasets", "semeval,saf", "--max-steps", str(quick_steps), "--epochs", "1",
                "--max-length", "128", "--lr", "5e-5", "--activate", "--no-progress",
                "--notes", "quick fine-tune by prepare_models", stdout=self.stderr,
            )
            active = ml_registry.active_version()
        grading.prepare_serving(version_path=active.path)
        queued = services.queue_pending_grading()
        validation = {k: v for k, v in active.metrics.get("validation", {}).items() if k != "per_class"}
        self.stdout.write(
            f"Active grader: {active.version} ({active.path}); validation {json.dumps(validation)}; "
            f"{queued} waiting submission(s) queued for grading."
        )
