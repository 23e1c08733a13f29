from django.core.management.base import BaseCommand, CommandError

from domain.course_io import CourseFormatError, import_course_document, load_document


class Command(BaseCommand):
    help = "Create or update a course from a tutor-course JSON file (.json or .json.gz); see docs/course_format.md."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the course document")

    def handle(self, *args, file: str, **options):
        try:
            report = import_course_document(document=load_document(file))
        except CourseFormatError as exc:
            problems = "\n".join(f"  {p}" for p in exc.problems)
            raise CommandError(
                f"{file} was not imported ({len(exc.problems)} problem(s)); nothing was written:\n{problems}"
            ) from None
        self.stdout.write(self.style.SUCCESS(report.summary()))
