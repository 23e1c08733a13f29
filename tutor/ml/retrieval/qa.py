"""Answering a question: retrieve, re-rank, quote the best sentences, cite, or admit doubt."""

from dataclasses import dataclass, field

import numpy as np

from .index import Hit, PassageIndex
from .rerank import Reranker


@dataclass(frozen=True)
class Citation:
    external_id: str
    title: str
    section: str
    anchor: str
    score: float
    resource_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "resource_id": self.resource_id,
            "external_id": self.external_id,
            "title": self.title,
            "section": self.section,
            "anchor": self.anchor,
            "score": round(self.score, 4),
        }


@dataclass
class Answer:
    question: str
    text: str  # the quoted sentences ("" when unsure)
    confidence: float  # cosine of the question and the best quoted sentence / passage
    unsure: bool
    citations: list[Citation] = field(default_factory=list)  # distinct resources, best first

    @property
    def cited_ids(self) -> list[str]:
        return [c.external_id for c in self.citations]

    def as_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "unsure": self.unsure,
            "citations": [c.as_dict() for c in self.citations],
        }


class QAEngine:
    """``answer(question)``: the best 1-3 sentences of the best passage and the resources cited.

    ``threshold`` applies to the confidence (a cosine similarity); below it the answer is
    marked unsure and carries no quoted text, only the closest sections as citations.
    """

    def __init__(
        self,
        index: PassageIndex,
        *,
        mode: str = "hybrid",
        reranker: Reranker | None = None,
        candidates: int = 30,
        threshold: float = 0.35,
        max_citations: int = 3,
        max_sentences: int = 3,
    ):
        self.index = index
        self.mode = mode
        self.reranker = reranker
        self.candidates = candidates
        self.threshold = threshold
        self.max_citations = max_citations
        self.max_sentences = max_sentences

    def ranked(self, question: str, *, query_vector: np.ndarray | None = None) -> tuple[np.ndarray, list[Hit]]:
        """``query_vector``: the question already embedded by ``self.index.embedder`` (saves encoding it twice)."""
        q = query_vector if query_vector is not None else self.index.embedder.encode([question])[0]
        hits = self.index.search(question, k=self.candidates, mode=self.mode, query_vector=q)
        if self.reranker is not None:
            hits = self.reranker.rerank(question, q, hits, self.index)
        return q, hits

    def answer(self, question: str, *, query_vector: np.ndarray | None = None) -> Answer:
        q, hits = self.ranked(question, query_vector=query_vector)
        if not hits:
            return Answer(question, "", 0.0, True, [])
        citations = self._citations(hits)
        best = hits[0]
        sims = self.index.sentence_vectors_of(self.index.position(best.passage)) @ q
        chosen = self._pick_sentences(sims)
        confidence = max(best.dense, float(sims.max()))
        unsure = confidence < self.threshold
        text = "" if unsure else " ".join(best.passage.sentences[i] for i in chosen)
        return Answer(question, text, confidence, unsure, citations)

    def _citations(self, hits: list[Hit]) -> list[Citation]:
        seen: dict[str, Citation] = {}
        for hit in hits:
            p = hit.passage
            if p.external_id not in seen:
                seen[p.external_id] = Citation(p.external_id, p.title, p.section, p.anchor, hit.score, p.resource_id)
        return list(seen.values())[: self.max_citations]

    def _pick_sentences(self, sims: np.ndarray) -> list[int]:
        """The best sentence, grown with neighbours that match almost as well (in text order)."""
        best = int(np.argmax(sims))
        chosen = [best]
        floor = sims[best] - 0.15
        while len(chosen) < self.max_sentences:
            left, right = chosen[0] - 1, chosen[-1] + 1
            options = [i for i in (left, right) if 0 <= i < len(sims) and sims[i] >= floor]
            if not options:
                break
            nxt = max(options, key=lambda i: sims[i])
            chosen = sorted(chosen + [nxt])
        return chosen
