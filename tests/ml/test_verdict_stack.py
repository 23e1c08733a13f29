"""Verdicts on new questions without partial credit (SemEval's 3-way): a logistic regression over the
cross-encoder's probabilities and the alignment features, fitted on questions the grader never saw."""

import shutil

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.ml.grader_fixture import fitted_score_model, semeval_questions
from tutor.ml.grading.alignment import Aligner
from tutor.ml.grading.config import DATASET_LABELS, ServeConfig
from tutor.ml.grading.predictor import GraderPredictor, Prediction
from tutor.ml.grading.score_model import ScoreModel, fit_version_stacks, question_fingerprint
from tutor.ml.grading.verdict_stack import (VerdictStack, label_set_key, leave_one_question_out, softmax,
                                           stack_inputs)
from tutor.ml.retrieval.embedder import get_embedder

SEMEVAL = DATASET_LABELS["semeval"]


@pytest.fixture(scope="module")
def aligner():
    return Aligner(get_embedder())


def test_it_predicts_as_scikit_learns_logistic_regression_and_survives_json():
    rng = np.random.default_rng(0)
    verdicts = rng.integers(0, 3, size=120)
    x = rng.normal(size=(120, 5)) * [1, 3, 0.1, 10, 1] + [0, 1, 2, 3, 4]
    x[:, 0] += 2 * verdicts
    truth = [SEMEVAL[k] for k in verdicts]
    stack = VerdictStack.fit(x, truth, SEMEVAL)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)).fit(
        x, [SEMEVAL.index(t) for t in truth])
    assert np.allclose(stack.probabilities(x), reference.predict_proba(x), atol=1e-6)
    restored = VerdictStack.from_dict(stack.to_dict())
    assert restored.labels == SEMEVAL and np.allclose(restored.probabilities(x), stack.probabilities(x))
    with pytest.raises(ValueError, match="no answer graded contradictory"):
        VerdictStack.fit(x, [t if t != "contradictory" else "correct" for t in truth], SEMEVAL)


def test_inputs_are_log_probabilities_of_the_label_set_then_the_score_then_the_features():
    x = stack_inputs([{"correct": 0.5, "contradictory": 0.25, "incorrect": 0.25, "partially_correct": 0.0}],
                     SEMEVAL, np.array([0.7]), np.array([[1.0, 2.0]]))
    assert x.shape == (1, 6)
    assert np.allclose(x[0, :3], np.log(np.array([0.5, 0.25, 0.25]) + 1e-6))
    assert np.allclose(x[0, 3:], [0.7, 1.0, 2.0])


@pytest.mark.slow
def test_on_new_semeval_questions_the_stack_beats_the_cross_encoders_verdict(aligner, grader, tmp_path):
    """Fitted on six questions' answers, served on four other questions, as a version's validation
    questions fit it and the questions of a new course are served by it."""
    fitting, new = semeval_questions("sciEntsBank", 0, 6), semeval_questions("sciEntsBank", 6, 4)
    version = tmp_path / "grader-with-stack"
    shutil.copytree(grader.path, version)
    plain = GraderPredictor(ServeConfig(model_dir=version, score_model=False))
    fitted_item = new[0]
    model = fitted_score_model(frozenset({question_fingerprint(fitted_item.question)}))
    report = fit_version_stacks(model, fitting, aligner=aligner, predictor=plain)
    assert report["semeval"]["answers"] == len(fitting) and report["semeval"]["questions"] == 6
    assert report["semeval"]["used"] and set(model.stacks) == {label_set_key(SEMEVAL)}
    assert model.stacks[label_set_key(SEMEVAL)].temperature == pytest.approx(report["semeval"]["temperature"], abs=1e-4)
    model.save(version)
    assert ScoreModel.load(version).stacks[label_set_key(SEMEVAL)].report == model.stacks[label_set_key(SEMEVAL)].report

    served = GraderPredictor(ServeConfig(model_dir=version)).predict(new, allowed_labels=SEMEVAL)
    own = plain.predict(new, allowed_labels=SEMEVAL)
    assert served[0] == own[0]  # a question the grader was fitted on keeps the cross-encoder's verdict
    newly = [k for k, i in enumerate(new) if i.question != fitted_item.question]
    truth = [new[k].label for k in newly]
    assert f1_score(truth, [served[k].verdict for k in newly], average="macro") > \
        f1_score(truth, [own[k].verdict for k in newly], average="macro") + 0.05
    stack = model.stacks[label_set_key(SEMEVAL)]
    items = [new[k] for k in newly]
    features = aligner.features(items)
    expected = stack.probabilities(stack_inputs([own[k].probabilities for k in newly], SEMEVAL,
                                                model.predict(features), features))
    for k, row in zip(newly, expected):
        assert served[k].verdict == SEMEVAL[int(row.argmax())]
        assert served[k].confidence == pytest.approx(float(row.max()), abs=1e-5)
        assert sum(served[k].probabilities.values()) == pytest.approx(1.0)
        assert served[k].probabilities["partially_correct"] == 0.0


