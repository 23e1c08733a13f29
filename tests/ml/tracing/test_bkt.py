import numpy as np
import pytest

from tutor.ml.tracing.bkt import BKT, BKTConfig
from tutor.ml.tracing.data import StudentSequence

TRUE = {  # skill id -> (prior, learn, guess, slip)
    3: (0.3, 0.15, 0.2, 0.1),
    8: (0.6, 0.05, 0.25, 0.15),
}


def simulate(n_students=600, length=15, seed=0):
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n_students):
        pairs = []
        known = {k: rng.random() < p[0] for k, p in TRUE.items()}
        for _ in range(length):
            k = int(rng.choice(list(TRUE)))
            prior, learn, guess, slip = TRUE[k]
            correct = rng.random() < ((1 - slip) if known[k] else guess)
            pairs.append((k, int(correct)))
            if not known[k] and rng.random() < learn:
                known[k] = True
        seqs.append(StudentSequence.from_pairs(pairs))
    return seqs


@pytest.fixture(scope="module")
def fitted():
    return BKT(BKTConfig(tol=1e-6, max_iter=300)).fit(simulate())


def test_em_recovers_known_parameters(fitted):
    for skill, (prior, learn, guess, slip) in TRUE.items():
        got = fitted.skill_params(skill)
        assert got["prior"] == pytest.approx(prior, abs=0.1)
        assert got["learn"] == pytest.approx(learn, abs=0.06)
        assert got["guess"] == pytest.approx(guess, abs=0.06)
        assert got["slip"] == pytest.approx(slip, abs=0.06)


def test_em_log_likelihood_never_decreases(fitted):
    h = np.array(fitted.history)
    assert len(h) > 2
    assert np.all(np.diff(h) > -1e-6)


def test_run_of_correct_answers_raises_mastery_and_predicted_correctness(fitted):
    seq = StudentSequence.from_pairs([(3, 1)] * 6)
    pred = fitted.predict([seq])[0]
    assert np.all(np.diff(pred) > 0)
    assert fitted.mastery(seq)[3] > 0.95
    wrong = StudentSequence.from_pairs([(3, 0)] * 3)
    assert fitted.mastery(wrong)[3] < fitted.skill_params(3)["prior"]


def test_predictions_are_causal(fitted):
    a = StudentSequence.from_pairs([(3, 1), (8, 0), (3, 0), (3, 1)])
    b = StudentSequence.from_pairs([(3, 1), (8, 0), (3, 1), (8, 1)])
    pa, pb = fitted.predict([a, b])
    assert pa[:3].tolist() == pb[:3].tolist()  # attempts 0..2 share their past
    assert pa[3] != pb[3]
    assert pa[0] == pytest.approx(0.3 * 0.9 + 0.7 * 0.2, abs=0.05)  # prior-only first prediction


def test_bounds_and_unknown_skills(fitted):
    for values in fitted.params.values():
        assert np.all((values > 0) & (values < 1))
    assert np.all(fitted.params["guess"] <= 0.3) and np.all(fitted.params["slip"] <= 0.3)
    pred = fitted.predict([StudentSequence.from_pairs([(999, 1), (999, 1)])])[0]
    assert 0 < pred[0] < pred[1] < 1


def test_save_load_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "bkt")
    again = BKT.load(tmp_path / "bkt")
    seqs = simulate(n_students=5, seed=3)
    for p, q in zip(fitted.predict(seqs), again.predict(seqs)):
        np.testing.assert_allclose(p, q)


def test_very_long_chains_stay_finite():
    long = StudentSequence.from_pairs([(1, 1)] * 3000 + [(1, 0)] * 3000 + [(1, 1)] * 50)
    model = BKT().fit([long] + simulate(n_students=20, seed=4))
    for values in model.params.values():
        assert np.all(np.isfinite(values))
    pred = model.predict([long])[0]
    assert np.all(np.isfinite(pred)) and np.all((pred > 0) & (pred < 1))


def test_mastery_stays_a_probability_after_a_long_correct_run_then_errors(fitted):
    seq = StudentSequence.from_pairs([(3, 1)] * 400 + [(3, 0)] * 10)
    pred = fitted.predict([seq])[0]
    assert np.all((pred > 0) & (pred < 1))
    short = fitted.predict([StudentSequence.from_pairs([(3, 1)] * 8 + [(3, 0)] * 5)])[0]
    assert short[-1] < short[8]  # errors after apparent mastery lower the prediction
