import json

from django.core.management.base import BaseCommand, CommandError

from domain.models import Course
from domain.selectors import course_detail
from pedagogy.retrieval import course_qa_engine
from pedagogy.tutoring import CourseTutor
from tutor.ml.retrieval.evaluate import evaluate_engine, load_questions


class Command(BaseCommand):
    help = (
        'Ask the course tutor each question of a JSONL file ({"q": ..., "gold": [external_id, ...]}) and '
        "report hit@1, hit@3 and MRR of the resources it cites, and its warm answer latency. Questions "
        'without "gold" are ones the readings do not answer: for them, how often the tutor says it is unsure.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="course slug")
        parser.add_argument("--questions", required=True, help="JSONL file of questions")
        parser.add_argument("--split", help='only the lines whose "split" is this (e.g. dev, test)')
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")
        parser.add_argument(
            "--path",
            choices=["chat", "retrieval"],
            default="chat",
            help="chat (default): what the tutoring chat cites for a first message (a pasted assigned question "
            "is cited by its section); retrieval: the bare retrieval engine",
        )

    def handle(self, *args, **options):
        try:
            course = course_detail(slug=options["course"])
        except Course.DoesNotExist:
            raise CommandError(f"No course with slug {options['course']!r}") from None
        path, split = options["questions"], options["split"]
        try:
            rows = load_questions(path, split=split)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        if not rows:
            raise CommandError(f"No questions in {path}" + (f" with split {split!r}" if split else ""))
        answerer = CourseTutor(course) if options["path"] == "chat" else course_qa_engine(course=course)
        result = evaluate_engine(answerer, rows)
        if options["as_json"]:
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key:>12}: {value}")
