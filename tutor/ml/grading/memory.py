"""A memory of teacher-graded answers: the grader's prediction blended with the grades that
teachers gave to the most similar answers of the same question.

Answers to one question repeat themselves: once a teacher has graded a few dozen of them, the
nearest graded neighbours of a new answer say a lot about its grade. Tuned on the validation
questions of grader-minilm-v1 (never trained on; leave-one-out within each question), the blend
raised macro-F1 from 0.49 to 0.67 on SemEval and from 0.58 to 0.71 on SAF, and Pearson on Mohler
from 0.38 to 0.73. Re-tuned for grader-minilm-v2 (``benchmarks/memory_tuning.py``), the same defaults
stay within 0.0002 of the best on the grid: SemEval 0.57 -> 0.68, SAF 0.52 -> 0.70, Mohler 0.41 -> 0.74.
A question with no graded answers yet gets the model's prediction unchanged.

    memory = AnswerMemory(encoder=get_embedder())
    memory.add(question="...", examples=[GradedExample(answer="...", label="correct", score=1.0), ...])
    grader = MemoryGrader(predictor, memory)
    grader.predict(items, allowed_labels=...)  # same interface as GraderPredictor.predict
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..data.types import GradedAnswer
from .config import LABELS


@dataclass(frozen=True)
class MemoryConfig:
    k: int = 8  # neighbours that vote
    temperature: float = 0.05  # softmax temperature over cosine similarities (lower: the nearest count more)
    verdict_weight: float = 0.5  # weight of the model's verdict probabilities; the rest is the neighbours' vote
    score_weight: float = 0.3  # weight of the model's score; the rest is the neighbours' weighted mean score
    # Only answers at least this close (embedder cosine) vote: an unrelated graded answer ("I don't know",
    # keyboard mash) says nothing about a new one, and without a floor the softmax would hand it the whole vote.
    # Real neighbours sit above it: on 300 of SciEntsBank's unseen answers, 90 % of the 8 nearest training
    # answers to the same question are at 0.40 or more, and the median nearest one at 0.80.
    min_similarity: float = 0.4
    # The vote carries its full weight once its nearest voter is this close; from min_similarity up to here its
    # weight grows from 0. One graded answer that is only about the same thing ("carbon dioxide", 0.55 from
    # "oxygen") must not outvote a confident model, while one near copy ("Oxygen.", 0.91) may. On the visible
    # unseen-answers splits it moves macro-F1 by under a point either way (grading README, "Floors on the vote").
    full_vote_similarity: float = 0.7
    # A teacher's note on an answer at least this close (embedder cosine) is offered to the new answer when the
    # verdicts agree. SAF's tutors, on their English training answers: at >= 0.95, 92 % of such pairs share the
    # verdict and 75 % got the very same feedback text; at >= 0.90, 80 % and 46 %
    # (``benchmarks/feedback_vs_tutors.py --reuse``).
    note_similarity: float = 0.95


@dataclass(frozen=True)
class GradedExample:
    answer: str
    label: str = ""  # one of LABELS, or "" where the grade has no verdict (Mohler)
    score: float | None = None  # normalised to [0, 1], or None
    answer_id: str = ""  # lets an evaluation keep an answer from voting on itself
    note: str = ""  # feedback a teacher wrote for this answer (not the model's), which near-identical answers may reuse


@dataclass(frozen=True)
class Vote:
    probabilities: np.ndarray | None  # [len(LABELS)] over verdicts, None when no neighbour has a verdict
    score: float | None
    neighbours: int
    noted: GradedExample | None = None  # the most similar example with a teacher's note, and its cosine
    noted_similarity: float = 0.0
    strength: float = 1.0  # share of its full weight the vote carries (MemoryConfig.full_vote_similarity)


def question_key(question: str) -> str:
    return re.sub(r"\s+", " ", question).strip().lower()


class AnswerMemory:
    """Graded answers per question, with their embeddings."""

    def __init__(self, *, encoder, config: MemoryConfig | None = None):
        self.encoder = encoder
        self.config = config or MemoryConfig()
        self._examples: dict[str, list[GradedExample]] = {}
        self._vectors: dict[str, np.ndarray] = {}

    def add(self, *, question: str, examples: Iterable[GradedExample]) -> None:
        examples = [e for e in examples if e.answer and (e.label in LABELS or e.score is not None)]
        if not examples:
            return
        key = question_key(question)
        vectors = np.asarray(self.encoder.encode([e.answer for e in examples]), dtype=np.float32)
        self._examples[key] = self._examples.get(key, []) + examples
        self._vectors[key] = np.concatenate([self._vectors[key], vectors]) if key in self._vectors else vectors

    def __len__(self) -> int:
        return sum(len(v) for v in self._examples.values())

    def knows(self, question: str) -> bool:
        return question_key(question) in self._examples

    def votes(self, items: list[GradedAnswer]) -> list[Vote | None]:
        """The neighbours' vote for each item (None where its question has no graded answers)."""
        out: list[Vote | None] = [None] * len(items)
        known = [k for k, item in enumerate(items) if self.knows(item.question)]
        if not known:
            return out
        vectors = np.asarray(self.encoder.encode([items[k].answer or "" for k in known]), dtype=np.float32)
        for row, k in enumerate(known):
            key = question_key(items[k].question)
            out[k] = self._vote(key, vectors[row], exclude=(items[k].answer_id, items[k].answer))
        return out

    def _vote(self, key: str, vector: np.ndarray, *, exclude: tuple[str, str]) -> Vote | None:
        # The answer being graded never votes on itself (an evaluation on data the memory holds).
        examples, matrix = self._examples[key], self._vectors[key]
        usable = np.array([not (exclude[0] and (e.answer_id, e.answer) == exclude) for e in examples])
        if not usable.any():
            return None
        candidates = np.flatnonzero(usable)
        similarities = matrix[candidates] @ vector
        order = np.argsort(-similarities)[: self.config.k]
        order = order[similarities[order] >= self.config.min_similarity]
        top, top_sims = candidates[order], similarities[order]
        noted = [pos for pos, index in enumerate(candidates) if examples[index].note]
        nearest_noted = max(noted, key=lambda pos: similarities[pos], default=None)
        weights = np.exp((top_sims - top_sims.max(initial=0.0)) / self.config.temperature)
        probabilities = np.zeros(len(LABELS))
        score_sum = score_weight = 0.0
        for weight, index in zip(weights, top):
            example = examples[index]
            if example.label in LABELS:
                probabilities[LABELS.index(example.label)] += weight
            if example.score is not None:
                score_sum += weight * example.score
                score_weight += weight
        return Vote(
            probabilities=probabilities / probabilities.sum() if probabilities.sum() else None,
            score=score_sum / score_weight if score_weight else None,
            neighbours=len(top),
            noted=examples[candidates[nearest_noted]] if nearest_noted is not None else None,
            noted_similarity=float(similarities[nearest_noted]) if nearest_noted is not None else 0.0,
            strength=self._strength(float(top_sims.max(initial=0.0))),
        )

    def _strength(self, nearest: float) -> float:
        low, high = self.config.min_similarity, self.config.full_vote_similarity
        return 1.0 if high <= low else float(min(max((nearest - low) / (high - low), 0.0), 1.0))


