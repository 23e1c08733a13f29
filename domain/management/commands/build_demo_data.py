"""Regenerate data/ (normalised ASAG copies, demo course documents and histories) from the originals."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from domain.demo import DATA_DIR, build_demo_data


class Command(BaseCommand):
    help = "Rebuild the committed files under data/ from the original datasets (e.g. ../shared/data)."

    def add_arguments(self, parser):
        parser.add_argument("--shared", required=True, help="Folder holding asag/ and content/ (the originals).")
        parser.add_argument("--out", default=str(DATA_DIR), help="Where to write (default: the repository's data/).")

    def handle(self, *args, shared, out, **options):
        shared_path = Path(shared)
        if not (shared_path / "asag").is_dir() or not (shared_path / "content").is_dir():
            raise CommandError(f"{shared_path} does not hold asag/ and content/: pass the originals' folder.")
        report = build_demo_data(shared=shared_path, out=Path(out), log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(report.files)} files under {out}."))
