"""Reads for a course's teacher dashboard: grading status, distributions per question, agreement over time."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from domain.models import Course

from . import selectors
from .models import Grade, GradeEvent, Submission

VERDICTS = list(Grade.Verdict.values)
MIN_ANSWERS_FOR_HARDEST = 3


@dataclass
class QuestionStats:
    question_id: int
    prompt: str
    max_points: float
    answers: int = 0
    awaiting_review: int = 0
    score_total: float = 0.0
    verdicts: Counter = field(default_factory=Counter)
    score_bins: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # share of points: <25%, <50%, <75%, >=75%

    @property
    def mean_share(self) -> float | None:
        graded = sum(self.score_bins)
        return self.score_total / graded if graded else None


def status_counts(*, course: Course) -> dict[str, int]:
    """Answers by where they are: waiting for the grader, awaiting review, released by the model, graded by a teacher."""
    qs = selectors.with_current_grade(Submission.objects.filter(question__course=course))
    counts = qs.aggregate(
        pending=Count("pk", filter=Q(status__in=[Submission.Status.RECEIVED, Submission.Status.GRADING])),
        awaiting_review=Count("pk", filter=Q(status=Submission.Status.NEEDS_REVIEW)),
        released=Count("pk", filter=Q(status=Submission.Status.GRADED, grade_source=Grade.Source.MODEL)),
        teacher_graded=Count("pk", filter=Q(status=Submission.Status.GRADED, grade_source=Grade.Source.TEACHER)),
    )
    counts["total"] = sum(counts.values())
    return counts


def question_stats(*, course: Course) -> list[QuestionStats]:
    """Per question, over answers with a grade: verdicts, score distribution (share of points), mean share."""
    rows = (
        selectors.with_current_grade(Submission.objects.filter(question__course=course, status__in=selectors.REVIEWABLE))
        .values_list("question_id", "question__prompt", "question__max_points", "status", "grade_verdict", "grade_score")
    )
    stats: dict[int, QuestionStats] = {}
    for qid, prompt, max_points, status, verdict, score in rows.iterator():
        entry = stats.setdefault(qid, QuestionStats(qid, prompt, max_points))
        entry.answers += 1
        entry.awaiting_review += status == Submission.Status.NEEDS_REVIEW
        if verdict:
            entry.verdicts[verdict] += 1
        if score is not None and max_points:
            share = min(max(score / max_points, 0.0), 1.0)
            entry.score_total += share
            entry.score_bins[min(int(share * 4), 3)] += 1
    return sorted(stats.values(), key=lambda s: s.question_id)


def hardest_questions(stats: list[QuestionStats], n: int = 5) -> list[QuestionStats]:
    """Lowest mean share of points, among questions with a few graded answers."""
    enough = [s for s in stats if s.mean_share is not None and sum(s.score_bins) >= MIN_ANSWERS_FOR_HARDEST]
    return sorted(enough, key=lambda s: (s.mean_share, s.question_id))[:n]


def agreement_by_week(*, course: Course) -> list[dict]:
    """Model–teacher agreement per week: reviews that accepted the model's grade vs. overrode it."""
    rows = (
        GradeEvent.objects.filter(
            submission__question__course=course,
            action__in=[GradeEvent.Action.ACCEPTED, GradeEvent.Action.OVERRIDDEN],
            before__source=Grade.Source.MODEL,
        )
        .annotate(week=TruncWeek("created_at"))
        .values("week", "action")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    weeks: dict = defaultdict(lambda: {"accepted": 0, "overridden": 0})
    for row in rows:
        weeks[row["week"]][row["action"]] = row["n"]
    return [
        {"week": week, **counts, "reviews": counts["accepted"] + counts["overridden"],
         "agreement": counts["accepted"] / (counts["accepted"] + counts["overridden"])}
        for week, counts in sorted(weeks.items())
    ]
