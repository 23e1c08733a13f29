"""What a learner should do next: the skill to work on, a question at the right difficulty, resources,
and spaced review. The tutoring chat calls ``recommend_next_steps``; the progress page shows them.

* skill: among the skills below the mastery target whose prerequisites are all at the target,
  the one with most to gain (distance to the target, more when other skills depend on it);
* question: one of that skill's questions (then of the next candidate skills) whose predicted
  success by the course's tracer is closest to the middle of ``success_band`` (0.6-0.8): hard
  enough to learn from, likely enough to succeed; questions already answered right come last;
* resources: the skill's resources, and the course's passages closest (MiniLM embeddings, the
  course's retrieval index) to the learner's recent wrong answers;
* review: practised skills whose spaced-review interval has run out (the interval doubles with
  every right answer, as in a Leitner box), longest overdue first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from domain.models import Course, Resource
from student_model import mastery, mastery_selectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recommendation:
    kind: str  # "skill" | "question" | "resource" | "review"
    title: str
    url: str
    reason: str  # one sentence saying why
    skill: str = ""  # name of the skill it serves
    score: float | None = None  # mastery (skill, review), predicted success (question), similarity (resource)


@dataclass(frozen=True)
class RecommendationConfig:
    target: float = 0.8
    success_band: tuple[float, float] = (0.6, 0.8)
    dependent_bonus: float = 0.5  # each dependent skill adds this share to a skill's gain
    review_base_days: float = 2.0  # first review interval; doubles with each right answer
    review_max_days: float = 60.0
    resources: int = 2
    wrong_answers: int = 5  # recent wrong answers matched against the course's passages
    min_similarity: float = 0.3
    inline_index_max_resources: int = 30


def _pct(value: float) -> str:
    return f"{round(100 * value)}%"


def _skill_url(course: Course, skill) -> str:
    return reverse("course-detail", args=[course.slug]) + f"#skill-{skill.slug}"


def _choose_skills(estimates, config: RecommendationConfig, skill_questions):
    """Candidate skills, best first: below target, prerequisites at target, most to gain."""
    by_id = {e.skill.pk: e for e in estimates}
    dependents: dict[int, int] = {}
    for e in estimates:
        for p in e.skill.prerequisites.all():
            dependents[p.pk] = dependents.get(p.pk, 0) + 1
    order = {e.skill.pk: i for i, e in enumerate(estimates)}
    candidates = []
    for e in estimates:
        if e.p_mastery >= config.target:
            continue
        if any(by_id[p.pk].p_mastery < config.target for p in e.skill.prerequisites.all() if p.pk in by_id):
            continue
        gain = (config.target - e.p_mastery) * (1 + config.dependent_bonus * dependents.get(e.skill.pk, 0))
        if not skill_questions.get(e.skill.pk):
            gain *= 0.5  # nothing to practise it with
        candidates.append((gain, e))
    candidates.sort(key=lambda c: (-c[0], order[c[1].skill.pk]))
    return [e for _, e in candidates], dependents


def _skill_step(course, estimate, dependents, config) -> Recommendation:
    skill = estimate.skill
    prereqs = list(skill.prerequisites.all())
    why = f"Your mastery of {skill.name} is {_pct(estimate.p_mastery)}, below the {_pct(config.target)} target"
    why += ", and its prerequisites are in place" if prereqs else ", and it needs no other skill first"
    n = dependents.get(skill.pk, 0)
    why += f"; {n} other skill{'s build' if n != 1 else ' builds'} on it." if n else "."
    return Recommendation("skill", skill.name, _skill_url(course, skill), why, skill.name, estimate.p_mastery)


def _question_step(course, candidates, tracer, history, question_skills, answered_right, config):
    low, high = config.success_band
    middle = (low + high) / 2
    for estimate in candidates[:3]:
        ids = [q for q, skills in question_skills.items() if estimate.skill.pk in skills]
        if not ids:
            continue
        chances = tracer.success(history, {q: question_skills[q] for q in ids})
        best = min(ids, key=lambda q: (q in answered_right, abs(chances[q] - middle), q))
        p = chances[best]
        question = course.questions.get(pk=best)
        if low <= p <= high:
            why = (f"We predict a {_pct(p)} chance you answer it correctly: within reach, and still worth "
                   f"learning from for {estimate.skill.name}.")
        else:
            why = (f"It is the question on {estimate.skill.name} closest to the right difficulty for you "
                   f"(predicted success {_pct(p)}).")
        url = reverse("question-detail", args=[course.slug, best])
        return Recommendation("question", question.prompt[:140], url, why, estimate.skill.name, p)
    return None


def _wrong_answer_matches(course, student, config) -> dict[int, tuple[float, str]]:
    """Resource id -> (best cosine similarity, prompt of the wrong answer it matched)."""
    wrong = mastery_selectors.wrong_answers(course=course, student_id=student.pk, limit=config.wrong_answers)
    readings = Resource.objects.filter(course=course).exclude(body="").count()
    if not wrong or not readings:
        return {}
    from .retrieval import course_qa_engine, qa_dir  # loads MiniLM: only when there is something to match

    # Embedding a large course's readings takes minutes: a page never waits for that. Its index is built
    # by `manage.py build_qa_index` (or the tutor's first question); a small course's is built here.
    if readings > config.inline_index_max_resources and not (qa_dir() / "vectors.npz").exists():
        return {}

    try:
        index = course_qa_engine(course=course).index
        vectors = index.embedder.encode([w.answer for w in wrong])
    except Exception:  # the tutor still recommends from the skill graph when retrieval is unavailable
        logger.exception("Could not match wrong answers to the resources of %s.", course.slug)
        return {}
    best: dict[int, tuple[float, str]] = {}
    for w, vector in zip(wrong, vectors):
        for hit in index.search("", k=10, mode="dense", query_vector=vector):
            rid = hit.passage.resource_id
            if rid is not None and hit.dense >= config.min_similarity and hit.dense > best.get(rid, (-1.0, ""))[0]:
                best[rid] = (float(hit.dense), w.question_prompt)
    return best


def _resource_steps(course, student, skill_estimate, config) -> list[Recommendation]:
    matches = _wrong_answer_matches(course, student, config)
    skill = skill_estimate.skill if skill_estimate else None
    resources = Resource.objects.filter(course=course)
    for_skill = set(resources.filter(skills=skill).values_list("pk", flat=True)) if skill else set()
    ranked = sorted(
        for_skill | set(matches),
        key=lambda r: (-(r in for_skill) - matches.get(r, (0.0, ""))[0], r),
    )[: config.resources]
    titles = dict(resources.filter(pk__in=ranked).values_list("pk", "title"))
    out = []
    for rid in ranked:
        similarity, prompt = matches.get(rid, (None, ""))
        if rid in for_skill and prompt:
            why = f"It teaches {skill.name} and speaks to your answer to “{prompt[:70]}”, which was not right."
        elif prompt:
            why = f"Its text is close to your answer to “{prompt[:70]}”, which was not right."
        else:
            why = f"It covers {skill.name}, the skill to work on next."
        url = reverse("resource-detail", args=[course.slug, rid])
        out.append(Recommendation("resource", titles.get(rid, ""), url, why, skill.name if skill else "", similarity))
    return out


def _review_steps(course, estimates, question_skills, config) -> list[Recommendation]:
    now = timezone.now()
    due = []
    for e in estimates:
        if not e.practised or e.last_practiced_at is None or e.p_mastery < config.target * 0.75:
            continue
        interval = min(config.review_max_days, config.review_base_days * 2 ** max(0, e.correct - 1))
        days = (now - e.last_practiced_at).total_seconds() / 86400
        if days >= interval:
            due.append((days / interval, days, interval, e))
    due.sort(key=lambda d: -d[0])
    out = []
    for _, days, interval, e in due:
        question = next((q for q, skills in question_skills.items() if e.skill.pk in skills), None)
        url = reverse("question-detail", args=[course.slug, question]) if question else _skill_url(course, e.skill)
        why = (f"You last practised {e.skill.name} {round(days)} days ago, past its {interval:g}-day review "
               f"interval; a short review now keeps it from fading.")
        out.append(Recommendation("review", f"Review {e.skill.name}", url, why, e.skill.name, e.p_mastery))
    return out


def recommend_next_steps(*, student, course, limit: int = 3,
                         config: RecommendationConfig | None = None) -> list[Recommendation]:
    """The learner's next steps in ``course``, best first."""
    config = config or RecommendationConfig()
    estimates = mastery_selectors.student_mastery(course=course, student=student)
    if not estimates:
        return []
    question_skills = mastery_selectors.question_skills(course=course)
    skill_questions = mastery_selectors.skill_questions(course=course)
    attempts = mastery_selectors.released_attempts(course=course, student_id=student.pk).get(student.pk, [])
    history = [a.as_attempt() for a in attempts]
    answered_right = {a.question_id for a in attempts if a.correct}
    candidates, dependents = _choose_skills(estimates, config, skill_questions)

    steps: list[Recommendation] = []
    if candidates:
        steps.append(_skill_step(course, candidates[0], dependents, config))
        question = _question_step(
            course, candidates, mastery.course_tracer(course=course), history, question_skills, answered_right, config
        )
        if question:
            steps.append(question)
    reviews = _review_steps(course, estimates, question_skills, config)
    resources = _resource_steps(course, student, candidates[0] if candidates else None, config)
    steps.extend(resources[:1] + reviews[:1] + resources[1:] + reviews[1:])
    return steps[:limit]
