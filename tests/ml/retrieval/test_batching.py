"""Concurrent callers share forward passes and each gets exactly its own vectors."""

import threading

import numpy as np

from tutor.ml.retrieval.batching import BatchingConfig, BatchingEncoder
from tutor.ml.retrieval.embedder import get_embedder


class CountingEncoder:
    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def encode(self, texts):
        self.calls.append(len(texts))
        return self.inner.encode(texts)


def test_concurrent_requests_are_batched_and_answered_with_their_own_rows():
    embedder = get_embedder()
    counting = CountingEncoder(embedder)
    batching = BatchingEncoder(counting, BatchingConfig(max_batch=64, max_wait_s=0.2))
    texts = [f"how do I use a {word} in python" for word in ("list", "loop", "string", "dict", "function", "class")]
    results: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(texts))

    def ask(i):
        start.wait()
        results[i] = batching.encode([texts[i]])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(counting.calls) < len(texts)  # fewer forward passes than callers
    assert sum(counting.calls) == len(texts)
    expected = embedder.encode(texts)
    for i in range(len(texts)):
        assert results[i].shape == (1, embedder.dim)
        np.testing.assert_allclose(results[i][0], expected[i], atol=1e-4)


def test_an_encoder_error_reaches_the_caller():
    class Broken:
        def encode(self, texts):
            raise RuntimeError("no model")

    try:
        BatchingEncoder(Broken()).encode(["x"])
    except RuntimeError as exc:
        assert str(exc) == "no model"
    else:
        raise AssertionError("the error was swallowed")
