"""Question answering over the Python course: retrieval variants compared on data/qa/.

    .venv/bin/python benchmarks/qa.py [--cache var/qa-bench-cache.npz] [--no-finetune] [--reranker DIR|none]

Prints one JSON object: for each variant (dense, hybrid, dense+rerank, hybrid+rerank, then the
trained cross-encoder on top of it, fp32 and int8, and the fine-tuned embedder) hit@1, hit@3, MRR
of the cited resources and warm answer latency, on the dev and test halves of data/qa/intro-python.jsonl, plus how often off-topic questions get an
"unsure" answer. The course text comes from data/demo/intro-python.course.json.gz when present,
else from the OpenStax book in shared/data. Defaults were tuned on the dev half only.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tutor.ml.retrieval.chunking import Document, chunk_documents  # noqa: E402
from tutor.ml.retrieval.embedder import Embedder  # noqa: E402
from tutor.ml.retrieval.evaluate import (  # noqa: E402
    DEFAULT_CONFIG,
    documents_from_book_plain,
    documents_from_course_file,
    evaluate_engine,
    load_questions,
)
from tutor.ml.retrieval.finetune import FinetuneConfig, course_pairs, finetune  # noqa: E402
from tutor.ml.retrieval.index import EmbeddingCache, PassageIndex  # noqa: E402
from tutor.ml.retrieval.qa import QAEngine  # noqa: E402
from tutor.ml.retrieval.cross_encoder import CrossEncoderReranker, CrossEncoderScorer  # noqa: E402
from tutor.ml.retrieval.rerank import ChainedReranker, SentenceReranker  # noqa: E402

DEMO = ROOT / "data" / "demo" / "intro-python.course.json.gz"
BOOK = ROOT.parent / "shared" / "data" / "content" / "openstax-intro-python"  # shared/ sits beside the checkout
QUESTIONS = ROOT / "data" / "qa" / "intro-python.jsonl"
OFFTOPIC = ROOT / "data" / "qa" / "intro-python-offtopic.jsonl"
SHIPPED_RERANKER = ROOT / "data" / "models" / "qa-reranker" / "intro-python"


def load_documents() -> tuple[str, list[Document]]:
    if DEMO.exists():
        return str(DEMO.relative_to(ROOT)), documents_from_course_file(DEMO)
    try:
        from tutor.ml.data.openstax import read_book

        book = read_book(BOOK)
        return str(BOOK), [Document(m.id, m.title, m.markdown) for ch in book.chapters for m in ch.modules]
    except ImportError:
        return str(BOOK / "book_plain.jsonl"), documents_from_book_plain(BOOK / "book_plain.jsonl")


def engine_for(index: PassageIndex, *, mode: str, rerank: bool, config=DEFAULT_CONFIG, cross_encoder=None) -> QAEngine:
    index.lexical_weight = config.lexical_weight
    reranker = SentenceReranker(config.rerank_weight) if rerank else None
    if cross_encoder is not None:
        reranker = ChainedReranker(reranker, CrossEncoderReranker(cross_encoder))
    return QAEngine(index, mode=mode, reranker=reranker, threshold=config.threshold)


def confidences(engine: QAEngine, questions: list[dict]) -> list[float]:
    return [engine.answer(row["q"]).confidence for row in questions]


def report(engine: QAEngine, splits: dict[str, list[dict]], offtopic: list[dict]) -> dict:
    out = {name: evaluate_engine(engine, rows) for name, rows in splits.items()}
    off = [engine.answer(row["q"]) for row in offtopic]
    out["offtopic_unsure_rate"] = round(sum(a.unsure for a in off) / max(len(off), 1), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", help="a .npz file keeping passage vectors between runs")
    parser.add_argument("--no-finetune", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--reranker", default=str(SHIPPED_RERANKER),
        help="a trained cross-encoder re-ranker (default: the shipped one; 'none' to leave it out)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    source, docs = load_documents()
    questions = load_questions(QUESTIONS)
    splits = {"dev": [r for r in questions if r.get("split") == "dev"], "test": [r for r in questions if r.get("split") == "test"]}
    offtopic = load_questions(OFFTOPIC)
    cache = EmbeddingCache.load(args.cache) if args.cache else EmbeddingCache()

    passages = chunk_documents(docs, size=DEFAULT_CONFIG.window, overlap=DEFAULT_CONFIG.overlap)
    embedder = Embedder()
    start = time.perf_counter()
    index = PassageIndex(passages, embedder, cache=cache)
    build_s = time.perf_counter() - start
    if args.cache:
        cache.save(args.cache)

    result = {
        "source": source,
        "resources": len(docs),
        "passages": len(passages),
        "questions": {k: len(v) for k, v in splits.items()},
        "offtopic_questions": len(offtopic),
        "config": DEFAULT_CONFIG.__dict__,
        "index_build_s": round(build_s, 1),
        "variants": {},
    }
    variants = {
        "dense": dict(mode="dense", rerank=False),
        "hybrid": dict(mode="hybrid", rerank=False),
        "dense+rerank": dict(mode="dense", rerank=True),
        "hybrid+rerank": dict(mode="hybrid", rerank=True),
    }
    for name, kwargs in variants.items():
        result["variants"][name] = report(engine_for(index, **kwargs), splits, offtopic)
    if args.reranker != "none":
        for int8 in (False, True):
            scorer = CrossEncoderScorer.load(args.reranker, int8=int8)
            name = "hybrid+rerank+cross-encoder" + (" int8" if int8 else "")
            result["variants"][name] = report(engine_for(index, mode="hybrid", rerank=True, cross_encoder=scorer), splits, offtopic)
    best = engine_for(index, mode="hybrid", rerank=True)
    result["confidence_quantiles"] = {
        "in_scope_dev": np.round(np.quantile(confidences(best, splits["dev"]), [0.05, 0.25, 0.5]), 3).tolist(),
        "offtopic": np.round(np.quantile(confidences(best, offtopic), [0.5, 0.75, 0.95]), 3).tolist(),
    }

    if not args.no_finetune:
        ft_config = FinetuneConfig()
        start = time.perf_counter()
        pairs = course_pairs(index.passages, embedder, vectors=index.vectors)
        info = finetune(embedder, pairs, ft_config)
        info["finetune_s"] = round(time.perf_counter() - start, 1)
        info["pairs_available"] = len(pairs)
        result["finetune"] = {**info, "config": ft_config.__dict__}
        ft_index = PassageIndex(passages, embedder, cache=cache)
        if args.cache:
            cache.save(args.cache)
        for name in ("dense", "hybrid+rerank"):
            kwargs = variants[name]
            result["variants"][f"finetuned {name}"] = report(engine_for(ft_index, **kwargs), splits, offtopic)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
