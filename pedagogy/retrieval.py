"""The course's question-answering engine, built from its resources and kept per process.

``course_qa_engine(course=...)`` returns a :class:`tutor.ml.retrieval.QAEngine` over the
course's readings. The engine is cached per process and rebuilt when the resources change: every call compares the
course's ``domain_selectors.resource_version`` (one small aggregate query); when it moved, the
resources are read and rebuilt only if their ids, titles or bodies really changed.
Passage vectors are kept on disk under ``MODEL_DIR/qa/`` by text hash, so a rebuild, or a new
process, embeds only passages it has not seen.

A course-specific fine-tuned embedder, saved by ``manage.py build_qa_index --finetune`` when it
beat the pretrained one, is used when present (``MODEL_DIR/qa/embedder/<course slug>/``); so is
a course's trained re-ranker (``--train-reranker``; ``MODEL_DIR/qa/reranker/<course slug>/``,
installed from ``data/models/qa-reranker/`` by ``prepare_models``), loaded once per process.
"""

import hashlib
import logging
import threading
from dataclasses import replace
from pathlib import Path

from django.conf import settings

from domain import selectors as domain_selectors
from domain.models import Course
from tutor.ml.retrieval.chunking import Document
from tutor.ml.retrieval.cross_encoder import CrossEncoderScorer, is_reranker
from tutor.ml.retrieval.evaluate import DEFAULT_CONFIG, EngineConfig, build_engine
from tutor.ml.retrieval.embedder import get_embedder
from tutor.ml.retrieval.index import EmbeddingCache
from tutor.ml.retrieval.qa import QAEngine

_lock = threading.Lock()
_engines: dict[int, tuple[tuple, str, QAEngine]] = {}  # course id -> (version, fingerprint, engine)
_vector_cache: EmbeddingCache | None = None
_scorers: dict[str, CrossEncoderScorer | None] = {}
logger = logging.getLogger(__name__)


def qa_dir() -> Path:
    return Path(settings.MODEL_DIR) / "qa"


def embedder_dir(*, course: Course) -> Path:
    return qa_dir() / "embedder" / course.slug


def reranker_dir(*, course: Course) -> Path:
    return qa_dir() / "reranker" / course.slug


def course_cross_encoder(*, course: Course) -> CrossEncoderScorer | None:
    """The course's trained re-ranker (int8 unless ``TUTOR_QA_RERANKER_INT8`` is off), or None. A re-ranker
    that cannot be loaded (a damaged file) is logged and left out: the tutor still answers without it."""
    path = reranker_dir(course=course)
    if not is_reranker(path):
        return None
    key = str(path.resolve())
    if key not in _scorers:
        try:
            _scorers[key] = CrossEncoderScorer.load(path, int8=getattr(settings, "TUTOR_QA_RERANKER_INT8", True))
        except Exception:  # noqa: BLE001 - any damage to the files; answering matters more than re-ranking
            logger.exception("The re-ranker in %s cannot be loaded; answering without it", path)
            _scorers[key] = None
    return _scorers[key]


def engine_config() -> EngineConfig:
    """``DEFAULT_CONFIG`` with any overrides from the optional ``TUTOR_QA`` setting (a dict)."""
    return replace(DEFAULT_CONFIG, **getattr(settings, "TUTOR_QA", {}))


def _resource_rows(*, course: Course) -> list[tuple[int, str, str, str]]:
    return list(
        domain_selectors.resource_list_for_course(course=course).values_list("id", "external_id", "title", "body")
    )


def course_documents(*, course: Course) -> list[Document]:
    """The course's readings as documents; a resource without ``external_id`` is cited by its id."""
    return [
        Document(external_id or f"resource-{pk}", title, body, resource_id=pk)
        for pk, external_id, title, body in _resource_rows(course=course)
    ]


def _fingerprint(docs: list[Document]) -> str:
    digest = hashlib.sha1()
    for doc in docs:
        for part in (str(doc.resource_id), doc.external_id, doc.title, doc.markdown):
            digest.update(part.encode())
            digest.update(b"\0")
    return digest.hexdigest()


def vector_cache() -> EmbeddingCache:
    global _vector_cache
    if _vector_cache is None:
        _vector_cache = EmbeddingCache.load(qa_dir() / "vectors.npz")
    return _vector_cache


def course_embedder(*, course: Course):
    path = embedder_dir(course=course)
    return get_embedder(path if (path / "config.json").exists() else None)


def course_qa_engine(*, course: Course) -> QAEngine:
    version = domain_selectors.resource_version(course=course)
    cached = _engines.get(course.pk)
    if cached and cached[0] == version:
        return cached[2]
    with _lock:
        cached = _engines.get(course.pk)
        if cached and cached[0] == version:
            return cached[2]
        docs = course_documents(course=course)
        fingerprint = _fingerprint(docs)
        if cached and cached[1] == fingerprint:
            engine = cached[2]
        else:
            cache = vector_cache()
            known = len(cache)
            engine = build_engine(
                docs, embedder=course_embedder(course=course), config=engine_config(), cache=cache,
                cross_encoder=course_cross_encoder(course=course),
            )
            if len(cache) > known:
                cache.save(qa_dir() / "vectors.npz")
        _engines[course.pk] = (version, fingerprint, engine)
        return engine


def clear_engines() -> None:
    """Forget the per-process engines (tests, or after replacing an embedder on disk)."""
    global _vector_cache
    with _lock:
        _engines.clear()
        _scorers.clear()
        _vector_cache = None
