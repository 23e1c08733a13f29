"""How much of the reference answer a student answer expresses: contextual word alignment.

Each word of the reference answer is matched with its most similar word of the answer, the words
being MiniLM's contextual vectors (mean of their word pieces), weighted by how specific they are in
general English (``wordfreq``: rare words count more, words like "the" not at all). Words of the
question are left out on both sides ("question demoting", Mohler et al. 2011; Sultan et al. 2016):
repeating the question earns nothing. This is BERTScore-style recall / precision / F1, computed
with the base all-MiniLM-L6-v2 encoder, so it needs no training and means the same on any course.

On Mohler (81 questions, no fitting at all) the demoted recall alone correlates 0.61 with the
teachers' points, against 0.49 for the answer-reference sentence cosine and 0.51 for the TF-IDF
baseline cross-validated by question (``benchmarks/mohler_features.py``).

    aligner = Aligner(get_embedder())
    aligner.features(items)  # [n, len(FEATURES)] float32
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..data.types import GradedAnswer
from .dataset import choose_references

# Letters of any script: German's "größe" or "über" are words too (an ASCII pattern cut them up and
# dropped them, costing 2.4 points of Pearson on SAF German unseen answers).
_WORD = re.compile(r"\w+")
# Zipf frequency above which a word carries no weight (7 is about "the").
_ZIPF_CEILING = 7.0
_CACHE_LIMIT = 20000  # cached texts (references, questions, ideas) per aligner
_RECENT = 256  # recent answers kept per aligner

FEATURES = (
    "cosine_answer_reference",
    "cosine_answer_question",
    "cosine_demoted",
    "recall",
    "precision",
    "f1",
    "recall_demoted",
    "precision_demoted",
    "f1_demoted",
    "log_answer_words",
    "log_length_ratio",
)


@lru_cache(maxsize=65536)
def specificity(word: str) -> float:
    """Weight of a word: 0 for the most common words, higher the rarer it is (numbers and names too)."""
    from wordfreq import zipf_frequency

    if not _WORD.fullmatch(word):
        return 0.0
    return max(0.0, _ZIPF_CEILING - zipf_frequency(word, "en"))


def question_words(question: str) -> frozenset[str]:
    return frozenset(_WORD.findall(question.lower()))


def demote(text: str, words: frozenset[str]) -> str:
    """The text without the question's words (the text itself when nothing would be left)."""
    kept = [w for w in _WORD.findall(text.lower()) if w not in words]
    return " ".join(kept) or text


WordVectors = tuple[list[str], np.ndarray]  # words (lower case) and their unit vectors [len(words), dim]


