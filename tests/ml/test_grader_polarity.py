import random

from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.config import LABELS
from tutor.ml.grading.polarity import flip_candidates, flip_polarity, polarity_flip_pairs


def _item(dataset="semeval", label="correct", answer="The bulb is in a closed path.", score=None, max_score=None,
          refs=("A bulb lights in a closed path.", "The bulb and the battery are in a closed path.")):
    return GradedAnswer(
        dataset=dataset, subset=dataset, split="train", question_id="q1", question="Why does bulb A light?",
        reference_answers=refs, answer_id=answer, answer=answer, label=label, score=score, max_score=max_score,
    )


def _all_flips(text: str) -> set[str]:
    return {flip_polarity(text, random.Random(seed)) for seed in range(60)}


def test_each_flip_turns_one_statement_around():
    assert _all_flips("The bulb is in a closed path.") == {
        "The bulb is not in a closed path.", "The bulb is in a open path.",
    }
    # a negation is taken away, contracted or not, and an antonym keeps its capital
    assert _all_flips("It won't light. Faster water") == {"It will light. Faster water", "It won't light. Slower water"}
    assert _all_flips("It does not dissolve.") == {"It does dissolve."}
    assert _all_flips("They cannot be scratched") == {"They can be scratched"}
    # an auxiliary that is already negated is not negated twice
    assert all(text != "It is not not there" for text in _all_flips("It is not there"))


def test_an_answer_with_nothing_to_flip_gives_none():
    assert flip_candidates("Both fingerprints show loops.") == []
    assert flip_polarity("Both fingerprints show loops.", random.Random(0)) is None
    assert flip_polarity("", random.Random(0)) is None


def test_flip_pairs_turn_correct_semeval_answers_into_contradictory_ones_against_their_reference():
    items = [
        _item(),
        _item(label="incorrect", answer="The bulb is broken."),
        _item(label="contradictory", answer="The path is open."),
        _item(answer="Both fingerprints show loops."),  # nothing to flip
        _item("saf", "correct", answer="The frame is sent faster.", score=1, max_score=1),  # no contradictory verdict
        _item("mohler", "", answer="It is a stack.", score=5, max_score=5),
    ]
    pairs = polarity_flip_pairs(items, share=1.0, references="best_overlap", sep="[SEP]", seed=3)
    assert [pair.group for pair in pairs] == [0]
    (pair,) = pairs
    assert pair.text_b in {"The bulb is not in a closed path.", "The bulb is in a open path."}
    assert pair.text_a == "Why does bulb A light? [SEP] A bulb lights in a closed path."  # the answer's own reference
    assert pair.label == LABELS.index("contradictory") and pair.score == 0.0
    assert pair.allowed == (True, False, True, True)  # SemEval's verdicts only
    # drawn the same way for a seed; none for share 0, about that share otherwise
    assert pairs == polarity_flip_pairs(items, share=1.0, references="best_overlap", sep="[SEP]", seed=3)
    assert polarity_flip_pairs(items, share=0.0, references="best_overlap", sep="[SEP]", seed=3) == []
    many = [_item(answer=f"The bulb {n} is in a closed path.") for n in range(400)]
    drawn = len(polarity_flip_pairs(many, share=0.3, references="first", sep="[SEP]", seed=3))
    assert 80 < drawn < 160
