"""Package a trained grader version into data/models (fp16, split into parts) for committing."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from student_model import ml_registry


class Command(BaseCommand):
    help = "Write VERSION to data/models/grader/VERSION (fp16 weights in parts); prepare_models installs it."

    def add_arguments(self, parser):
        parser.add_argument("version")

    def handle(self, *args, version: str, **options):
        try:
            target = ml_registry.ship_version(version=version)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
        self.stdout.write(f"Shipped {version} to {target} ({size / 1e6:.1f} MB).")
