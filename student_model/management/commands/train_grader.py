"""Fine-tune the grader, store it as a new version under MODEL_DIR/grader, register it."""

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from student_model import ml_registry
from tutor.ml import registry as disk_registry
from tutor.ml.grading.config import ATTENTIONS, TRUNCATIONS, TrainConfig
from tutor.ml.grading.pipeline import resume_config, run_training
from tutor.ml.pretrained import mpnet_path


class Command(BaseCommand):
    help = "Fine-tune the cross-encoder grader on the graded-answer data sets and register the new version."

    def add_arguments(self, parser):
        parser.add_argument("--datasets", default="semeval,saf,mohler", help="comma-separated: semeval,saf,mohler")
        parser.add_argument("--data-dir", default=str(settings.BASE_DIR / "data" / "asag"),
                            help="folder with <name>.jsonl.gz copies or the original releases")
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--max-steps", type=int, help="stop after this many optimiser steps (quick runs)")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--max-length", type=int)
        parser.add_argument("--lr", type=float)
        parser.add_argument("--eval-every", type=int, help="validate every N steps (default: once per epoch)")
        parser.add_argument("--val-by", choices=["question", "answer"])
        parser.add_argument("--val-fraction", type=float)
        parser.add_argument("--max-train-items", type=int, help="cap per data set (quick runs)")
        parser.add_argument("--class-weights", action="store_true", default=None)
        parser.add_argument("--student-references", type=int, metavar="N",
                            help="extra pairs per answer with another student's correct answer as the reference")
        parser.add_argument("--polarity-flips", type=float, metavar="SHARE",
                            help="share of correct SemEval answers that also train as contradictory with one "
                                 "polarity word flipped (see tutor/ml/grading/polarity.py; default 0)")
        parser.add_argument("--truncation", choices=TRUNCATIONS,
                            help="what a pair longer than --max-length loses (default longest_first; see PairCollator)")
        parser.add_argument("--attention", choices=ATTENTIONS,
                            help="'prefix': question and reference never read the answer, so grading computes them "
                                 "once per question (default full; see tutor/ml/grading/prefix_cache.py)")
        parser.add_argument("--student-reference-datasets", metavar="LIST",
                            help="comma-separated data sets whose answers get those pairs (default: all trained)")
        parser.add_argument("--base-model", help="local directory of the pretrained encoder, or 'mpnet' "
                            "(all-mpnet-base-v2 from its PyPI parts: the teacher's base; see tutor/ml/pretrained.py)")
        parser.add_argument("--device", choices=["auto", "cpu", "cuda"])
        parser.add_argument("--threads", type=int, dest="num_threads")
        parser.add_argument("--name", dest="version_name", help="version name (default: grader-<UTC timestamp>-<random>)")
        parser.add_argument("--resume", metavar="VERSION", help="continue an interrupted run from its checkpoint")
        parser.add_argument("--activate", action="store_true", help="make the new version the active grader")
        parser.add_argument("--notes", default="")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--distil-from", metavar="VERSION",
                            help="a trained (larger) grader version to distil into this one (see tutor/ml/grading/distil.py)")
        parser.add_argument("--distil-alpha", type=float, help="weight of the teacher's targets (default 0.5)")
        parser.add_argument("--distil-temperature", type=float, help="softmax temperature of the teacher (default 2)")
        parser.add_argument("--init-from", metavar="VERSION",
                            help="train further from a trained version's weights (keep its datasets, seed and "
                                 "validation settings so the validation questions stay unseen)")
        parser.add_argument("--no-score-model", action="store_true",
                            help="skip fitting the score model for new questions (see fit_score_model)")

    def handle(self, *args, **options):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        overrides = {
            "epochs": options["epochs"], "max_steps": options["max_steps"], "seed": options["seed"],
            "batch_size": options["batch_size"], "max_length": options["max_length"], "lr": options["lr"],
            "eval_every": options["eval_every"], "val_by": options["val_by"], "val_fraction": options["val_fraction"],
            "max_train_items": options["max_train_items"], "class_weights": options["class_weights"],
            "student_references": options["student_references"],
            "student_reference_datasets": _names(options["student_reference_datasets"]),
            "truncation": options["truncation"], "polarity_flips": options["polarity_flips"],
            "attention": options["attention"], "base_model": options["base_model"], "device": options["device"], "num_threads": options["num_threads"],
            "distil_alpha": options["distil_alpha"], "distil_temperature": options["distil_temperature"],
        }
        root = ml_registry.grader_root()
        if options["base_model"] == "mpnet":
            try:
                overrides["base_model"] = str(mpnet_path(Path(settings.MODEL_DIR) / "base"))
            except FileNotFoundError as error:
                raise CommandError(str(error)) from None
        for option in ("distil_from", "init_from"):
            if options[option]:
                given = disk_registry.version_dir(root, ml_registry.KIND, options[option])
                if not (given / "config.json").exists():
                    raise CommandError(f"No trained grader version {options[option]!r} under {root}")
                overrides[option] = str(given)
        try:
            if options["resume"]:
                version = options["resume"]
                output_dir = disk_registry.version_dir(root, ml_registry.KIND, version)
                config = resume_config(output_dir, **overrides)
            else:
                version = disk_registry.validate_version(options["version_name"] or disk_registry.new_version_name())
                output_dir = disk_registry.version_dir(root, ml_registry.KIND, version)
                if output_dir.exists():
                    raise CommandError(f"{output_dir} already exists; pick another --name or --resume it")
                datasets = _names(options["datasets"])
                config = TrainConfig(datasets=datasets, output_dir=str(output_dir),
                                     **{k: v for k, v in overrides.items() if v is not None})
            self.stderr.write(f"Training grader {version} on {', '.join(config.datasets)} ({config.resolved_device()})")
            result = run_training(config, data_dir=options["data_dir"], progress=not options["no_progress"])
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        if not options["no_score_model"]:
            self._fit_score_model(output_dir, options["data_dir"])
        grader_version = ml_registry.register_from_disk(
            version=version, activate=options["activate"], notes=options["notes"]
        )
        summary = {
            "version": grader_version.version,
            "path": grader_version.path,
            "active": grader_version.is_active,
            "steps": result.global_step,
            "stopped": result.stopped,
            "validation": result.metrics.get("validation", {}),
            "calibration": result.metrics.get("calibration", {}),
        }
        summary["validation"] = {k: v for k, v in summary["validation"].items() if k != "per_class"}
        self.stdout.write(json.dumps(summary, indent=2))

    def _fit_score_model(self, output_dir, data_dir):
        from tutor.ml.grading.alignment import Aligner
        from tutor.ml.grading.config import ServeConfig
        from tutor.ml.grading.predictor import GraderPredictor
        from tutor.ml.grading.score_model import fit_for_version
        from tutor.ml.retrieval.embedder import get_embedder

        predictor = GraderPredictor(ServeConfig(model_dir=output_dir, score_model=False,
                                                backend=settings.GRADER_BACKEND, int8=settings.GRADER_INT8))
        try:
            model = fit_for_version(output_dir, data_dir=data_dir, aligner=Aligner(get_embedder()),
                                    predictor=predictor)
        except (FileNotFoundError, ValueError) as error:
            self.stderr.write(f"No score model for new questions ({error}); the grader's own score serves them.")
            return
        model.save(output_dir)
        self.stderr.write(f"Score model for new questions: {json.dumps(model.report)}")


def _names(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple of names (None when the option is not given)."""
    if value is None:
        return None
    return tuple(name.strip() for name in value.split(",") if name.strip())
