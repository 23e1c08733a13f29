"""Knowledge tracing benchmark: BKT vs the Transformer tracer on the public fold splits.

For each data set and fold k: train on ``train{k}`` (the Transformer early-stops on 10% of
those training students, carved out by seed), score on ``valid{k}``, one prediction per
interaction from the past only (tutor/ml/tracing/evaluate.py). The DKT-paper file has no
folds; 20% of its students are held out instead. Prints one JSON object; progress goes to
stderr.

    .venv/bin/python benchmarks/kt.py                 # fold 1 of every data set
    .venv/bin/python benchmarks/kt.py --folds 1 2 3 --datasets STATICS
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tutor.ml.tracing.data import read_kt, split_train_valid  # noqa: E402
from tutor.ml.tracing.evaluate import MODELS, train_and_evaluate  # noqa: E402

DATA = ROOT / "data" / "kt"
FOLD_SETS = ("assist2009_updated", "assist2015", "STATICS")
DKT_SET = "assist2009-dkt-builder"


def splits(dataset: str, folds: list[int]):
    if dataset == DKT_SET:
        seqs = read_kt(DATA / DKT_SET / "builder_train.csv.gz", "dkt")
        train, test = split_train_valid(seqs, valid_fraction=0.2, seed=0)
        yield "holdout20", train, test
        return
    for k in folds:
        folder = DATA / dataset
        yield (
            f"fold{k}",
            read_kt(folder / f"{dataset}_train{k}.csv.gz", "dkvmn"),
            read_kt(folder / f"{dataset}_valid{k}.csv.gz", "dkvmn"),
        )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=[*FOLD_SETS, DKT_SET])
    parser.add_argument("--folds", nargs="+", type=int, default=[1])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rows = []
    started = time.perf_counter()
    for dataset in args.datasets:
        for split, train, test in splits(dataset, args.folds):
            for model in args.models:
                print(f"{dataset} {split} {model} ...", file=sys.stderr, flush=True)
                tracer, metrics = train_and_evaluate(train=train, test=test, model=model, seed=args.seed)
                row = {"dataset": dataset, "split": split, **metrics}
                if model == "transformer":
                    row["epochs"] = len(tracer.history)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)

    summary: dict = {}
    for dataset in args.datasets:
        summary[dataset] = {}
        for model in args.models:
            mine = [r for r in rows if r["dataset"] == dataset and r["model"] == model]
            if mine:
                summary[dataset][model] = {
                    "auc": round(float(np.mean([r["auc"] for r in mine])), 4),
                    "accuracy": round(float(np.mean([r["accuracy"] for r in mine])), 4),
                    "rmse": round(float(np.mean([r["rmse"] for r in mine])), 4),
                    "train_seconds": round(float(np.mean([r["train_seconds"] for r in mine])), 1),
                    "splits": len(mine),
                }
    import torch

    return {
        "benchmark": "knowledge_tracing",
        "protocol": "train{k} -> valid{k}; one causal prediction per interaction; "
        "transformer early-stops on 10% of the training students",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": 1,
        },
        "summary": summary,
        "results": rows,
        "total_seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