class _Oracle:
    """A grader that always knows the answer's verdict: nothing can beat it on held-out questions."""

    def predict(self, items, *, allowed_labels):
        return [Prediction(verdict=i.label, probabilities={n: float(n == i.label) for n in allowed_labels}
                           | {"partially_correct": 0.0}, score=1.0, confidence=1.0) for i in items]


def test_a_stack_no_better_than_the_cross_encoder_on_held_out_questions_is_not_kept(aligner):
    items = semeval_questions("sciEntsBank", 0, 6)
    model = fitted_score_model()
    report = fit_version_stacks(model, items, aligner=aligner, predictor=_Oracle())
    assert report["semeval"]["grader_macro_f1"] == 1.0 and not report["semeval"]["used"]
    assert model.stacks == {}
    # and none at all from fewer than three questions
    assert fit_version_stacks(model, semeval_questions("sciEntsBank", 0, 2), aligner=aligner, predictor=_Oracle()) == {}


def test_leave_one_question_out_predicts_each_question_from_a_stack_fitted_on_the_others():
    rng = np.random.default_rng(1)
    verdicts = np.tile([0, 1, 2], 20)
    x = rng.normal(size=(60, 3))
    x[:, 0] += verdicts
    questions = [f"q{k // 20}" for k in range(60)]  # three questions, each with all three verdicts
    truth = [SEMEVAL[k] for k in verdicts]
    held_out = leave_one_question_out(x, truth, questions, SEMEVAL)
    assert held_out.shape == (60, 3)
    for question in ("q0", "q1", "q2"):
        inside = [k for k, q in enumerate(questions) if q == question]
        others = [k for k, q in enumerate(questions) if q != question]
        stack = VerdictStack.fit(x[others], [truth[k] for k in others], SEMEVAL)
        assert np.allclose(held_out[inside], stack.logits(x[inside]))
    in_sample = VerdictStack.fit(x, truth, SEMEVAL).logits(x)
    assert not np.allclose(in_sample, held_out)  # the estimate is not the in-sample fit


def test_the_temperature_softens_the_probabilities_but_keeps_the_verdict():
    rng = np.random.default_rng(2)
    verdicts = rng.integers(0, 3, size=90)
    x = rng.normal(size=(90, 4))
    x[:, 0] += 3 * verdicts
    stack = VerdictStack.fit(x, [SEMEVAL[k] for k in verdicts], SEMEVAL)
    sharp = stack.probabilities(x)
    stack.temperature = 2.0
    soft = stack.probabilities(x)
    assert np.allclose(soft, softmax(stack.logits(x) / 2.0))
    assert (soft.argmax(1) == sharp.argmax(1)).all() and (soft.max(1) < sharp.max(1)).all()
    assert VerdictStack.from_dict(stack.to_dict()).temperature == 2.0
