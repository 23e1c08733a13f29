"""The score of an answer to a question the grader was never trained on: a regression over alignment features.

The fine-tuned cross-encoder learns its training questions well: on their new answers its score
correlates 0.78 with SAF's points. On questions it never saw it falls to 0.41 (Mohler) and 0.49
(SAF), measured on grader-minilm-v2's validation questions. How much of the reference answer an
answer expresses (``alignment.py``) transfers far better. So a version carries a small regression
(``score_model.json``) from those features to the normalised score, fitted on the points-scale
answers of its training questions, and the list of questions it was fitted on:

- a question the version was fitted on keeps the cross-encoder's score;
- any other question (every question a teacher writes) gets the regression's score, mixed with the
  cross-encoder's by ``model_weight`` (0 where validation said mixing only costs).

The verdict and its confidence always come from the cross-encoder; ``Prediction.points`` then keeps
the score inside the verdict's band.

The regression: standardised features, their degree-2 products, ridge. Kept as plain numbers in
JSON (no pickle): ``ScoreModel.predict`` needs only numpy and scikit-learn's polynomial expansion.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.types import GradedAnswer
from ..metrics import pearson
from .alignment import FEATURES
from .dataset import score_target
from .memory import question_key

SCORE_MODEL_FILE = "score_model.json"


@dataclass(frozen=True)
class ScoreModelConfig:
    datasets: tuple[str, ...] = ("mohler",)  # points-scale data it is fitted on (see fit_for_version)
    degree: int = 2
    alpha: float = 100.0  # ridge penalty
    model_weight: float = 0.0  # the cross-encoder's share of the score on new questions


def question_fingerprint(question: str) -> str:
    return hashlib.sha1(question_key(question).encode()).hexdigest()[:16]


@dataclass
class ScoreModel:
    mean: np.ndarray
    scale: np.ndarray
    expanded_mean: np.ndarray
    expanded_scale: np.ndarray
    coef: np.ndarray
    intercept: float
    config: ScoreModelConfig = field(default_factory=ScoreModelConfig)
    fitted_questions: frozenset[str] = frozenset()
    features: tuple[str, ...] = FEATURES
    report: dict = field(default_factory=dict)  # what it was fitted on and how it validated

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, config: ScoreModelConfig = ScoreModelConfig()) -> "ScoreModel":
        from sklearn.linear_model import Ridge
        from sklearn.preprocessing import PolynomialFeatures, StandardScaler

        first = StandardScaler().fit(x)
        expanded = PolynomialFeatures(config.degree).fit_transform(first.transform(x))
        second = StandardScaler().fit(expanded)
        ridge = Ridge(alpha=config.alpha).fit(second.transform(expanded), y)
        return cls(first.mean_, first.scale_, second.mean_, second.scale_, ridge.coef_, float(ridge.intercept_),
                   config=config)

    def predict(self, x: np.ndarray) -> np.ndarray:
        from sklearn.preprocessing import PolynomialFeatures

        if len(x) == 0:
            return np.zeros(0)
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        expanded = (PolynomialFeatures(self.config.degree).fit_transform(z) - self.expanded_mean) / self.expanded_scale
        return np.clip(expanded @ self.coef + self.intercept, 0.0, 1.0)

    def knows(self, question: str) -> bool:
        """Whether the grader version was fitted on this question (its own score is then kept)."""
        return question_fingerprint(question) in self.fitted_questions

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "config": dataclasses.asdict(self.config),
            "params": {name: getattr(self, name).tolist() for name in ("mean", "scale", "expanded_mean",
                                                                         "expanded_scale", "coef")}
            | {"intercept": self.intercept},
            "report": self.report,
            "fitted_questions": sorted(self.fitted_questions),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ScoreModel":
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"score model features {data['features']} do not match this code's {list(FEATURES)}")
        config = data.get("config", {})
        config = ScoreModelConfig(**{**config, "datasets": tuple(config.get("datasets", ("mohler",)))})
        params = data["params"]
        return cls(*(np.asarray(params[n], dtype=np.float64) for n in ("mean", "scale", "expanded_mean",
                                                                        "expanded_scale", "coef")),
                   float(params["intercept"]), config=config, fitted_questions=frozenset(data["fitted_questions"]),
                   report=data.get("report", {}))

    def save(self, version_dir: str | Path) -> Path:
        path = Path(version_dir) / SCORE_MODEL_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, version_dir: str | Path) -> "ScoreModel | None":
        path = Path(version_dir) / SCORE_MODEL_FILE
        return cls.from_dict(json.loads(path.read_text())) if path.exists() else None


def rescore(predictions: list, items: list[GradedAnswer], *, score_model: ScoreModel, aligner) -> list:
    """Predictions with the score model's score on the items whose question the grader was not fitted on."""
    new = [k for k, item in enumerate(items) if not score_model.knows(item.question)]
    if not new:
        return predictions
    scores = score_model.predict(aligner.features([items[k] for k in new]))
    weight = score_model.config.model_weight
    out = list(predictions)
    for k, score in zip(new, scores):
        mixed = weight * predictions[k].score + (1 - weight) * float(score)
        out[k] = dataclasses.replace(predictions[k], score=float(min(max(mixed, 0.0), 1.0)))
    return out


def fit_for_version(
    version_dir: str | Path, *, data_dir: str | Path, aligner, config: ScoreModelConfig = ScoreModelConfig(),
    predictor=None,
) -> ScoreModel:
    """The score model of a grader version: fitted on the scored answers of ``config.datasets``, except
    the version's validation questions, on which it is then validated (Pearson per data set, beside the
    cross-encoder's own score when ``predictor`` is given). Neither model was fitted on those questions."""
    from .evaluate import allowed_for
    from .pipeline import version_config, version_split
    from .sources import cap_per_dataset, load_training_items

    train_config = version_config(version_dir)
    fitted, validation = version_split(version_dir, data_dir=data_dir)
    held_out = {question_key(i.question) for i in validation}
    fitting = [i for i in load_training_items(config.datasets, data_dir)
               if question_key(i.question) not in held_out and not np.isnan(score_target(i))]
    fitting = cap_per_dataset(fitting, train_config.max_train_items, train_config.seed)  # quick runs stay quick
    if not fitting:
        raise ValueError(f"no scored answers in {', '.join(config.datasets)} under {data_dir}")
    model = ScoreModel.fit(aligner.features(fitting), np.array([score_target(i) for i in fitting]), config=config)
    model.fitted_questions = frozenset(question_fingerprint(i.question) for i in fitted)
    report: dict = {"fitted_on": {"answers": len(fitting), "questions": len({i.question for i in fitting}),
                                  "datasets": list(config.datasets)},
                    "grader_fitted_questions": len(model.fitted_questions),
                    "validation_pearson": {}}
    for dataset in sorted({i.dataset for i in validation}):
        items = [i for i in validation if i.dataset == dataset and i.normalised_score is not None]
        if len(items) < 3:
            continue
        truth = [i.normalised_score for i in items]
        row = {"answers": len(items), "questions": len({i.question for i in items}),
               "score_model": round(pearson(truth, list(model.predict(aligner.features(items)))), 4)}
        if predictor is not None:
            own = predictor.predict(items, allowed_labels=allowed_for(dataset))
            row["grader"] = round(pearson(truth, [p.score for p in own]), 4)
        report["validation_pearson"][dataset] = row
    model.report = report
    return model
