"""Verdicts on new questions with partial credit: bands of the score model's score, per language."""

import dataclasses
import shutil

import numpy as np
import pytest

from tests.ml.grader_fixture import fitted_score_model, saf_sample
from tutor.ml.grading.alignment import Aligner
from tutor.ml.grading.config import DATASET_LABELS, LABELS, ServeConfig
from tutor.ml.grading.predictor import GraderPredictor
from tutor.ml.grading.score_model import ScoreModel, question_fingerprint
from tutor.ml.grading.verdict_bands import BAND_LABELS, VerdictBands, fit_bands, question_language
from tutor.ml.retrieval.embedder import get_embedder


@pytest.fixture(scope="module")
def aligner():
    return Aligner(get_embedder())


@pytest.fixture(scope="module")
def saf_fitting():
    """Real SAF answers of both courses (3 questions each), which the Mohler-fitted score model never saw."""
    return saf_sample("english", 3) + saf_sample("german", 3)[::3]


@pytest.fixture(scope="module")
def banded_score_model(aligner, saf_fitting):
    model = fitted_score_model(n_questions=20)
    model = dataclasses.replace(model, bands=fit_bands(model.predict(aligner.features(saf_fitting)), saf_fitting))
    return model


def test_the_language_of_a_question_is_told_from_its_words():
    english, german = saf_sample("english", 20), saf_sample("german", 20)
    assert {question_language(i.question, i.reference_answers[0]) for i in english} == {"en"}
    assert {question_language(i.question, i.reference_answers[0]) for i in german} == {"de"}


def test_bands_are_fitted_per_language_and_survive_json(banded_score_model):
    bands = banded_score_model.bands
    assert set(bands) == {"en", "de"}
    for language_bands in bands.values():
        assert 0.3 <= language_bands.partial < language_bands.correct <= 0.95
        grid = np.linspace(0, 1, 101)
        verdicts = language_bands.indices(grid)
        assert (np.diff(verdicts) <= 0).all()  # a higher score never earns a worse verdict
        assert np.allclose(language_bands.probabilities(grid).sum(axis=1), 1.0)
        # The calibration agrees with the bands' order: P(correct) rises with the score, P(incorrect) falls.
        p = language_bands.probabilities(np.array([0.1, 0.95]))
        assert p[1, 0] > p[0, 0] and p[1, 2] < p[0, 2]
    restored = ScoreModel.from_dict(banded_score_model.to_dict())
    assert restored.bands.keys() == bands.keys()
    assert restored.bands["de"].correct == bands["de"].correct
    assert np.allclose(restored.bands["en"].coef, bands["en"].coef)
    assert restored.bands["de"].points_slope == bands["de"].points_slope > 1.0  # German scores come out low
    # A score_model.json written before the points line serves the score model's score unchanged.
    old = banded_score_model.to_dict()
    for language_bands in old["verdict_bands"].values():
        del language_bands["points"]
    assert np.array_equal(ScoreModel.from_dict(old).bands["de"].points(np.array([0.3, 0.7])), [0.3, 0.7])


def test_a_language_with_too_few_answers_or_a_missing_verdict_gets_no_bands(saf_fitting):
    only_correct = [i for i in saf_fitting if i.label == "correct"]
    assert fit_bands(np.linspace(0, 1, len(only_correct)), only_correct) == {}
    english = [i for i in saf_fitting if i.subset == "english"]
    assert set(fit_bands(np.linspace(0, 1, len(english)), english)) == {"en"}


