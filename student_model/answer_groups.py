"""Reads: a question's answers grouped by meaning (MiniLM embeddings), for grading a group at once.

The grouping itself is ``tutor.ml.answer_groups``; this module picks the answers, caches
the grouping (keyed by the exact set of answers, so a new answer regroups) and joins the
groups back to the submissions with their current grades.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache

from domain.models import Question
from tutor.ml.answer_groups import GroupingConfig, group_answers

from . import selectors
from .models import Grade, Submission

MAX_ANSWERS = 400  # the most recent answers of a question are grouped; embedding more keeps a teacher waiting
CACHE_SECONDS = 24 * 3600


@dataclass
class AnswerGroupView:
    number: int
    representative: Submission
    submissions: list[Submission]  # most typical first

    @property
    def size(self) -> int:
        return len(self.submissions)

    @property
    def verdicts(self) -> list[tuple[str, str, int]]:
        """(verdict, label, how many) of the members' current grades, most common first."""
        counts = Counter(s.grade_verdict for s in self.submissions if s.grade_verdict)
        labels = dict(Grade.Verdict.choices)
        return [(v, labels.get(v, v), n) for v, n in counts.most_common()]


def groupable_submissions(*, question: Question) -> list[Submission]:
    qs = Submission.objects.filter(question=question, status__in=selectors.REVIEWABLE).select_related("student")
    return list(selectors.with_current_grade(qs).order_by("-submitted_at", "-pk")[:MAX_ANSWERS])


def answer_groups(*, question: Question, config: GroupingConfig = GroupingConfig()) -> list[AnswerGroupView]:
    submissions = groupable_submissions(question=question)
    if not submissions:
        return []
    ids = sorted(s.pk for s in submissions)
    digest = hashlib.sha1(f"{ids}|{config}".encode()).hexdigest()[:16]
    key = f"answer-groups:{question.pk}:{digest}"
    grouped_ids: list[list[int]] | None = cache.get(key)
    if grouped_ids is None:
        from tutor.ml.retrieval.embedder import get_embedder  # loads MiniLM on first use

        vectors = get_embedder().encode([s.answer for s in submissions])
        grouped_ids = [[submissions[i].pk for i in g.members] for g in group_answers(vectors, config)]
        cache.set(key, grouped_ids, CACHE_SECONDS)
    by_id = {s.pk: s for s in submissions}
    return [
        AnswerGroupView(number=n, representative=by_id[members[0]], submissions=[by_id[pk] for pk in members])
        for n, members in enumerate(grouped_ids, start=1)
    ]
