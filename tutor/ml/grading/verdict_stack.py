"""The verdict on a new question where the label set has no partial credit (SemEval's 3-way), from the
cross-encoder and the alignment features together.

On a question it was fitted on, the cross-encoder's verdict is the best we have. On a new one it is
weaker (macro-F1 0.644 on grader-minilm-v2's SemEval validation questions, against 0.74 on the unseen
answers of its training questions), while how much of the reference an answer expresses
(``alignment.py``, ``score_model.py``) transfers to new questions. Where there is partial credit the
verdict comes from bands of that score (``verdict_bands.py``); with SemEval's labels bands only tied
with the cross-encoder. A multinomial logistic regression over both does better: inputs are the
cross-encoder's calibrated log-probabilities of the label set's verdicts, the score model's score and
the 11 alignment features, standardised. It is fitted on the grader version's validation questions,
which the cross-encoder never saw, and reports its own leave-one-question-out macro-F1 there; its
temperature is fitted on those held-out logits, since the plain fit is over-confident there (mean
confidence 0.73 for 0.69 of verdicts right; ECE 0.061 -> 0.026 with each held-out question's temperature
fitted on the other questions; T = 1.20 on all of them).

Measured on grader-minilm-v2's 18 SemEval validation questions (891 answers), leave-one-question-out:
macro-F1 0.644 -> 0.667 (SciEntsBank 0.495 -> 0.528, Beetle 0.736 -> 0.758); with the penalty C from
0.1 to 3 every variant gained (0.657-0.667). Kept as plain numbers in the version's score_model.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

C = 1.0  # inverse L2 penalty: the leave-one-question-out best of 0.1, 0.3, 1 and 3


def label_set_key(labels) -> str:
    return ",".join(sorted(labels))


def stack_inputs(probabilities: list[dict[str, float]], labels: tuple[str, ...], scores: np.ndarray,
                 features: np.ndarray) -> np.ndarray:
    """One row per answer: log-probabilities of ``labels``, the score model's score, the alignment features."""
    logs = np.log(np.array([[p.get(name, 0.0) for name in labels] for p in probabilities], dtype=np.float64) + 1e-6)
    return np.hstack([logs.reshape(len(probabilities), len(labels)), np.asarray(scores, dtype=np.float64)[:, None],
                      np.asarray(features, dtype=np.float64)])


@dataclass
class VerdictStack:
    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # [len(labels), inputs]
    intercept: np.ndarray  # [len(labels)]
    temperature: float = 1.0  # fitted on its held-out logits (fit_version_stacks): the plain fit is over-confident
    report: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, x: np.ndarray, truth: list[str], labels: tuple[str, ...], *, c: float = C) -> "VerdictStack":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        missing = set(labels) - set(truth)
        if missing:
            raise ValueError(f"no answer graded {', '.join(sorted(missing))} to fit the verdict stack on")
        scaler = StandardScaler().fit(x)
        model = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(x), [labels.index(t) for t in truth])
        return cls(tuple(labels), scaler.mean_, scaler.scale_, model.coef_, model.intercept_)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Before the temperature."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return z @ self.coef.T + self.intercept

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x) / self.temperature)

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(), "temperature": self.temperature,
                "report": self.report}

    @classmethod
    def from_dict(cls, data: dict) -> "VerdictStack":
        return cls(tuple(data["labels"]), *(np.asarray(data[n], dtype=np.float64)
                                             for n in ("mean", "scale", "coef", "intercept")),
                   temperature=float(data.get("temperature", 1.0)), report=data.get("report", {}))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def leave_one_question_out(x: np.ndarray, truth: list[str], questions: list[str], labels: tuple[str, ...],
                           *, c: float = C) -> np.ndarray:
    """Each question's logits [n, len(labels)] from a stack fitted on the other questions: the estimate a
    stack reports, and what its temperature is fitted on."""
    logits = np.zeros((len(truth), len(labels)))
    questions_array = np.array(questions)
    for question in sorted(set(questions)):
        train = np.where(questions_array != question)[0]
        test = np.where(questions_array == question)[0]
        logits[test] = VerdictStack.fit(x[train], [truth[k] for k in train], labels, c=c).logits(x[test])
    return logits
