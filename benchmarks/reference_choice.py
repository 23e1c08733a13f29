"""How to combine several reference answers at prediction, chosen on a version's own validation questions.

    .venv/bin/python benchmarks/reference_choice.py [--model DIR] [--threads 2]

For each ``predict_references`` mode (``max_score``: every reference, keep the highest predicted score;
``mean``; ``first``; ``best_overlap``: the reference overlapping the answer most, as training pairs are
built), macro-F1 on the validation questions of each data set with verdicts, overall and per subset. The
version's validation questions were never fitted; the test splits play no part. Prints one JSON object.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


from _grading_data import version_from_args  # noqa: E402
from memory_tuning import validation_items  # noqa: E402
from tutor.ml.grading.config import DATASET_LABELS  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig  # noqa: E402
from tutor.ml.metrics import classification_report  # noqa: E402

MODES = ("max_score", "mean", "first", "best_overlap")


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    return round(classification_report(truth, predicted, sorted(set(truth)))["macro_f1"], 4)


def main() -> None:
    model_dir = version_from_args(__doc__.splitlines()[0])
    items = [i for i in validation_items(model_dir) if DATASET_LABELS.get(i.dataset)]
    references = {}
    for item in items:
        key = f"{item.dataset}/{item.subset}"
        references.setdefault(key, {}).setdefault(str(len(item.reference_answers)), 0)
        references[key][str(len(item.reference_answers))] += 1
    result = {"model": str(model_dir), "answers_by_reference_count": references, "macro_f1": {}}
    for mode in MODES:
        predictor = GraderPredictor(ServeConfig(model_dir=model_dir, predict_references=mode, backend="onnx"))
        row = {}
        for dataset in sorted({i.dataset for i in items}):
            subset_items = [i for i in items if i.dataset == dataset]
            predicted = predictor.predict(subset_items, allowed_labels=DATASET_LABELS[dataset])
            row[dataset] = macro_f1([i.label for i in subset_items], [p.verdict for p in predicted])
            for subset in sorted({i.subset for i in subset_items}):
                picked = [k for k, i in enumerate(subset_items) if i.subset == subset]
                row[f"{dataset}/{subset}"] = macro_f1([subset_items[k].label for k in picked],
                                                      [predicted[k].verdict for k in picked])
        result["macro_f1"][mode] = row
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
