"""A passage index: dense cosine over MiniLM vectors, optionally mixed with TF-IDF."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .chunking import Passage
from .embedder import Embedder


class EmbeddingCache:
    """Vectors by (weights, text hash), so rebuilding an index after one resource changed
    re-embeds only that resource's passages. ``save``/``load`` keep it across processes."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._vectors)
        vectors = np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, keys=np.array(["\t".join(k) for k in keys]), vectors=vectors)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "EmbeddingCache":
        cache = cls()
        path = Path(path)
        if path.exists():
            with np.load(path) as data:
                for key, vector in zip(data["keys"], data["vectors"]):
                    weights, digest = str(key).rsplit("\t", 1)
                    cache._vectors[(weights, digest)] = vector
        return cache

    def encode(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        key = embedder.key
        hashes = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = sorted({h: t for h, t in zip(hashes, texts) if (key, h) not in self._vectors}.items())
        if missing:
            vectors = embedder.encode([t for _, t in missing])
            for (h, _), v in zip(missing, vectors):
                self._vectors[(key, h)] = v
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[(key, h)] for h in hashes])


@dataclass
class Hit:
    passage: Passage
    score: float  # the score used for ranking (mode-dependent)
    dense: float  # cosine similarity of query and passage


class PassageIndex:
    def __init__(
        self,
        passages: list[Passage],
        embedder: Embedder,
        *,
        cache: EmbeddingCache | None = None,
        lexical_weight: float = 0.3,
    ):
        self.passages = passages
        self.embedder = embedder
        self.lexical_weight = lexical_weight
        cache = cache if cache is not None else EmbeddingCache()
        self.vectors = cache.encode(embedder, [p.embedding_text for p in passages])
        # Sentence vectors, for the sentence re-ranker and for picking answer sentences.
        self.sentence_offsets = np.cumsum([0] + [len(p.sentences) for p in passages])
        self.sentence_vectors = cache.encode(embedder, [s for p in passages for s in p.sentences])
        self.tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, token_pattern=r"(?u)\b\w+\b")
        self.lexical = self.tfidf.fit_transform([p.embedding_text for p in passages]) if passages else None
        self._positions = {id(p): i for i, p in enumerate(passages)}

    def __len__(self) -> int:
        return len(self.passages)

    def sentence_vectors_of(self, i: int) -> np.ndarray:
        return self.sentence_vectors[self.sentence_offsets[i] : self.sentence_offsets[i + 1]]

    def search(self, query: str, *, k: int = 20, mode: str = "hybrid", query_vector: np.ndarray | None = None) -> list[Hit]:
        """Top ``k`` passages for ``query``; ``mode`` is ``dense`` or ``hybrid`` (dense + weighted TF-IDF)."""
        if not self.passages:
            return []
        q = self.embedder.encode([query])[0] if query_vector is None else query_vector
        dense = self.vectors @ q
        score = dense
        if mode == "hybrid":
            lexical = (self.lexical @ self.tfidf.transform([query]).T).toarray().ravel()
            score = dense + self.lexical_weight * lexical
        elif mode != "dense":
            raise ValueError(f"unknown mode {mode!r}")
        top = np.argsort(-score)[:k]
        return [Hit(self.passages[i], float(score[i]), float(dense[i])) for i in top]

    def position(self, passage: Passage) -> int:
        return self._positions[id(passage)]
