"""Verdicts on questions the grader was not fitted on: what the product serves against the cross-encoder's own.

    .venv/bin/python benchmarks/new_question_verdicts.py [--model DIR] [--threads 2]

On a new question whose label set has partial credit, the product's verdict is a band of the score
model's score, with thresholds per language (``tutor/ml/grading/verdict_bands.py``, stored in the
version's score_model.json). Elsewhere (fitted questions, SemEval's 3-way labels) the cross-encoder
decides. Measured on questions the version was never fitted on: its SAF English and SemEval validation
questions, SAF German unseen answers (German was never trained on; its bands were fitted on the German
training answers, so of the same questions), and SAF German by leave-one-question-out, the bands refitted
on the other German questions each time (the honest figure for a new German question). SemEval's 3-way
verdicts on new questions come from the version's verdict stack (``verdict_stack.py``), fitted on those
same validation questions, so ``semeval_validation_questions`` is in-sample for it; the honest figure is
``semeval_validation_leave_one_question_out``, the stack refitted on the other questions each time, per
subset too (``_int8``: with the int8 cross-encoder the product serves). Prints one JSON
object: macro-F1 and expected calibration error, served and the cross-encoder's, and where the answers
have points, Pearson, RMSE and QWK of the normalised score, served with and without the language's
points line (``VerdictBands.points``) and the cross-encoder's.
"""

import dataclasses
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _grading_data import data_dir, load_split, version_from_args  # noqa: E402
from tutor.ml.grading.calibration import fit_temperature  # noqa: E402
from tutor.ml.grading.config import DATASET_LABELS, ServeConfig  # noqa: E402
from tutor.ml.grading.pipeline import version_split  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor  # noqa: E402
from tutor.ml.grading.sources import load_training_items  # noqa: E402
from tutor.ml.grading.verdict_bands import BAND_LABELS, VerdictBands  # noqa: E402
from tutor.ml.grading.verdict_stack import leave_one_question_out, softmax, stack_inputs  # noqa: E402
from tutor.ml.metrics import expected_calibration_error, macro_f1, pearson, qwk, rmse  # noqa: E402


def summary(items, predictions) -> dict:
    truth = [i.label for i in items]
    verdicts = [p.verdict for p in predictions]
    return {"macro_f1": round(macro_f1(truth, verdicts), 4), **score_summary(items, [p.score for p in predictions]),
            "ece": round(expected_calibration_error([p.confidence for p in predictions],
                                                    [t == v for t, v in zip(truth, verdicts)]), 4)}


def score_summary(items, scores) -> dict:
    """Pearson, RMSE and QWK (steps of a quarter) of the normalised scores, where the items have points."""
    known = [(i.normalised_score, s) for i, s in zip(items, scores) if i.normalised_score is not None]
    if len(known) < 3:
        return {}
    truth, predicted = map(np.array, zip(*known))
    return {"pearson": round(pearson(truth, predicted), 4), "rmse": round(rmse(truth, predicted), 4),
            "qwk": round(qwk(truth, predicted, step=0.25), 4)}


def without_points_line(predictor: GraderPredictor) -> GraderPredictor:
    """The same predictor with the score model's score as it was before the points line (session 9)."""
    bands = predictor.score_model.bands
    predictor.score_model.bands = {language: dataclasses.replace(b, points_slope=1.0, points_intercept=0.0)
                                   for language, b in bands.items()}
    return predictor


def german_leave_one_question_out(predictor, german: list) -> dict:
    """Bands refitted on the other German questions, applied to the left-out one's answers."""
    scores = predictor.score_model.predict(predictor.aligner().features(german))
    questions = np.array([i.question for i in german])
    points = np.array([np.nan if i.normalised_score is None else i.normalised_score for i in german])
    truth, verdicts, confidences, ordered, on_points, raw = [], [], [], [], [], []
    for question in sorted(set(questions)):
        fit, test = questions != question, questions == question
        bands = VerdictBands.fit(scores[fit], [i.label for i, f in zip(german, fit) if f], points[fit])
        indices = bands.indices(scores[test])
        probabilities = bands.probabilities(scores[test])
        truth += [i.label for i, t in zip(german, test) if t]
        verdicts += [BAND_LABELS[k] for k in indices]
        confidences += list(probabilities[np.arange(len(indices)), indices])
        ordered += [i for i, t in zip(german, test) if t]
        on_points += list(bands.points(scores[test]))
        raw += list(scores[test])
    return {"answers": len(german), "questions": len(set(questions)),
            "served": {"macro_f1": round(macro_f1(truth, verdicts), 4), **score_summary(ordered, on_points),
                       "ece": round(expected_calibration_error(confidences, [t == v for t, v in zip(truth, verdicts)]), 4)},
            "served_without_points_line": score_summary(ordered, raw)}


