"""Verdicts on questions the grader was not fitted on: the cross-encoder's, or bands of the score model's score.

    .venv/bin/python benchmarks/new_question_verdicts.py [--model DIR] [--threads 2]

A measurement for a possible next step, not what the product serves (it serves the cross-encoder's
verdict everywhere). Band thresholds are fitted on the SAF answers of the version's fitted questions,
where the score model (score_model.py, which never saw SAF) is as new as anywhere: score >= t1 correct,
>= t2 partially correct, below incorrect. The SemEval label set has no partial credit: score >= t1
correct, below it the cross-encoder chooses between contradictory and incorrect. Measured on questions
the version was never fitted on: its SAF English and SemEval validation questions, and SAF German
(left out of training). Prints one JSON object with macro-F1 for each.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from _grading_data import data_dir, load_split, version_from_args  # noqa: E402
from tutor.ml.grading.config import DATASET_LABELS, ServeConfig  # noqa: E402
from tutor.ml.grading.pipeline import version_split  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor  # noqa: E402
from tutor.ml.grading.sources import load_training_items  # noqa: E402

SAF, SEMEVAL = DATASET_LABELS["saf"], DATASET_LABELS["semeval"]


def fit_thresholds(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The (t1, t2) on a 0.01 grid with the best macro-F1 of the three SAF bands."""
    best = (-1.0, (0.8, 0.5))
    for t1 in np.arange(0.5, 0.95, 0.01):
        for t2 in np.arange(0.3, t1, 0.01):
            f1 = f1_score(truth, np.where(scores >= t1, 0, np.where(scores >= t2, 1, 2)), average="macro")
            best = max(best, (f1, (round(float(t1), 2), round(float(t2), 2))))
    return best[1]


def main() -> None:
    model_dir = version_from_args(__doc__.splitlines()[0])
    fitted, validation = version_split(model_dir, data_dir=data_dir())
    predictor = GraderPredictor(ServeConfig(model_dir=model_dir, backend="onnx"))

    fitted_saf = [i for i in fitted if i.dataset == "saf"]
    # On fitted questions the predictor keeps the cross-encoder's score: ask the score model directly.
    scores = predictor.score_model.predict(predictor.aligner().features(fitted_saf))
    t1, t2 = fit_thresholds(scores, np.array([SAF.index(i.label) for i in fitted_saf]))
    result = {"model": str(model_dir), "thresholds": {"correct": t1, "partially_correct": t2},
              "fitted_on": f"{len(fitted_saf)} SAF answers of the version's fitted questions", "macro_f1": {}}
    sets = {
        "saf_english_validation_questions": (SAF, [i for i in validation if i.dataset == "saf"]),
        "saf_german_train": (SAF, [i for i in load_training_items(["saf"], data_dir()) if i.subset == "german"]),
        "saf_german_unseen_answers": (SAF, load_split("saf_german_unseen_answers")),
        "semeval_validation_questions": (SEMEVAL, [i for i in validation if i.dataset == "semeval"]),
    }
    for name, (labels, items) in sets.items():
        truth = np.array([labels.index(i.label) for i in items])
        predictions = predictor.predict(items, allowed_labels=labels)
        model = np.array([labels.index(p.verdict) for p in predictions])
        score = np.array([p.score for p in predictions])
        if labels == SAF:
            banded = np.where(score >= t1, 0, np.where(score >= t2, 1, 2))
        else:
            low = np.array([1 + int(np.argmax([p.probabilities[n] for n in labels[1:]])) for p in predictions])
            banded = np.where(score >= t1, 0, low)
        result["macro_f1"][name] = {
            "answers": len(items), "questions": len({i.question for i in items}),
            "cross_encoder": round(float(f1_score(truth, model, average="macro")), 4),
            "score_bands": round(float(f1_score(truth, banded, average="macro")), 4),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
