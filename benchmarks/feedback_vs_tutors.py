"""Does the written feedback point at what SAF's human tutors pointed at?

    .venv/bin/python benchmarks/feedback_vs_tutors.py [--split train|unseen_answers] [--n 400] [--seed 3]

SAF (English) answers carry their tutor's written feedback. For an answer that lost points, the words
of that feedback which come from the reference answer, and which the student's answer, the question and
general English (``feedback.GENERIC_ZIPF``) do not already use, are the ideas the tutor said were
missing or wrong ("flagged words"; "ss_thresh" in "the slow start phase's description is missing how
ss_thresh changes when a packet is lost"). Per answer, with the teacher's verdict, it compares the words
of the reference that Tutor's feedback names (``feedback.align`` + ``compose``) with them:

- ``recall``: share of the flagged words the feedback names; ``precision``: share of the named words
  that were flagged; means over the answers that have flagged words.
- ``baseline_rarest``: the same number of words, the rarest reference words the answer lacks (what a
  keyword diff would say); ``ceiling_all``: every reference word the answer lacks (recall's upper bound
  for any feedback made of reference words, with its precision).
- ``full_marks_told_missing``: share of the answers with full marks whose feedback still asks for
  more ("you could also mention").
- ``tutors_reuse`` (``--reuse``, on all SAF English training answers): how often the tutors gave the
  same feedback to two answers of one question that the MiniLM embedder finds near-identical, per
  cosine threshold: the share of answers with such a neighbour, and among them the share with the
  neighbour's verdict and with its exact feedback text. What a teacher's note on one answer could do
  for the next one like it.

The feedback is tuned on SemEval (never on SAF); ``--split train`` is for development, the
unseen-answers split for the record. Prints one JSON object.
"""

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from _grading_data import load_split  # noqa: E402
from tutor.ml import feedback  # noqa: E402
from tutor.ml.grading.sources import load_training_items  # noqa: E402
from tutor.ml.retrieval.embedder import get_embedder  # noqa: E402


# Words of a grading rubric rather than of the subject ("the response is correct", "one of the following
# is considered fully correct"): never counted as an idea, whatever the feedback under test does with them.
RUBRIC = frozenset("""correct correctly incorrect considered following possible example examples answer
    answers response responses mention mentioned fully partially alternatively alternative stated states
    state explanation explains explained missing""".split())


def words(text: str) -> set[str]:
    """The measure's own word definition, fixed whatever feedback.py's stop words become."""
    return {w for w in feedback._WORD.findall(text.lower())
            if len(w) > 2 and w not in ENGLISH_STOP_WORDS and w not in RUBRIC}


def specific(text: str) -> set[str]:
    return {w for w in words(text) if feedback._zipf(w) < feedback.GENERIC_ZIPF}


def new_reference_words(row, text: str) -> set[str]:
    """The specific words of the row's reference answers that ``text`` uses and the answer and question don't."""
    reference = set().union(*(specific(r) for r in row.reference_answers))
    return (words(text) & reference) - words(row.answer) - words(row.question)


def lacking(row) -> list[str]:
    """Reference words the answer and the question lack, rarest first."""
    reference = set().union(*(specific(r) for r in row.reference_answers))
    return sorted(reference - words(row.answer) - words(row.question), key=lambda w: (feedback._zipf(w), w))


def saf_english_training() -> list:
    return [r for r in load_training_items(["saf"], ROOT / "data" / "asag") if r.subset == "english"]


def precision_recall(named: set[str], flagged: set[str]) -> tuple[float, float]:
    hits = len(named & flagged)
    return (hits / len(named) if named else 0.0), hits / len(flagged)


def tutors_reuse(encoder, thresholds=(0.85, 0.9, 0.95)) -> dict:
    from collections import defaultdict

    rows = [r for r in saf_english_training() if r.feedback]
    vectors = np.asarray(encoder.encode([r.answer for r in rows]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    by_question = defaultdict(list)
    for i, row in enumerate(rows):
        by_question[row.question].append(i)
    nearest, same_verdict, same_feedback = [], [], []
    for ids in by_question.values():
        similarity = vectors[ids] @ vectors[ids].T
        np.fill_diagonal(similarity, -1.0)
        for a, i in enumerate(ids):
            j = ids[int(similarity[a].argmax())]
            nearest.append(similarity[a].max())
            same_verdict.append(rows[i].label == rows[j].label)
            same_feedback.append(rows[i].feedback.strip() == rows[j].feedback.strip())
    nearest, same_verdict, same_feedback = map(np.array, (nearest, same_verdict, same_feedback))
    result = {"answers": len(rows)}
    for t in thresholds:
        near = nearest >= t
        result[f"cosine_{t}"] = {"with_neighbour": round(float(near.mean()), 3),
                                 "same_verdict": round(float(same_verdict[near].mean()), 3),
                                 "same_feedback": round(float(same_feedback[near].mean()), 3)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("train", "unseen_answers"), default="unseen_answers")
    parser.add_argument("--n", type=int, default=400, help="answers sampled from the train split")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="also measure how often the tutors reused feedback")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.split == "train":
        rows = sorted(saf_english_training(), key=lambda r: r.answer_id)
        rows = random.Random(args.seed).sample(rows, min(args.n, len(rows)))
    else:
        rows = load_split("saf_english_unseen_answers")
    encoder = get_embedder()
    table = {"ours": [], "baseline_rarest": [], "ceiling_all": []}
    named_counts, full_marks_told = [], []
    for row in rows:
        if not row.feedback or row.score is None or not row.max_score:
            continue
        alignment = feedback.align(reference_answers=list(row.reference_answers), answer=row.answer,
                                   encoder=encoder, question=row.question)
        text = feedback.compose(verdict=row.label or "incorrect", alignment=alignment, answer=row.answer,
                                question=row.question)
        if row.score >= row.max_score:
            full_marks_told.append("could also mention" in text)
            continue
        # The tutor's "flagged words", and the words Tutor's feedback names, by one definition.
        flagged = new_reference_words(row, row.feedback)
        named = new_reference_words(row, text)
        if not flagged:
            continue
        gaps = lacking(row)
        named_counts.append(len(named))
        table["ours"].append(precision_recall(named, flagged))
        table["baseline_rarest"].append(precision_recall(set(gaps[: len(named)]), flagged))
        table["ceiling_all"].append(precision_recall(set(gaps), flagged))
    result = {
        "split": f"saf_english_{args.split}",
        "answers": len(rows),
        "answers_with_flagged_words": len(named_counts),
        "mean_words_named": round(float(np.mean(named_counts)), 2),
        "full_marks_answers": len(full_marks_told),
        "full_marks_told_missing": round(float(np.mean(full_marks_told)), 3) if full_marks_told else None,
    }
    for name, pairs in table.items():
        p, r = np.array(pairs).T
        result[name] = {"precision": round(float(p.mean()), 3), "recall": round(float(r.mean()), 3)}
    if args.reuse:
        result["tutors_reuse"] = tutors_reuse(encoder)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
