"""Batched forward passes and the combination of several reference answers per item."""

from __future__ import annotations

import torch

from .calibration import masked
from .dataset import PairCollator, PairExample


def length_order(pairs: list[PairExample]) -> list[int]:
    """The order ``forward_pairs`` runs pairs in: by length, so each batch pads little."""
    return sorted(range(len(pairs)), key=lambda i: len(pairs[i].text_a) + len(pairs[i].text_b))


@torch.no_grad()
def forward_pairs(
    model, tokenizer, pairs: list[PairExample], *, batch_size: int, max_length: int, device: str = "cpu",
    truncation: str = "longest_first",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw verdict logits [N, 4] and scores [N] for pairs, in their order.

    Pairs are processed sorted by length so each batch pads little, then put back in order.
    """
    was_training = model.training
    model.eval()
    collate = PairCollator(tokenizer, max_length, truncation=truncation)
    order = length_order(pairs)
    logits = torch.empty(len(pairs), 4)
    scores = torch.empty(len(pairs))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = collate([pairs[i] for i in idx])
        inputs = {k: batch[k].to(device) for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
        out_logits, out_scores = model(**inputs)
        logits[idx] = out_logits.float().cpu()
        scores[idx] = out_scores.float().cpu()
    if was_training:
        model.train()
    return logits, scores


def aggregate(
    pairs: list[PairExample], logits: torch.Tensor, scores: torch.Tensor, n_items: int, *, mode: str, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per item: (probabilities [n, 4] over its allowed classes, score [n], allowed mask [n, 4]).

    ``max_score`` keeps the reference pair with the highest predicted score; ``mean`` averages
    probabilities and scores over an item's pairs; single-pair modes just pass through.
    """
    allowed = torch.tensor([p.allowed for p in pairs], dtype=torch.bool)
    # Items whose source uses no verdict (Mohler) still get a verdict over all classes.
    allowed[~allowed.any(-1)] = True
    probs = torch.softmax(masked(logits, allowed) / temperature, dim=-1)
    groups = torch.tensor([p.group for p in pairs], dtype=torch.long)
    out_probs = torch.zeros(n_items, logits.shape[1])
    out_scores = torch.zeros(n_items)
    out_allowed = torch.zeros(n_items, logits.shape[1], dtype=torch.bool)
    if mode == "mean":
        counts = torch.zeros(n_items).index_add_(0, groups, torch.ones(len(pairs)))
        out_probs.index_add_(0, groups, probs)
        out_scores.index_add_(0, groups, scores)
        out_probs /= counts.clamp(min=1).unsqueeze(-1)
        out_scores /= counts.clamp(min=1)
    else:
        best = torch.full((n_items,), -1.0)
        for i in range(len(pairs)):
            g = int(groups[i])
            if scores[i] > best[g]:
                best[g] = scores[i]
                out_probs[g] = probs[i]
                out_scores[g] = scores[i]
    out_allowed[groups] = allowed
    return out_probs, out_scores, out_allowed
