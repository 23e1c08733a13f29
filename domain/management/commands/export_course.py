from django.core.management.base import BaseCommand, CommandError

from domain.course_io import dumps_document, export_course, write_document
from domain.models import Course


class Command(BaseCommand):
    help = "Write a course as a tutor-course JSON document (to stdout, or to --output FILE; .gz compresses)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="slug of the course")
        parser.add_argument("--output", "-o", help="file to write instead of stdout (.json or .json.gz)")

    def handle(self, *args, slug: str, output: str | None, **options):
        try:
            course = Course.objects.get(slug=slug)
        except Course.DoesNotExist:
            raise CommandError(f"No course with slug '{slug}'.") from None
        document = export_course(course=course)
        if output:
            write_document(document, output)
            self.stderr.write(f"Wrote course '{slug}' to {output}.")
        else:
            self.stdout.write(dumps_document(document), ending="")
