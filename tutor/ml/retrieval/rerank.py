"""Re-ranking the index's top candidates.

A reranker takes the query and the candidate hits and returns them re-scored, best first.
:class:`SentenceReranker` uses the embedder at sentence level: a passage whose best sentence
matches the question closely moves up, which favours the passage that actually states the answer
over one that is merely about the same topic. A course's trained relevance cross-encoder
(``cross_encoder.CrossEncoderReranker``) then re-scores the top few (``ChainedReranker``).
"""

from dataclasses import replace
from typing import Protocol

import numpy as np

from .index import Hit, PassageIndex


class Reranker(Protocol):
    def rerank(self, query: str, query_vector: np.ndarray, hits: list[Hit], index: PassageIndex) -> list[Hit]: ...


class SentenceReranker:
    def __init__(self, weight: float = 0.5):
        self.weight = weight

    def rerank(self, query: str, query_vector: np.ndarray, hits: list[Hit], index: PassageIndex) -> list[Hit]:
        rescored = []
        for hit in hits:
            sims = index.sentence_vectors_of(index.position(hit.passage)) @ query_vector
            best = float(sims.max()) if len(sims) else 0.0
            rescored.append(replace(hit, score=hit.score + self.weight * best))
        return sorted(rescored, key=lambda h: -h.score)


class ChainedReranker:
    """Rerankers applied in turn (the sentence-level one, then a cross-encoder on its top candidates)."""

    def __init__(self, *rerankers: Reranker):
        self.rerankers = rerankers

    def rerank(self, query: str, query_vector: np.ndarray, hits: list[Hit], index: PassageIndex) -> list[Hit]:
        for reranker in self.rerankers:
            hits = reranker.rerank(query, query_vector, hits, index)
        return hits
