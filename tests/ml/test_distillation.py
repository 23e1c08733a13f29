"""Teacher -> student distillation of the grader: the loss, the teacher's targets, and a real run in
which a fresh MiniLM student learns from the shared fine-tuned fixture grader as its teacher."""

import json
import math

import pytest
import torch

from tutor.ml.grading.config import TrainConfig
from tutor.ml.grading.dataset import PairCollator, PairExample, make_pairs
from tutor.ml.grading.distil import Distillation, with_teacher_targets
from tutor.ml.grading.inference import forward_pairs
from tutor.ml.grading.model import load_model
from tutor.ml.grading.train import loss_fn, train

SEMEVAL = (True, False, True, True)


def _batch(teacher_logits, teacher_score=float("nan"), label=0, score=1.0):
    return {
        "labels": torch.tensor([label]),
        "allowed": torch.tensor([SEMEVAL]),
        "scores": torch.tensor([score]),
        "teacher_logits": torch.tensor([teacher_logits], dtype=torch.float),
        "teacher_scores": torch.tensor([teacher_score]),
    }


def test_alpha_zero_is_the_plain_loss_and_alpha_one_ignores_the_labels():
    logits, score = torch.tensor([[1.0, 0.0, 0.5, -1.0]]), torch.tensor([0.7])
    batch = _batch([3.0, 0.0, 0.0, 0.0], teacher_score=0.9)
    plain = {k: v for k, v in batch.items() if not k.startswith("teacher")}
    assert float(loss_fn(logits, score, batch, weights=None, score_weight=1.0, distil=Distillation(0.0, 2.0))) == \
        pytest.approx(float(loss_fn(logits, score, plain, weights=None, score_weight=1.0)))
    only_teacher = Distillation(1.0, 2.0)
    flipped = _batch([3.0, 0.0, 0.0, 0.0], teacher_score=0.9, label=3, score=0.0)  # other labels, same teacher
    assert float(loss_fn(logits, score, batch, weights=None, score_weight=1.0, distil=only_teacher)) == pytest.approx(
        float(loss_fn(logits, score, flipped, weights=None, score_weight=1.0, distil=only_teacher))
    )


def test_the_student_is_pulled_towards_the_teachers_distribution_over_the_sources_classes():
    distil = Distillation(1.0, 2.0)
    teacher = [0.0, 0.0, 4.0, 0.0]  # "contradictory"
    agrees = loss_fn(torch.tensor([[0.0, 0.0, 4.0, 0.0]]), torch.tensor([1.0]), _batch(teacher), weights=None,
                     score_weight=0.0, distil=distil)
    disagrees = loss_fn(torch.tensor([[4.0, 0.0, 0.0, 0.0]]), torch.tensor([1.0]), _batch(teacher), weights=None,
                        score_weight=0.0, distil=distil)
    assert float(agrees) == pytest.approx(0.0, abs=1e-5) and float(disagrees) > 1.0
    # a class the source does not use ("partially correct" in SemEval) weighs nothing, however large
    odd = loss_fn(torch.tensor([[0.0, 50.0, 4.0, 0.0]]), torch.tensor([1.0]), _batch(teacher), weights=None,
                  score_weight=0.0, distil=distil)
    assert float(odd) == pytest.approx(float(agrees), abs=1e-5)


def test_the_teachers_score_stands_in_where_there_is_no_gold_score():
    distil = Distillation(0.5, 2.0)
    batch = _batch([0.0] * 4, teacher_score=0.2, score=float("nan"))
    batch["labels"] = torch.tensor([-100])
    batch["allowed"] = torch.tensor([(False,) * 4])  # Mohler: a score only
    loss = loss_fn(torch.zeros(1, 4), torch.tensor([0.6]), batch, weights=None, score_weight=1.0, distil=distil)
    assert float(loss) == pytest.approx((0.6 - 0.2) ** 2)
    batch["scores"] = torch.tensor([1.0])  # with a gold score: the mix of both
    loss = loss_fn(torch.zeros(1, 4), torch.tensor([0.6]), batch, weights=None, score_weight=1.0, distil=distil)
    assert float(loss) == pytest.approx((0.6 - 0.6) ** 2, abs=1e-6)


def test_collator_carries_the_teachers_targets_only_when_there_are_some():
    from transformers import AutoTokenizer

    from tutor.ml.retrieval.embedder import pretrained_path

    collate = PairCollator(AutoTokenizer.from_pretrained(pretrained_path()), 32)
    plain = PairExample("q [SEP] r", "a", 0, SEMEVAL, 1.0, 0)
    assert "teacher_logits" not in collate([plain])
    taught = PairExample("q [SEP] r", "b", 0, SEMEVAL, 1.0, 1, teacher_logits=(1.0, 0.0, 0.0, 0.0), teacher_score=0.5)
    batch = collate([plain, taught])
    assert batch["teacher_logits"].shape == (2, 4) and math.isnan(batch["teacher_logits"][0, 0])
    assert batch["teacher_scores"][1] == 0.5


@pytest.mark.slow
def test_a_student_distilled_from_a_teacher_agrees_with_it_more_than_one_trained_on_labels_alone(grader, tmp_path):
    """Both students: a fresh MiniLM, the same few steps on the same real answers; one also has the teacher."""
    items = grader.train_items[:96]
    _, tokenizer, _ = load_model(grader.path)
    pairs = make_pairs(items, references="best_overlap", sep=tokenizer.sep_token)
    taught = with_teacher_targets(pairs, grader.path, batch_size=32, max_length=96, student_sep=tokenizer.sep_token)
    teacher_logits = torch.tensor([p.teacher_logits for p in taught])
    assert teacher_logits.shape == (len(pairs), 4) and not torch.isnan(teacher_logits).any()

    def student(name, **distil):
        config = TrainConfig(output_dir=str(tmp_path / name), max_steps=12, batch_size=8, max_length=96, epochs=1,
                             lr=1e-4, head_lr=3e-3, seed=5, num_threads=1, val_fraction=0, calibrate=False, **distil)
        train(config, items, [], progress=False)
        model, tok, _ = load_model(tmp_path / name)
        logits, _ = forward_pairs(model, tok, pairs, batch_size=32, max_length=96)
        mask = torch.tensor([p.allowed for p in pairs])
        agree = (logits.masked_fill(~mask, -1e4).argmax(-1) == teacher_logits.masked_fill(~mask, -1e4).argmax(-1))
        return float(agree.float().mean())

    labels_only = student("labels-only")
    distilled = student("distilled", distil_from=str(grader.path), distil_alpha=0.9, distil_temperature=2.0)
    assert distilled > labels_only
    summary = json.loads((tmp_path / "distilled" / "training_summary.json").read_text())
    assert summary["teacher"]["model_dir"] == str(grader.path) and summary["teacher"]["alpha"] == 0.9