def reusable_note(verdict: str, vote: Vote | None, *, config: MemoryConfig) -> str:
    """The teacher's note on a near-identical answer with the same ``verdict``, or "" where there is none."""
    if vote is None or vote.noted is None or vote.noted_similarity < config.note_similarity:
        return ""
    return vote.noted.note if vote.noted.label == verdict else ""


def blend(prediction, vote: Vote | None, *, allowed: tuple[str, ...] | None, config: MemoryConfig):
    """The prediction with the neighbours' vote mixed in (verdicts outside ``allowed`` stay at 0)."""
    if vote is None or (vote.probabilities is None and vote.score is None):  # no graded answer close enough
        return prediction
    probabilities = np.array([prediction.probabilities[name] for name in LABELS])
    if vote.probabilities is not None:
        mask = np.array([allowed is None or name in allowed for name in LABELS], dtype=float)
        voted = vote.probabilities * mask
        if voted.sum() > 0:
            voted /= voted.sum()
            share = (1 - config.verdict_weight) * vote.strength
            probabilities = (1 - share) * probabilities + share * voted
    best = int(probabilities.argmax())
    score = prediction.score
    if vote.score is not None:
        share = (1 - config.score_weight) * vote.strength
        score = (1 - share) * score + share * vote.score
    return dataclasses.replace(
        prediction,
        verdict=LABELS[best],
        probabilities={name: float(probabilities[j]) for j, name in enumerate(LABELS)},
        score=float(min(max(score, 0.0), 1.0)),
        confidence=float(probabilities[best]),
    )


