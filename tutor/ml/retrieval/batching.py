"""Shared batches for the chat's query embeddings.

Many students asking at once each need one short sentence embedded. One forward pass over a
batch of sentences costs little more than over one, so concurrent requests (from the chat's
worker threads) are gathered by a single encoding thread: the first request waits at most
``max_wait_s`` for company, then the whole batch is encoded and every caller gets its rows.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class BatchingConfig:
    max_batch: int = 64  # sentences per forward pass
    max_wait_s: float = 0.003  # how long the first request of a batch waits for others


class BatchingEncoder:
    def __init__(self, encoder: Encoder, config: BatchingConfig | None = None):
        self.encoder = encoder
        self.config = config or BatchingConfig()
        self._requests: queue.Queue[tuple[list[str], Future]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts``, as ``encoder.encode`` would return them (blocks the caller)."""
        if not texts:
            return self.encoder.encode(texts)
        self._ensure_worker()
        future: Future = Future()
        self._requests.put((list(texts), future))
        return future.result()

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="query-encoder", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            batch = [self._requests.get()]
            size = len(batch[0][0])
            while size < self.config.max_batch:
                try:
                    item = self._requests.get(timeout=self.config.max_wait_s)
                except queue.Empty:
                    break
                batch.append(item)
                size += len(item[0])
            texts = [text for item_texts, _ in batch for text in item_texts]
            try:
                vectors = self.encoder.encode(texts)
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for _, future in batch:
                    future.set_exception(exc)
                continue
            start = 0
            for item_texts, future in batch:
                future.set_result(vectors[start : start + len(item_texts)])
                start += len(item_texts)
