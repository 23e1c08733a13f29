import json

from django.core.management.base import BaseCommand, CommandError

from domain.models import Course
from domain.selectors import course_detail
from pedagogy.retrieval import clear_engines, course_documents, course_qa_engine, embedder_dir, engine_config, qa_dir, vector_cache
from tutor.ml.retrieval.evaluate import load_questions
from tutor.ml.retrieval.finetune import finetune_if_better


class Command(BaseCommand):
    help = (
        "Build (and keep on disk) the course's question-answering index. With --finetune, fine-tune the "
        "embedder on pairs from the course itself and keep it only if it beats the pretrained one on "
        "the given questions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="course slug")
        parser.add_argument("--finetune", action="store_true")
        parser.add_argument("--questions", help="JSONL questions deciding whether the fine-tuned embedder is kept")
        parser.add_argument("--split", default="dev", help='the "split" of the questions to decide on (default dev)')

    def handle(self, *args, **options):
        try:
            course = course_detail(slug=options["course"])
        except Course.DoesNotExist:
            raise CommandError(f"No course with slug {options['course']!r}") from None
        if options["finetune"]:
            if not options["questions"]:
                raise CommandError("--finetune needs --questions to decide whether the fine-tuned embedder is kept")
            rows = load_questions(options["questions"], split=options["split"] or None)
            if not rows:
                raise CommandError("No questions to decide on")
            report = finetune_if_better(
                course_documents(course=course),
                rows,
                save_to=embedder_dir(course=course),
                engine_config=engine_config(),
                cache=vector_cache(),
            )
            vector_cache().save(qa_dir() / "vectors.npz")
            clear_engines()
            self.stdout.write(json.dumps(report))
        engine = course_qa_engine(course=course)
        self.stdout.write(self.style.SUCCESS(f"{course.slug}: {len(engine.index)} passages indexed"))
