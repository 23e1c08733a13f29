import json
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domain.models import Course
from domain.selectors import course_detail
from pedagogy.retrieval import (
    clear_engines,
    course_cross_encoder,
    course_documents,
    course_embedder,
    course_qa_engine,
    embedder_dir,
    engine_config,
    qa_dir,
    reranker_dir,
    vector_cache,
)
from tutor.ml.retrieval.cross_encoder import RerankerConfig, is_reranker, train_reranker_if_better
from tutor.ml.retrieval.evaluate import load_questions
from tutor.ml.retrieval.finetune import finetune_if_better

SHIPPED_RERANKERS = Path(settings.BASE_DIR) / "data" / "models" / "qa-reranker"


class Command(BaseCommand):
    help = (
        "Build (and keep on disk) the course's question-answering index, installing the course's shipped "
        "re-ranker (data/models/qa-reranker/<slug>/) when it has none. With --finetune, fine-tune the "
        "embedder on pairs from the course itself; with --train-reranker, train the course's cross-encoder "
        "re-ranker; either is kept only if it beats what the course has on the given questions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="course slug")
        parser.add_argument("--finetune", action="store_true")
        parser.add_argument("--train-reranker", action="store_true")
        parser.add_argument("--epochs", type=int, default=RerankerConfig.epochs, help="re-ranker training epochs")
        parser.add_argument("--questions", help="JSONL questions deciding whether what was trained is kept")
        parser.add_argument("--split", default="dev", help='the "split" of the questions to decide on (default dev)')

    def handle(self, *args, **options):
        try:
            course = course_detail(slug=options["course"])
        except Course.DoesNotExist:
            raise CommandError(f"No course with slug {options['course']!r}") from None
        rows = []
        if options["finetune"] or options["train_reranker"]:
            if not options["questions"]:
                raise CommandError("--finetune and --train-reranker need --questions to decide whether to keep the model")
            rows = load_questions(options["questions"], split=options["split"] or None)
            if not rows:
                raise CommandError("No questions to decide on")
        if options["finetune"]:
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
        if options["train_reranker"]:
            report = train_reranker_if_better(
                course_documents(course=course),
                rows,
                save_to=reranker_dir(course=course),
                embedder=course_embedder(course=course),
                engine_config=engine_config(),
                cache=vector_cache(),
                config=RerankerConfig(epochs=options["epochs"]),
                current=course_cross_encoder(course=course),
                progress=options["verbosity"] > 0,
            )
            clear_engines()
            self.stdout.write(json.dumps(report))
        else:
            self._install_shipped_reranker(course)
        engine = course_qa_engine(course=course)
        reranked = "with its trained re-ranker" if is_reranker(reranker_dir(course=course)) else "no trained re-ranker"
        self.stdout.write(self.style.SUCCESS(f"{course.slug}: {len(engine.index)} passages indexed; {reranked}"))

    def _install_shipped_reranker(self, course: Course) -> None:
        shipped, target = SHIPPED_RERANKERS / course.slug, reranker_dir(course=course)
        if is_reranker(shipped) and not is_reranker(target):
            shutil.copytree(shipped, target, dirs_exist_ok=True)
            clear_engines()