def semeval_leave_one_question_out(predictor, own, items: list) -> dict:
    """SemEval's verdict stack refitted on the other validation questions, applied to the left-out one's
    answers (its temperature fitted on the other questions' held-out logits, as fit_version_stacks fits
    it on all of them); macro-F1 and calibration beside the cross-encoder's, overall and per subset."""
    labels = DATASET_LABELS["semeval"]
    cross_encoder = own.predict(items, allowed_labels=labels)
    features = predictor.aligner().features(items)
    x = stack_inputs([p.probabilities for p in cross_encoder], labels, predictor.score_model.predict(features), features)
    truth = [i.label for i in items]
    questions = np.array([i.question for i in items])
    logits = leave_one_question_out(x, truth, list(questions), labels)
    indices = torch.tensor([labels.index(t) for t in truth])
    probabilities = np.zeros_like(logits)
    for question in sorted(set(questions)):
        others, inside = questions != question, questions == question
        temperature = fit_temperature(torch.tensor(logits[others], dtype=torch.float32), indices[others])
        probabilities[inside] = softmax(logits[inside] / temperature)
    verdicts = [labels[k] for k in probabilities.argmax(1)]
    confidences = probabilities.max(1)
    result = {"answers": len(items), "questions": len(set(questions))}
    for subset in [None] + sorted({i.subset for i in items}):
        picked = [k for k, i in enumerate(items) if subset is None or i.subset == subset]
        served = {"macro_f1": round(macro_f1([truth[k] for k in picked], [verdicts[k] for k in picked]), 4),
                  "ece": round(expected_calibration_error([confidences[k] for k in picked],
                                                          [verdicts[k] == truth[k] for k in picked]), 4)}
        result[subset or "all"] = {"answers": len(picked), "served": served,
                                   "cross_encoder": summary([items[k] for k in picked], [cross_encoder[k] for k in picked])}
    return result


def main() -> None:
    model_dir = version_from_args(__doc__.splitlines()[0])
    fitted, validation = version_split(model_dir, data_dir=data_dir())
    served = GraderPredictor(ServeConfig(model_dir=model_dir, backend="onnx"))
    own = GraderPredictor(ServeConfig(model_dir=model_dir, backend="onnx", score_model=False))
    before = without_points_line(GraderPredictor(ServeConfig(model_dir=model_dir, backend="onnx")))
    if served.score_model is None or not served.score_model.bands:
        raise SystemExit(f"{model_dir} has no verdict bands: run manage.py fit_score_model")
    german_train = [i for i in load_training_items(["saf"], data_dir()) if i.subset == "german"]
    result = {"model": str(model_dir),
              "bands": {language: b.to_dict()["thresholds"] | {"answers": b.answers}
                        for language, b in served.score_model.bands.items()},
              "sets": {}}
    sets = {
        "saf_english_validation_questions": (DATASET_LABELS["saf"], [i for i in validation if i.dataset == "saf"]),
        "saf_german_unseen_answers": (DATASET_LABELS["saf"], load_split("saf_german_unseen_answers")),
        "semeval_validation_questions": (DATASET_LABELS["semeval"], [i for i in validation if i.dataset == "semeval"]),
    }
    for name, (labels, items) in sets.items():
        result["sets"][name] = {
            "answers": len(items), "questions": len({i.question for i in items}),
            "served": summary(items, served.predict(items, allowed_labels=labels)),
            "served_without_points_line": score_summary(
                items, [p.score for p in before.predict(items, allowed_labels=labels)]),
            "cross_encoder": summary(items, own.predict(items, allowed_labels=labels)),
        }
    loqo = german_leave_one_question_out(served, german_train)
    loqo["cross_encoder"] = summary(german_train, own.predict(german_train, allowed_labels=DATASET_LABELS["saf"]))
    result["sets"]["saf_german_train_leave_one_question_out"] = loqo
    semeval = sets["semeval_validation_questions"][1]
    result["sets"]["semeval_validation_leave_one_question_out"] = semeval_leave_one_question_out(served, own, semeval)
    # The same with the cross-encoder as the product serves it (int8), which the shipped stack was fitted on.
    own_int8 = GraderPredictor(ServeConfig(model_dir=model_dir, backend="onnx", int8=True, score_model=False))
    result["sets"]["semeval_validation_leave_one_question_out_int8"] = semeval_leave_one_question_out(
        served, own_int8, semeval)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
