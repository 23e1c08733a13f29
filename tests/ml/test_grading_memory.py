"""The memory of teacher-graded answers: neighbours of the same question vote with the model."""

import pytest

from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.config import LABELS
from tutor.ml.grading.memory import (
    AnswerMemory,
    GradedExample,
    MemoryConfig,
    MemoryGrader,
    blend,
    examples_from_items,
    reusable_note,
)
from tutor.ml.grading.predictor import Prediction
from tutor.ml.retrieval.embedder import get_embedder

QUESTION = "Why does a metal spoon feel colder than a wooden spoon at the same temperature?"


def _item(answer, answer_id="new-1"):
    return GradedAnswer(
        dataset="", subset="", split="", question_id="q1", question=QUESTION,
        reference_answers=("Metal conducts heat away from the hand faster than wood.",),
        answer_id=answer_id, answer=answer,
    )


def _prediction(verdict="correct", confidence=0.6, score=0.8):
    rest = (1 - confidence) / 3
    return Prediction(
        verdict=verdict,
        probabilities={name: confidence if name == verdict else rest for name in LABELS},
        score=score,
        confidence=confidence,
    )


class FixedPredictor:
    """Stands in for the grader's head only: what the memory changes is what is under test."""

    def __init__(self, prediction):
        self.prediction = prediction

    def predict(self, items, *, allowed_labels=None):
        return [self.prediction for _ in items]


@pytest.fixture(scope="module")
def memory():
    memory = AnswerMemory(encoder=get_embedder(), config=MemoryConfig(k=3))
    memory.add(
        question=QUESTION,
        examples=[
            GradedExample(answer="Because the metal spoon is colder than the wooden one.", label="incorrect", score=0.0),
            GradedExample(answer="The metal one is at a lower temperature.", label="incorrect", score=0.0),
            GradedExample(answer="Metal is just colder than wood.", label="incorrect", score=0.1, answer_id="old-3"),
            GradedExample(answer="Metal conducts heat from your hand quickly.", label="correct", score=1.0),
        ],
    )
    return memory


def test_a_question_without_graded_answers_keeps_the_models_prediction(memory):
    item = GradedAnswer(
        dataset="", subset="", split="", question_id="q2", question="What is photosynthesis?",
        reference_answers=("Plants make sugar from light.",), answer_id="x", answer="Plants use light.",
    )
    prediction = _prediction()
    assert MemoryGrader(FixedPredictor(prediction), memory).predict([item]) == [prediction]


def test_similar_wrong_answers_graded_by_teachers_pull_the_verdict_down(memory):
    grader = MemoryGrader(FixedPredictor(_prediction("correct", 0.55, 0.8)), memory)
    [result] = grader.predict([_item("The metal spoon is colder than the wood spoon.")])
    assert result.verdict == "incorrect"
    assert result.score < 0.8 * 0.3 + 0.7 * 0.2
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.confidence == pytest.approx(max(result.probabilities.values()))


def test_a_close_correct_neighbour_supports_a_correct_answer(memory):
    grader = MemoryGrader(FixedPredictor(_prediction("correct", 0.55, 0.8)), memory)
    [result] = grader.predict([_item("Metal conducts the heat away from your hand quickly.")])
    assert result.verdict == "correct"
    assert result.confidence > 0.55


def test_unrelated_graded_answers_do_not_vote_on_a_real_answer():
    # Found in exploratory QA: two teacher-graded non-answers took the whole vote (the softmax weighs
    # neighbours only against each other) and turned the reference answer itself into "incorrect".
    memory = AnswerMemory(encoder=get_embedder())
    memory.add(question=QUESTION, examples=[
        GradedExample(answer="I do not know", label="incorrect", score=0.0),
        GradedExample(answer="xxxxxxxxxxxxxxxxxxxxxxxx", label="incorrect", score=0.0),
    ])
    prediction = _prediction("correct", 0.85, 1.0)
    [vote] = memory.votes([_item("Metal conducts heat away from the hand faster than wood.")])
    assert vote.neighbours == 0 and vote.probabilities is None and vote.score is None
    assert MemoryGrader(FixedPredictor(prediction), memory).predict(
        [_item("Metal conducts heat away from the hand faster than wood.")]) == [prediction]
    # ...while another non-answer is still graded like them.
    [result] = MemoryGrader(FixedPredictor(_prediction("correct", 0.55, 0.8)), memory).predict([_item("I don't know")])
    assert result.verdict == "incorrect" and result.score < 0.5


