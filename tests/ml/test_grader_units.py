"""Pieces of the grader that need no fine-tuning: pairs, masking, loss, splits, calibration, aggregation."""

import math

import pytest
import torch

from tutor.ml.data.types import GradedAnswer
from tutor.ml.grading.calibration import calibration_report, fit_temperature, nll
from tutor.ml.grading.config import LABELS, TrainConfig
from tutor.ml.grading.dataset import (
    PairCollator, PairExample, choose_references, class_weights, make_pairs, split_validation,
    student_reference_pairs, truncate_question_first,
)
from tutor.ml.grading.inference import aggregate
from tutor.ml.grading.train import loss_fn

from .grader_fixture import semeval_train_sample


def _item(dataset="semeval", label="correct", refs=("ref one",), answer="answer", score=None, max_score=None, q="q1"):
    return GradedAnswer(
        dataset=dataset, subset=dataset, split="train", question_id=q, question="Why?", reference_answers=refs,
        answer_id=f"{q}.{answer}", answer=answer, label=label, score=score, max_score=max_score,
    )


def test_pairs_mask_classes_the_source_does_not_use():
    semeval, saf, mohler = make_pairs(
        [_item(), _item("saf", "partially_correct", score=0.5, max_score=1.0), _item("mohler", "", score=4, max_score=5)],
        references="first", sep="[SEP]",
    )
    assert semeval.allowed == (True, False, True, True) and semeval.label == 0 and semeval.score == 1.0
    assert saf.allowed == (True, True, False, True) and saf.label == 1 and saf.score == 0.5
    assert mohler.allowed == (False, False, False, False) and mohler.label == -100 and mohler.score == 0.8
    assert semeval.text_a == "Why? [SEP] ref one" and semeval.text_b == "answer"


def test_loss_ignores_classes_outside_the_source():
    batch = {
        "labels": torch.tensor([0]),
        "allowed": torch.tensor([[True, False, True, True]]),
        "scores": torch.tensor([float("nan")]),
    }
    calm = torch.tensor([[2.0, 0.0, 0.0, 0.0]])
    huge_partial = torch.tensor([[2.0, 50.0, 0.0, 0.0]])
    score = torch.tensor([0.5])
    a = loss_fn(calm, score, batch, weights=None, score_weight=1.0)
    b = loss_fn(huge_partial, score, batch, weights=None, score_weight=1.0)
    assert float(a) == pytest.approx(float(b))
    batch["scores"] = torch.tensor([1.0])
    assert float(loss_fn(calm, score, batch, weights=None, score_weight=1.0)) == pytest.approx(float(a) + 0.25)


def test_class_weights_balance_each_source_on_its_own_classes():
    items = (
        [_item(label="correct")] * 6 + [_item(label="contradictory")] * 2 + [_item(label="incorrect")] * 4
        + [_item("saf", "correct")] * 2 + [_item("saf", "partially_correct")] * 1 + [_item("saf", "incorrect")] * 1
        + [_item("mohler", "", score=1, max_score=2)] * 5
    )
    weights = dict(zip(LABELS, class_weights(items).tolist()))
    # SemEval alone: inverse frequencies 1/6, 1/2, 1/4, scaled to mean 1 -> 6/11, 18/11, 9/11.
    # SAF alone: 1/2, 1, 1 -> 3/5, 6/5, 6/5. A shared verdict averages the two by answers.
    assert weights["contradictory"] == pytest.approx(18 / 11)
    assert weights["partially_correct"] == pytest.approx(6 / 5)
    assert weights["correct"] == pytest.approx((6 * 6 / 11 + 2 * 3 / 5) / 8)
    # (Pooled counts would weigh the one "partially_correct" 8 times the 8 answers graded "correct".)
    assert weights["incorrect"] == pytest.approx((4 * 9 / 11 + 1 * 6 / 5) / 5)


