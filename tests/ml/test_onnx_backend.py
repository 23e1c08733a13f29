"""The grader served by ONNX Runtime: the same weights and the same grades as PyTorch, exported once."""

import os

import numpy as np
import pytest

from tutor.ml.grading.config import LABELS
from tutor.ml.grading.onnx_backend import QUANTIZED_FILE, RESIDUAL_PROJECTIONS, OnnxGrader, full_precision_nodes
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig

pytestmark = pytest.mark.slow

SEMEVAL = ("correct", "contradictory", "incorrect")


def test_onnx_runtime_grades_like_pytorch(grader):
    items = grader.val_items[:24]
    torch_grades = GraderPredictor(ServeConfig(model_dir=grader.path)).predict(items, allowed_labels=SEMEVAL)
    onnx = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx"))
    assert isinstance(onnx.model, OnnxGrader)
    onnx_grades = onnx.predict(items, allowed_labels=SEMEVAL)
    for a, b in zip(torch_grades, onnx_grades):
        assert a.verdict == b.verdict
        assert a.score == pytest.approx(b.score, abs=1e-4)
        assert all(a.probabilities[n] == pytest.approx(b.probabilities[n], abs=1e-4) for n in LABELS)


def test_the_export_is_reused_until_the_weights_change(grader):
    GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx"))
    export = grader.path / "grader.onnx"
    first = export.stat().st_mtime_ns
    GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx"))
    assert export.stat().st_mtime_ns == first

    weights = grader.path / "model.safetensors"
    later = first + 10**9
    os.utime(weights, ns=(later, later))
    GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx"))
    assert export.stat().st_mtime_ns > first
    assert not [p for p in grader.path.iterdir() if p.name.startswith("tmp")]  # no half-written export left
    assert export.stat().st_mode & 0o777 == 0o644  # readable by workers running as another user


def test_onnx_runtime_int8_mostly_agrees_with_fp32(grader):
    items = grader.val_items
    fp32 = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx")).predict(items)
    int8 = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx", int8=True)).predict(items)
    assert (grader.path / QUANTIZED_FILE).stat().st_size < (grader.path / "grader.onnx").stat().st_size / 2
    assert sum(a.verdict == b.verdict for a, b in zip(fp32, int8)) / len(items) >= 0.8


