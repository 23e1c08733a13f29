import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tutor.ml.tracing.data import StudentSequence
from tutor.ml.tracing.transformer import TransformerConfig, TransformerTracer, _windows, history_features

TINY = dict(d_model=16, n_heads=2, max_len=12, batch_tokens=2_000, max_epochs=15, patience=15, lr=1e-2)


def echo_students(n, length, seed):
    """Each student answers every question the same way: all right or all wrong."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        c = int(rng.random() < 0.5)
        out.append(StudentSequence.from_pairs([(int(k), c) for k in rng.integers(1, 6, size=length)]))
    return out


@pytest.fixture(scope="module")
def trained():
    return TransformerTracer(TransformerConfig(**TINY)).fit(echo_students(120, 20, 0), echo_students(30, 20, 1))


def test_learns_a_trivial_pattern_quickly(trained):
    test = echo_students(40, 30, 2)  # longer than max_len: exercises the sliding windows
    preds = trained.predict(test)
    p = np.concatenate([q[1:] for q in preds])  # the first answer is unpredictable by design
    y = np.concatenate([s.correct[1:] for s in test])
    assert roc_auc_score(y, p) > 0.98
    assert trained.history[-1]["valid_auc"] > 0.9


def test_changing_the_future_does_not_change_earlier_predictions(trained):
    rng = np.random.default_rng(5)
    pairs = [(int(k), int(c)) for k, c in zip(rng.integers(1, 6, 40), rng.integers(0, 2, 40))]
    base = StudentSequence.from_pairs(pairs)
    for t in (0, 5, 11, 12, 25, 39):  # inside the first window, at its edge, in later windows
        changed = list(pairs)
        changed[t] = (changed[t][0] % 5 + 1, 1 - changed[t][1])  # other skill, other answer
        p0, p1 = trained.predict([base, StudentSequence.from_pairs(changed)])
        np.testing.assert_allclose(p0[:t], p1[:t], rtol=0, atol=1e-6)  # float noise only
        assert not np.allclose(p0[t + 1 :], p1[t + 1 :]) or t == 39


def test_every_interaction_is_predicted_exactly_once_with_past_context():
    for length in (1, 7, 12, 13, 30, 101):
        windows = _windows(length, 12, train=False)
        scored = np.zeros(length, dtype=int)
        for start, end, first in windows:
            assert start <= first <= end <= length and end - start <= 12
            assert first == 0 or first - start >= 6  # at least half a window of context
            scored[first:end] += 1
        assert np.all(scored == 1)
        covered = np.zeros(length, dtype=int)
        for start, end, first in _windows(length, 12, train=True):
            covered[first:end] += 1
        assert np.all(covered == 1)


def test_history_features_use_only_the_past():
    f = history_features(np.array([4, 4, 9, 4]), np.array([1, 0, 1, 1]))
    assert f[0].tolist()[:5] == [0, 0, 0, 0, 0]
    assert f[1][0] == pytest.approx(np.log1p(1)) and f[1][2] == 1  # one right so far, last was right
    assert f[3][0] == pytest.approx(np.log1p(1)) and f[3][1] == pytest.approx(np.log1p(1)) and f[3][2] == -1


def test_save_load_round_trip(trained, tmp_path):
    trained.save(tmp_path / "tf")
    again = TransformerTracer.load(tmp_path / "tf")
    seqs = echo_students(5, 25, 7) + [StudentSequence.from_pairs([(99, 1), (3, 0)])]  # unseen id 99
    for p, q in zip(trained.predict(seqs), again.predict(seqs)):
        np.testing.assert_allclose(p, q, rtol=1e-5)
        assert np.all((p > 0) & (p < 1))