def test_one_graded_answer_that_is_only_about_the_same_thing_does_not_outvote_a_confident_model():
    # Found in exploratory QA: once a teacher graded "carbon dioxide" incorrect, every "oxygen" that followed
    # (the reference answer) was graded incorrect too: the lone neighbour took half the vote.
    question = "What gas do plants release during photosynthesis?"
    memory = AnswerMemory(encoder=get_embedder())
    memory.add(question=question, examples=[GradedExample(answer="carbon dioxide", label="incorrect", score=0.0)])

    def graded(answer):
        item = GradedAnswer(dataset="", subset="", split="", question_id="q2", question=question,
                            reference_answers=("Oxygen.",), answer_id="new", answer=answer)
        return MemoryGrader(FixedPredictor(_prediction("correct", 0.81, 1.0)), memory).predict([item])[0]

    [vote] = memory.votes([GradedAnswer(dataset="", subset="", split="", question_id="q2", question=question,
                                        reference_answers=(), answer_id="new", answer="oxygen")])
    assert vote.neighbours == 1 and 0 < vote.strength < 1
    oxygen = graded("oxygen")
    assert oxygen.verdict == "correct" and oxygen.confidence < 0.81 and oxygen.score > 0.5
    # A near copy of the graded answer still takes its grade.
    assert graded("Carbon dioxide.").verdict == "incorrect"


def test_verdicts_outside_the_allowed_labels_get_no_vote(memory):
    allowed = ("correct", "contradictory")
    prediction = Prediction(
        verdict="correct", probabilities={"correct": 0.6, "partially_correct": 0.0, "contradictory": 0.4,
                                          "incorrect": 0.0}, score=0.7, confidence=0.6,
    )
    [vote] = memory.votes([_item("Metal is colder than wood.")])
    result = blend(prediction, vote, allowed=allowed, config=memory.config)
    assert result.probabilities["incorrect"] == 0.0
    assert result.probabilities["partially_correct"] == 0.0


def test_an_answer_never_votes_on_itself(memory):
    [vote] = memory.votes([_item("Metal is just colder than wood.", answer_id="old-3")])
    assert vote.neighbours == 3  # the stored copy of this very answer is left out, the other three vote


NOTE = "Right: metal is a good conductor, so it draws heat from your hand fast."


@pytest.fixture(scope="module")
def noted_memory():
    memory = AnswerMemory(encoder=get_embedder())
    memory.add(question=QUESTION, examples=[
        GradedExample(answer="Metal conducts heat from your hand quickly.", label="correct", score=1.0, note=NOTE),
        GradedExample(answer="Because the metal spoon is colder than the wooden one.", label="incorrect", score=0.0),
    ])
    return memory


def test_a_teachers_note_goes_to_an_almost_identical_answer_with_the_same_verdict(noted_memory):
    [vote] = noted_memory.votes([_item("Metal conducts the heat from your hand quickly.")])
    assert vote.noted_similarity >= noted_memory.config.note_similarity
    assert reusable_note("correct", vote, config=noted_memory.config) == NOTE
    assert reusable_note("incorrect", vote, config=noted_memory.config) == ""


def test_a_teachers_note_stays_with_its_answer_when_the_next_one_differs(noted_memory):
    # Nearest to the unnoted answer, and only loosely like the noted one.
    [vote] = noted_memory.votes([_item("The metal spoon is colder than the wooden spoon.")])
    assert vote.noted.note == NOTE and vote.noted_similarity < noted_memory.config.note_similarity
    assert reusable_note("correct", vote, config=noted_memory.config) == ""
    looser = MemoryConfig(note_similarity=vote.noted_similarity - 0.01)
    assert reusable_note("correct", vote, config=looser) == NOTE


def test_examples_from_items_normalise_scores():
    items = [
        GradedAnswer(dataset="mohler", subset="mohler", split="all", question_id="1", question="Q?",
                     reference_answers=("r",), answer_id="a", answer="x", score=2.5, max_score=5.0),
    ]
    [(question, [example])] = examples_from_items(items).items()
    assert question == "Q?" and example.score == 0.5 and example.label == ""


