"""Grading with segment A computed once per question: the serving side of ``attention="prefix"``.

A grader trained with prefix attention (``model.prefix_attention_mask``) never lets the question and
reference (segment A) read the student's answer (segment B). Their keys and values at every layer are
then the same for every answer to the question, so they are computed once and kept (``PrefixStates``),
and each answer runs only its own tokens through the layers, attending to the kept keys and values
(``AnswerPass``). The result equals the full forward pass with the prefix mask (within float rounding).

An answer costs its own tokens (about 15 on SciEntsBank) rather than the whole pair (about 85, most of
it the question): measured on 2 cores, int8, about twice the answers per second (see the grading README).

    grader = PrefixCachedGrader.for_model(model)                      # PyTorch
    grader = PrefixCachedGrader.for_onnx(model, cache_dir=..., int8=True)  # ONNX Runtime
    logits, scores = grader(input_ids=..., attention_mask=..., token_type_ids=...)  # like CrossEncoderGrader
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from .onnx_backend import ServingOnly, cached_export, export_module, run_session

PREFIX_FILE = "grader-prefix.onnx"
ANSWER_FILE = "grader-answer.onnx"


def _additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[N, K] 0/1 key mask -> [N, 1, 1, K] additive mask (0 where attended, a large negative elsewhere)."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _attend(layer, hidden: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, key_mask: torch.Tensor):
    """One BERT layer for ``hidden``'s tokens, attending to ``keys``/``values`` (computed by the caller)."""
    attention = layer.attention.self
    batch, length, _ = hidden.shape
    heads, size = attention.num_attention_heads, attention.attention_head_size

    def split(states):
        return states.view(batch, -1, heads, size).transpose(1, 2)

    weights = torch.matmul(split(attention.query(hidden)), split(keys).transpose(-1, -2)) * attention.scaling
    weights = (weights + _additive_mask(key_mask, weights.dtype)).softmax(-1)
    context = torch.matmul(weights, split(values)).transpose(1, 2).reshape(batch, length, heads * size)
    hidden = layer.attention.output(context, hidden)
    return layer.output(layer.intermediate(hidden), hidden)


class PrefixStates(nn.Module):
    """Segment A alone (``[CLS] question [SEP] reference [SEP]``) -> its keys and values at every layer,
    [N, layers, 2, tokens, hidden]."""

    def __init__(self, grader: nn.Module):
        super().__init__()
        self.encoder = grader.encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        layers = self.encoder.encoder.layer
        states = []
        for index, layer in enumerate(layers):
            keys, values = layer.attention.self.key(hidden), layer.attention.self.value(hidden)
            states.append(torch.stack([keys, values], 1))
            if index + 1 < len(layers):  # the last layer's output of segment A is never read
                hidden = _attend(layer, hidden, keys, values, attention_mask)
        return torch.stack(states, 1)


class AnswerPass(nn.Module):
    """The answer's tokens (segment B, ``answer [SEP]``) through every layer, attending to segment A's
    kept keys and values and to each other; mean-pooled over the answer; the grader's two heads."""

    def __init__(self, grader: nn.Module):
        super().__init__()
        self.grader = grader

    def forward(self, input_ids, attention_mask, position_ids, prefix_states, prefix_mask):
        encoder = self.grader.encoder
        hidden = encoder.embeddings(input_ids=input_ids, token_type_ids=torch.ones_like(input_ids),
                                    position_ids=position_ids)
        key_mask = torch.cat([prefix_mask, attention_mask], 1)
        for index, layer in enumerate(encoder.encoder.layer):
            keys = torch.cat([prefix_states[:, index, 0], layer.attention.self.key(hidden)], 1)
            values = torch.cat([prefix_states[:, index, 1], layer.attention.self.value(hidden)], 1)
            hidden = _attend(layer, hidden, keys, values, key_mask)
        return self.grader.heads(self.grader.pool(hidden, attention_mask))


