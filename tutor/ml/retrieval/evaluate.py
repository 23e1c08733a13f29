"""Evaluating the tutor's answers: hit@1, hit@3 and MRR of the cited resources, and latency.

Works from plain Python on ``(external_id, title, markdown)`` triples; the ``evaluate_qa``
management command reads them from a course's resources and calls :func:`evaluate_engine`.
"""

import gzip
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import Document, chunk_documents
from .embedder import Embedder, get_embedder
from .index import EmbeddingCache, PassageIndex
from .qa import QAEngine
from .cross_encoder import CrossEncoderReranker, CrossEncoderScorer
from .rerank import ChainedReranker, SentenceReranker


@dataclass(frozen=True)
class EngineConfig:
    mode: str = "hybrid"  # "dense" or "hybrid"
    rerank: bool = True
    # Tuned on the dev half of data/qa/intro-python.jsonl (see benchmarks/qa.py).
    lexical_weight: float = 0.5
    rerank_weight: float = 0.5
    threshold: float = 0.4
    window: int = 4
    overlap: int = 1
    cross_encoder: bool = True  # re-rank with the course's trained cross-encoder, when it has one


DEFAULT_CONFIG = EngineConfig()


def build_engine(
    docs: Iterable[Document | tuple[str, str, str]],
    *,
    embedder: Embedder | None = None,
    config: EngineConfig = DEFAULT_CONFIG,
    cache: EmbeddingCache | None = None,
    cross_encoder: CrossEncoderScorer | None = None,
) -> QAEngine:
    """``cross_encoder``: a trained re-ranker, applied to the top candidates after the sentence-level one."""
    documents = [d if isinstance(d, Document) else Document(*d) for d in docs]
    passages = chunk_documents(documents, size=config.window, overlap=config.overlap)
    index = PassageIndex(
        passages, embedder or get_embedder(), cache=cache, lexical_weight=config.lexical_weight
    )
    rerankers = [SentenceReranker(config.rerank_weight)] if config.rerank else []
    if cross_encoder is not None and config.cross_encoder:
        rerankers.append(CrossEncoderReranker(cross_encoder))
    reranker = rerankers[0] if len(rerankers) == 1 else ChainedReranker(*rerankers) if rerankers else None
    return QAEngine(index, mode=config.mode, reranker=reranker, threshold=config.threshold)


def load_questions(path: str | Path, *, split: str | None = None) -> list[dict]:
    """JSONL lines ``{"q": ..., "gold": [external_id, ...]}``; ``split`` keeps lines with that ``split``.

    ``gold`` may be left out: such a question is one the readings do not answer (the tutor should say it
    is unsure). Raises ``ValueError`` naming the line of a malformed question."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(row, dict) or not isinstance(row.get("q"), str) or not row["q"].strip():
            raise ValueError(f'line {number} has no question: expected {{"q": "...", "gold": ["id", ...]}}')
        gold = row.get("gold")
        if gold is not None and (not isinstance(gold, list) or not all(isinstance(g, str) for g in gold)):
            raise ValueError(f'line {number}: "gold" must be a list of resource external ids')
        if split is None or row.get("split") == split:
            rows.append(row)
    return rows


def rank_metrics(ranked: list[list[str]], gold: list[list[str]]) -> dict:
    hit1 = hit3 = rr = 0.0
    for cited, ok in zip(ranked, gold):
        ranks = [i for i, rid in enumerate(cited) if rid in set(ok)]
        if ranks:
            first = ranks[0]
            hit1 += first == 0
            hit3 += first < 3
            rr += 1.0 / (first + 1)
    n = max(len(gold), 1)
    return {"hit_at_1": hit1 / n, "hit_at_3": hit3 / n, "mrr": rr / n}


def evaluate_engine(engine: QAEngine, questions: list[dict], *, warmup: int = 3) -> dict:
    """The figures of ``evaluate_qa``: ranking metrics over the cited resources of the questions with
    ``gold``, how often the questions without it get an "unsure" answer, and warm latency."""
    for row in questions[:warmup]:
        engine.answer(row["q"])
    ranked, gold, latencies = [], [], []
    unsure = unsure_without_gold = without_gold = 0
    for row in questions:
        start = time.perf_counter()
        answer = engine.answer(row["q"])
        latencies.append((time.perf_counter() - start) * 1000)
        if row.get("gold") is None:
            without_gold += 1
            unsure_without_gold += answer.unsure
            continue
        ranked.append(answer.cited_ids)
        gold.append(list(row["gold"]))
        unsure += answer.unsure
    metrics = rank_metrics(ranked, gold)
    result = {
        "n": len(gold),
        **{k: round(v, 4) for k, v in metrics.items()},
        "p50_ms": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
        "p95_ms": round(float(np.percentile(latencies, 95)), 2) if latencies else 0.0,
        "unsure_rate": round(unsure / max(len(gold), 1), 4),
    }
    if not gold:  # an off-topic set only: no ranking to report
        result = {k: v for k, v in result.items() if k not in ("hit_at_1", "hit_at_3", "mrr", "unsure_rate")}
    if without_gold:
        result["n_without_gold"] = without_gold
        result["unsure_rate_without_gold"] = round(unsure_without_gold / without_gold, 4)
    return result


def evaluate_documents(docs, questions: list[dict], **kwargs) -> dict:
    return evaluate_engine(build_engine(docs, **kwargs), questions)


def documents_from_course_file(path: str | Path) -> list[Document]:
    """Readings of a ``tutor-course`` file (``docs/course_format.md``), ``.json`` or ``.json.gz``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        course = json.load(fh)
    return [
        Document(r["external_id"], r["title"], r["body"])
        for r in course.get("resources", [])
        if r.get("body")
    ]


def documents_from_book_plain(path: str | Path) -> list[Document]:
    """The OpenStax ``book_plain.jsonl`` (module, title, plain text; no headings)."""
    docs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        docs.append(Document(row["module"], row["title"], row["text"].replace("\n", "\n\n")))
    return docs
