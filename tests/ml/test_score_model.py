"""The score model for new questions: fitted on alignment features, stored as JSON, used by the predictor
on questions the grader version was not fitted on, and inherited by course adapters."""

import dataclasses
import shutil

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from tests.ml.grader_fixture import fitted_score_model, mohler_sample
from tutor.ml.grading.alignment import FEATURES, Aligner
from tutor.ml.grading.config import LABELS, ServeConfig
from tutor.ml.grading.dataset import score_target
from tutor.ml.grading.predictor import GraderPredictor
from tutor.ml.grading.score_model import SCORE_MODEL_FILE, ScoreModel, question_fingerprint
from tutor.ml.metrics import pearson
from tutor.ml.retrieval.embedder import get_embedder


@pytest.fixture(scope="module")
def aligner():
    return Aligner(get_embedder())


def test_it_predicts_as_the_scikit_learn_pipeline_and_survives_json(aligner):
    items = mohler_sample(4, skip=20)
    x = aligner.features(items)
    y = np.array([score_target(i) for i in items])
    model = ScoreModel.fit(x, y)
    reference = make_pipeline(StandardScaler(), PolynomialFeatures(2), StandardScaler(), Ridge(alpha=100.0)).fit(x, y)
    assert np.allclose(model.predict(x), np.clip(reference.predict(x), 0, 1))
    restored = ScoreModel.from_dict(model.to_dict())
    assert np.allclose(restored.predict(x), model.predict(x))
    assert model.predict(np.zeros((0, len(FEATURES)))).shape == (0,)

    stale = model.to_dict() | {"features": list(FEATURES[:-1])}
    with pytest.raises(ValueError, match="do not match"):
        ScoreModel.from_dict(stale)


def test_on_questions_it_never_saw_it_ranks_answers_better_than_the_sentence_cosine(aligner):
    model = fitted_score_model()  # fitted on the first 12 Mohler questions
    new = mohler_sample(8, skip=12)
    x = aligner.features(new)
    points = [i.score for i in new]
    cosine = pearson(points, list(x[:, FEATURES.index("cosine_answer_reference")]))
    assert pearson(points, list(model.predict(x))) > cosine + 0.03


def test_the_predictor_keeps_its_own_score_on_fitted_questions_and_uses_the_model_on_new_ones(grader, tmp_path,
                                                                                          aligner):
    version = tmp_path / "grader-with-score-model"
    shutil.copytree(grader.path, version)
    fitted_item = grader.val_items[0]
    new_item = dataclasses.replace(grader.val_items[1], question="Why does a magnet attract an iron nail?")
    score_model = fitted_score_model(frozenset({question_fingerprint(fitted_item.question)}))
    score_model.save(version)

    plain = GraderPredictor(ServeConfig(model_dir=version, score_model=False)).predict(
        [fitted_item, new_item], allowed_labels=LABELS)
    served = GraderPredictor(ServeConfig(model_dir=version)).predict([fitted_item, new_item], allowed_labels=LABELS)
    assert served[0] == plain[0]  # a question the grader learned: its own score
    assert served[1].score == pytest.approx(float(score_model.predict(aligner.features([new_item]))[0]), abs=1e-6)
    assert served[1].score != pytest.approx(plain[1].score, abs=1e-3)
    assert (served[1].verdict, served[1].confidence) == (plain[1].verdict, plain[1].confidence)

    mixed = dataclasses.replace(score_model, config=dataclasses.replace(score_model.config, model_weight=0.5))
    mixed.save(version)
    half = GraderPredictor(ServeConfig(model_dir=version)).predict([new_item], allowed_labels=LABELS)[0]
    assert half.score == pytest.approx(0.5 * plain[1].score + 0.5 * served[1].score, abs=1e-5)


def test_writing_the_score_model_does_not_make_the_onnx_export_stale(grader, tmp_path):
    version = tmp_path / "grader-onnx"
    shutil.copytree(grader.path, version)
    GraderPredictor(ServeConfig(model_dir=version, backend="onnx"))
    exported = (version / "grader.onnx").stat().st_mtime_ns
    fitted_score_model().save(version)
    assert (version / SCORE_MODEL_FILE).exists()
    GraderPredictor(ServeConfig(model_dir=version, backend="onnx"))
    assert (version / "grader.onnx").stat().st_mtime_ns == exported


@pytest.mark.slow
def test_a_course_adapter_inherits_the_score_model_with_the_course_questions_as_fitted(grader, tmp_path):
    from tutor.ml.grading.adapters import AdapterConfig, train_adapter

    base = tmp_path / "base"
    shutil.copytree(grader.path, base)
    fitted_score_model(frozenset({"0123456789abcdef"})).save(base)
    course_answers = grader.val_items[:8]
    config = AdapterConfig(max_steps=2, min_steps=2, batch_size=4, max_length=48, num_threads=1, seed=5)
    result = train_adapter(base, course_answers, tmp_path / "course-lora", config)

    inherited = ScoreModel.load(result.output_dir)
    assert inherited.knows(course_answers[0].question)
    assert "0123456789abcdef" in inherited.fitted_questions
    assert not ScoreModel.load(base).knows(course_answers[0].question)
    assert np.allclose(inherited.coef, ScoreModel.load(base).coef)
