"""Train a tracer and score it per interaction, without leaking labels.

Protocol
--------
* Students are split, never attempts: train, validation (early stopping; carved out of the
  training students when no file is given) and test students are disjoint.
* Each test interaction gets exactly one prediction, made from that student's earlier
  attempts only (``Tracer.predict`` contract; the evaluator checks one finite probability
  per interaction). The skill of the attempt being predicted is known, its answer is not.
* The DKVMN and DKT files hold one row per (attempt, skill). If a source expanded a
  multi-skill attempt into several rows, the later rows would see the earlier rows' answer;
  those files have one skill per row, so nothing is collapsed here. Rows are scored as given.
* Metrics over all test interactions pooled: ROC AUC, accuracy at threshold 0.5, RMSE.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score

from .base import Tracer
from .bkt import BKT, BKTConfig
from .data import StudentSequence, read_kt, split_train_valid
from .transformer import TransformerConfig, TransformerTracer

MODELS = ("bkt", "transformer")


def make_tracer(model: str, **overrides) -> Tracer:
    if model == "bkt":
        return BKT(BKTConfig(**overrides))
    if model == "transformer":
        return TransformerTracer(TransformerConfig(**overrides))
    raise ValueError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")


def score(tracer: Tracer, sequences: list[StudentSequence]) -> dict:
    """Pool one prediction per interaction and compute auc / accuracy / rmse / n."""
    predictions = tracer.predict(sequences)
    if len(predictions) != len(sequences):
        raise RuntimeError("tracer returned a different number of sequences than it was given")
    for seq, p in zip(sequences, predictions):
        if len(p) != len(seq) or not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
            raise RuntimeError("tracer must return one probability in [0, 1] per interaction")
    p = np.concatenate(predictions).astype(np.float64)
    y = np.concatenate([s.correct for s in sequences]).astype(np.int64)
    return {
        "auc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan"),
        "accuracy": float(accuracy_score(y, p >= 0.5)),
        "rmse": float(np.sqrt(mean_squared_error(y, p))),
        "n": int(len(y)),
    }


def train_and_evaluate(
    *,
    train: list[StudentSequence],
    test: list[StudentSequence],
    model: str,
    valid: list[StudentSequence] | None = None,
    seed: int = 0,
    **overrides,
) -> tuple[Tracer, dict]:
    if valid is None and model == "transformer":
        train, valid = split_train_valid(train, valid_fraction=0.1, seed=seed)
    if model == "transformer":
        overrides.setdefault("seed", seed)
    tracer = make_tracer(model, **overrides)
    started = time.perf_counter()
    tracer.fit(train, valid)
    train_seconds = time.perf_counter() - started
    metrics = score(tracer, test)
    metrics.update(model=model, train_seconds=round(train_seconds, 2))
    return tracer, metrics


def evaluate_files(
    *,
    fmt: str,
    train: str | Path,
    test: str | Path,
    model: str,
    valid: str | Path | None = None,
    seed: int = 0,
    **overrides,
) -> dict:
    """What ``manage.py evaluate_kt`` runs: read the files, train, and return the metrics."""
    train_seqs = read_kt(train, fmt)
    test_seqs = read_kt(test, fmt)
    valid_seqs = read_kt(valid, fmt) if valid else None
    _, metrics = train_and_evaluate(
        train=train_seqs, valid=valid_seqs, test=test_seqs, model=model, seed=seed, **overrides
    )
    return metrics
