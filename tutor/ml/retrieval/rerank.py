"""Re-ranking the index's top candidates.

A reranker takes the query and the candidate hits and returns them re-scored, best first.
A trained relevance cross-encoder can slot in behind the same interface; until the project
has one, :class:`SentenceReranker` uses the embedder at sentence level: a passage whose best
sentence matches the question closely moves up, which favours the passage that actually
states the answer over one that is merely about the same topic.
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
