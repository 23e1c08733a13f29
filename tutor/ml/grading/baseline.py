"""The TF-IDF overlap baseline the issue compares against: lexical overlap features + logistic regression.

Same ``predict(items, allowed_labels=...)`` interface as ``GraderPredictor``, so
``evaluate_items`` and the benchmarks treat both alike.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from ..data.types import GradedAnswer
from .config import LABELS
from .dataset import allowed_labels as source_labels
from .dataset import label_mask, score_target, words
from .predictor import Prediction


class TfidfOverlapBaseline:
    def __init__(self, seed: int = 13):
        self.seed = seed
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.scaler = StandardScaler()
        self.classifier = LogisticRegression(max_iter=2000, C=1.0, random_state=seed)
        self.regressor = Ridge(alpha=1.0)

    def _features(self, items: list[GradedAnswer]) -> np.ndarray:
        rows = []
        for item in items:
            refs = [r for r in item.reference_answers if r.strip()] or [""]
            answer_vec = self.vectorizer.transform([item.answer])
            ref_vecs = self.vectorizer.transform(refs)
            cosines = (ref_vecs @ answer_vec.T).toarray().ravel()
            q_cos = float((self.vectorizer.transform([item.question]) @ answer_vec.T).toarray()[0, 0])
            a_words = words(item.answer)
            best = refs[int(np.argmax(cosines))]
            r_words = words(best)
            common = len(a_words & r_words)
            rows.append([
                float(cosines.max()),
                float(cosines.mean()),
                q_cos,
                common / len(r_words) if r_words else 0.0,  # reference recall
                common / len(a_words) if a_words else 0.0,  # answer precision
                math.log1p(len(a_words)),
                math.log1p(len(a_words)) - math.log1p(len(r_words)),
            ])
        return np.asarray(rows)

    def fit(self, items: list[GradedAnswer]) -> "TfidfOverlapBaseline":
        corpus = [i.answer for i in items] + [r for i in items for r in i.reference_answers] + [i.question for i in items]
        self.vectorizer.fit(corpus)
        x = self.scaler.fit_transform(self._features(items))
        labelled = [k for k, i in enumerate(items) if i.label in LABELS]
        self.classes_ = []
        if labelled:
            self.classifier.fit(x[labelled], [items[k].label for k in labelled])
            self.classes_ = list(self.classifier.classes_)
        targets = np.array([score_target(i) for i in items])
        scored = ~np.isnan(targets)
        if scored.any():
            self.regressor.fit(x[scored], targets[scored])
        self._has_regressor = bool(scored.any())
        return self

    def predict(self, items: list[GradedAnswer], *, allowed_labels: tuple[str, ...] | None = None) -> list[Prediction]:
        if not items:
            return []
        x = self.scaler.transform(self._features(items))
        probs = np.zeros((len(items), len(LABELS)))
        if self.classes_:
            p = self.classifier.predict_proba(x)
            for j, name in enumerate(self.classes_):
                probs[:, LABELS.index(name)] = p[:, j]
        scores = np.clip(self.regressor.predict(x), 0, 1) if self._has_regressor else np.zeros(len(items))
        out = []
        for k, item in enumerate(items):
            mask = np.array(label_mask(allowed_labels or source_labels(item.dataset, item.label) or LABELS))
            row = probs[k] * mask
            row = row / row.sum() if row.sum() > 0 else mask / mask.sum()
            best = int(row.argmax())
            out.append(Prediction(LABELS[best], {n: float(row[j]) for j, n in enumerate(LABELS)},
                                  float(scores[k]), float(row[best])))
        return out
