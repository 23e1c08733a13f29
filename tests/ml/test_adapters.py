"""Per-course LoRA adapters over the real (briefly fine-tuned) MiniLM grader: training, files, serving."""

import hashlib
import json
import shutil

import pytest
import torch

from tutor.ml.grading import adapters
from tutor.ml.grading.adapters import AdapterConfig, load_grader, train_adapter
from tutor.ml.grading.config import LABELS
from tutor.ml.grading.dataset import make_pairs
from tutor.ml.grading.inference import aggregate, forward_pairs
from tutor.ml.grading.predictor import clear_cache, get_predictor

from .grader_fixture import MAX_LENGTH

pytestmark = pytest.mark.slow

TINY = AdapterConfig(max_steps=30, min_steps=30, batch_size=8, lr=2e-3, head_lr=5e-3, max_length=MAX_LENGTH,
                     num_threads=1, seed=5)


@pytest.fixture(scope="module")
def teacher_set(grader):
    """Real SemEval answers the base grader did not train on, 24 of them: the "teacher's" grades."""
    return grader.val_items[:24]


@pytest.fixture(scope="module")
def adapter(grader, teacher_set, tmp_path_factory):
    return train_adapter(grader.path, teacher_set, tmp_path_factory.mktemp("adapters") / "course-lora", TINY)


def _accuracy(predictor, items):
    predictions = predictor.predict(items)
    return sum(p.verdict == item.label for p, item in zip(predictions, items)) / len(items)


def test_the_adapter_learns_the_teachers_grades(grader, teacher_set, adapter):
    base, tuned = get_predictor(grader.path), get_predictor(adapter.output_dir)
    base_probs = torch.tensor([[p.probabilities[k] for k in LABELS] for p in base.predict(teacher_set)])
    tuned_probs = torch.tensor([[p.probabilities[k] for k in LABELS] for p in tuned.predict(teacher_set)])
    assert not torch.allclose(base_probs, tuned_probs, atol=1e-3)
    assert _accuracy(tuned, teacher_set) > _accuracy(base, teacher_set)
    assert sum(adapter.losses[-5:]) / 5 < sum(adapter.losses[:5]) / 5


def test_the_version_holds_the_adapter_only_and_leaves_the_base_untouched(grader, adapter):
    files = {p.name for p in adapter.output_dir.iterdir()}
    assert {"config.json", "adapter_config.json", "adapter_model.safetensors", "metrics.json",
            "training_summary.json"} <= files
    assert "model.safetensors" not in files
    assert (adapter.output_dir / "adapter_model.safetensors").stat().st_size < 3_000_000
    config = json.loads((adapter.output_dir / "config.json").read_text())
    assert config["kind"] == adapters.ADAPTER_KIND and config["base_version"] == grader.path.name
    assert adapters.is_adapter(adapter.output_dir) and not adapters.is_adapter(grader.path)
    assert 0 < adapter.metrics["trainable_parameters"] < 1_000_000
    assert adapter.training_summary["train"]["n"] == 24


def test_the_predictor_serves_the_adapter_merged_as_the_unmerged_peft_model_would(grader, teacher_set, adapter):
    from peft import PeftModel

    from tutor.ml.grading.model import load_model

    base, tokenizer, _ = load_model(grader.path)
    unmerged = PeftModel.from_pretrained(base, str(adapter.output_dir)).eval()
    served_config = json.loads((adapter.output_dir / "config.json").read_text())
    mode, temperature = served_config["predict_references"], served_config["temperature"]
    pairs = make_pairs(teacher_set, references=mode, sep=tokenizer.sep_token)
    logits, scores = forward_pairs(unmerged, tokenizer, pairs, batch_size=32, max_length=MAX_LENGTH)
    expected, _, _ = aggregate(pairs, logits, scores, len(teacher_set), mode=mode, temperature=temperature)

    served = get_predictor(adapter.output_dir).predict(teacher_set)
    got = torch.tensor([[p.probabilities[k] for k in LABELS] for p in served])
    assert torch.allclose(got, expected, atol=1e-4)


def test_an_adapter_can_be_trained_on_an_adapter_and_found_after_its_versions_moved(
    grader, teacher_set, adapter, tmp_path
):
    weights = (grader.path / "model.safetensors").read_bytes()
    second = train_adapter(adapter.output_dir, teacher_set[:8], tmp_path / "second",
                           AdapterConfig(max_steps=2, batch_size=8, max_length=MAX_LENGTH, num_threads=1))
    assert adapters.base_dir(second.output_dir) == adapter.output_dir.resolve()
    model, _, config = load_grader(second.output_dir)
    assert config["base_version"] == adapter.output_dir.name
    assert not any("lora_" in name for name, _ in model.named_parameters())  # merged, plain grader
    assert hashlib.sha256((grader.path / "model.safetensors").read_bytes()).digest() == hashlib.sha256(weights).digest()

    # Versions move together (another MODEL_DIR): the base is found as a sibling by name.
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copytree(grader.path, moved / grader.path.name)
    shutil.copytree(adapter.output_dir, moved / adapter.output_dir.name)
    config = json.loads((moved / adapter.output_dir.name / "config.json").read_text())
    config["base_path"] = "/nowhere"
    (moved / adapter.output_dir.name / "config.json").write_text(json.dumps(config))
    assert adapters.base_dir(moved / adapter.output_dir.name) == moved / grader.path.name


def test_a_missing_base_is_a_clear_error(adapter, tmp_path):
    orphan = tmp_path / "orphan"
    shutil.copytree(adapter.output_dir, orphan)
    config = json.loads((orphan / "config.json").read_text())
    config.update(base_version="gone", base_path="/nowhere")
    (orphan / "config.json").write_text(json.dumps(config))
    clear_cache()
    with pytest.raises(FileNotFoundError, match="base grader"):
        get_predictor(orphan)
