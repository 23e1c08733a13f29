"""Grouping similar answers to one question, so a teacher can grade a whole group at once.

Answers are embedded (unit vectors, e.g. MiniLM) and merged bottom-up while the average
cosine distance between two groups stays under a threshold: near-identical answers end
up together, an answer unlike the others stays alone. Deterministic (no random state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroupingConfig:
    # Cosine distance (0 = same direction). On 728 demo answers to 15 questions, 0.25 gives ~3 answers per
    # group with 84% of them sharing their group's majority teacher verdict (0.1: 1.3 and 96%; 0.4: 6.1 and 80%).
    distance_threshold: float = 0.25
    linkage: str = "average"


@dataclass(frozen=True)
class AnswerGroup:
    members: tuple[int, ...]  # indices into the answers given, most typical first
    representative: int  # the member closest to the group's mean direction

    @property
    def size(self) -> int:
        return len(self.members)


def group_answers(embeddings: np.ndarray, config: GroupingConfig = GroupingConfig()) -> list[AnswerGroup]:
    """Groups of answer indices, largest first (ties: by first member)."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [AnswerGroup(members=(0,), representative=0)]
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage=config.linkage, distance_threshold=config.distance_threshold
    ).fit_predict(vectors)
    unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    groups = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        centre = unit[idx].mean(axis=0)
        similarity = unit[idx] @ centre
        order = idx[np.lexsort((idx, -similarity))]  # most typical first, index breaks ties
        groups.append(AnswerGroup(members=tuple(int(i) for i in order), representative=int(order[0])))
    return sorted(groups, key=lambda g: (-g.size, min(g.members)))