class MemoryGrader:
    """A predictor whose predictions are blended with a memory of graded answers (same ``predict``)."""

    def __init__(self, predictor, memory: AnswerMemory):
        self.predictor = predictor
        self.memory = memory

    def predict(self, items: list[GradedAnswer], *, allowed_labels: tuple[str, ...] | None = None) -> list:
        predictions = self.predictor.predict(items, allowed_labels=allowed_labels)
        votes = self.memory.votes(items)
        return [
            blend(p, v, allowed=allowed_labels, config=self.memory.config) for p, v in zip(predictions, votes)
        ]


def examples_from_items(items: Iterable[GradedAnswer]) -> dict[str, list[GradedExample]]:
    """Graded answers of a data set, grouped by question text, as memory examples."""
    grouped: dict[str, list[GradedExample]] = {}
    for item in items:
        score = item.score / item.max_score if item.score is not None and item.max_score else None
        grouped.setdefault(item.question, []).append(
            GradedExample(answer=item.answer, label=item.label or "", score=score, answer_id=item.answer_id)
        )
    return grouped


def memory_for(items: list[GradedAnswer], graded: Iterable[GradedAnswer], *, encoder, config=None) -> AnswerMemory:
    """A memory holding the graded answers of the questions that ``items`` ask (others are skipped)."""
    wanted = {question_key(item.question) for item in items}
    memory = AnswerMemory(encoder=encoder, config=config)
    for question, examples in examples_from_items(g for g in graded if question_key(g.question) in wanted).items():
        memory.add(question=question, examples=examples)
    return memory


def training_memory(
    model_dir, items: list[GradedAnswer], *, data_dir, encoder, config: MemoryConfig | None = None
) -> AnswerMemory:
    """The memory a version brings to an evaluation: the graded answers of its training data sets
    (subsets the run left out included) for the questions that ``items`` ask, except questions the
    version was fitted on.

    The model has already learned the grades of its fitted questions' answers; their vote would
    count that evidence twice (and the blend was tuned on questions the model never saw). Measured
    on the unseen-answers test splits, whose questions grader-minilm-v2 was fitted on, their vote
    cost 0.7 macro-F1 points on SciEntsBank and 3.3 on Beetle (it gained 1.7 on SAF).
    """
    from .adapters import full_grader
    from .pipeline import training_items, training_split, version_config
    from .score_model import ScoreModel
    from .sources import load_training_items

    # A course's adapter brings the memory of the full grader it was trained on; the questions of its
    # course are fitted too (its score model lists them).
    train_config = version_config(full_grader(model_dir))
    fitted = {question_key(g.question)
              for g in training_split(train_config, training_items(train_config, data_dir=data_dir))[0]}
    score_model = ScoreModel.load(model_dir)

    def learned(question: str) -> bool:
        return question_key(question) in fitted or (score_model is not None and score_model.knows(question))

    # Every graded answer of those data sets, subsets left out of training (SAF's German course) included.
    graded = [g for g in load_training_items(train_config.datasets, data_dir) if not learned(g.question)]
    return memory_for(items, graded, encoder=encoder, config=config)
