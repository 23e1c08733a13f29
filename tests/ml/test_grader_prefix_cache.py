"""Prefix attention: the question and reference never read the answer, so grading computes them once per
question (tutor/ml/grading/prefix_cache.py) and gets what the whole pair would give."""

import dataclasses
import json
import random

import onnx
import pytest
import torch

from tests.ml.grader_fixture import semeval_questions
from tutor.ml.grading.config import LABELS, TrainConfig
from tutor.ml.grading.dataset import PairCollator, make_pairs
from tutor.ml.grading.inference import forward_pairs
from tutor.ml.grading.model import load_model
from tutor.ml.grading.onnx_backend import QUANTIZED_SUFFIX, RESIDUAL_PROJECTIONS, full_precision_nodes
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig
from tutor.ml.grading.prefix_cache import ANSWER_FILE, PREFIX_FILE, PrefixCachedGrader

pytestmark = pytest.mark.slow

SEMEVAL = ("correct", "contradictory", "incorrect")


@pytest.fixture(scope="module")
def prefix_grader(grader, tmp_path_factory):
    """The shared test grader trained a few more steps with prefix attention (as train_grader
    --init-from VERSION --attention prefix does)."""
    from tutor.ml.grading.train import train

    config = TrainConfig(output_dir=str(tmp_path_factory.mktemp("prefix") / "grader-prefix"), init_from=str(grader.path),
                         attention="prefix", max_steps=6, batch_size=8, max_length=96, eval_batch_size=40, lr=5e-5,
                         num_threads=1, seed=3, epochs=1)
    return train(config, grader.train_items, grader.val_items, progress=False).output_dir


def _batch(items, tokenizer, max_length=96):
    pairs = make_pairs(items, references="best_overlap", sep=tokenizer.sep_token)
    return PairCollator(tokenizer, max_length, truncation="question_first")(pairs)


def test_a_prefix_grader_is_saved_and_loaded_with_its_attention(prefix_grader, grader):
    assert json.loads((prefix_grader / "config.json").read_text())["attention"] == "prefix"
    assert load_model(prefix_grader)[0].attention == "prefix"
    assert load_model(grader.path)[0].attention == "full"


