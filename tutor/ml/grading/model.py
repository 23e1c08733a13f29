"""The cross-encoder grader: one Transformer over (question + reference, student answer).

Segment A is ``question [SEP] reference answer``, segment B the student's answer, so
attention can compare the answer with the reference token by token. Two heads share
the pooled vector: 4 verdict logits and a normalised score in [0, 1].

A saved model is a directory, loadable with no network:
    config.json         grader settings (labels, pooling, max_length, temperature, train config)
    model.safetensors   all weights (encoder + heads)
    encoder/            the encoder's Hugging Face config and the tokenizer
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .config import ATTENTIONS, LABELS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
ENCODER_DIR = "encoder"


def prefix_attention_mask(attention_mask: torch.Tensor, token_type_ids: torch.Tensor,
                          dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[B, 1, L, L] additive mask: every token sees the valid tokens of segment A, only segment B's tokens
    see B (0 where a query may attend, the dtype's minimum elsewhere; additive, so eager attention and
    SDPA read it alike).

    Segment A (question and reference) then reads nothing of the answer, so its states are the same for
    every answer to a question and can be computed once (``prefix_cache.py``)."""
    valid = attention_mask.bool()[:, None, :]
    query_in_b = token_type_ids.bool()[:, :, None]
    key_in_a = ~token_type_ids.bool()[:, None, :]
    allowed = (valid & (query_in_b | key_in_a))[:, None]
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, torch.finfo(dtype).min)


class CrossEncoderGrader(nn.Module):
    """``attention="prefix"`` (see ``prefix_attention_mask``) pools the answer's tokens only: those of
    segment A carry nothing of the answer."""

    def __init__(self, encoder: nn.Module, *, pooling: str = "mean", dropout: float = 0.1, attention: str = "full"):
        super().__init__()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', not {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.use_attention(attention)
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.verdict_head = nn.Linear(hidden, len(LABELS))
        self.score_head = nn.Linear(hidden, 1)

    def use_attention(self, attention: str) -> None:
        """Grade with ``attention`` from now on (the same weights can learn either mask)."""
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, not {attention!r}")
        if attention == "prefix":
            if self.pooling != "mean":
                raise ValueError("prefix attention pools the answer's tokens: it needs pooling='mean'")
            if getattr(self.encoder.config, "type_vocab_size", 0) < 2:
                raise ValueError("prefix attention finds the answer by its token types, which this encoder has not")
        self.attention = attention

    def pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (verdict logits [B, 4], normalised score in [0, 1] [B])."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        pool_mask = attention_mask
        if self.attention == "prefix":
            if token_type_ids is None:
                raise ValueError("prefix attention needs token_type_ids")
            dtype = self.encoder.get_input_embeddings().weight.dtype
            kwargs["attention_mask"] = prefix_attention_mask(attention_mask, token_type_ids, dtype)
            pool_mask = attention_mask * token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state
        return self.heads(self.pool(hidden, pool_mask))

    def heads(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(verdict logits, normalised score) of pooled vectors."""
        pooled = self.dropout(pooled)
        return self.verdict_head(pooled), torch.sigmoid(self.score_head(pooled).squeeze(-1))


def build_model(base_model: str | Path, *, pooling: str = "mean", dropout: float = 0.1, attention: str = "full"):
    """A fresh grader on pretrained encoder weights from a local directory (never the hub)."""
    from transformers import AutoModel, AutoTokenizer

    encoder = AutoModel.from_pretrained(str(base_model), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model), local_files_only=True)
    return CrossEncoderGrader(encoder, pooling=pooling, dropout=dropout, attention=attention), tokenizer


def save_model(model: CrossEncoderGrader, tokenizer, directory: str | Path, *, config: dict) -> Path:
    """Write weights, encoder config, tokenizer and ``config`` (grader settings) to ``directory``."""
    directory = Path(directory)
    (directory / ENCODER_DIR).mkdir(parents=True, exist_ok=True)
    model.encoder.config.save_pretrained(directory / ENCODER_DIR)
    tokenizer.save_pretrained(directory / ENCODER_DIR)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_NAME))
    full = {"labels": list(LABELS), "pooling": model.pooling, "attention": model.attention, **config}
    (directory / CONFIG_NAME).write_text(json.dumps(full, indent=2, sort_keys=True))
    return directory


def read_config(directory: str | Path) -> dict:
    return json.loads((Path(directory) / CONFIG_NAME).read_text())


def load_model(directory: str | Path, *, device: str = "cpu"):
    """Load a saved grader: (model in eval mode, tokenizer, config dict). No download, no base weights."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    directory = Path(directory)
    config = read_config(directory)
    if list(config.get("labels", LABELS)) != list(LABELS):
        raise ValueError(f"{directory} was saved with labels {config['labels']}, expected {list(LABELS)}")
    encoder_config = AutoConfig.from_pretrained(str(directory / ENCODER_DIR), local_files_only=True)
    encoder = AutoModel.from_config(encoder_config)
    model = CrossEncoderGrader(encoder, pooling=config.get("pooling", "mean"), attention=config.get("attention", "full"))
    state = load_file(str(directory / WEIGHTS_NAME))
    model.load_state_dict(state)
    tokenizer = AutoTokenizer.from_pretrained(str(directory / ENCODER_DIR), local_files_only=True)
    return model.to(device).eval(), tokenizer, config
