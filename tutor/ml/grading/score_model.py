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

On fitted questions the verdict and its confidence come from the cross-encoder. On new questions with
a partial-credit label set they come from bands of this score (``verdict_bands.py``), fitted per
language on graded answers the regression never saw; with a label set without partial credit (SemEval's
3-way), from a logistic regression over the cross-encoder's probabilities and the alignment features
(``verdict_stack.py``), fitted on the version's validation questions; else from the cross-encoder.
``Prediction.points`` then keeps the score inside the verdict's band.

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
from .verdict_bands import BAND_LABELS, VerdictBands, bands_for, fit_bands
from .verdict_stack import VerdictStack, label_set_key, leave_one_question_out, softmax, stack_inputs

SCORE_MODEL_FILE = "score_model.json"


@dataclass(frozen=True)
class ScoreModelConfig:
    datasets: tuple[str, ...] = ("mohler",)  # points-scale data it is fitted on (see fit_for_version)
    degree: int = 2
    alpha: float = 100.0  # ridge penalty
    model_weight: float = 0.0  # the cross-encoder's share of the score on new questions
    band_datasets: tuple[str, ...] = ("saf",)  # verdict-labelled data with partial credit the bands are fitted on


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
    bands: dict[str, VerdictBands] = field(default_factory=dict)  # per language (verdict_bands.py)
    stacks: dict[str, VerdictStack] = field(default_factory=dict)  # per label set without partial credit

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
            "verdict_bands": {language: bands.to_dict() for language, bands in self.bands.items()},
            "verdict_stacks": {key: stack.to_dict() for key, stack in self.stacks.items()},
            "fitted_questions": sorted(self.fitted_questions),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ScoreModel":
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"score model features {data['features']} do not match this code's {list(FEATURES)}")
        config = data.get("config", {})
        config = ScoreModelConfig(**{**config, **{name: tuple(config[name]) for name in ("datasets", "band_datasets")
                                                  if name in config}})
        params = data["params"]
        return cls(*(np.asarray(params[n], dtype=np.float64) for n in ("mean", "scale", "expanded_mean",
                                                                        "expanded_scale", "coef")),
                   float(params["intercept"]), config=config, fitted_questions=frozenset(data["fitted_questions"]),
                   report=data.get("report", {}),
                   bands={lang: VerdictBands.from_dict(b) for lang, b in data.get("verdict_bands", {}).items()},
                   stacks={key: VerdictStack.from_dict(s) for key, s in data.get("verdict_stacks", {}).items()})

    def save(self, version_dir: str | Path) -> Path:
        path = Path(version_dir) / SCORE_MODEL_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, version_dir: str | Path) -> "ScoreModel | None":
        path = Path(version_dir) / SCORE_MODEL_FILE
        return cls.from_dict(json.loads(path.read_text())) if path.exists() else None


def rescore(
    predictions: list, items: list[GradedAnswer], *, score_model: ScoreModel, aligner,
    allowed: list[set[str]] | None = None,
) -> list:
    """Predictions with the score model's score on the items whose question the grader was not fitted
    on; where ``allowed`` (each item's allowed verdicts) has partial credit, its banded verdict, and where
    it has none and the model has a verdict stack for that label set, the stack's verdict."""
    new = [k for k, item in enumerate(items) if not score_model.knows(item.question)]
    if not new:
        return predictions
    features = aligner.features([items[k] for k in new])
    scores = score_model.predict(features)
    weight = score_model.config.model_weight
    out = list(predictions)
    for row, (k, score) in enumerate(zip(new, scores)):
        mixed = float(min(max(weight * predictions[k].score + (1 - weight) * float(score), 0.0), 1.0))
        out[k] = dataclasses.replace(predictions[k], score=mixed)
        if allowed is None:
            continue
        if "partially_correct" in allowed[k] and score_model.bands:
            out[k] = banded(out[k], items[k], allowed=allowed[k], bands=score_model.bands)
        elif (stack := score_model.stacks.get(label_set_key(allowed[k]))) is not None:
            x = stack_inputs([predictions[k].probabilities], stack.labels, np.array([score]), features[row:row + 1])
            out[k] = stacked(out[k], stack.probabilities(x)[0], stack.labels)
    return out


def stacked(prediction, probabilities: np.ndarray, labels: tuple[str, ...]):
    """The prediction with its verdict, probabilities and confidence from a verdict stack."""
    by_label = dict.fromkeys(prediction.probabilities, 0.0) | {name: float(p) for name, p in zip(labels, probabilities)}
    verdict = labels[int(np.argmax(probabilities))]
    return dataclasses.replace(prediction, verdict=verdict, probabilities=by_label, confidence=by_label[verdict])


