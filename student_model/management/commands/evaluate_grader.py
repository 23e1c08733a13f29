"""Evaluate a grader version on any split in a data set's own format; print one JSON object."""

import argparse
import json
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from student_model import ml_registry
from tutor.ml.data.asag import FORMATS
from tutor.ml.grading.config import ServeConfig
from tutor.ml.grading.evaluate import allowed_for, evaluate_items
from tutor.ml.grading.memory import MemoryGrader, memory_for, training_memory
from tutor.ml.grading.predictor import get_predictor
from tutor.ml.grading.sources import read_any
from tutor.ml.grading.verdict_stack import label_set_key
from tutor.ml.retrieval.embedder import get_embedder


class Command(BaseCommand):
    help = "Evaluate the active (or a named) grader on a SemEval / SAF / Mohler file or folder."

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--data", required=True, help="file or folder in that format (or a .jsonl.gz copy)")
        parser.add_argument("--model", help="registered version (default: the active one)")
        parser.add_argument("--model-dir", help="an unregistered model directory instead of --model")
        parser.add_argument(
            "--int8", action=argparse.BooleanOptionalAction,
            help="int8 dynamic quantisation, CPU (default: as the product serves, GRADER_INT8; with a --backend "
            "other than GRADER_BACKEND, int8 on ONNX Runtime and fp32 on PyTorch)",
        )
        parser.add_argument(
            "--backend", choices=("torch", "onnx"), default=settings.GRADER_BACKEND,
            help="serve with PyTorch or ONNX Runtime (same grades; default: GRADER_BACKEND)",
        )
        parser.add_argument("--batch-size", type=int, default=ServeConfig.batch_size)
        parser.add_argument("--threads", type=int, default=0)
        parser.add_argument(
            "--memory",
            default="training",
            help="graded answers whose grades vote on similar answers to the same questions: 'training' (the "
            "answers the version was trained on, from data/asag), 'none', or a file/folder in --format",
        )
        parser.add_argument("--json", action="store_true", help="print only the JSON object")

    def handle(self, *args, **options):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if options["model_dir"]:
            model_dir, version = options["model_dir"], os.path.basename(os.path.normpath(options["model_dir"]))
        else:
            try:
                found = ml_registry.get_version(version=options["model"])
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
            model_dir, version = found.path, found.version
        try:
            items = read_any(options["format"], options["data"])
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        if not items:
            raise CommandError(f"no answers found in {options['data']}")
        if options["int8"] is None:
            same = options["backend"] == settings.GRADER_BACKEND
            options["int8"] = settings.GRADER_INT8 if same else options["backend"] == "onnx"
        predictor = get_predictor(
            model_dir, int8=options["int8"], batch_size=options["batch_size"], num_threads=options["threads"],
            backend=options["backend"],
        )
        grader, memory_size = self._with_memory(predictor, model_dir, items, options)
        score_model = predictor.score_model
        new_questions = sum(not score_model.knows(i.question) for i in items) if score_model is not None else 0
        # of those, the answers whose verdict is a band of that score (a label set with partial credit)
        labels = allowed_for(options["format"])
        banded = new_questions if score_model is not None and score_model.bands and "partially_correct" in labels else 0
        # ... or from a verdict stack (a label set without partial credit, such as SemEval's 3-way)
        stacked = new_questions if score_model is not None and "partially_correct" not in labels \
            and label_set_key(labels) in score_model.stacks else 0
        result = {"model": version, "int8": options["int8"], "backend": options["backend"], "data": options["data"],
                  "memory": {"source": options["memory"], "graded_answers": memory_size},
                  # answers to questions the version was not fitted on, scored by its score model
                  "score_model": {"present": score_model is not None, "answers_scored": new_questions,
                                  "answers_banded": banded, "answers_stacked": stacked,
                                  "band_languages": sorted(score_model.bands) if score_model is not None else []},
                  **evaluate_items(grader, items, options["format"])}
        if not options["json"]:
            self.stderr.write(f"{result['n']} answers, model {version}")
        self.stdout.write(json.dumps(result, indent=None if options["json"] else 2))

    def _with_memory(self, predictor, model_dir, items, options):
        source = options["memory"]
        if source == "none":
            return predictor, 0
        try:
            if source == "training":
                data_dir = settings.BASE_DIR / "data" / "asag"
                memory = training_memory(model_dir, items, data_dir=data_dir, encoder=get_embedder())
            else:
                memory = memory_for(items, read_any(options["format"], source), encoder=get_embedder())
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(f"memory: {error}") from error
        return MemoryGrader(predictor, memory), len(memory)
