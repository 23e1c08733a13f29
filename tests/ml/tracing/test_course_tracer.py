"""The product's tracer interface (tutor.ml.tracing.course) on tiny histories with known behaviour."""

import numpy as np
import pytest

from tutor.ml.tracing.course import (
    Attempt,
    BKTCourseTracer,
    CourseTracerConfig,
    TransformerCourseTracer,
    bkt_parameters,
    evaluate_tracer,
    fit_course_tracer,
    load_course_tracer,
    untrained_bkt,
)
from tutor.ml.tracing.transformer import TransformerConfig

A, B = 1, 2  # skills
SKILL_QUESTIONS = {A: [10, 11], B: [20, 21]}


def attempt(question, correct):
    return Attempt(question, (A,) if question < 20 else (B,), bool(correct))


def simulated_histories(n=240, length=12, seed=0):
    """Learners who master a skill with some chance per attempt; easy question 10, hard 11."""
    rng = np.random.default_rng(seed)
    histories = []
    for _ in range(n):
        known = {A: rng.random() < 0.3, B: rng.random() < 0.5}
        history = []
        for _ in range(length):
            q = int(rng.choice([10, 11, 20, 21]))
            skill = A if q < 20 else B
            p = 0.9 if known[skill] else (0.35 if q in (10, 20) else 0.1)
            history.append(attempt(q, rng.random() < p))
            known[skill] = known[skill] or rng.random() < 0.15
        histories.append(history)
    return histories


@pytest.fixture(scope="module")
def bkt():
    return BKTCourseTracer.fit(simulated_histories())


def test_wrong_answer_lowers_and_right_answer_raises_bkt_mastery(bkt):
    prior = bkt.mastery([], SKILL_QUESTIONS)[A]
    after_wrong = bkt.mastery([attempt(10, 0)], SKILL_QUESTIONS)[A]
    after_right = bkt.mastery([attempt(10, 0), attempt(10, 1)], SKILL_QUESTIONS)[A]
    assert after_wrong < prior
    assert after_right > after_wrong
    # the other skill is untouched by practice of A
    assert bkt.mastery([attempt(10, 1)], SKILL_QUESTIONS)[B] == pytest.approx(bkt.mastery([], SKILL_QUESTIONS)[B])


def test_replay_chains_before_and_after_per_skill(bkt):
    history = [attempt(10, 0), attempt(20, 1), attempt(11, 1), attempt(10, 1)]
    steps = bkt.replay(history, SKILL_QUESTIONS)
    assert [set(s) for s in steps] == [{A}, {B}, {A}, {A}]
    assert steps[2][A][0] == pytest.approx(steps[0][A][1])  # A's estimate before attempt 2 is the one after attempt 0
    assert steps[3][A][0] == pytest.approx(steps[2][A][1])
    assert steps[-1][A][1] == pytest.approx(bkt.mastery(history, SKILL_QUESTIONS)[A])


def test_multi_skill_question_updates_every_skill(bkt):
    both = Attempt(30, (A, B), True)
    before = bkt.mastery([], SKILL_QUESTIONS)
    after = bkt.mastery([both], SKILL_QUESTIONS)
    assert after[A] > before[A] and after[B] > before[B]


def test_untrained_bkt_starts_every_skill_at_the_initial_prior():
    tracer = BKTCourseTracer(untrained_bkt())
    assert tracer.mastery([], {7: [1]})[7] == pytest.approx(0.4)
    assert BKTCourseTracer.fit([]).mastery([], {7: [1]})[7] == pytest.approx(0.4)


def test_bkt_predictions_are_causal(bkt):
    history = [attempt(10, 0), attempt(10, 1), attempt(11, 0)]
    changed = history[:2] + [attempt(11, 1)]
    p1, p2 = bkt.predict_attempts([history, changed])
    assert np.allclose(p1, p2)  # the last outcome never feeds its own prediction


def test_bkt_parameters_round_trip(bkt):
    again = load_course_tracer("bkt", parameters=bkt_parameters(bkt))
    history = [attempt(10, 0), attempt(11, 1)]
    assert again.mastery(history, SKILL_QUESTIONS) == pytest.approx(bkt.mastery(history, SKILL_QUESTIONS))


def test_bkt_predicts_held_out_learners_better_than_chance(bkt):
    assert evaluate_tracer(bkt, simulated_histories(seed=1))["auc"] > 0.6


@pytest.fixture(scope="module")
def transformer_result():
    config = CourseTracerConfig(
        transformer_min_interactions=100, transformer_min_students=10, probe_questions=2,
        transformer=TransformerConfig(d_model=16, n_heads=2, max_epochs=3, patience=2, max_len=20, seed=0),
    )
    return fit_course_tracer(simulated_histories(), config, kind="transformer")


def test_fit_chooses_bkt_when_history_is_short():
    result = fit_course_tracer(simulated_histories(n=20), CourseTracerConfig())
    assert result.tracer.kind == "bkt"
    assert result.metrics["chosen"] == "bkt" and "not enough history" in result.metrics["why"]
    assert result.interactions == 20 * 12


def test_transformer_is_compared_with_bkt_on_held_out_learners(transformer_result):
    metrics = transformer_result.metrics
    assert transformer_result.tracer.kind == "transformer"
    assert metrics["bkt"]["n"] == metrics["transformer"]["n"] > 0  # same held-out learners
    assert 0.5 < metrics["transformer"]["auc"] <= 1


def test_transformer_replay_and_mastery_agree(transformer_result):
    tracer = transformer_result.tracer
    history = [attempt(10, 0), attempt(20, 1), attempt(11, 1)]
    steps = tracer.replay(history, SKILL_QUESTIONS)
    # the estimate before attempt t is the mastery given the attempts before it; after, including it
    assert steps[2][A][0] == pytest.approx(tracer.mastery(history[:2], SKILL_QUESTIONS)[A], abs=1e-6)
    assert steps[-1][A][1] == pytest.approx(tracer.mastery(history, SKILL_QUESTIONS)[A], abs=1e-6)
    batched = tracer.replay_many([history, history[:1]], SKILL_QUESTIONS)
    assert batched[1][0][A] == pytest.approx(steps[0][A], abs=1e-6)
    success = tracer.success(history, {10: (A,), 11: (A,)})
    assert all(0 <= p <= 1 for p in success.values())


def test_transformer_saves_and_loads(transformer_result, tmp_path):
    tracer = transformer_result.tracer
    tracer.save(tmp_path)
    again = TransformerCourseTracer.load(tmp_path, probe_questions=2)
    history = [attempt(10, 1), attempt(21, 0)]
    assert again.mastery(history, SKILL_QUESTIONS) == pytest.approx(tracer.mastery(history, SKILL_QUESTIONS))
