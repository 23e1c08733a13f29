"""Study groups from shared misconceptions: students whose wrong answers to a question say the same thing.

The released wrong answers to the questions of one unit are embedded (MiniLM) and grouped per
question (``tutor.ml.answer_groups``: average-linkage clustering on cosine distance). A group of
two or more students is a misconception they share; a student in several groups links them.
The teacher sees the groups as a small network (students joined to the misconceptions they share).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from domain.models import Course, Question, Unit
from student_model import mastery_selectors
from tutor.ml.answer_groups import GroupingConfig, group_answers
from tutor.ml.retrieval.embedder import get_embedder
from tutor.ml.retrieval.index import EmbeddingCache


@dataclass(frozen=True)
class StudyGroupConfig:
    max_answers: int = 300  # newest wrong answers of the unit that are clustered
    distance_threshold: float = 0.3
    min_students: int = 2
    max_groups: int = 6


@dataclass(frozen=True)
class Misconception:
    question_id: int
    question_prompt: str
    example: str  # the most typical wrong answer of the group
    students: list[str]  # usernames


@dataclass(frozen=True)
class Network:
    width: int
    height: int
    hubs: list[dict]  # x, y, label, title (one per misconception)
    nodes: list[dict]  # x, y, label (one per student)
    edges: list[dict]  # x1, y1, x2, y2


_cache: EmbeddingCache | None = None
_cache_lock = threading.Lock()


def _cache_path() -> Path:
    return Path(settings.MODEL_DIR) / "study_groups" / "vectors.npz"


def _embed(texts: list[str]):
    """MiniLM vectors of answers, kept on disk by text hash: a page view embeds only new answers."""
    global _cache
    with _cache_lock:
        if _cache is None:
            _cache = EmbeddingCache.load(_cache_path())
        known = len(_cache)
        vectors = _cache.encode(get_embedder(), texts)
        if len(_cache) > known:
            _cache.save(_cache_path())
        return vectors


def default_unit(*, course: Course) -> Unit | None:
    """The latest unit with released wrong answers (the course's first unit when there are none)."""
    wrong = mastery_selectors.wrong_answers(course=course, limit=1)
    if wrong:
        unit_id = Question.objects.filter(pk=wrong[0].question_id).values_list("unit_id", flat=True).first()
        if unit_id:
            return Unit.objects.get(pk=unit_id)
    return Unit.objects.filter(course=course).order_by("order").first()


def shared_misconceptions(*, course: Course, unit: Unit | None,
                          config: StudyGroupConfig | None = None) -> list[Misconception]:
    """Groups of students sharing a wrong answer to one of the unit's questions, largest first."""
    config = config or StudyGroupConfig()
    questions = Question.objects.filter(course=course)
    if unit is not None:
        questions = questions.filter(unit=unit)
    wrong = mastery_selectors.wrong_answers(
        course=course, question_ids=list(questions.values_list("pk", flat=True)), limit=config.max_answers
    )
    if not wrong:
        return []
    usernames = dict(mastery_selectors.course_students(course=course).filter(
        pk__in={w.student_id for w in wrong}).values_list("pk", "username"))
    by_question: dict[int, list] = defaultdict(list)
    for w in wrong:
        if w.student_id in usernames:
            by_question[w.question_id].append(w)
    found = []
    grouping = GroupingConfig(distance_threshold=config.distance_threshold)
    for question_id, answers in by_question.items():
        if len({a.student_id for a in answers}) < config.min_students:
            continue
        vectors = _embed([a.answer for a in answers])
        for group in group_answers(vectors, grouping):
            students = sorted({usernames[answers[i].student_id] for i in group.members})
            if len(students) >= config.min_students:
                representative = answers[group.representative]
                found.append(Misconception(question_id, representative.question_prompt, representative.answer, students))
    found.sort(key=lambda m: (-len(m.students), m.question_id, m.example))
    return found[: config.max_groups]


def network_layout(groups: list[Misconception], *, width: int = 720, height: int = 520) -> Network:
    """Misconceptions as hubs on a circle; each student on an arc facing outwards from the first hub
    they share (so clusters do not overlap); edges join every student to each misconception they
    share, so a student who shares two bridges them."""
    cx, cy = width / 2, height / 2
    radius = min(width, height) * 0.27 if len(groups) > 1 else 0
    hubs, nodes, edges = [], [], []
    placed: dict[str, tuple[float, float]] = {}
    for g, group in enumerate(groups):
        angle = 2 * math.pi * g / max(1, len(groups)) - math.pi / 2
        hx, hy = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        hubs.append({"x": round(hx, 1), "y": round(hy, 1), "label": f"M{g + 1}",
                     "title": f"M{g + 1}: {group.question_prompt[:80]} — “{group.example[:80]}”"})
        new = [s for s in group.students if s not in placed]
        spread = min(2 * math.pi * (len(new) - 1) / len(new) if new else 0, 0.42 * max(0, len(new) - 1))
        for i, student in enumerate(new):
            a = angle + (spread * (i / (len(new) - 1) - 0.5) if len(new) > 1 else 0)
            r = 58 + 22 * (i % 2)
            placed[student] = (round(min(width - 14, max(14, hx + r * math.cos(a))), 1),
                               round(min(height - 14, max(14, hy + r * math.sin(a))), 1))
            nodes.append({"x": placed[student][0], "y": placed[student][1], "label": student})
        for student in group.students:
            x, y = placed[student]
            edges.append({"x1": round(hx, 1), "y1": round(hy, 1), "x2": x, "y2": y})
    return Network(width, height, hubs, nodes, edges)
