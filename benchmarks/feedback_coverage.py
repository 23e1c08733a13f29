"""How well the feedback's idea coverage tells correct answers from the others (behind feedback.COVERED_SIMILARITY).

    .venv/bin/python benchmarks/feedback_coverage.py [--n 500] [--seed 3] [--threads 1]

On a seeded sample of real SemEval-2013 training answers (never the test splits): per answer, the mean
over its reference's ideas (feedback.ideas_of) of (a) the sentence cosine of the idea with the closest
student sentence, the criterion used until session 6, and (b) the share of the idea's specific words the
answer expresses, question words left out (alignment.align_words), used since. Prints ROC AUC for "correct"
and, for each, the threshold where precision equals recall. Prints one JSON object.
"""

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from tutor.ml.grading.alignment import Aligner, align_words, question_words  # noqa: E402
from tutor.ml.grading.sources import load_training_items  # noqa: E402
from tutor.ml.feedback import _SENTENCE, ideas_of  # noqa: E402
from tutor.ml.retrieval.embedder import get_embedder  # noqa: E402


def break_even(values: np.ndarray, truth: np.ndarray) -> dict:
    threshold = float(np.quantile(values, 1 - truth.mean()))
    chosen = values >= threshold
    return {"threshold": round(threshold, 3), "precision": round(float(truth[chosen].mean()), 3),
            "recall": round(float(chosen[truth].mean()), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = sorted(load_training_items(["semeval"], ROOT / "data" / "asag"), key=lambda r: r.answer_id)
    rows = random.Random(args.seed).sample(rows, args.n)
    encoder = get_embedder()
    aligner = Aligner(encoder)
    cosine, recall = [], []
    for row in rows:
        ideas = ideas_of(row.reference_answers[0])
        sentences = [s for s in _SENTENCE.split(row.answer.strip()) if s] or [row.answer]
        candidates = sentences + ([row.answer] if len(sentences) > 1 else [])
        cosine.append(float((encoder.encode(ideas) @ encoder.encode(candidates).T).max(1).mean()))
        answer = aligner.words([row.answer])[0]
        given = question_words(row.question)
        recall.append(float(np.mean([align_words(answer, idea, left_out=given)[0]
                                     for idea in aligner.words(ideas, cache=True)])))
    truth = np.array([r.label == "correct" for r in rows])
    result = {"n": len(rows), "correct_share": round(float(truth.mean()), 3)}
    for name, values in (("sentence_cosine", np.array(cosine)), ("word_recall_question_demoted", np.array(recall))):
        result[name] = {"roc_auc": round(float(roc_auc_score(truth, values)), 4), **break_even(values, truth)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
