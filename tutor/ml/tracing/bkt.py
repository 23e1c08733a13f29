"""Bayesian Knowledge Tracing (Corbett & Anderson 1995), one HMM per skill, fitted with EM.

Each skill has four parameters: ``prior`` P(L0), ``learn`` P(T), ``guess`` P(G), ``slip`` P(S);
forgetting is off (a known skill stays known). A student's attempts on one skill form one
observation chain. EM runs on all chains of all skills at once: chains are sorted by length
and stored time-major ("packed"), so step ``t`` of the forward/backward pass is a numpy
operation over the chains still running at ``t``; total work is linear in the interactions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .base import Tracer, Vocabulary
from .data import StudentSequence


_EPS = 1e-9


@dataclass
class BKTConfig:
    max_iter: int = 100
    tol: float = 1e-4  # stop when the mean log-likelihood per attempt improves by less
    max_guess: float = 0.3
    max_slip: float = 0.3
    min_param: float = 1e-3
    max_learn: float = 0.5
    # Beta pseudo-counts towards the init values: keeps rarely practised skills sensible (MAP-EM).
    pseudo_count: float = 2.0
    init_prior: float = 0.4
    init_learn: float = 0.1
    init_guess: float = 0.2
    init_slip: float = 0.1


class _Packed:
    """Per-skill chains of all students, sorted by length (desc) and laid out time-major."""

    def __init__(self, chains_obs: list[np.ndarray], chains_skill: np.ndarray):
        lengths = np.array([len(c) for c in chains_obs], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        self.order = order
        self.lengths = lengths[order]
        self.skill = chains_skill[order]
        max_len = int(self.lengths[0]) if len(self.lengths) else 0
        # batch[t] = number of chains longer than t (a prefix, since sorted descending)
        self.batch = np.array([(self.lengths > t).sum() for t in range(max_len)], dtype=np.int64)
        self.offset = np.concatenate([[0], np.cumsum(self.batch)])
        self.obs = np.empty(int(self.offset[-1]), dtype=np.float64)
        sorted_chains = [chains_obs[i] for i in order]
        for t in range(max_len):
            n = self.batch[t]
            self.obs[self.offset[t] : self.offset[t + 1]] = [sorted_chains[r][t] for r in range(n)]
        # skill of each packed cell
        self.cell_skill = np.concatenate([self.skill[: self.batch[t]] for t in range(max_len)]) if max_len else np.zeros(0, dtype=np.int64)

    def slot(self, t: int) -> slice:
        return slice(int(self.offset[t]), int(self.offset[t + 1]))


def _chains(sequences: list[StudentSequence], encoded: list[np.ndarray]):
    obs, skill = [], []
    for seq, enc in zip(sequences, encoded):
        correct = seq.correct.astype(np.float64)
        order = np.argsort(enc, kind="stable")
        enc_sorted = enc[order]
        cuts = np.flatnonzero(np.diff(enc_sorted)) + 1
        for group in np.split(order, cuts):  # positions of one skill, still in time order
            obs.append(correct[group])
            skill.append(enc[group[0]])
    return obs, np.array(skill, dtype=np.int64)


class BKT(Tracer):
    name = "bkt"

    def __init__(self, config: BKTConfig | None = None):
        self.config = config or BKTConfig()
        self.vocab: Vocabulary | None = None
        self.params: dict[str, np.ndarray] = {}
        self.history: list[float] = []

    # ---- fitting -----------------------------------------------------------------
    def fit(self, train: list[StudentSequence], valid: list[StudentSequence] | None = None) -> BKT:
        cfg = self.config
        self.vocab = Vocabulary.from_sequences(train)
        k = len(self.vocab)
        encoded = [self.vocab.encode(s.skills) for s in train]
        chain_obs, chain_skill = _chains(train, encoded)
        packed = _Packed(chain_obs, chain_skill)
        prior = np.full(k, cfg.init_prior)
        learn = np.full(k, cfg.init_learn)
        guess = np.full(k, cfg.init_guess)
        slip = np.full(k, cfg.init_slip)
        self.history = []
        n_obs = max(1, len(packed.obs))
        for _ in range(cfg.max_iter):
            loglik, stats = self._e_step(packed, prior, learn, guess, slip)
            self.history.append(loglik / n_obs)
            prior, learn, guess, slip = self._m_step(stats, k)
            if len(self.history) > 1 and self.history[-1] - self.history[-2] < cfg.tol:
                break
        # the unknown-skill slot (index 0) takes the average of the fitted skills
        counts = np.bincount(packed.skill, minlength=k)[1:]
        if counts.sum():
            w = counts / counts.sum()
            for arr in (prior, learn, guess, slip):
                arr[0] = float((arr[1:] * w).sum())
        self.params = {"prior": prior, "learn": learn, "guess": guess, "slip": slip}
        return self

    def _e_step(self, p: _Packed, prior, learn, guess, slip):
        T = len(p.batch)
        n = len(p.obs)
        sk = p.cell_skill
        o = p.obs
        # emission probabilities of each observation under unknown (0) / known (1)
        e0 = np.where(o == 1, guess[sk], 1 - guess[sk])
        e1 = np.where(o == 1, 1 - slip[sk], slip[sk])
        tr = learn[sk]
        a1 = np.empty(n)  # filtered P(known_t | o_<=t)
        c = np.empty(n)  # P(o_t | o_<t)
        pk = prior[p.skill].copy()  # predicted P(known_t | o_<t) for running chains
        for t in range(T):
            s = p.slot(t)
            pk = pk[: p.batch[t]]
            ct = (1 - pk) * e0[s] + pk * e1[s]
            c[s] = ct
            # kept off 0/1 so the scaled backward variables (at most 1 / P(state)) stay finite
            # on chains of thousands of attempts
            a1[s] = np.clip(pk * e1[s] / ct, _EPS, 1 - _EPS)
            pk = a1[s] + (1 - a1[s]) * tr[s]
        # backward pass: b_t(state) ∝ P(o_>t | state_t), renormalised to b0 + b1 = 1 at every step
        # (posteriors below are ratios, so the per-step scale cancels and nothing under/overflows)
        g1 = np.empty(n)  # smoothed P(known_t | all o)
        xi = np.zeros(n)  # expected unknown->known transitions between t and t+1
        b0 = np.full(p.batch[T - 1], 0.5) if T else np.ones(0)
        b1 = b0.copy()
        for t in range(T - 1, -1, -1):
            s = p.slot(t)
            nt = p.batch[t]
            a1t = a1[s]
            if t < T - 1:
                nn = p.batch[t + 1]
                s1 = p.slot(t + 1)
                e0n, e1n = e0[s1], e1[s1]
                trt = tr[s][:nn]
                raw0 = (1 - trt) * e0n * b0 + trt * e1n * b1
                raw1 = e1n * b1
                head = a1t[:nn]
                x = np.zeros(nt)
                x[:nn] = (1 - head) * trt * e1n * b1 / ((1 - head) * raw0 + head * raw1)
                xi[s] = x
                nb0 = np.full(nt, 0.5)
                nb1 = np.full(nt, 0.5)
                norm = raw0 + raw1
                nb0[:nn] = raw0 / norm
                nb1[:nn] = raw1 / norm
                b0, b1 = nb0, nb1
            g = a1t * b1
            g1[s] = g / (g + (1 - a1t) * b0)
        loglik = float(np.log(c).sum())
        first = p.slot(0) if T else slice(0, 0)
        stats = {
            "prior_known": np.bincount(p.skill, weights=g1[first], minlength=0),
            "n_chains": np.bincount(p.skill),
            "g1": g1,
            "xi": xi,
            "obs": o,
            "sk": sk,
            "not_last": self._not_last(p),
        }
        return loglik, stats

    @staticmethod
    def _not_last(p: _Packed) -> np.ndarray:
        mask = np.ones(len(p.obs), dtype=bool)
        for t in range(len(p.batch)):
            s = p.slot(t)
            nxt = p.batch[t + 1] if t + 1 < len(p.batch) else 0
            mask[s.start + nxt : s.stop] = False
        return mask

    def _m_step(self, st, k):
        cfg = self.config
        a = cfg.pseudo_count
        sk, g1, o, xi, nl = st["sk"], st["g1"], st["obs"], st["xi"], st["not_last"]
        g0 = 1 - g1

        def ratio(num, den, init):
            num = np.bincount(sk, weights=num, minlength=k) if num.ndim else num
            den = np.bincount(sk, weights=den, minlength=k) if den.ndim else den
            return (num + a * init) / (den + a)

        prior_num = np.zeros(k)
        prior_den = np.zeros(k)
        pk_ = st["prior_known"]
        prior_num[: len(pk_)] = pk_
        prior_den[: len(st["n_chains"])] = st["n_chains"]
        prior = (prior_num + a * cfg.init_prior) / (prior_den + a)
        learn = ratio(xi, g0 * nl, cfg.init_learn)
        guess = ratio(g0 * o, g0, cfg.init_guess)
        slip = ratio(g1 * (1 - o), g1, cfg.init_slip)
        lo = cfg.min_param
        return (
            np.clip(prior, lo, 1 - lo),
            np.clip(learn, lo, cfg.max_learn),
            np.clip(guess, lo, cfg.max_guess),
            np.clip(slip, lo, cfg.max_slip),
        )

    # ---- inference -----------------------------------------------------------------
    def _trace(self, seq: StudentSequence) -> tuple[np.ndarray, np.ndarray]:
        """Causal pass over one sequence: (P(correct_t | o_<t), P(known after t))."""
        enc = self.vocab.encode(seq.skills)
        prior, learn, guess, slip = (self.params[n] for n in ("prior", "learn", "guess", "slip"))
        known = {}
        pred = np.empty(len(enc))
        after = np.empty(len(enc))
        for t, (k, c) in enumerate(zip(enc.tolist(), seq.correct.tolist())):
            pk = known.get(k, prior[k])
            pred[t] = pk * (1 - slip[k]) + (1 - pk) * guess[k]
            # explicit denominators: 1 - pred[t] loses precision when pk is close to 1
            if c:
                post = pk * (1 - slip[k]) / (pk * (1 - slip[k]) + (1 - pk) * guess[k])
            else:
                post = pk * slip[k] / (pk * slip[k] + (1 - pk) * (1 - guess[k]))
            known[k] = min(1.0, post + (1 - post) * learn[k])
            after[t] = known[k]
        return pred, after

    def predict(self, sequences: list[StudentSequence]) -> list[np.ndarray]:
        return [self._trace(s)[0] for s in sequences]

    def mastery(self, seq: StudentSequence) -> dict[int, float]:
        """P(skill known) for each skill in the sequence after its last attempt (raw skill ids)."""
        _, after = self._trace(seq)
        return {int(s): float(a) for s, a in zip(seq.skills, after)}

    def skill_params(self, skill_id: int) -> dict[str, float]:
        k = int(self.vocab.encode(np.array([skill_id]))[0])
        return {n: float(v[k]) for n, v in self.params.items()}

    # ---- persistence -----------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        data = {
            "kind": self.name,
            "config": asdict(self.config),
            "ids": self.vocab.ids.tolist(),
            "params": {n: v.tolist() for n, v in self.params.items()},
        }
        (path / "bkt.json").write_text(json.dumps(data))

    @classmethod
    def load(cls, path: str | Path) -> BKT:
        data = json.loads((Path(path) / "bkt.json").read_text())
        model = cls(BKTConfig(**data["config"]))
        model.vocab = Vocabulary(data["ids"])
        model.params = {n: np.asarray(v, dtype=np.float64) for n, v in data["params"].items()}
        return model
