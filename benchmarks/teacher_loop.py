"""Learning from teachers, simulated on real data: agreement on a question's remaining answers
after a "teacher" corrected the first N answers per question and a LoRA adapter was retrained.

    nice -n 10 .venv/bin/python benchmarks/teacher_loop.py [--datasets saf,mohler] [--ns 0,2,5,10]
        [--seeds 13] [--base DIR] [--max-steps 60] [--threads 2] [--output benchmarks/results/teacher_loop.json]

Held-out questions: the questions the base grader held out as validation when it was trained
(its own seeded split, recomputed from its config.json), so it never trained on them; their
answers from the unseen-answers split are added. Per question the answers are shuffled (seed),
the first N get the dataset's true grade (the teacher's correction), and every N is measured on
the same answers: those after the largest N. N = 0 is the base grader. SAF (English): verdicts
(macro-F1, accuracy) and points (Pearson); Mohler: points only (Pearson, RMSE). The default run
(one seed) takes a few minutes on 2 CPU cores; more seeds average the curve.
Prints one JSON object and writes it to --output, which the model registry page plots.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from tutor.ml.data.asag import read_jsonl_gz  # noqa: E402
from tutor.ml.data.types import GradedAnswer  # noqa: E402
from tutor.ml.grading.adapters import AdapterConfig, train_adapter  # noqa: E402
from tutor.ml.grading.config import TrainConfig  # noqa: E402
from tutor.ml.grading.evaluate import evaluate_items  # noqa: E402
from tutor.ml.grading.model import read_config  # noqa: E402
from tutor.ml.grading.pipeline import training_items, training_split  # noqa: E402
from tutor.ml.grading.predictor import GraderPredictor, ServeConfig  # noqa: E402

KEYS = ("n", "macro_f1", "accuracy", "pearson", "rmse", "qwk")
DEFAULT_BASE = ROOT / "var" / "models" / "grader" / "grader-minilm-v2"
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "teacher_loop.json"


def held_out_questions(base: Path, data_dir: Path, dataset: str) -> dict[str, list[GradedAnswer]]:
    """Answers per question the base grader never trained on (its validation questions), plus the
    same questions' unseen-answers split."""
    train_config = TrainConfig.from_dict(read_config(base)["train_config"])
    if train_config.val_by != "question":
        raise SystemExit(f"{base.name} held out answers, not questions: no unseen questions to simulate on")
    _, val = training_split(train_config, training_items(train_config, data_dir=data_dir))
    questions = {(i.subset, i.question_id) for i in val if i.dataset == dataset}
    extra = [r for r in read_jsonl_gz(data_dir / f"{dataset}.jsonl.gz")
             if r.split == "unseen_answers" and (r.subset, r.question_id) in questions]
    by_question: dict[str, list[GradedAnswer]] = defaultdict(list)
    for item in [i for i in val if i.dataset == dataset] + extra:
        by_question[f"{item.subset}/{item.question_id}"].append(item)
    return {q: sorted(rows, key=lambda r: r.answer_id) for q, rows in sorted(by_question.items())}


def brief(result: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items() if k in KEYS}


def run_dataset(args, base: Path, dataset: str, work: Path) -> dict:
    questions = held_out_questions(base, Path(args.data_dir), dataset)
    ns = sorted(args.ns)
    largest = ns[-1]
    per_n: dict[int, list[dict]] = defaultdict(list)
    for seed in args.seeds:
        corrected_pool, test = {}, []
        for name, rows in questions.items():
            shuffled = list(rows)
            random.Random(f"{seed}:{name}").shuffle(shuffled)
            corrected_pool[name] = shuffled[:largest]
            test.extend(shuffled[largest:])
        for n in ns:
            started = time.monotonic()
            if n == 0:
                model_dir = base
                steps = 0
            else:
                corrected = [item for rows in corrected_pool.values() for item in rows[:n]]
                config = AdapterConfig(
                    seed=seed, epochs=args.epochs, min_steps=args.min_steps, max_steps=args.max_steps,
                    batch_size=args.batch_size, num_threads=args.threads, lr=args.lr,
                )
                model_dir = work / f"{dataset}-n{n}-s{seed}"
                steps = train_adapter(base, corrected, model_dir, config).steps
            predictor = GraderPredictor(ServeConfig(model_dir=model_dir, num_threads=args.threads))
            metrics = brief(evaluate_items(predictor, test, dataset))
            row = {"n": n, "seed": seed, "corrected": n * len(questions), "train_steps": steps,
                   "test": metrics.pop("n"), **metrics, "seconds": round(time.monotonic() - started, 1)}
            per_n[n].append(row)
            print(json.dumps({"progress": dataset, **row}), file=sys.stderr, flush=True)
    curve = []
    for n in ns:
        rows = per_n[n]
        point = {"n": n, "corrected": rows[0]["corrected"], "seeds": len(rows)}
        for key in ("macro_f1", "accuracy", "pearson", "rmse", "qwk"):
            values = [r[key] for r in rows if r.get(key) is not None]
            if values:
                point[key] = round(sum(values) / len(values), 4)
        curve.append(point)
    return {
        "questions": list(questions),
        "answers": sum(len(rows) for rows in questions.values()),
        "test_answers_per_seed": sum(max(0, len(rows) - largest) for rows in questions.values()),
        "curve": curve,
        "runs": [row for n in ns for row in per_n[n]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=str(DEFAULT_BASE), help="grader version directory to start from")
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "asag"))
    parser.add_argument("--datasets", default="saf,mohler")
    parser.add_argument("--ns", default="0,2,5,10", help="answers corrected per question")
    parser.add_argument("--seeds", default="13", help="comma-separated; each reshuffles the answers")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--min-steps", type=int, default=30)
    parser.add_argument("--max-steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="where the registry page reads it ('' = nowhere)")
    args = parser.parse_args()
    args.ns = [int(n) for n in args.ns.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(args.threads)
    base = Path(args.base)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="teacher-loop-") as work:
        datasets = {name: run_dataset(args, base, name, Path(work)) for name in args.datasets.split(",")}
    result = {
        "benchmark": "teacher_loop",
        "base": base.name,
        "ns": args.ns,
        "seeds": args.seeds,
        "adapter": {"epochs": args.epochs, "min_steps": args.min_steps, "max_steps": args.max_steps,
                    "batch_size": args.batch_size, "lr": args.lr, "rank": AdapterConfig().rank},
        "held_out": "the base grader's own validation questions (never trained on) + their unseen answers",
        "datasets": datasets,
        "seconds": round(time.monotonic() - started, 1),
        "threads": args.threads,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
