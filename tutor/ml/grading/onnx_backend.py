"""ONNX Runtime serving of a grader: the same weights, exported once per version and run by ORT's
CPU kernels, which spend less time per layer than PyTorch's eager mode on one short input.

Measured on grader-minilm-v2, 2 threads (``benchmarks/grading_speed.py``): one answer at p50 15 ms
instead of 26 ms; batched throughput is about the same; outputs equal PyTorch's within 1e-5.

    model = OnnxGrader.for_model(torch_model, tokenizer, cache_dir=version_dir)
    logits, scores = model(input_ids=..., attention_mask=..., token_type_ids=...)

The export is cached beside the version (``grader.onnx``, or ``grader.int8-7bit.onnx`` for ONNX
Runtime's own dynamic int8 quantisation, see ``quantize``; under the temporary directory where the
version's folder is read-only) and rebuilt when the weights are newer than it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("logits", "score")


def export(model: torch.nn.Module, tokenizer, path: str | Path, *, outputs: tuple[str, ...] = OUTPUTS) -> Path:
    """Write ``model`` as ONNX with dynamic batch and sequence axes (atomically: a crash leaves no half file)."""
    sample = tokenizer(["question [SEP] reference"], ["answer"], return_tensors="pt")
    encoder = getattr(model, "encoder", None)
    encoder = encoder if hasattr(encoder, "set_attn_implementation") else getattr(model, "model", None)
    attention = getattr(getattr(encoder, "config", None), "_attn_implementation", None)
    if attention not in (None, "eager"):
        # Traced from the plain attention ops, ORT runs the model faster than from PyTorch's fused SDPA
        # (measured: 56 against 42 answers/s batched, 14 against 16 ms per answer at p50).
        encoder.set_attn_implementation("eager")
    try:
        return export_module(
            model, tuple(sample[name] for name in INPUTS), path, input_names=list(INPUTS), output_names=list(outputs),
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in INPUTS} | {n: {0: "batch"} for n in outputs})
    finally:
        if attention not in (None, "eager"):
            encoder.set_attn_implementation(attention)


def export_module(module: torch.nn.Module, args: tuple, path: str | Path, *, input_names: list[str],
                  output_names: list[str], dynamic_axes: dict) -> Path:
    """Trace ``module`` on ``args`` in eval mode and write it as ONNX, atomically."""
    path = Path(path)
    was_training = module.training
    module.eval()
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings():
            # The TorchScript-based exporter is deprecated in favour of dynamo's, which needs onnxscript
            # and cannot yet export this model's SDPA attention with dynamic shapes.
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, tmp, input_names=input_names, output_names=output_names,
                              dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from workers running as another user
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        module.train(was_training)
    return path


def cached_export(write, path: str | Path, *, weights: str | Path | None, int8: bool) -> Path:
    """``path``, written by ``write(path)`` (an export; under the temporary directory where its folder is
    read-only), or its int8 twin (``quantize``), each rebuilt only when older than what it is made from."""
    path = _writable(Path(path).parent) / Path(path).name
    if _stale(path, Path(weights) if weights else None):
        write(path)
    if not int8:
        return path
    quantized = path.with_name(path.stem + QUANTIZED_SUFFIX)
    if _stale(quantized, path):
        quantize(path, quantized)
    return quantized


def run_session(path: str | Path, num_threads: int = 0):
    """A function running an ONNX model on torch tensors (inputs in the graph's order), returning torch
    tensors: one, or a tuple where the graph has several outputs."""
    session = _session(Path(path), num_threads)
    inputs = [i.name for i in session.get_inputs()]
    kinds = {i.name: np.int64 if "int64" in i.type else np.float32 for i in session.get_inputs()}

    def run(*args):
        outputs = session.run(None, {name: np.asarray(value.cpu(), dtype=kinds[name]) for name, value in zip(inputs, args)})
        tensors = tuple(torch.from_numpy(output) for output in outputs)
        return tensors[0] if len(tensors) == 1 else tensors

    return run


# Each layer's attention-output and feed-forward-output projections, the two that write into the residual
# stream. ``quantize`` kept them in fp32 from session 8 to session 20: chosen on grader-minilm-v2's validation
# questions (1,055 answers, never trained on) as the variant whose verdicts agreed most with fp32 (97.6 %
# against 95.6 % for every weight in int8), and with 8-bit weights every weight in int8 cost SAF English 1.6
# points of macro-F1 (session 20). With 7-bit weights (below) it does not: since session 21 every weight is
# int8 (see ``quantize``); the pattern stays for ``benchmarks/int8_variants.py``.
# Their nodes are named ".../output/dense/MatMul" in the whole model's export; in prefix_cache.py's passes,
# which call each layer's parts themselves, "/output/dense_N/MatMul".
RESIDUAL_PROJECTIONS = re.compile(r"output/dense(_\d+)?/MatMul$")
# Every weight int8 and 7-bit since session 21; a file left by an older release (8-bit weights,
# "grader.int8-mixed.onnx") is not read.
QUANTIZED_SUFFIX = ".int8-7bit.onnx"
QUANTIZED_FILE = "grader" + QUANTIZED_SUFFIX


def full_precision_nodes(path: str | Path, pattern: re.Pattern | None) -> list[str]:
    """The MatMul nodes of an exported grader whose names match ``pattern`` (none for ``None``)."""
    import onnx

    if pattern is None:
        return []
    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul" and pattern.search(n.name)]


def quantize(source: str | Path, target: str | Path, *, reduce_range: bool = True,
             unsigned_weights: bool = False, full_precision: re.Pattern | None = None) -> Path:
    """ONNX Runtime's dynamic int8 quantisation (per-channel weight scales) of an exported grader: every
    weight matrix but those ``full_precision`` names (e.g. ``RESIDUAL_PROJECTIONS``), which stay fp32.

    ``reduce_range`` (the product's default since session 21) keeps the int8 weights within 7 bits. ORT
    multiplies uint8 activations by int8 weights; on CPUs without VNNI (AVX2 only) its kernels add pairs of
    those products into 16-bit integers, which full-range weights can saturate (2 x 255 x 127 > 32767) and
    7-bit ones cannot (2 x 255 x 64 < 32767): with 8-bit weights (and the residual projections in fp32)
    grader-minilm-v3's SciEntsBank macro-F1 was 1 point lower on an AVX2-only CPU than with VNNI; with 7-bit
    ones the two CPUs gave the same verdicts. Every weight in int8 with 7 bits stays within half a point of
    fp32's macro-F1 on every split and runs about 1.3 times as fast as the residual projections in fp32
    (grading README, "Serving on ONNX Runtime"). ``unsigned_weights`` (uint8 x uint8 kernels) is ORT's
    other remedy for AVX2. ``benchmarks/int8_variants.py`` measures the variants."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = Path(target)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        quantize_dynamic(str(source), tmp, weight_type=QuantType.QUInt8 if unsigned_weights else QuantType.QInt8,
                         per_channel=True, reduce_range=reduce_range, nodes_to_exclude=full_precision_nodes(source, full_precision))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _writable(cache_dir: Path) -> Path:
    """``cache_dir``, or a folder of its own under the temporary directory where it is read-only."""
    if os.access(cache_dir, os.W_OK):
        return cache_dir
    digest = hashlib.sha1(str(cache_dir.resolve()).encode()).hexdigest()[:16]
    fallback = Path(tempfile.gettempdir()) / "tutor-onnx" / digest
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _stale(path: Path, weights: Path | None) -> bool:
    if not path.exists():
        return True
    return weights is not None and weights.exists() and weights.stat().st_mtime > path.stat().st_mtime


def _session(path: Path, num_threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle threads sleep instead of spinning: with the grader and the encoder (alignment.py) taking turns
    # on 2 cores, spinning threads of one session slowed the other (one answer to a new question at p50:
    # 25 ms without spinning, 35-52 ms with); the grader alone is as fast either way.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(session, input_ids, attention_mask, token_type_ids) -> dict:
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
    names = {i.name for i in session.get_inputs()}
    return {name: np.asarray(value.cpu(), dtype=np.int64) for name, value in feed.items() if name in names}


class _LastHiddenState(torch.nn.Module):
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state


class OnnxEncoder:
    """A pretrained sentence encoder (the embedder's MiniLM) on ONNX Runtime: token ids in, last hidden
    states out. Used by the alignment features (alignment.py) beside an ONNX grader, so that one answer
    is not served by two runtimes whose idle threads get in each other's way."""

    FILE = "encoder.onnx"

    def __init__(self, path: str | Path, *, num_threads: int = 0):
        self.path = Path(path)
        self.session = _session(self.path, num_threads)

    @classmethod
    def for_model(cls, model: torch.nn.Module, tokenizer, *, cache_dir: str | Path, num_threads: int = 0):
        path = _writable(Path(cache_dir)) / cls.FILE
        if not path.exists():
            # The wrapper takes the model's mode, so the export leaves the shared embedder as it found it.
            export(_LastHiddenState(model).train(model.training), tokenizer, path, outputs=("last_hidden_state",))
        return cls(path, num_threads=num_threads)

    def __call__(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        (hidden,) = self.session.run(["last_hidden_state"], _feed(self.session, input_ids, attention_mask,
                                                                  token_type_ids))
        return torch.from_numpy(hidden)


class ServingOnly:
    """A grader that only grades: ``eval()`` is itself, ``train()`` is refused (``forward_pairs`` calls both)."""

    training = False
    kind = "this grader"

    def eval(self):
        return self

    def train(self, mode: bool = True):
        if mode:
            raise RuntimeError(f"{self.kind} serves only; train the PyTorch model")
        return self


class OnnxGrader(ServingOnly):
    """Called like ``CrossEncoderGrader`` (torch tensors in, ``(logits, scores)`` out), so
    ``inference.forward_pairs`` serves either. Inference only."""

    kind = "an ONNX Runtime grader"

    def __init__(self, path: str | Path, *, num_threads: int = 0):
        self.path = Path(path)
        self.session = _session(self.path, num_threads)

    @classmethod
    def for_model(
        cls, model: torch.nn.Module, tokenizer, *, cache_dir: str | Path, weights: str | Path | None = None,
        int8: bool = False, num_threads: int = 0,
    ) -> "OnnxGrader":
        """The ONNX twin of ``model`` (``grader.onnx``, or ``QUANTIZED_FILE`` with ``int8``), exported into
        ``cache_dir`` unless an export newer than ``weights`` is there."""
        path = cached_export(lambda target: export(model, tokenizer, target), Path(cache_dir) / "grader.onnx",
                             weights=weights, int8=int8)
        return cls(path, num_threads=num_threads)

    def __call__(self, input_ids, attention_mask, token_type_ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        logits, scores = self.session.run(list(OUTPUTS), _feed(self.session, input_ids, attention_mask,
                                                                token_type_ids))
        return torch.from_numpy(logits), torch.from_numpy(scores)