class Aligner:
    """Alignment features of (question, reference, answer) triples under one sentence encoder."""

    def __init__(self, embedder, *, batch_size: int = 32, max_length: int = 256):
        self.embedder = embedder
        self.batch_size = batch_size
        self.max_length = max_length
        self._cache: dict[str, tuple[WordVectors, np.ndarray]] = {}  # references and questions repeat
        self._recent: OrderedDict[str, tuple[WordVectors, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self.onnx = None  # an OnnxEncoder of the embedder's model, where the grader serves on ONNX Runtime

    @torch.inference_mode()
    def _encode(self, texts: list[str]) -> list[tuple[WordVectors, np.ndarray]]:
        """Per text: its words with contextual vectors, and its sentence vector (mean pooled, unit)."""
        tokenizer, model = self.embedder.tokenizer, self.embedder.model
        out: list = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda k: -len(texts[k]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = tokenizer([texts[k] for k in idx], padding=True, truncation=True, max_length=self.max_length,
                              return_tensors="pt", return_offsets_mapping=True)
            offsets = batch.pop("offset_mapping")
            hidden = self.onnx(**batch) if self.onnx is not None else model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            sentences = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
            for row, k in enumerate(idx):
                pieces: dict[int, list[int]] = {}
                for position, word in enumerate(batch.word_ids(row)):
                    if word is not None:
                        pieces.setdefault(word, []).append(position)
                words, vectors = [], []
                for positions in pieces.values():
                    begin, end = int(offsets[row, positions[0], 0]), int(offsets[row, positions[-1], 1])
                    words.append(texts[k][begin:end].lower())
                    vectors.append(hidden[row, positions].mean(0))
                matrix = (torch.nn.functional.normalize(torch.stack(vectors), dim=-1).numpy()
                          if vectors else np.zeros((0, hidden.shape[-1]), dtype=np.float32))
                out[k] = ((words, matrix), sentences[row].numpy())
        return out

    def forget_recent(self) -> None:
        """Drop the recent answers' encodings (a benchmark timing each answer from scratch)."""
        with self._lock:
            self._recent.clear()

    def words(self, texts: list[str], *, cache: bool = False) -> list[WordVectors]:
        """Each text's words with their contextual unit vectors (``cache``: texts that repeat, like references)."""
        return [encoded[0] for encoded in self._encoded(texts, cache=cache)]

    def _encoded(self, texts: list[str], *, cache: bool) -> list[tuple[WordVectors, np.ndarray]]:
        """Encodings of texts. ``cache``: kept until the cache is full (references, questions, ideas);
        otherwise kept among the last ``_RECENT`` answers, so that the grade's score and its feedback
        encode an answer once."""
        with self._lock:
            known = {t: self._cache[t] if t in self._cache else self._recent.get(t) for t in set(texts)}
        missing = sorted(t for t, found in known.items() if found is None)
        fresh = dict(zip(missing, self._encode(missing))) if missing else {}
        with self._lock:
            if cache:
                if len(self._cache) + len(fresh) > _CACHE_LIMIT:  # a long-lived worker: keep memory bounded
                    self._cache.clear()
                self._cache.update(fresh)
            else:
                self._recent.update(fresh)
                while len(self._recent) > _RECENT:
                    self._recent.popitem(last=False)
        known.update(fresh)
        return [known[t] for t in texts]

    def features(self, items: list[GradedAnswer]) -> np.ndarray:
        if not items:
            return np.zeros((0, len(FEATURES)), dtype=np.float32)
        references = [choose_references(item, "best_overlap")[0] for item in items]
        demoting = [question_words(item.question) for item in items]
        n = len(items)
        # One pass of the encoder for the answers, one for what repeats (references, questions).
        answers = self._encoded([item.answer for item in items]
                                + [demote(item.answer, w) for item, w in zip(items, demoting)], cache=False)
        answers, demoted_answers = answers[:n], answers[n:]
        repeated = self._encoded(references + [demote(r, w) for r, w in zip(references, demoting)]
                                 + [item.question or "" for item in items], cache=True)
        refs, demoted_refs, questions = repeated[:n], repeated[n : 2 * n], repeated[2 * n :]
        rows = []
        for k, item in enumerate(items):
            (answer_words, answer_vectors), answer_sentence = answers[k]
            (ref_words, ref_vectors), ref_sentence = refs[k]
            n_answer = len(_WORD.findall(item.answer.lower()))
            n_reference = len(_WORD.findall(references[k].lower()))
            rows.append([
                float(answer_sentence @ ref_sentence),
                float(answer_sentence @ questions[k][1]),
                float(demoted_answers[k][1] @ demoted_refs[k][1]),
                *align_words((answer_words, answer_vectors), (ref_words, ref_vectors)),
                *align_words((answer_words, answer_vectors), (ref_words, ref_vectors), left_out=demoting[k]),
                math.log1p(n_answer),
                math.log1p(n_answer) - math.log1p(n_reference),
            ])
        return np.asarray(rows, dtype=np.float32)


def align_words(
    answer: WordVectors, reference: WordVectors, *, left_out: frozenset[str] = frozenset()
) -> tuple[float, float, float]:
    """Specificity-weighted greedy alignment, ``left_out`` words ignored on both sides: (recall of the
    reference, precision of the answer, F1); zeros where either side has no weighted word left."""
    (answer_words, answer_vectors), (ref_words, ref_vectors) = answer, reference
    a = [k for k, w in enumerate(answer_words) if w not in left_out and specificity(w) > 0]
    r = [k for k, w in enumerate(ref_words) if w not in left_out and specificity(w) > 0]
    if not a or not r:
        return 0.0, 0.0, 0.0
    similarity = ref_vectors[r] @ answer_vectors[a].T
    ref_weight = np.array([specificity(ref_words[k]) for k in r])
    answer_weight = np.array([specificity(answer_words[k]) for k in a])
    recall = float((similarity.max(1) * ref_weight).sum() / ref_weight.sum())
    precision = float((similarity.max(0) * answer_weight).sum() / answer_weight.sum())
    f1 = 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
    return recall, precision, f1


_ALIGNERS: dict[int, Aligner] = {}
_ALIGNERS_LOCK = threading.Lock()


def aligner_for(embedder, *, onnx_dir: str | Path | None = None, num_threads: int = 0) -> Aligner:
    """The process's aligner for an embedder, shared by the score model and the feedback. ``onnx_dir``:
    run the embedder's encoder on ONNX Runtime from then on, exported there once (``encoder.onnx``)."""
    with _ALIGNERS_LOCK:
        if id(embedder) not in _ALIGNERS:
            _ALIGNERS[id(embedder)] = Aligner(embedder)
        aligner = _ALIGNERS[id(embedder)]
        if onnx_dir is not None and aligner.onnx is None:
            from .onnx_backend import OnnxEncoder

            aligner.onnx = OnnxEncoder.for_model(embedder.model, embedder.tokenizer, cache_dir=onnx_dir,
                                                 num_threads=num_threads)
        return aligner
