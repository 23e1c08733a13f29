"""Knowledge tracing for one course in the product: one interface over BKT and the Transformer.

A learner's history is a list of :class:`Attempt` (question, its skills, right or wrong) in time
order. Every tracer answers three questions about a history:

* ``mastery``: for each skill, the estimate that the learner masters it now;
* ``success``: for each question, the predicted chance of answering it correctly next;
* ``replay``: for each attempt, each of its skills' estimate before and after it (trends, charts).

:class:`BKTCourseTracer` traces skills (one BKT per skill; a multi-skill question updates each
skill); mastery is P(known). :class:`TransformerCourseTracer` traces questions (its vocabulary is
question ids, so a question's own difficulty is learned); a skill's mastery is the mean predicted
success over (up to ``probe_questions``) questions of that skill.

:func:`fit_course_tracer` fits BKT always and the Transformer once the course has enough
interactions; it keeps the Transformer only when it predicts held-out students at least as well.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from .base import Vocabulary
from .bkt import BKT, BKTConfig
from .data import StudentSequence, split_train_valid
from .transformer import TransformerConfig, TransformerTracer


@dataclass(frozen=True)
class Attempt:
    question: int
    skills: tuple[int, ...]
    correct: bool


History = list[Attempt]
SkillQuestions = dict[int, list[int]]  # skill id -> its question ids


@dataclass
class CourseTracerConfig:
    # The Transformer is tried once a course has this much history; below it BKT alone is fitted.
    transformer_min_interactions: int = 1000
    transformer_min_students: int = 50
    holdout_fraction: float = 0.2  # students held out to compare the tracers
    probe_questions: int = 6  # questions per skill a Transformer averages for mastery
    seed: int = 0
    bkt: BKTConfig = field(default_factory=BKTConfig)
    transformer: TransformerConfig = field(
        default_factory=lambda: TransformerConfig(d_model=32, max_epochs=20, patience=3, max_seconds=120.0, max_len=100)
    )


class CourseTracer(ABC):
    kind: str

    @abstractmethod
    def mastery(self, history: History, skill_questions: SkillQuestions) -> dict[int, float]: ...

    @abstractmethod
    def success(self, history: History, questions: dict[int, tuple[int, ...]]) -> dict[int, float]: ...

    @abstractmethod
    def replay(self, history: History, skill_questions: SkillQuestions) -> list[dict[int, tuple[float, float]]]: ...

    def replay_many(self, histories: list[History], skill_questions: SkillQuestions):
        """``replay`` of several learners (the Transformer batches them)."""
        return [self.replay(h, skill_questions) for h in histories]

    @abstractmethod
    def predict_attempts(self, histories: list[History]) -> list[np.ndarray]:
        """P(correct) of every attempt from the attempts before it (for evaluation)."""

    @abstractmethod
    def save(self, path: str | Path) -> None: ...


# ---------------------------------------------------------------------------------------- BKT


def _skill_rows(history: History) -> StudentSequence:
    """One row per (attempt, skill): what BKT is fitted on (skills' chains are independent)."""
    return StudentSequence.from_pairs((k, int(a.correct)) for a in history for k in a.skills)


def untrained_bkt(config: BKTConfig | None = None) -> BKT:
    """BKT with its initial parameters for every skill: what a course with no history starts from."""
    model = BKT(config or BKTConfig())
    cfg = model.config
    model.vocab = Vocabulary([])
    model.params = {
        name: np.array([value]) for name, value in
        (("prior", cfg.init_prior), ("learn", cfg.init_learn), ("guess", cfg.init_guess), ("slip", cfg.init_slip))
    }
    return model


class BKTCourseTracer(CourseTracer):
    kind = "bkt"

    def __init__(self, model: BKT):
        self.model = model

    @classmethod
    def fit(cls, histories: list[History], config: BKTConfig | None = None) -> BKTCourseTracer:
        rows = [_skill_rows(h) for h in histories]
        rows = [r for r in rows if len(r)]
        return cls(BKT(config or BKTConfig()).fit(rows) if rows else untrained_bkt(config))

    def _params(self, skill: int) -> tuple[float, float, float, float]:
        p = self.model.skill_params(skill)
        return p["prior"], p["learn"], p["guess"], p["slip"]

    def _step(self, known: float, skill: int, correct: bool) -> float:
        _, learn, guess, slip = self._params(skill)
        if correct:
            post = known * (1 - slip) / (known * (1 - slip) + (1 - known) * guess)
        else:
            post = known * slip / (known * slip + (1 - known) * (1 - guess))
        return min(1.0, post + (1 - post) * learn)

    def replay(self, history: History, skill_questions: SkillQuestions | None = None):
        known: dict[int, float] = {}
        out = []
        for attempt in history:
            step = {}
            for skill in attempt.skills:
                before = known.get(skill, self._params(skill)[0])
                known[skill] = self._step(before, skill, attempt.correct)
                step[skill] = (before, known[skill])
            out.append(step)
        return out

    def _known(self, history: History, skills) -> dict[int, float]:
        known = {k: self._params(k)[0] for k in skills}
        for step in self.replay(history):
            for skill, (_, after) in step.items():
                known[skill] = after
        return known

    def mastery(self, history: History, skill_questions: SkillQuestions) -> dict[int, float]:
        return self._known(history, skill_questions)

    def success(self, history: History, questions: dict[int, tuple[int, ...]]) -> dict[int, float]:
        known = self._known(history, {k for skills in questions.values() for k in skills})
        out = {}
        for question, skills in questions.items():
            chances = []
            for skill in skills:
                _, _, guess, slip = self._params(skill)
                chances.append(known[skill] * (1 - slip) + (1 - known[skill]) * guess)
            out[question] = float(np.mean(chances)) if chances else 0.5
        return out

    def predict_attempts(self, histories: list[History]) -> list[np.ndarray]:
        out = []
        for history in histories:
            known: dict[int, float] = {}
            preds = np.empty(len(history))
            for t, attempt in enumerate(history):
                chances = []
                for skill in attempt.skills:
                    _, _, guess, slip = self._params(skill)
                    pk = known.get(skill, self._params(skill)[0])
                    chances.append(pk * (1 - slip) + (1 - pk) * guess)
                preds[t] = np.mean(chances) if chances else 0.5
                for skill in attempt.skills:  # update only after predicting the whole attempt
                    known[skill] = self._step(known.get(skill, self._params(skill)[0]), skill, attempt.correct)
            out.append(preds)
        return out

    def parameters(self) -> dict[str, dict[str, float]]:
        """Fitted parameters per skill id (JSON-friendly)."""
        return {str(k): self.model.skill_params(int(k)) for k in self.model.vocab.ids.tolist()}

    def save(self, path: str | Path) -> None:
        self.model.save(path)

    @classmethod
    def load(cls, path: str | Path) -> BKTCourseTracer:
        return cls(BKT.load(path))


# -------------------------------------------------------------------------------- Transformer


def _question_rows(history: History) -> StudentSequence:
    return StudentSequence.from_pairs((a.question, int(a.correct)) for a in history)


class TransformerCourseTracer(CourseTracer):
    kind = "transformer"

    def __init__(self, model: TransformerTracer, *, probe_questions: int = 10):
        self.model = model
        self.probe_questions = probe_questions

    def _probe(self, prefixes: list[History], questions: list[int]) -> np.ndarray:
        """P(correct) of ``questions[i]`` asked right after ``prefixes[i]`` (one batched pass)."""
        if not questions:
            return np.zeros(0)
        sequences = []
        for prefix, question in zip(prefixes, questions):
            pairs = [(a.question, int(a.correct)) for a in prefix] + [(question, 0)]  # label unused: causal
            sequences.append(StudentSequence.from_pairs(pairs))
        return np.array([p[-1] for p in self.model.predict(sequences)])

    def _probe_set(self, skill_questions: SkillQuestions) -> dict[int, list[int]]:
        # spread evenly over the skill's questions, deterministic
        out = {}
        for skill, qs in skill_questions.items():
            qs = sorted(qs)
            if len(qs) > self.probe_questions:
                idx = np.linspace(0, len(qs) - 1, self.probe_questions).round().astype(int)
                qs = [qs[i] for i in idx]
            out[skill] = qs
        return out

    def _skill_means(self, prefix: History, probes: dict[int, list[int]]) -> dict[int, float]:
        pairs = [(skill, q) for skill, qs in probes.items() for q in qs]
        p = self._probe([prefix] * len(pairs), [q for _, q in pairs])
        sums: dict[int, list[float]] = {}
        for (skill, _), value in zip(pairs, p):
            sums.setdefault(skill, []).append(float(value))
        return {skill: float(np.mean(sums[skill])) if skill in sums else 0.5 for skill in probes}

    def mastery(self, history: History, skill_questions: SkillQuestions) -> dict[int, float]:
        return self._skill_means(history, self._probe_set(skill_questions))

    def success(self, history: History, questions: dict[int, tuple[int, ...]]) -> dict[int, float]:
        ids = list(questions)
        return dict(zip(ids, self._probe([history] * len(ids), ids).tolist()))

    def replay(self, history: History, skill_questions: SkillQuestions):
        return self.replay_many([history], skill_questions)[0]

    def replay_many(self, histories: list[History], skill_questions: SkillQuestions):
        probes = self._probe_set(skill_questions)
        # every (learner, prefix length, probe question) needed, once, in one batched pass; the
        # estimate after attempt t is the one before attempt t + 1, so prefixes are shared
        needed: dict[tuple[int, int], set[int]] = {}
        for h, history in enumerate(histories):
            for t, attempt in enumerate(history):
                for skill in attempt.skills:
                    for n in (t, t + 1):
                        needed.setdefault((h, n), set()).update(probes.get(skill) or [attempt.question])
        keys = [(h, n, q) for (h, n), qs in needed.items() for q in sorted(qs)]
        p = dict(zip(keys, self._probe([histories[h][:n] for h, n, _ in keys], [q for *_, q in keys]).tolist()))

        def estimate(h: int, n: int, skill: int, fallback: int) -> float:
            return float(np.mean([p[(h, n, q)] for q in probes.get(skill) or [fallback]]))

        return [
            [
                {k: (estimate(h, t, k, a.question), estimate(h, t + 1, k, a.question)) for k in a.skills}
                for t, a in enumerate(history)
            ]
            for h, history in enumerate(histories)
        ]

    def predict_attempts(self, histories: list[History]) -> list[np.ndarray]:
        return self.model.predict([_question_rows(h) for h in histories])

    def save(self, path: str | Path) -> None:
        self.model.save(path)

    @classmethod
    def load(cls, path: str | Path, *, probe_questions: int = 10) -> TransformerCourseTracer:
        return cls(TransformerTracer.load(path), probe_questions=probe_questions)


def load_course_tracer(kind: str, *, path: str | Path | None = None, parameters: dict | None = None,
                       probe_questions: int = 10) -> CourseTracer:
    """A saved tracer: BKT from its parameters (``BKT.save`` JSON), a Transformer from its directory."""
    if kind == "bkt":
        if parameters:
            model = BKT(BKTConfig(**parameters["config"]))
            model.vocab = Vocabulary(parameters["ids"])
            model.params = {n: np.asarray(v, dtype=np.float64) for n, v in parameters["params"].items()}
            return BKTCourseTracer(model)
        return BKTCourseTracer.load(path) if path else BKTCourseTracer(untrained_bkt())
    if kind == "transformer":
        return TransformerCourseTracer.load(path, probe_questions=probe_questions)
    raise ValueError(f"unknown tracer kind {kind!r}")


def bkt_parameters(tracer: BKTCourseTracer) -> dict:
    """Everything needed to rebuild a BKT tracer, as JSON (what ``TracerVersion.parameters`` holds)."""
    model = tracer.model
    return {
        "config": asdict(model.config),
        "ids": model.vocab.ids.tolist(),
        "params": {n: v.tolist() for n, v in model.params.items()},
    }


# -------------------------------------------------------------------------------------- fitting


def evaluate_tracer(tracer: CourseTracer, histories: list[History]) -> dict:
    """Pooled AUC / accuracy / n of one prediction per attempt, each from the attempts before it."""
    histories = [h for h in histories if h]
    if not histories:
        return {"auc": None, "accuracy": None, "n": 0}
    p = np.concatenate(tracer.predict_attempts(histories))
    y = np.concatenate([[int(a.correct) for a in h] for h in histories])
    auc = float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else None
    return {"auc": auc, "accuracy": float(((p >= 0.5) == y).mean()), "n": int(len(y))}


@dataclass
class FitResult:
    tracer: CourseTracer
    metrics: dict  # per kind: held-out auc/accuracy/n and seconds; "chosen" and "why"
    interactions: int


def fit_course_tracer(histories: list[History], config: CourseTracerConfig | None = None,
                      *, kind: str = "auto") -> FitResult:
    """Fit the course's tracer. ``kind``: ``auto`` (BKT, or the Transformer when there is enough
    history and it predicts held-out students at least as well), ``bkt`` or ``transformer``."""
    cfg = config or CourseTracerConfig()
    histories = [h for h in histories if h]
    interactions = sum(len(h) for h in histories)
    enough = interactions >= cfg.transformer_min_interactions and len(histories) >= cfg.transformer_min_students
    try_transformer = kind == "transformer" or (kind == "auto" and enough)
    metrics: dict = {}

    if not try_transformer:
        started = time.perf_counter()
        bkt = BKTCourseTracer.fit(histories, cfg.bkt)
        metrics["bkt"] = {"seconds": round(time.perf_counter() - started, 3)}
        why = "not enough history for the Transformer" if kind == "auto" else "BKT asked for"
        metrics.update(chosen="bkt", why=why)
        return FitResult(bkt, metrics, interactions)

    # hold out whole students: the two tracers are compared on students neither saw
    rest, holdout = split_train_valid(_as_indexable(histories), valid_fraction=cfg.holdout_fraction, seed=cfg.seed)
    rest, holdout = [h.history for h in rest], [h.history for h in holdout]
    started = time.perf_counter()
    bkt = BKTCourseTracer.fit(rest, cfg.bkt)
    metrics["bkt"] = {**evaluate_tracer(bkt, holdout), "seconds": round(time.perf_counter() - started, 3)}

    train, valid = split_train_valid(_as_indexable(rest), valid_fraction=0.1, seed=cfg.seed)
    started = time.perf_counter()
    model = TransformerTracer(cfg.transformer).fit(
        [_question_rows(h.history) for h in train], [_question_rows(h.history) for h in valid]
    )
    transformer = TransformerCourseTracer(model, probe_questions=cfg.probe_questions)
    metrics["transformer"] = {
        **evaluate_tracer(transformer, holdout),
        "seconds": round(time.perf_counter() - started, 3),
        "epochs": len(model.history),
    }
    t_auc, b_auc = metrics["transformer"]["auc"], metrics["bkt"]["auc"]
    if kind == "transformer" or (t_auc is not None and (b_auc is None or t_auc >= b_auc)):
        metrics.update(chosen="transformer", why=f"held-out AUC {_fmt(t_auc)} vs BKT {_fmt(b_auc)}")
        return FitResult(transformer, metrics, interactions)
    if t_auc is None or b_auc is None:
        why = "too few held-out learners to compare the tracers; BKT kept"
    else:
        why = f"BKT predicted held-out learners better ({_fmt(b_auc)} vs {_fmt(t_auc)})"
    metrics.update(chosen="bkt", why=why)
    return FitResult(BKTCourseTracer.fit(histories, cfg.bkt), metrics, interactions)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@dataclass(eq=False)
class _Indexed:
    """Lets ``split_train_valid`` (written for sequences) split histories by student."""

    history: History


def _as_indexable(histories: list[History]) -> list[_Indexed]:
    return [_Indexed(h) for h in histories]