def test_student_references_pair_answers_with_other_correct_answers_to_their_question():
    items = [
        _item(answer="light bends"), _item(answer="light refracts"), _item(answer="Light bends "),
        _item(label="incorrect", answer="it is hot"), _item(label="contradictory", answer="light goes straight"),
        _item(answer="other question's answer", q="q2"),
        _item("mohler", "", answer="full marks", score=5, max_score=5, q="m1"),
        _item("mohler", "", answer="half marks", score=2.5, max_score=5, q="m1"),
    ]
    pairs = student_reference_pairs(items, per_answer=5, sep="[SEP]", seed=1)
    by_answer = {}
    for pair in pairs:
        by_answer.setdefault(items[pair.group].answer, []).append(pair.text_a.removeprefix("Why? [SEP] "))
    # The references are the question's correct answers, never the answer itself nor a copy of it.
    assert sorted(by_answer["light bends"]) == ["light refracts"]
    assert sorted(by_answer["light refracts"]) == ["Light bends", "light bends"]
    assert sorted(by_answer["it is hot"]) == ["Light bends", "light bends", "light refracts"]
    assert "other question's answer" not in by_answer  # alone with its question
    assert by_answer["half marks"] == ["full marks"] and "full marks" not in by_answer
    # Each pair keeps its answer's own verdict and score.
    for pair in pairs:
        item = items[pair.group]
        assert pair.text_b == item.answer
        assert pair.label == (LABELS.index(item.label) if item.label else -100)
        assert pair.score == pytest.approx(item.normalised_score if item.score is not None else float(item.label == "correct"))
    # At most per_answer each, drawn the same way for a seed.
    capped = student_reference_pairs(items, per_answer=1, sep="[SEP]", seed=1)
    assert max(sum(p.group == g for p in capped) for g in range(len(items))) == 1
    assert capped == student_reference_pairs(items, per_answer=1, sep="[SEP]", seed=1)
    assert student_reference_pairs(items, per_answer=0, sep="[SEP]", seed=1) == []
    # Limited to some data sets, the others' answers get none.
    semeval_only = student_reference_pairs(items, per_answer=5, sep="[SEP]", seed=1, datasets=("semeval",))
    assert {items[p.group].dataset for p in semeval_only} == {"semeval"}
    assert len(semeval_only) == len(pairs) - 1  # all but Mohler's one pair


def test_reference_choice():
    item = _item(refs=("the bulbs stay lit", "current flows in a closed path"), answer="a closed path lets current flow")
    assert choose_references(item, "best_overlap") == ("current flows in a closed path",)
    assert choose_references(item, "first") == ("the bulbs stay lit",)
    assert len(make_pairs([item], references="each", sep="|")) == 2


def test_aggregate_max_score_and_mean():
    pairs = [PairExample("a", "b", 0, (True,) * 4, 1.0, 0), PairExample("a2", "b", 0, (True,) * 4, 1.0, 0),
             PairExample("c", "d", 0, (True,) * 4, 1.0, 1)]
    logits = torch.tensor([[0.0, 0, 0, 5], [5.0, 0, 0, 0], [0.0, 5, 0, 0]])
    scores = torch.tensor([0.1, 0.9, 0.5])
    probs, item_scores, _ = aggregate(pairs, logits, scores, 2, mode="max_score")
    assert probs[0].argmax() == 0 and item_scores[0] == pytest.approx(0.9)  # the reference it matches best
    assert probs[1].argmax() == 1
    probs, item_scores, _ = aggregate(pairs, logits, scores, 2, mode="mean")
    assert item_scores[0] == pytest.approx(0.5)
    assert probs[0][0] == pytest.approx(probs[0][3])


def test_collator_pads_dynamically_not_to_max_length():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(TrainConfig().base_model, local_files_only=True)
    collate = PairCollator(tokenizer, max_length=128)
    batch = collate(make_pairs([_item(answer="short"), _item(answer="a bit longer answer here")], references="first",
                               sep=tokenizer.sep_token))
    assert batch["input_ids"].shape[1] < 20
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()
    long = collate(make_pairs([_item(answer="word " * 400)], references="first", sep=tokenizer.sep_token))
    assert long["input_ids"].shape[1] == 128


