"""What a learner should do next: the skill to work on, a question at the right difficulty, resources,
and spaced review. (Issue 5 fills this in; the tutoring chat calls ``recommend_next_steps``.)"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recommendation:
    kind: str  # "skill" | "question" | "resource" | "review"
    title: str
    url: str
    reason: str  # one sentence saying why


def recommend_next_steps(*, student, course, limit: int = 3) -> list[Recommendation]:
    """The learner's next steps in ``course``, best first."""
    return []
