"""Weights in parts for the GPU machine: the pretrained encoder and a trained version survive the trip."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tutor.ml.grading.config import default_base_model
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig
from tutor.ml.weights_transfer import (
    QUANTISE_MIN,
    pack_pretrained,
    pack_version,
    unpack_pretrained,
    unpack_version,
)

from tests.ml.grader_fixture import semeval_train_sample

pytestmark = pytest.mark.slow


def _embed(folder: Path, sentences: list[str]) -> torch.Tensor:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def test_minilm_travels_as_int8_rows_in_parts_and_still_embeds_like_itself(tmp_path):
    original = Path(default_base_model())
    parts = pack_pretrained({"minilm": (original, True)}, tmp_path / "xfer", part_bytes=8 * 1024 * 1024)

    assert len(parts) >= 2 and all(p.stat().st_size <= 8 * 1024 * 1024 for p in parts)
    assert len({p.parent for p in parts}) == len(parts)  # one folder per part: one call carries one
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    for part in parts:  # what the calls to the warm machine do: gather the parts in one place
        (arrived / part.name).write_bytes(part.read_bytes())
    folder = unpack_pretrained(arrived, tmp_path / "base")["minilm"]

    before, after = load_file(str(original / "model.safetensors")), load_file(str(folder / "model.safetensors"))
    assert before.keys() == after.keys()
    embeddings = next(k for k in before if k.endswith("word_embeddings.weight"))
    assert before[embeddings].numel() >= QUANTISE_MIN
    row_scale = before[embeddings].abs().amax(dim=1, keepdim=True) / 127
    assert ((before[embeddings] - after[embeddings]).abs() <= row_scale * 0.51 + 1e-3).all()
    assert not torch.equal(before[embeddings], after[embeddings])  # it really was rounded
    assert (folder / "tokenizer.json").read_bytes() == (original / "tokenizer.json").read_bytes()
    sentences = ["Evaporation leaves the salt behind.", "The bulb is in a closed path with the battery."]
    cosine = (_embed(original, sentences) * _embed(folder, sentences)).sum(-1)
    assert (cosine > 0.995).all()


def test_unpacking_without_parts_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights.pt.part-"):
        unpack_pretrained(tmp_path, tmp_path / "base")


def test_a_trained_version_comes_back_in_fp16_parts_and_grades_as_before(grader, tmp_path):
    (grader.path / "checkpoint.pt").write_bytes(b"not shipped")
    (grader.path / "test-export.onnx").write_bytes(b"rebuilt where it serves")
    try:
        parts = pack_version(grader.path, tmp_path / "out", name="student", part_bytes=10 * 1024 * 1024)
    finally:
        (grader.path / "checkpoint.pt").unlink()
        (grader.path / "test-export.onnx").unlink()
    assert [p.name for p in parts[:2]] == ["student.tar.part-00", "student.tar.part-01"]
    assert all(p.stat().st_size <= 10 * 1024 * 1024 for p in parts)

    version = unpack_version(tmp_path / "out", tmp_path / "grader-back", name="student")

    assert not (version / "checkpoint.pt").exists()
    assert not (version / "test-export.onnx").exists()
    assert {t.dtype for t in load_file(str(version / "model.safetensors")).values()} <= {torch.float16, torch.int64}
    items = semeval_train_sample(24)
    before = GraderPredictor(ServeConfig(model_dir=grader.path)).predict(items)
    after = GraderPredictor(ServeConfig(model_dir=version)).predict(items)
    assert [p.verdict for p in before] == [p.verdict for p in after]
    assert max(abs(a.score - b.score) for a, b in zip(before, after)) < 0.01