def test_question_first_truncation_keeps_the_reference_and_the_answer():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(TrainConfig().base_model, local_files_only=True)
    scenario = "A class heats two pans of water in the sun and measures them every minute for an hour. " * 3
    item = _item(refs=("the black pan absorbs more heat than the white one",), answer="black absorbs more heat")
    item = GradedAnswer(**{**item.__dict__, "question": scenario + "Which pan gets hotter?"})
    pairs = make_pairs([item, _item(answer="short")], references="first", sep=tokenizer.sep_token)
    full = PairCollator(tokenizer, 512)(pairs)["input_ids"][0]
    for truncation in ("longest_first", "question_first"):
        batch = PairCollator(tokenizer, 48, truncation=truncation)(pairs)
        assert batch["input_ids"].shape[1] == 48 and batch["attention_mask"][0].sum() == 48
        kept = tokenizer.decode(batch["input_ids"][0], skip_special_tokens=True)
        assert "black absorbs more heat" in kept
        if truncation == "longest_first":  # the end of the long segment A goes: the reference
            assert "white one" not in kept and "a class heats" in kept
        else:  # the question's start goes; its last words, the reference and the answer stay
            assert "which pan gets hotter? the black pan absorbs more heat than the white one" in kept
            assert tokenizer.decode(full, skip_special_tokens=True).endswith(kept)  # only the start went
            answer = len(tokenizer(item.answer, add_special_tokens=False)["input_ids"]) + 1  # with its [SEP]
            assert batch["token_type_ids"][0].tolist() == [0] * (48 - answer) + [1] * answer
    # a pair that fits is encoded as the tokenizer encodes it
    short = PairCollator(tokenizer, 48, truncation="question_first")(pairs)
    plain = PairCollator(tokenizer, 48)(pairs)
    assert torch.equal(short["input_ids"][1], plain["input_ids"][1])
    assert torch.equal(short["attention_mask"], plain["attention_mask"])
    assert len(full) > 48
    with pytest.raises(ValueError, match="truncation must be one of"):
        PairCollator(tokenizer, 48, truncation="middle")


@pytest.mark.parametrize("a, b, question, budget, kept", [
    (10, 5, 4, 20, (0, 10, 5)),  # fits: nothing goes
    (10, 5, 4, 12, (3, 10, 5)),  # three question tokens
    (10, 5, 4, 11, (5, 10, 5)),  # all four, and the separator with them
    (10, 5, 4, 9, (5, 9, 5)),  # then the end of the longer segment (the reference)
    (10, 9, 4, 8, (5, 9, 4)),  # ... then both, the longer first
    (10, 5, 0, 12, (0, 7, 5)),  # no question (no separator): longest first
])
def test_truncate_question_first_cuts_the_question_before_anything_else(a, b, question, budget, kept):
    start, end, end_b = truncate_question_first(a, b, question=question, budget=budget)
    assert (start, end, end_b) == kept
    assert (end - start) + end_b <= budget


def test_validation_split_by_question_keeps_questions_apart():
    items = semeval_train_sample(300, seed=1)
    train, val = split_validation(items, by="question", fraction=0.2, seed=1)
    assert val and len(train) + len(val) == len(items)
    assert not {(i.subset, i.question_id) for i in train} & {(i.subset, i.question_id) for i in val}
    train_a, val_a = split_validation(items, by="answer", fraction=0.2, seed=1)
    assert len(val_a) == 60


def test_temperature_scaling_lowers_nll_of_overconfident_logits():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (400,), generator=g)
    true_logits = torch.randn(400, 3, generator=g)
    true_logits[torch.arange(400), labels] += 1.0
    overconfident = true_logits * 4
    t = fit_temperature(overconfident, labels)
    assert t > 2
    assert nll(overconfident, labels, t) < nll(overconfident, labels, 1.0)
    report = calibration_report(overconfident, labels, t)
    assert report["ece_after"] < report["ece_before"]


def test_temperature_respects_masked_classes():
    labels = torch.tensor([0, 2, 3])
    logits = torch.tensor([[3.0, 9.0, 0, 0], [0, 9.0, 3.0, 0], [0, 9.0, 0, 3.0]])
    allowed = torch.tensor([[True, False, True, True]] * 3)
    assert math.isfinite(fit_temperature(logits, labels, allowed))
    assert nll(logits, labels, 1.0, allowed) < 0.2


def test_train_config_round_trips_through_a_dict():
    config = TrainConfig(datasets=("semeval",), max_steps=7)
    again = TrainConfig.from_dict(config.to_dict())
    assert again == config
    assert LABELS == ("correct", "partially_correct", "contradictory", "incorrect")


def test_points_stay_inside_the_verdicts_band():
    from tutor.ml.grading.predictor import Prediction

    def prediction(verdict, score):
        return Prediction(verdict=verdict, probabilities={}, score=score, confidence=0.6)

    assert prediction("incorrect", 0.71).points(1.0) == 0.25
    assert prediction("correct", 0.4).points(2.0) == 1.5
    assert prediction("partially_correct", 0.6).points(5.0) == 3.0
    assert prediction("contradictory", 0.1).points(1.0) == 0.1
