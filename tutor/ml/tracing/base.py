"""The interface every knowledge tracer implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from .data import StudentSequence


class Tracer(ABC):
    """A model of a learner's knowledge from their attempt history.

    ``predict`` returns, for each sequence, one probability per interaction: ``p[t]`` is the
    predicted chance that attempt ``t`` is correct given only attempts ``0..t-1`` (and the
    skill of attempt ``t`` itself, which is known before the learner answers).
    """

    name: str = "tracer"

    @abstractmethod
    def fit(self, train: list[StudentSequence], valid: list[StudentSequence] | None = None) -> Tracer: ...

    @abstractmethod
    def predict(self, sequences: list[StudentSequence]) -> list[np.ndarray]: ...

    @abstractmethod
    def save(self, path: str | Path) -> None: ...

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> Tracer: ...


class Vocabulary:
    """Maps raw skill/item ids to dense indices ``1..n``; index 0 stands for ids never seen in training."""

    def __init__(self, ids):
        self.ids = np.array(sorted({int(i) for i in ids}), dtype=np.int64)

    @classmethod
    def from_sequences(cls, sequences: list[StudentSequence]) -> Vocabulary:
        return cls(np.concatenate([s.skills for s in sequences]) if sequences else [])

    def __len__(self) -> int:  # number of indices including the unknown slot
        return len(self.ids) + 1

    def encode(self, skills: np.ndarray) -> np.ndarray:
        skills = np.asarray(skills, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(len(skills), dtype=np.int64)
        pos = np.searchsorted(self.ids, skills)
        pos_clipped = np.minimum(pos, len(self.ids) - 1)
        known = self.ids[pos_clipped] == skills
        return np.where(known, pos_clipped + 1, 0)
