"""Temperature scaling (Guo et al. 2017): one scalar T fitted on validation logits by NLL."""

from __future__ import annotations

import torch

from ..metrics import expected_calibration_error

NEG = -1e4  # logit given to classes a source does not use


def masked(logits: torch.Tensor, allowed: torch.Tensor | None) -> torch.Tensor:
    if allowed is None:
        return logits
    return logits.masked_fill(~allowed, NEG)


def nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0, allowed=None) -> float:
    scaled = masked(logits.float(), allowed) / temperature
    return float(torch.nn.functional.cross_entropy(scaled, labels))


def fit_temperature(
    logits: torch.Tensor, labels: torch.Tensor, allowed: torch.Tensor | None = None, *, max_iter: int = 200
) -> float:
    """The T > 0 minimising validation NLL of softmax(logits / T); 1.0 when there is nothing to fit."""
    logits = masked(logits.detach().float(), allowed)
    keep = labels >= 0
    logits, labels = logits[keep], labels[keep]
    if len(labels) == 0:
        return 1.0
    log_t = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimiser.step(closure)
    temperature = float(log_t.detach().exp())
    return min(max(temperature, 0.05), 20.0)


def calibration_report(logits: torch.Tensor, labels: torch.Tensor, temperature: float, allowed=None) -> dict:
    """NLL and ECE before and after scaling, on items that have a verdict."""
    keep = labels >= 0
    logits, labels = logits[keep].float(), labels[keep]
    allowed = allowed[keep] if allowed is not None else None
    out = {"temperature": temperature, "n": int(len(labels))}
    for name, t in (("before", 1.0), ("after", temperature)):
        probs = torch.softmax(masked(logits, allowed) / t, dim=-1)
        conf, pred = probs.max(-1)
        out[f"nll_{name}"] = nll(logits, labels, t, allowed) if len(labels) else float("nan")
        out[f"ece_{name}"] = expected_calibration_error(conf.tolist(), (pred == labels).tolist())
    return out
