"""Quality table of the grader on every visible split, against the TF-IDF overlap baseline.

    .venv/bin/python benchmarks/grading_quality.py [--model student=DIR --model teacher=DIR ...] [--int8]
        [--backend torch|onnx]
        [--mohler-cv-train --cv-epochs 3]

Rows: SciEntsBank and Beetle unseen-answers, SAF (English, German) unseen-answers, and Mohler
5-fold cross-validation by question. Columns: the baseline (fitted on the matching training
data) and each model, fp32 and (with --int8) int8. A model trained on Mohler cannot be scored
on Mohler without leakage: its Mohler row gives the score model that a version serves on
questions it was not fitted on (score_model.py), fitted per fold, and with ``--mohler-cv-train``
the cross-encoder's own score, fine-tuned per fold (long, meant for a GPU). Default model: the newest version under MODEL_DIR/grader.
Each model is also scored with its memory of graded answers (``+memory``: the teacher grades of
the answers it was trained on vote on similar answers to the same question; see
tutor/ml/grading/memory.py) unless ``--no-memory``. Prints one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from _grading_data import SPLITS, data_dir, load_mohler, load_split  # noqa: E402
from tutor.ml import registry  # noqa: E402
from tutor.ml.grading.baseline import TfidfOverlapBaseline  # noqa: E402
from tutor.ml.grading.alignment import Aligner  # noqa: E402
from tutor.ml.grading.config import TrainConfig  # noqa: E402
from tutor.ml.grading.dataset import score_target, split_validation  # noqa: E402
from tutor.ml.grading.evaluate import evaluate_items  # noqa: E402
from tutor.ml.grading.memory import MemoryGrader, training_memory  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor, Prediction, ServeConfig  # noqa: E402
from tutor.ml.grading.score_model import ScoreModel  # noqa: E402
from tutor.ml.grading.sources import load_training_items  # noqa: E402
from tutor.ml.metrics import pearson, rmse  # noqa: E402

KEYS = ("n", "macro_f1", "accuracy", "weighted_f1", "pearson", "rmse", "qwk", "ece")


def brief(result: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items() if k in KEYS}


def mohler_cv(items, folds: int, fit_predict) -> dict:
    """Pearson / RMSE in points over out-of-fold predictions, folds grouped by question."""
    truth, predicted = [], []
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(items, groups=[i.question_id for i in items]):
        train = [items[k] for k in train_idx]
        test = [items[k] for k in test_idx]
        predictions = fit_predict(train, test)
        truth += [i.score for i in test]
        predicted += [p.score * i.max_score for p, i in zip(predictions, test)]
    return {"n": len(items), "folds": folds, "pearson": round(pearson(truth, predicted), 4),
            "rmse": round(rmse(truth, predicted), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="NAME=DIR (repeatable)")
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--backend", choices=("torch", "onnx"), default="torch", help="PyTorch or ONNX Runtime")
    parser.add_argument("--no-memory", action="store_true", help="skip the +memory columns")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--mohler-cv-train", action="store_true", help="fine-tune a grader per Mohler fold")
    parser.add_argument("--cv-epochs", type=int, default=3)
    parser.add_argument("--cv-max-steps", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    models = dict(m.split("=", 1) for m in args.model)
    if not models:
        latest = registry.latest_version(os.environ.get("TUTOR_MODEL_DIR", str(ROOT / "var" / "models")), "grader")
        if latest is not None:
            models[latest.version] = str(latest.path)
    source = data_dir()
    table: dict = {"data": str(source), "models": models, "splits": {}}
    if not models:
        table["note"] = "no trained grader version found: baseline only"

    baselines = {fmt: TfidfOverlapBaseline().fit(load_training_items([fmt], source)) for fmt in ("semeval", "saf")}
    predictors = {}
    served_by = "" if args.backend == "torch" else f"{args.backend}-"
    for name, path in models.items():
        predictors[f"{name}/{served_by}fp32"] = GraderPredictor(ServeConfig(model_dir=path, backend=args.backend))
        if args.int8:
            predictors[f"{name}/{served_by}int8"] = GraderPredictor(
                ServeConfig(model_dir=path, int8=True, backend=args.backend)
            )

    for split in SPLITS:
        fmt = SPLITS[split][0]
        items = load_split(split)
        row = {"tfidf_baseline": brief(evaluate_items(baselines[fmt], items, fmt))}
        for name, predictor in predictors.items():
            row[name] = brief(evaluate_items(predictor, items, fmt))
            if not args.no_memory:
                from tutor.ml.retrieval.embedder import get_embedder

                memory = training_memory(predictor.model_dir, items, data_dir=source, encoder=get_embedder())
                row[f"{name}+memory"] = brief(evaluate_items(MemoryGrader(predictor, memory), items, fmt))
        table["splits"][split] = row

    mohler = load_mohler()
    row = {"tfidf_baseline": mohler_cv(mohler, args.folds, lambda tr, te: TfidfOverlapBaseline().fit(tr).predict(te))}
    from tutor.ml.retrieval.embedder import get_embedder

    aligned = dict(zip(map(id, mohler), Aligner(get_embedder()).features(mohler)))

    def score_model(train, test):
        # What a grader serves on questions it was not fitted on (score_model.py), fitted on the training folds.
        model = ScoreModel.fit(np.stack([aligned[id(i)] for i in train]), np.array([score_target(i) for i in train]))
        scores = model.predict(np.stack([aligned[id(i)] for i in test]))
        return [Prediction("correct", {}, float(s), 1.0) for s in scores]

    row["score_model_per_fold"] = mohler_cv(mohler, args.folds, score_model)
    if args.mohler_cv_train:
        others = load_training_items(["semeval", "saf"], source)

        def fine_tune(train, test):
            with tempfile.TemporaryDirectory() as tmp:
                config = TrainConfig(output_dir=tmp, epochs=args.cv_epochs, max_steps=args.cv_max_steps)
                from tutor.ml.grading.train import train as run

                fit, val = split_validation(others + train, by="question", fraction=0.1, seed=config.seed)
                run(config, fit, val, progress=False)
                return GraderPredictor(ServeConfig(model_dir=tmp, score_model=False)).predict(test)

        row["fine_tuned_per_fold"] = mohler_cv(mohler, args.folds, fine_tune)  # the cross-encoder's own score
    else:
        row["note"] = "models trained on Mohler are not scored here (leakage); use --mohler-cv-train"
    table["splits"]["mohler_cv_by_question"] = row
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