class PrefixCachedGrader(ServingOnly):
    """Called like ``CrossEncoderGrader`` (the pair's ``input_ids``, ``attention_mask``,
    ``token_type_ids`` as the collator makes them), so ``inference.forward_pairs`` serves it. Splits each
    pair into its segments, computes each distinct segment A once and runs the answers. Segments A are kept,
    the least recently used dropped first, within ``cache_bytes`` (128 MiB: about 100 SciEntsBank questions,
    40 of SAF's long ones). Inference only."""

    kind = "a prefix-cached grader"

    def __init__(self, prefix_pass, answer_pass, *, max_position: int, cache_bytes: int = 128 * 2**20):
        self.prefix_pass = prefix_pass  # token ids of segments A -> their keys and values (PrefixStates)
        self.answer_pass = answer_pass  # the answers' tokens and their segments A -> (logits, scores) (AnswerPass)
        self.max_position = max_position
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[int, ...], torch.Tensor] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    @classmethod
    def for_model(cls, model: nn.Module, **options) -> "PrefixCachedGrader":
        """The PyTorch modules of a prefix-attention grader, sharing its weights."""
        _check(model)
        prefix, answer = PrefixStates(model).train(model.training), AnswerPass(model).train(model.training)
        return cls(_no_grad(prefix.eval()), _no_grad(answer.eval()), max_position=_max_position(model), **options)

    @classmethod
    def for_onnx(cls, model: nn.Module, *, cache_dir: str | Path, weights: str | Path | None = None,
                 int8: bool = False, num_threads: int = 0, **options) -> "PrefixCachedGrader":
        """Both passes on ONNX Runtime, exported into ``cache_dir`` (beside the version) unless exports
        newer than ``weights`` are there; ``int8`` quantises them as ``onnx_backend.quantize`` does."""
        _check(model)
        hidden_size = model.encoder.config.hidden_size
        layers = model.encoder.config.num_hidden_layers
        ids = torch.tensor([[101, 2054, 102]])
        prefix_args = (ids, torch.ones_like(ids))
        # an answer of 3 tokens after a segment A of 4
        answer_args = (ids, torch.ones_like(ids), torch.arange(4, 7)[None], torch.zeros(1, layers, 2, 4, hidden_size),
                       torch.ones(1, 4, dtype=torch.long))
        tokens = {0: "batch", 1: "tokens"}
        # the modules take the model's mode, so the export leaves the model as it found it
        prefix_states, answer_pass = PrefixStates(model).train(model.training), AnswerPass(model).train(model.training)
        prefix = cached_export(
            lambda path: export_module(
                prefix_states, prefix_args, path, input_names=["input_ids", "attention_mask"],
                output_names=["prefix_states"],
                dynamic_axes={"input_ids": tokens, "attention_mask": tokens, "prefix_states": {0: "batch", 3: "tokens"}}),
            Path(cache_dir) / PREFIX_FILE, weights=weights, int8=int8)
        answer = cached_export(
            lambda path: export_module(
                answer_pass, answer_args, path,
                input_names=["input_ids", "attention_mask", "position_ids", "prefix_states", "prefix_mask"],
                output_names=["logits", "score"],
                dynamic_axes={"input_ids": tokens, "attention_mask": tokens, "position_ids": tokens,
                              "prefix_states": {0: "batch", 3: "prefix_tokens"},
                              "prefix_mask": {0: "batch", 1: "prefix_tokens"},
                              "logits": {0: "batch"}, "score": {0: "batch"}}),
            Path(cache_dir) / ANSWER_FILE, weights=weights, int8=int8)
        return cls(run_session(prefix, num_threads), run_session(answer, num_threads),
                   max_position=_max_position(model), **options)

    def forget(self) -> None:
        """Drop every kept segment A (the benchmarks time questions new to the grader)."""
        with self._lock:
            self._cache.clear()
            self._cached_bytes = 0

    def __call__(self, input_ids, attention_mask, token_type_ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        if token_type_ids is None:
            raise ValueError("a prefix-cached grader needs token_type_ids to find the answer")
        valid = attention_mask.bool()
        prefix_lengths = (valid & ~token_type_ids.bool()).sum(1).tolist()
        answer_lengths = (valid & token_type_ids.bool()).sum(1).tolist()
        prefixes = [tuple(row[:n].tolist()) for row, n in zip(input_ids, prefix_lengths)]
        device = input_ids.device
        states = self._states(prefixes, device)
        rows = len(prefixes)
        width = max(answer_lengths)
        answer_ids = torch.zeros(rows, width, dtype=torch.long, device=device)
        answer_mask = torch.zeros(rows, width, dtype=torch.long, device=device)
        for row, (start, n) in enumerate(zip(prefix_lengths, answer_lengths)):
            answer_ids[row, :n] = input_ids[row, start:start + n]
            answer_mask[row, :n] = 1
        prefix_width = max(prefix_lengths)
        prefix_states = torch.zeros(rows, *states[0].shape[:2], prefix_width, states[0].shape[-1],
                                    dtype=states[0].dtype, device=device)
        prefix_mask = torch.zeros(rows, prefix_width, dtype=torch.long, device=device)
        for row, (state, n) in enumerate(zip(states, prefix_lengths)):
            prefix_states[row, :, :, :n] = state
            prefix_mask[row, :n] = 1
        # The answer's positions go on from where its segment A ended, as in the whole pair.
        position_ids = torch.tensor(prefix_lengths, device=device)[:, None] + torch.arange(width, device=device)[None]
        position_ids = position_ids.clamp(max=self.max_position)
        return self.answer_pass(answer_ids, answer_mask, position_ids, prefix_states, prefix_mask)

    def _states(self, prefixes: list[tuple[int, ...]], device: torch.device) -> list[torch.Tensor]:
        """Each prefix's [layers, 2, tokens, hidden] keys and values: kept ones, the rest computed in one batch."""
        with self._lock:
            found = {prefix: self._cache[prefix] for prefix in dict.fromkeys(prefixes) if prefix in self._cache}
            for prefix in found:
                self._cache.move_to_end(prefix)
        missing = [prefix for prefix in dict.fromkeys(prefixes) if prefix not in found]
        if missing:
            width = max(map(len, missing))
            ids = torch.zeros(len(missing), width, dtype=torch.long)
            mask = torch.zeros(len(missing), width, dtype=torch.long)
            for row, prefix in enumerate(missing):
                ids[row, :len(prefix)] = torch.tensor(prefix)
                mask[row, :len(prefix)] = 1
            computed = self.prefix_pass(ids.to(device), mask.to(device))
            with self._lock:
                for row, prefix in enumerate(missing):
                    found[prefix] = computed[row, :, :, :len(prefix)].clone()
                    if prefix not in self._cache:
                        self._cached_bytes += _size(found[prefix])
                    self._cache[prefix] = found[prefix]
                while self._cached_bytes > self.cache_bytes and self._cache:
                    self._cached_bytes -= _size(self._cache.popitem(last=False)[1])
        return [found[prefix] for prefix in prefixes]


def _size(states: torch.Tensor) -> int:
    return states.numel() * states.element_size()


def _max_position(model: nn.Module) -> int:
    # Padded positions past the model's table would index out of range; their tokens are masked anyway.
    return model.encoder.config.max_position_embeddings - 1


def _check(model: nn.Module) -> None:
    if getattr(model, "attention", "full") != "prefix":
        raise ValueError("only a grader trained with attention='prefix' can keep its segment A per question")
    layers = getattr(getattr(model.encoder, "encoder", None), "layer", None)
    if not layers or not hasattr(layers[0].attention.self, "key") or not hasattr(model.encoder, "embeddings"):
        raise ValueError("the prefix cache runs BERT-style encoders (MiniLM), not "
                         f"{type(model.encoder).__name__}")


def _no_grad(module: nn.Module):
    def run(*args):
        with torch.no_grad():
            return module(*args)

    return run
