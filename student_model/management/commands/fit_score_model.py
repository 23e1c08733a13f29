"""Fit a grader version's score model for new questions (tutor/ml/grading/score_model.py); print its report."""

import json
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from student_model import ml_registry
from tutor.ml.grading.alignment import Aligner
from tutor.ml.grading.predictor import GraderPredictor
from tutor.ml.grading.config import ServeConfig
from tutor.ml.grading.score_model import ScoreModelConfig, fit_for_version
from tutor.ml.retrieval.embedder import get_embedder


class Command(BaseCommand):
    help = ("Fit the regression that scores answers to questions a grader version was not trained on, "
            "from how much of the reference answer they express; writes score_model.json into the version.")

    def add_arguments(self, parser):
        parser.add_argument("--model", help="registered version (default: the active one)")
        parser.add_argument("--datasets", default=",".join(ScoreModelConfig.datasets),
                            help="comma-separated points-scale data sets to fit on")
        parser.add_argument("--band-datasets", default=",".join(ScoreModelConfig.band_datasets),
                            help="verdict-labelled data sets with partial credit that the verdict bands of new "
                                 "questions are fitted on (empty: no bands)")
        parser.add_argument("--alpha", type=float, default=ScoreModelConfig.alpha, help="ridge penalty")
        parser.add_argument("--model-weight", type=float, default=ScoreModelConfig.model_weight,
                            help="the cross-encoder's share of the score on new questions")
        parser.add_argument("--data-dir", default=str(settings.BASE_DIR / "data" / "asag"))

    def handle(self, *args, **options):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            version = ml_registry.get_version(version=options["model"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        config = ScoreModelConfig(
            datasets=tuple(d.strip() for d in options["datasets"].split(",") if d.strip()),
            band_datasets=tuple(d.strip() for d in options["band_datasets"].split(",") if d.strip()),
            alpha=options["alpha"], model_weight=options["model_weight"],
        )
        # The cross-encoder as served: its own score on the validation questions, for comparison, and its
        # verdict probabilities, which the verdict stacks of new questions take as inputs.
        predictor = GraderPredictor(ServeConfig(model_dir=version.path, score_model=False,
                                                backend=settings.GRADER_BACKEND, int8=settings.GRADER_INT8))
        try:
            model = fit_for_version(version.path, data_dir=options["data_dir"], aligner=Aligner(get_embedder()),
                                    config=config, predictor=predictor)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        path = model.save(version.path)
        self.stderr.write(f"Wrote {path}")
        self.stdout.write(json.dumps({"version": version.version, **model.report}, indent=2))