def test_the_question_and_reference_never_read_the_answer(prefix_grader, grader):
    model, tokenizer, _ = load_model(prefix_grader)
    item = grader.val_items[0]
    other = grader.val_items[1]
    states = []
    for answer in (item.answer, other.answer + " and something else entirely"):
        batch = _batch([dataclasses.replace(item, answer=answer)], tokenizer)
        hidden = model.encoder(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                               attention_mask=_prefix_mask(batch)).last_hidden_state
        prefix_length = int((batch["token_type_ids"][0] == 0).sum())
        states.append(hidden[0, :prefix_length])
    assert torch.allclose(states[0], states[1], atol=1e-5)

    full, _, _ = load_model(grader.path)
    changed = []
    for answer in (item.answer, other.answer + " and something else entirely"):
        batch = _batch([dataclasses.replace(item, answer=answer)], tokenizer)
        changed.append(full.encoder(**{k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")})
                       .last_hidden_state[0, :prefix_length])
    assert not torch.allclose(changed[0], changed[1], atol=1e-3)  # full attention: segment A reads the answer


def _prefix_mask(batch):
    from tutor.ml.grading.model import prefix_attention_mask

    return prefix_attention_mask(batch["attention_mask"], batch["token_type_ids"])


@pytest.mark.parametrize("max_length", [96, 40])  # 40: long questions are cut, so segment A depends on the answer's length
def test_the_cached_grader_grades_like_the_whole_pair(prefix_grader, grader, max_length):
    model, tokenizer, _ = load_model(prefix_grader)
    batch = _batch(grader.val_items[:24], tokenizer, max_length)
    inputs = [batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")]
    with torch.no_grad():
        logits, scores = model(*inputs)
    cached = PrefixCachedGrader.for_model(model)
    cached_logits, cached_scores = cached(*inputs)
    assert torch.allclose(cached_logits, logits, atol=1e-4)
    assert torch.allclose(cached_scores, scores, atol=1e-4)


def test_each_question_is_computed_once_and_the_cache_is_bounded(prefix_grader):
    model, tokenizer, _ = load_model(prefix_grader)
    answers = semeval_questions("sciEntsBank", 0, 3)
    # eight answers to each of three questions
    items = [i for q in dict.fromkeys(a.question_id for a in answers) for i in [a for a in answers if a.question_id == q][:8]]
    batch = _batch(items, tokenizer, max_length=256)  # none cut: one segment A per question
    inputs = [batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")]
    computed = []
    cached = _counting(PrefixCachedGrader.for_model(model), computed)

    first = cached(*inputs)
    assert computed == [3]  # one segment A per question, in one batch
    second = cached(*inputs)
    assert computed == [3]  # all kept
    assert torch.equal(first[0], second[0])

    # A bulk regrade: batches cut across questions, each question computed once, every grade in its place.
    computed.clear()
    bulk = _counting(PrefixCachedGrader.for_model(model), computed)
    shuffled = [items[i] for i in random.Random(1).sample(range(len(items)), len(items))]
    pairs = make_pairs(shuffled, references="best_overlap", sep=tokenizer.sep_token)
    logits, _ = forward_pairs(bulk, tokenizer, pairs, batch_size=5, max_length=256, truncation="question_first")
    assert sum(computed) == 3 and len(computed) > 1
    with torch.no_grad():
        whole, _ = forward_pairs(model, tokenizer, pairs, batch_size=5, max_length=256, truncation="question_first")
    assert torch.allclose(logits, whole, atol=1e-4)

    # Within its memory budget: the least recently used question goes first.
    budget = sum(states.numel() * states.element_size() for states in cached._cache.values()) - 1
    small = PrefixCachedGrader.for_model(model, cache_bytes=budget)
    small(*inputs)
    prefix_lengths = ((inputs[1] == 1) & (inputs[2] == 0)).sum(1)
    in_batch_order = list(dict.fromkeys(tuple(row[:n].tolist()) for row, n in zip(inputs[0], prefix_lengths)))
    assert list(small._cache) == in_batch_order[1:] and small._cached_bytes <= budget
    small.forget()
    assert not small._cache and small._cached_bytes == 0


def _counting(grader, computed):
    """``grader`` with a record of how many segments A each computation took."""
    states = grader.prefix_pass
    grader.prefix_pass = lambda ids, mask: computed.append(len(ids)) or states(ids, mask)
    return grader


def test_a_kept_question_graded_again_is_kept_longest(prefix_grader):
    model, tokenizer, _ = load_model(prefix_grader)
    answers = semeval_questions("sciEntsBank", 0, 3)
    first_of = {}
    for item in answers:
        first_of.setdefault(item.question_id, item)
    q1, q2, q3 = (_inputs([item], tokenizer) for item in first_of.values())
    computed = []
    grader = _counting(PrefixCachedGrader.for_model(model), computed)
    grader(*q1)
    grader(*q2)
    per_token = grader._cached_bytes // (_prefix_tokens(q1) + _prefix_tokens(q2))
    # room for q1 and either of the others, not for all three
    grader.cache_bytes = per_token * (_prefix_tokens(q1) + max(_prefix_tokens(q2), _prefix_tokens(q3)))
    grader(*q1)  # kept: now the most recently used
    grader(*q3)  # makes room by dropping q2, the least recently used
    assert computed == [1, 1, 1]
    grader(*q1)
    assert computed == [1, 1, 1]
    grader(*q2)
    assert computed == [1, 1, 1, 1]


def _prefix_tokens(inputs) -> int:
    return int(((inputs[1] == 1) & (inputs[2] == 0)).sum())


def _inputs(items, tokenizer):
    batch = _batch(items, tokenizer, max_length=256)
    return [batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")]


def test_a_grader_with_full_attention_cannot_be_cached(grader):
    with pytest.raises(ValueError, match="attention='prefix'"):
        PrefixCachedGrader.for_model(load_model(grader.path)[0])


def test_training_further_keeps_the_versions_attention_unless_told(prefix_grader, grader, tmp_path):
    from tutor.ml.grading.train import train

    def further(name, **options):
        config = TrainConfig(output_dir=str(tmp_path / name), init_from=str(prefix_grader), max_steps=1,
                             batch_size=4, max_length=48, num_threads=1, epochs=1, calibrate=False, **options)
        return json.loads((train(config, grader.train_items[:8], None, progress=False).output_dir
                           / "config.json").read_text())["attention"]

    assert further("kept") == "prefix"
    assert further("back", attention="full") == "full"
    with pytest.raises(ValueError, match="attention must be one of"):
        further("bad", attention="sideways")


def test_a_cached_grader_only_serves(prefix_grader):
    grader = PrefixCachedGrader.for_model(load_model(prefix_grader)[0])
    assert grader.eval() is grader and not grader.training
    with pytest.raises(RuntimeError, match="serves only"):
        grader.train()


def test_the_predictor_serves_a_prefix_grader_cached_on_both_backends(prefix_grader, grader):
    items = grader.val_items[:24]
    model, _, _ = load_model(prefix_grader)
    expected = GraderPredictor(ServeConfig(model_dir=prefix_grader))
    expected.model = model  # the whole pair through the PyTorch model, no cache
    whole = expected.predict(items, allowed_labels=SEMEVAL)

    torch_predictor = GraderPredictor(ServeConfig(model_dir=prefix_grader))
    onnx_predictor = GraderPredictor(ServeConfig(model_dir=prefix_grader, backend="onnx"))
    assert not model.training  # the export left the model in the mode it found it
    for predictor in (torch_predictor, onnx_predictor):
        assert isinstance(predictor.model, PrefixCachedGrader)
        for a, b in zip(whole, predictor.predict(items, allowed_labels=SEMEVAL)):
            assert a.verdict == b.verdict
            assert a.score == pytest.approx(b.score, abs=1e-4)
            assert all(a.probabilities[n] == pytest.approx(b.probabilities[n], abs=1e-4) for n in LABELS)
    assert (prefix_grader / PREFIX_FILE).exists() and (prefix_grader / ANSWER_FILE).exists()

    for backend in ("onnx", "torch"):
        int8 = GraderPredictor(ServeConfig(model_dir=prefix_grader, backend=backend, int8=True))
        assert isinstance(int8.model, PrefixCachedGrader)
        agree = sum(a.verdict == b.verdict for a, b in zip(whole, int8.predict(items, allowed_labels=SEMEVAL)))
        assert agree >= 0.8 * len(items)

    # As in the whole pair's int8 grader, every weight matrix is int8: six per layer (and the heads after the
    # answer's pass), none left in a float MatMul.
    for exported, layers, heads in ((ANSWER_FILE, 6, 2), (PREFIX_FILE, 5, 0)):  # segment A's last layer never runs
        # the residual projections are named as in the whole pair's export (int8_variants.py keeps them fp32)
        assert len(full_precision_nodes(prefix_grader / exported, RESIDUAL_PROJECTIONS)) == 2 * layers
        quantized = onnx.load(str(prefix_grader / exported.replace(".onnx", QUANTIZED_SUFFIX))).graph
        weights = {t.name for t in quantized.initializer}
        assert not [n.name for n in quantized.node if n.op_type == "MatMul" and set(n.input) & weights]
        key_values = 2 if exported == PREFIX_FILE else 0  # the last layer's key and value
        assert sum(n.op_type == "MatMulInteger" for n in quantized.node) == 6 * layers + heads + key_values
