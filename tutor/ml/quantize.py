"""int8 dynamic quantisation of a model's linear layers, for CPU serving."""

import warnings

import torch


def int8_dynamic(model: torch.nn.Module) -> torch.nn.Module:
    """Linear layers with int8 weights (per-channel scales) and int8 activations computed on the fly.

    Per-channel weight scales: per-tensor int8 cost grader-minilm-v1 2-3 points of SciEntsBank macro-F1,
    per-channel stayed within half a point of fp32. grader-minilm-v2 still loses 2.2 points with it
    (Beetle 0.8, SAF gains 1), so on PyTorch the grader is served in fp32 by default (``GRADER_INT8``); ONNX
    Runtime's int8 (``grading/onnx_backend.quantize``) stays within half a point and is the default there."""
    with warnings.catch_warnings():
        # torch.ao dynamic quantisation still works in torch 2.13 but warns of its move to torchao.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
