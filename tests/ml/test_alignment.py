"""Alignment features: how much of the reference answer an answer expresses, question words left out."""

import numpy as np
import pytest

from tests.ml.grader_fixture import mohler_sample
from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.alignment import FEATURES, Aligner, demote, question_words, specificity
from tutor.ml.metrics import pearson
from tutor.ml.retrieval.embedder import get_embedder


def _item(answer: str, *, question: str, references: tuple[str, ...]) -> GradedAnswer:
    return GradedAnswer(dataset="", subset="", split="", question_id="q", question=question,
                        reference_answers=references, answer_id="a", answer=answer)


@pytest.fixture(scope="module")
def aligner():
    return Aligner(get_embedder())


def test_common_words_carry_no_weight_and_specific_words_the_most():
    assert specificity("the") == 0.0 and specificity(",") == 0.0
    assert specificity("enqueue") > specificity("queue") > specificity("list") > 0.0


def test_demoting_leaves_out_the_question_words_but_never_everything():
    words = question_words("What is the role of a prototype program in problem solving?")
    assert demote("A prototype program simulates the behaviour of portions of the software", words) == (
        "simulates behaviour portions software")
    assert demote("The role of a prototype program", words) == "The role of a prototype program"


def test_the_reference_itself_aligns_fully_and_repeating_the_question_earns_nothing(aligner):
    item = mohler_sample(1)[0]  # a real Mohler question and its reference answer
    reference = item.reference_answers[0]
    features = aligner.features([
        _item(reference, question=item.question, references=item.reference_answers),
        _item(item.question, question=item.question, references=item.reference_answers),
        _item("", question=item.question, references=item.reference_answers),
    ])
    assert features.shape == (3, len(FEATURES)) and features.dtype == np.float32
    column = {name: features[:, k] for k, name in enumerate(FEATURES)}
    assert column["recall"][0] == pytest.approx(1.0, abs=1e-4)
    assert column["recall_demoted"][0] == pytest.approx(1.0, abs=1e-4)
    assert column["recall_demoted"][1] == 0.0  # every word of the answer is a question word
    assert column["recall"][2] == 0.0 and column["log_answer_words"][2] == 0.0
    assert column["cosine_answer_reference"][0] == pytest.approx(1.0, abs=1e-4)


def test_the_best_matching_reference_is_the_one_aligned(aligner):
    question = "How did you separate the salt from the water?"
    references = ("The water was evaporated, leaving the salt.", "Filter the mixture through paper.")
    one, both = aligner.features([
        _item("I let the water evaporate and the salt stayed", question=question, references=references[:1]),
        _item("I let the water evaporate and the salt stayed", question=question, references=references),
    ])
    assert np.allclose(one, both)


def test_demoted_recall_follows_the_teachers_points_on_real_answers(aligner):
    items = mohler_sample(6)
    features = aligner.features(items)
    points = [i.score for i in items]
    assert pearson(points, list(features[:, FEATURES.index("recall_demoted")])) > 0.3


def test_an_answer_is_encoded_once_for_its_score_and_its_feedback(monkeypatch):
    aligner = Aligner(get_embedder())
    encoded = []
    original = aligner._encode
    monkeypatch.setattr(aligner, "_encode", lambda texts: encoded.extend(texts) or original(texts))
    item = _item("The water evaporated and the salt stayed.", question="How did you separate the salt?",
                 references=("The water was evaporated, leaving the salt.",))
    aligner.features([item])
    assert encoded.count(item.answer) == 1
    aligner.words([item.answer])  # the feedback, right after
    aligner.features([item])  # the reference and the question are cached for good
    assert encoded.count(item.answer) == 1 and encoded.count(item.reference_answers[0]) == 1


def test_words_of_any_script_count_whole():
    """German answers (SAF's German course): a word with an umlaut is one word, demoted and weighted whole."""
    words = question_words("Was ist die Größe über dem Grenzwert?")
    assert {"größe", "über"} <= words and "gr" not in words
    assert demote("Die Größe des Puffers", words) == "des puffers"
    assert specificity("größe") > 0.0
