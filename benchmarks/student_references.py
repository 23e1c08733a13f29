"""Correct student answers as extra reference answers: measured, not adopted.

    .venv/bin/python benchmarks/student_references.py [--model DIR] [--threads 2]

An idea the grader issue lists: an answer is also compared with answers to the same question that a
teacher graded correct, since those say the reference's ideas in students' words. Each way is served as
the product serves (ONNX Runtime int8, references chosen by ``best_overlap``):

- ``official``: the question's own reference answers (what Tutor does);
- ``official+students``: the correct answers join the references, ``best_overlap`` picks one;
- ``students_top1``: the correct answer overlapping the answer most, alone;
- ``mean(official, students_top3)``: the official prediction averaged with the mean over the three
  correct answers overlapping the answer most.

Two conditions, each measured once:
- ``validation``: the version's validation questions (never fitted), leave-one-out: the *other* answers
  of the question graded correct are the extra references (a new question of a course, as its teacher
  grades it);
- ``unseen_answers``: the visible unseen-answers splits, with the training answers graded correct as the
  extra references (questions the version was fitted on).

Prints one JSON object of macro-F1 per data set and subset.
"""

import dataclasses
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from _grading_data import data_dir, load_split, version_from_args  # noqa: E402
from tutor.ml.data.asag import read_jsonl_gz  # noqa: E402
from tutor.ml.grading.config import DATASET_LABELS  # noqa: E402
from tutor.ml.grading.dataset import overlap  # noqa: E402
from tutor.ml.grading.pipeline import version_split  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig  # noqa: E402
from tutor.ml.metrics import classification_report  # noqa: E402

UNSEEN = ("sciEntsBank_unseen_answers", "beetle_unseen_answers", "saf_english_unseen_answers")


def question_key(item) -> tuple:
    return item.dataset, item.subset, item.question_id


def correct_answers(pool) -> dict[tuple, list]:
    by_question = defaultdict(list)
    for item in pool:
        if item.label == "correct":
            by_question[question_key(item)].append(item)
    return by_question


def extra_references(item, by_question, k: int, *, leave_out_self: bool) -> list[str]:
    answers = [c.answer for c in by_question.get(question_key(item), [])
               if not (leave_out_self and c.answer_id == item.answer_id)]
    return sorted(answers, key=lambda a: -overlap(item.answer, a))[:k]


def compare(predictor, items, by_question, *, leave_out_self: bool) -> dict:
    allowed = DATASET_LABELS[items[0].dataset]
    labels = list(allowed)

    def probabilities(batch):
        return np.array([[p.probabilities[name] for name in labels]
                         for p in predictor.predict(batch, allowed_labels=allowed)])

    def with_references(pick):
        return [dataclasses.replace(i, reference_answers=tuple(pick(i)) or i.reference_answers) for i in items]

    def extras(i, k):
        return extra_references(i, by_question, k, leave_out_self=leave_out_self)

    official = probabilities(items)
    ways = {
        "official": official,
        "official+students": probabilities(with_references(lambda i: tuple(i.reference_answers) + tuple(extras(i, 50)))),
        "students_top1": probabilities(with_references(lambda i: extras(i, 1))),
    }
    top3 = [probabilities(with_references(lambda i, k=k: (extras(i, 3)[k:k + 1] or extras(i, 1))))
            for k in range(3)]
    ways["mean(official, students_top3)"] = (official + np.mean(top3, 0)) / 2
    truth = [i.label for i in items]
    result = {"n": len(items), "with_extra_references": sum(bool(extras(i, 1)) for i in items)}
    for subset in [None] + sorted({i.subset for i in items}):
        picked = [k for k, i in enumerate(items) if subset is None or i.subset == subset]
        row = {name: round(classification_report([truth[k] for k in picked],
                                                 [labels[int(p[k].argmax())] for k in picked],
                                                 sorted({truth[k] for k in picked}))["macro_f1"], 4)
               for name, p in ways.items()}
        result[subset or "all"] = row
    return result


def main() -> None:
    model_dir = version_from_args(__doc__.splitlines()[0])
    predictor = GraderPredictor(ServeConfig(model_dir=model_dir, backend="onnx", int8=True, score_model=False))
    result = {"model": str(model_dir), "validation": {}, "unseen_answers": {}}
    validation = [i for i in version_split(model_dir, data_dir=data_dir())[1] if DATASET_LABELS.get(i.dataset)]
    by_question = correct_answers(validation)
    for dataset in sorted({i.dataset for i in validation}):
        items = [i for i in validation if i.dataset == dataset]
        result["validation"][dataset] = compare(predictor, items, by_question, leave_out_self=True)
    training = {fmt: [r for r in read_jsonl_gz(ROOT / "data" / "asag" / f"{fmt}.jsonl.gz") if r.split == "train"]
                for fmt in ("semeval", "saf")}
    for split in UNSEEN:
        items = load_split(split)
        pool = training[items[0].dataset]
        result["unseen_answers"][split] = compare(predictor, items, correct_answers(pool), leave_out_self=False)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