def banded(prediction, item: GradedAnswer, *, allowed: set[str], bands: dict[str, VerdictBands]):
    """The prediction with its verdict, probabilities and confidence from the bands of its score, and the
    score on the language's points scale (``VerdictBands.points``). Where "contradictory" is allowed, the
    cross-encoder splits the low band's probability between it and "incorrect"."""
    language_bands = bands_for(bands, item)
    index = int(language_bands.indices(np.array([prediction.score]))[0])
    probabilities = dict.fromkeys(prediction.probabilities, 0.0)
    probabilities.update(zip(BAND_LABELS, (float(p) for p in language_bands.probabilities(np.array([prediction.score]))[0])))
    verdict = BAND_LABELS[index]
    if "contradictory" in allowed:
        own = prediction.probabilities
        share = own["contradictory"] / max(own["contradictory"] + own["incorrect"], 1e-9)
        probabilities["contradictory"] = probabilities["incorrect"] * share
        probabilities["incorrect"] -= probabilities["contradictory"]
        if verdict == "incorrect" and probabilities["contradictory"] > probabilities["incorrect"]:
            verdict = "contradictory"
    score = float(language_bands.points(np.array([prediction.score]))[0])
    return dataclasses.replace(prediction, verdict=verdict, probabilities=probabilities,
                               confidence=probabilities[verdict], score=score)


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
    fit_version_bands(model, held_out=held_out, data_dir=data_dir, aligner=aligner, cap=train_config.max_train_items,
                      seed=train_config.seed)
    report["verdict_bands"] = {language: {"answers": b.answers, "correct": b.correct, "partially_correct": b.partial,
                                          "points_slope": round(b.points_slope, 4),
                                          "points_intercept": round(b.points_intercept, 4)}
                               for language, b in model.bands.items()}
    report["validation_macro_f1"] = _validate_bands(model, validation, aligner=aligner, predictor=predictor)
    if predictor is not None:
        report["verdict_stacks"] = fit_version_stacks(model, validation, aligner=aligner, predictor=predictor)
    model.report = report
    return model


def fit_version_stacks(model: ScoreModel, validation: list[GradedAnswer], *, aligner, predictor) -> dict:
    """The model's verdict stacks (``verdict_stack.py``), one per label set without partial credit among the
    validation answers' data sets, fitted on those answers (questions the cross-encoder never saw); returns
    what they were fitted on and their leave-one-question-out macro-F1 beside the cross-encoder's."""
    import torch
    from sklearn.metrics import f1_score

    from ..metrics import expected_calibration_error
    from .calibration import fit_temperature
    from .evaluate import allowed_for

    model.stacks = {}
    report = {}
    for dataset in sorted({i.dataset for i in validation}):
        labels = tuple(allowed_for(dataset) or ())
        items = [i for i in validation if i.dataset == dataset and i.label in labels]
        questions = [question_key(i.question) for i in items]
        if not labels or "partially_correct" in labels or len(set(questions)) < 3:
            continue
        own = predictor.predict(items, allowed_labels=labels)
        features = aligner.features(items)
        x = stack_inputs([p.probabilities for p in own], labels, model.predict(features), features)
        truth = [i.label for i in items]
        try:
            held_out = leave_one_question_out(x, truth, questions, labels)
            stack = VerdictStack.fit(x, truth, labels)
        except ValueError as error:  # a label no answer has: the cross-encoder keeps the verdict
            report[dataset] = {"skipped": str(error)}
            continue
        indices = torch.tensor([labels.index(t) for t in truth])
        stack.temperature = fit_temperature(torch.tensor(held_out, dtype=torch.float32), indices)
        probabilities = softmax(held_out / stack.temperature)
        grader_f1 = float(f1_score(truth, [p.verdict for p in own], average="macro"))
        stack_f1 = float(f1_score(truth, [labels[k] for k in held_out.argmax(1)], average="macro"))
        stack.report = {"dataset": dataset, "answers": len(items), "questions": len(set(questions)),
                        "grader_macro_f1": round(grader_f1, 4),
                        "stack_macro_f1_leave_one_question_out": round(stack_f1, 4),
                        "temperature": round(stack.temperature, 4),
                        "grader_ece": round(expected_calibration_error([p.confidence for p in own],
                                                                       [p.verdict == t for p, t in zip(own, truth)]), 4),
                        "stack_ece_leave_one_question_out": round(expected_calibration_error(
                            probabilities.max(1), indices.numpy() == probabilities.argmax(1)), 4)}
        if stack_f1 > grader_f1:  # else the cross-encoder keeps the verdict
            model.stacks[label_set_key(labels)] = stack
        report[dataset] = stack.report | {"used": stack_f1 > grader_f1}
    return report


def fit_version_bands(model: ScoreModel, *, held_out: set[str], data_dir, aligner, cap: int | None, seed: int) -> None:
    """The model's verdict bands, from the verdict-labelled answers of ``config.band_datasets`` outside
    ``held_out`` (which the regression, fitted on other data sets, never saw)."""
    from .sources import cap_per_dataset, load_training_items

    datasets = [d for d in model.config.band_datasets if d not in model.config.datasets]
    items = [i for i in load_training_items(datasets, data_dir)
             if question_key(i.question) not in held_out and i.label in BAND_LABELS]
    items = cap_per_dataset(items, cap, seed)
    model.bands = fit_bands(model.predict(aligner.features(items)), items) if items else {}


def _validate_bands(model: ScoreModel, validation: list[GradedAnswer], *, aligner, predictor=None) -> dict:
    """Macro-F1 of the banded verdicts on the validation answers whose data set has partial credit,
    beside the cross-encoder's own verdicts when ``predictor`` is given."""
    from sklearn.metrics import f1_score

    from .evaluate import allowed_for

    rows = {}
    for dataset in sorted({i.dataset for i in validation}):
        labels = allowed_for(dataset)
        items = [i for i in validation if i.dataset == dataset and i.label in BAND_LABELS]
        if "partially_correct" not in labels or len(items) < 3 or not model.bands:
            continue
        scores = model.predict(aligner.features(items))
        verdicts = [BAND_LABELS[int(bands_for(model.bands, i).indices(np.array([s]))[0])] for i, s in zip(items, scores)]
        truth = [i.label for i in items]
        row = {"answers": len(items), "bands": round(float(f1_score(truth, verdicts, average="macro")), 4)}
        if predictor is not None:
            own = [p.verdict for p in predictor.predict(items, allowed_labels=labels)]
            row["grader"] = round(float(f1_score(truth, own, average="macro")), 4)
        rows[dataset] = row
    return rows
