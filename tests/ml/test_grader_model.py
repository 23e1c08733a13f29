"""The fine-tuned cross-encoder grader: training, saving, serving (real MiniLM, real SemEval answers)."""

import json

import pytest
import torch

from tutor.ml.grading.config import LABELS
from tutor.ml.grading.dataset import make_pairs
from tutor.ml.grading.inference import forward_pairs
from tutor.ml.grading.model import build_model, load_model, save_model
from tutor.ml.grading.config import ServeConfig
from tutor.ml.grading.predictor import GraderPredictor, get_predictor

from .grader_fixture import MAX_LENGTH

pytestmark = pytest.mark.slow


def _nll(model, tokenizer, items):
    pairs = make_pairs(items, references="best_overlap", sep=tokenizer.sep_token)
    logits, _ = forward_pairs(model, tokenizer, pairs, batch_size=40, max_length=MAX_LENGTH)
    allowed = torch.tensor([p.allowed for p in pairs])
    labels = torch.tensor([p.label for p in pairs])
    return float(torch.nn.functional.cross_entropy(logits.masked_fill(~allowed, -1e4), labels)), logits


def test_training_loss_decreases(grader):
    losses = grader.losses
    assert len(losses) == 30
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10


def test_fine_tuned_model_fits_its_sample_better_than_the_untrained_head(grader):
    sample = grader.train_items[:80]
    trained, tokenizer, _ = load_model(grader.path)
    torch.manual_seed(3)
    untrained, _ = build_model(json.loads((grader.path / "config.json").read_text())["train_config"]["base_model"])
    trained_nll, trained_logits = _nll(trained, tokenizer, sample)
    untrained_nll, untrained_logits = _nll(untrained.eval(), tokenizer, sample)
    assert not torch.allclose(trained_logits, untrained_logits, atol=1e-3)
    assert trained_nll < untrained_nll


def test_version_directory_has_config_metrics_and_summary(grader):
    config = json.loads((grader.path / "config.json").read_text())
    assert config["labels"] == list(LABELS)
    assert config["temperature"] > 0
    assert config["train_config"]["max_steps"] == 30
    assert config["truncation"] == "longest_first"  # the default, recorded for serving
    metrics = json.loads((grader.path / "metrics.json").read_text())
    assert metrics["train_steps"] == 30 and metrics["stopped"] == "max_steps"
    assert 0.0 <= metrics["validation"]["macro_f1"] <= 1.0
    assert "ece_after" in metrics["calibration"]
    summary = json.loads((grader.path / "training_summary.json").read_text())
    assert summary["train"]["n"] == len(grader.train_items)
    assert sum(summary["train"]["datasets"]["semeval"]["labels"].values()) == len(grader.train_items)
    assert not (grader.path / "checkpoint.pt").exists()


def test_save_load_round_trip_gives_identical_outputs(grader, tmp_path):
    model, tokenizer, config = load_model(grader.path)
    save_model(model, tokenizer, tmp_path / "copy", config={k: v for k, v in config.items() if k not in ("labels", "pooling")})
    again, tokenizer2, _ = load_model(tmp_path / "copy")
    pairs = make_pairs(grader.val_items[:12], references="first", sep=tokenizer.sep_token)
    a = forward_pairs(model, tokenizer, pairs, batch_size=12, max_length=MAX_LENGTH)
    b = forward_pairs(again, tokenizer2, pairs, batch_size=12, max_length=MAX_LENGTH)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_predictor_truncates_long_pairs_as_its_version_was_trained(grader, tmp_path):
    model, tokenizer, config = load_model(grader.path)
    kept = {k: v for k, v in config.items() if k not in ("labels", "pooling")}
    items = grader.val_items[:20]
    served = {}
    for truncation in ("longest_first", "question_first"):
        save_model(model, tokenizer, tmp_path / truncation, config={**kept, "max_length": 32, "truncation": truncation})
        predictor = GraderPredictor(ServeConfig(model_dir=tmp_path / truncation, score_model=False))
        assert predictor.truncation == truncation
        served[truncation] = [p.probabilities for p in predictor.predict(items)]
    # at 32 tokens the questions' starts go instead of the references' ends: other inputs, other outputs
    assert served["longest_first"] != served["question_first"]
    forced = GraderPredictor(ServeConfig(model_dir=tmp_path / "longest_first", score_model=False,
                                         truncation="question_first"))
    assert [p.probabilities for p in forced.predict(items)] == served["question_first"]


def test_predictor_batched_equals_one_by_one(grader):
    predictor = get_predictor(grader.path, batch_size=16)
    items = grader.val_items[:20]
    batched = predictor.predict(items, allowed_labels=("correct", "contradictory", "incorrect"))
    single = [predictor.predict([i], allowed_labels=("correct", "contradictory", "incorrect"))[0] for i in items]
    for b, s in zip(batched, single):
        assert b.verdict == s.verdict
        assert b.score == pytest.approx(s.score, abs=1e-4)
        for name in LABELS:
            assert b.probabilities[name] == pytest.approx(s.probabilities[name], abs=1e-4)
    assert all(p.probabilities["partially_correct"] == 0 for p in batched)
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-5 for p in batched)
    assert all(0 <= p.score <= 1 and p.confidence == max(p.probabilities.values()) for p in batched)


def test_predictor_is_loaded_once_per_process(grader):
    assert get_predictor(grader.path, batch_size=16) is get_predictor(grader.path, batch_size=16)
    assert get_predictor(grader.path, int8=True) is not get_predictor(grader.path)


def test_int8_predictor_runs_and_mostly_agrees(grader):
    items = grader.val_items
    fp32 = get_predictor(grader.path).predict(items)
    int8 = get_predictor(grader.path, int8=True).predict(items)
    agree = sum(a.verdict == b.verdict for a, b in zip(fp32, int8)) / len(items)
    assert agree >= 0.8
    assert all(abs(a.score - b.score) < 0.15 for a, b in zip(fp32, int8))


def test_grade_allows_all_four_verdicts_for_product_questions(grader):
    prediction = get_predictor(grader.path).grade(
        question="What happens to the other bulbs if the middle bulb burns out?",
        reference_answers=["The other bulbs stay lit.", "They keep shining because they are in parallel."],
        answer="They go out too.",
    )
    assert prediction.verdict in LABELS
    assert all(prediction.probabilities[name] > 0 for name in LABELS)
    assert 0 <= prediction.points(2.0) <= 2.0
