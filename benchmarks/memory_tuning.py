"""Choose the memory blend (``MemoryConfig``) for a grader version on its own validation questions.

    .venv/bin/python benchmarks/memory_tuning.py [--model DIR] [--threads 2]

The version's validation questions were never trained on. Inside each of them, every answer is graded
by the model blended with the vote of the *other* validation answers of its question (leave-one-out),
as a new answer is blended with the teacher-graded answers of its question in the product. The grid
covers the model's verdict and score weights; the choice maximises the mean of SemEval macro-F1, SAF
macro-F1 and Mohler Pearson (each source counts once). Prints one JSON object: every grid point and
the best. The unseen-answers test splits play no part.
"""

import itertools
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


from _grading_data import data_dir, version_from_args  # noqa: E402
from tutor.ml.grading.config import DATASET_LABELS  # noqa: E402
from tutor.ml.grading.memory import AnswerMemory, MemoryConfig, blend, examples_from_items  # noqa: E402
from tutor.ml.grading.pipeline import version_split  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig  # noqa: E402
from tutor.ml.metrics import classification_report, pearson  # noqa: E402
from tutor.ml.retrieval.embedder import get_embedder  # noqa: E402


def validation_items(model_dir: Path) -> list:
    return version_split(model_dir, data_dir=data_dir())[1]


def objective(items, predictions) -> dict:
    result = {}
    for dataset in sorted({i.dataset for i in items}):
        rows = [(i, p) for i, p in zip(items, predictions) if i.dataset == dataset]
        if DATASET_LABELS.get(dataset):
            truth = [i.label for i, _ in rows]
            result[f"{dataset}_macro_f1"] = classification_report(truth, [p.verdict for _, p in rows],
                                                                  sorted(set(truth)))["macro_f1"]
        else:
            result[f"{dataset}_pearson"] = pearson([i.normalised_score for i, _ in rows], [p.score for _, p in rows])
    result["mean"] = sum(result.values()) / len(result)
    return {k: round(v, 4) for k, v in result.items()}


def main() -> None:
    model_dir = version_from_args(__doc__.splitlines()[0])
    items = validation_items(model_dir)
    predictor = GraderPredictor(ServeConfig(model_dir=model_dir))
    predictions = []
    for dataset in sorted({i.dataset for i in items}):
        subset = [i for i in items if i.dataset == dataset]
        allowed = DATASET_LABELS.get(dataset) or None
        predictions += list(zip(subset, predictor.predict(subset, allowed_labels=allowed)))
    items = [i for i, _ in predictions]
    predictions = [p for _, p in predictions]
    encoder = get_embedder()

    grid = []
    for k, t in itertools.product((4, 8, 16), (0.02, 0.05, 0.1)):
        memory = AnswerMemory(encoder=encoder, config=MemoryConfig(k=k, temperature=t))
        for question, examples in examples_from_items(items).items():
            memory.add(question=question, examples=examples)
        votes = memory.votes(items)
        for w, s in itertools.product((0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), (0.1, 0.3, 0.5, 0.7, 1.0)):
            config = MemoryConfig(k=k, temperature=t, verdict_weight=w, score_weight=s)
            blended = [blend(p, v, allowed=DATASET_LABELS.get(i.dataset) or None, config=config)
                       for i, p, v in zip(items, predictions, votes)]
            grid.append({"k": k, "temperature": t, "verdict_weight": w, "score_weight": s,
                         **objective(items, blended)})
    best = max(grid, key=lambda row: row["mean"])
    default = next(r for r in grid if (r["k"], r["temperature"], r["verdict_weight"], r["score_weight"]) ==
                   (8, 0.05, 0.5, 0.3))
    model_only = next(r for r in grid if r["verdict_weight"] == 1.0 and r["score_weight"] == 1.0)
    print(json.dumps({"model": str(model_dir), "validation_items": len(items), "model_only": model_only,
                      "current_default": default, "best": best, "grid": grid}, indent=2))


if __name__ == "__main__":
    main()