def test_on_new_german_questions_bands_beat_the_cross_encoders_verdict(aligner, banded_score_model, grader, tmp_path):
    """SAF's German course was never trained on; its other questions' answers are as new as any."""
    from sklearn.metrics import f1_score

    seen = {i.question for i in saf_sample("german", 3)}
    new = [i for i in saf_sample("german", 6) if i.question not in seen][::3]
    assert len({i.question for i in new}) >= 2
    version = tmp_path / "grader-with-bands"
    shutil.copytree(grader.path, version)
    banded_score_model.save(version)
    labels = DATASET_LABELS["saf"]
    served = GraderPredictor(ServeConfig(model_dir=version)).predict(new, allowed_labels=labels)
    plain = GraderPredictor(ServeConfig(model_dir=version, score_model=False)).predict(new, allowed_labels=labels)
    truth = [i.label for i in new]
    assert f1_score(truth, [p.verdict for p in served], average="macro") > \
        f1_score(truth, [p.verdict for p in plain], average="macro") + 0.05
    bands = banded_score_model.bands["de"]
    raw = banded_score_model.predict(aligner.features(new))
    for prediction, score in zip(served, raw):
        assert prediction.verdict == BAND_LABELS[int(bands.indices(np.array([score]))[0])]
        assert prediction.score == pytest.approx(float(bands.points(np.array([score]))[0]), abs=1e-3)
        assert prediction.confidence == pytest.approx(prediction.probabilities[prediction.verdict])
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
        assert prediction.probabilities["contradictory"] == 0.0
    # The German points line, fitted on other German questions, puts the score nearer the tutors' points.
    points = np.array([i.normalised_score for i in new])
    served_error = np.sqrt(np.mean((np.array([p.score for p in served]) - points) ** 2))
    assert served_error < np.sqrt(np.mean((raw - points) ** 2))


def test_fitted_questions_and_label_sets_without_partial_credit_keep_the_cross_encoders_verdict(
        banded_score_model, grader, tmp_path):
    version = tmp_path / "grader-with-bands"
    shutil.copytree(grader.path, version)
    fitted_item = grader.val_items[0]
    new_item = dataclasses.replace(grader.val_items[1], question="Why does a magnet attract an iron nail?",
                                   reference_answers=("The nail is made of iron, a magnetic material.",))
    dataclasses.replace(banded_score_model,
                        fitted_questions=frozenset({question_fingerprint(fitted_item.question)})).save(version)
    plain = GraderPredictor(ServeConfig(model_dir=version, score_model=False))
    served = GraderPredictor(ServeConfig(model_dir=version))

    semeval = DATASET_LABELS["semeval"]
    assert "partially_correct" not in semeval
    own, banded = plain.predict([fitted_item, new_item], allowed_labels=semeval), \
        served.predict([fitted_item, new_item], allowed_labels=semeval)
    assert banded[0] == own[0]
    assert (banded[1].verdict, banded[1].confidence) == (own[1].verdict, own[1].confidence)

    # All four verdicts (a teacher's own question): bands, with the cross-encoder telling
    # "contradictory" from "incorrect" inside the low band.
    [four] = served.predict([new_item], allowed_labels=LABELS)
    [own_four] = plain.predict([new_item], allowed_labels=LABELS)
    low = four.probabilities["contradictory"] + four.probabilities["incorrect"]
    en = banded_score_model.bands["en"]
    [raw] = banded_score_model.predict(served.aligner().features([new_item]))
    assert four.score == pytest.approx(float(en.points(np.array([raw]))[0]), abs=1e-3)
    assert low == pytest.approx(float(en.probabilities(np.array([raw]))[0, 2]), abs=1e-3)
    if low > 0:
        share = own_four.probabilities["contradictory"] / (own_four.probabilities["contradictory"]
                                                           + own_four.probabilities["incorrect"])
        assert four.probabilities["contradictory"] / low == pytest.approx(share, abs=1e-6)
    expected = BAND_LABELS[int(en.indices(np.array([raw]))[0])]
    if expected == "incorrect":
        assert four.verdict in ("incorrect", "contradictory")
    else:
        assert four.verdict == expected


def test_the_thresholds_are_those_with_the_best_macro_f1():
    from sklearn.metrics import f1_score

    from tutor.ml.grading.verdict_bands import _macro_f1, best_thresholds

    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 300)
    scores = np.clip(0.9 - 0.2 * truth + rng.normal(0, 0.15, 300), 0, 1)
    correct, partial = best_thresholds(scores, truth)
    predicted = (scores < correct).astype(int) + (scores < partial)
    assert _macro_f1(truth, predicted) == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert _macro_f1(truth, predicted) >= f1_score(truth, (scores < 0.8).astype(int) + (scores < 0.5), average="macro")


def test_verdict_bands_fit_the_threshold_with_the_best_macro_f1():
    scores = np.array([0.1, 0.2, 0.5, 0.55, 0.9, 0.95])
    labels = ["incorrect", "incorrect", "partially_correct", "partially_correct", "correct", "correct"]
    bands = VerdictBands.fit(scores, labels)
    assert [BAND_LABELS[k] for k in bands.indices(scores)] == labels