def test_int8_quantises_every_weight_matrix(grader):
    import onnx

    GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx", int8=True))
    graph = onnx.load(str(grader.path / QUANTIZED_FILE), load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    assert not [n.name for n in graph.node if n.op_type == "MatMul" and set(n.input) & weights]
    # query, key, value, attention output, intermediate and output of each of MiniLM's 6 layers, and the two heads
    assert sum(n.op_type == "MatMulInteger" for n in graph.node) == 6 * 6 + 2
    # what int8_variants.py can keep in fp32: the attention output and feed-forward output of each layer
    assert len(full_precision_nodes(grader.path / "grader.onnx", RESIDUAL_PROJECTIONS)) == 2 * 6


def test_int8_weights_fit_in_7_bits_so_every_cpu_computes_the_same_grades(grader):
    """AVX2 kernels add pairs of uint8 x int8 products into 16 bits: 2 x 255 x 64 fits, 2 x 255 x 127 does not."""
    import onnx

    GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx", int8=True))
    graph = onnx.load(str(grader.path / QUANTIZED_FILE), load_external_data=False).graph
    weights = {t.name: t for t in graph.initializer}
    quantized = [n.input[1] for n in graph.node if n.op_type == "MatMulInteger"]
    values = np.concatenate([onnx.numpy_helper.to_array(weights[name]).astype(np.int32).ravel() for name in quantized])
    assert 2 * 255 * np.abs(values).max() <= np.iinfo(np.int16).max


def test_an_onnx_grader_only_serves(grader):
    model = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx")).model
    assert model.eval() is model and not model.training
    with pytest.raises(RuntimeError, match="serves only"):
        model.train()


def test_an_unknown_backend_is_refused(grader):
    with pytest.raises(ValueError, match="backend must be 'torch' or 'onnx'"):
        GraderPredictor(ServeConfig(model_dir=grader.path, backend="tensorrt"))


def test_the_alignment_encoder_on_onnx_runtime_gives_the_features_of_pytorch(tmp_path):
    from tests.ml.grader_fixture import mohler_sample
    from tutor.ml.grading.alignment import Aligner
    from tutor.ml.grading.onnx_backend import OnnxEncoder
    from tutor.ml.retrieval.embedder import get_embedder

    items = mohler_sample(1)[:12]
    embedder = get_embedder()
    on_torch = Aligner(embedder)
    on_onnx = Aligner(embedder)
    on_onnx.onnx = OnnxEncoder.for_model(embedder.model, embedder.tokenizer, cache_dir=tmp_path)
    assert (tmp_path / OnnxEncoder.FILE).exists()
    assert not embedder.model.training  # the export leaves the shared embedder in eval mode
    assert np.allclose(on_torch.features(items), on_onnx.features(items), atol=1e-4)


@pytest.mark.parametrize("options, weight_type", [
    ({}, "int8"), ({"reduce_range": False}, "int8"), ({"unsigned_weights": True, "reduce_range": False}, "uint8"),
])
def test_the_int8_variants_still_grade_like_fp32(grader, tmp_path, options, weight_type):
    import onnx
    from onnx import TensorProto

    from tutor.ml.grading.onnx_backend import quantize

    fp32 = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx", score_model=False))
    items = grader.val_items
    expected = fp32.predict(items)
    variant = quantize(fp32.model.path, tmp_path / "variant.onnx", **options)

    graph = onnx.load(str(variant), load_external_data=False).graph
    weights = {t.name: t for t in graph.initializer}
    quantized = [n.input[1] for n in graph.node if n.op_type == "MatMulInteger"]
    assert len(quantized) == 6 * 6 + 2
    wanted = TensorProto.UINT8 if weight_type == "uint8" else TensorProto.INT8
    assert {weights[name].data_type for name in quantized} == {wanted}
    if options.get("reduce_range", True):  # 7-bit weights, symmetric: no value beyond 64 (full range: 127)
        values = np.concatenate([onnx.numpy_helper.to_array(weights[name]).ravel() for name in quantized])
        assert np.abs(values.astype(np.int16)).max() <= 64

    fp32.model = OnnxGrader(variant)
    graded = fp32.predict(items)
    assert sum(a.verdict == b.verdict for a, b in zip(expected, graded)) / len(items) >= 0.8


@pytest.mark.parametrize("pattern, fp32_matmuls", [
    (None, 0),  # every weight in int8
    (r"layer\.\d+/output/dense/MatMul$", 6),  # the feed-forward output of each layer only
    (r"layer\.[02]/output/dense/MatMul$", 2),
    (RESIDUAL_PROJECTIONS.pattern, 12),  # attention output and feed-forward output (served until session 21)
])
def test_quantize_keeps_in_fp32_the_projections_it_is_told(grader, tmp_path, pattern, fp32_matmuls):
    import re

    import onnx

    from tutor.ml.grading.onnx_backend import quantize

    fp32 = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx", score_model=False))
    variant = quantize(fp32.model.path, tmp_path / "variant.onnx", full_precision=pattern and re.compile(pattern))
    graph = onnx.load(str(variant), load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    float_weight_matmuls = [n for n in graph.node if n.op_type == "MatMul" and set(n.input) & weights]
    assert len(float_weight_matmuls) == fp32_matmuls
    assert sum(n.op_type == "MatMulInteger" for n in graph.node) == 4 * 6 + 2 + 2 * 6 - fp32_matmuls


def test_batches_change_no_fp32_grade(grader):
    items = grader.val_items
    assert ServeConfig().batch_size == 8
    one_batch = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx", batch_size=len(items)))
    default = GraderPredictor(ServeConfig(model_dir=grader.path, backend="onnx"))
    for a, b in zip(one_batch.predict(items), default.predict(items)):
        assert a.verdict == b.verdict
        assert a.score == pytest.approx(b.score, abs=1e-4)