def test_training_memory_holds_only_the_questions_the_version_was_not_fitted_on(tmp_path):
    import json

    from tutor.ml.grading.config import TrainConfig
    from tutor.ml.grading.memory import question_key, training_memory
    from tutor.ml.grading.pipeline import training_items, training_split

    from ..paths import REPO

    data_dir = REPO / "data" / "asag"
    config = TrainConfig(datasets=("mohler",), val_fraction=0.1, seed=13)
    (tmp_path / "config.json").write_text(json.dumps({"train_config": config.to_dict()}))
    fit, held_out = training_split(config, training_items(config, data_dir=data_dir))
    asked = [fit[0], held_out[0]]

    class ConstantEncoder:
        def encode(self, texts):
            import numpy as np

            return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)

    memory = training_memory(tmp_path, asked, data_dir=data_dir, encoder=ConstantEncoder())
    assert not memory.knows(fit[0].question)  # its answers' grades are already in the weights
    assert memory.knows(held_out[0].question)
    same_question = [g for g in held_out if question_key(g.question) == question_key(held_out[0].question)]
    assert len(memory) == len(same_question) > 1


def test_training_memory_holds_the_subsets_left_out_of_training(tmp_path):
    """SAF's German course is left out of training, so its graded answers can only help as memory."""
    import json

    from tutor.ml.grading.config import TrainConfig
    from tutor.ml.grading.memory import training_memory
    from tutor.ml.grading.sources import load_training_items

    from ..paths import REPO

    data_dir = REPO / "data" / "asag"
    config = TrainConfig(datasets=("saf",), exclude_subsets=("german",), max_train_items=40, seed=13)
    (tmp_path / "config.json").write_text(json.dumps({"train_config": config.to_dict()}))
    german = next(i for i in load_training_items(["saf"], data_dir) if i.subset == "german")

    class ConstantEncoder:
        def encode(self, texts):
            import numpy as np

            return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)

    memory = training_memory(tmp_path, [german], data_dir=data_dir, encoder=ConstantEncoder())
    assert memory.knows(german.question)


def test_a_course_adapter_brings_its_base_graders_memory_less_its_courses_questions(tmp_path):
    """An adapter records no training config of its own: the memory is its full grader's, and the
    questions its course taught it (listed as fitted in its score model) vote no more."""
    import json

    import numpy as np

    from tutor.ml.grading.adapters import ADAPTER_KIND
    from tutor.ml.grading.config import TrainConfig
    from tutor.ml.grading.memory import training_memory
    from tutor.ml.grading.pipeline import training_items, training_split
    from tutor.ml.grading.score_model import ScoreModel, question_fingerprint

    from ..paths import REPO

    data_dir = REPO / "data" / "asag"
    config = TrainConfig(datasets=("mohler",), val_fraction=0.1, seed=13)
    base, adapter = tmp_path / "base", tmp_path / "course-adapter"
    base.mkdir(), adapter.mkdir()
    (base / "config.json").write_text(json.dumps({"train_config": config.to_dict()}))
    (adapter / "config.json").write_text(json.dumps({"kind": ADAPTER_KIND, "base_version": "base"}))
    fit, held_out = training_split(config, training_items(config, data_dir=data_dir))
    held_out_questions = list(dict.fromkeys(g.question for g in held_out))
    taught, untaught = held_out_questions[:2]

    class ConstantEncoder:
        def encode(self, texts):
            return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)

    asked = [fit[0]] + [next(g for g in held_out if g.question == q) for q in (taught, untaught)]
    memory = training_memory(adapter, asked, data_dir=data_dir, encoder=ConstantEncoder())
    assert not memory.knows(fit[0].question) and memory.knows(taught) and memory.knows(untaught)

    zeros = np.zeros(1)
    ScoreModel(zeros, zeros + 1, zeros, zeros + 1, zeros, 0.0,
               fitted_questions=frozenset({question_fingerprint(taught)})).save(adapter)
    memory = training_memory(adapter, asked, data_dir=data_dir, encoder=ConstantEncoder())
    assert not memory.knows(taught) and memory.knows(untaught)
