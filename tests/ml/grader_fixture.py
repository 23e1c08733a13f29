"""A real MiniLM grader fine-tuned for a few steps on a small real SemEval sample, shared by tests.

Used by session-scoped fixtures in several test folders; the module-level cache makes
sure the fine-tuning runs once per test session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from tests.paths import SHARED_DATA
from tutor.ml.data.types import GradedAnswer

PROJECT_DATA = Path(__file__).resolve().parents[2] / "data" / "asag"
SHARED_ASAG = SHARED_DATA / "asag"

STEPS = 30
BATCH = 8
MAX_LENGTH = 96


@dataclass
class TrainedGrader:
    path: Path
    train_items: list[GradedAnswer]
    val_items: list[GradedAnswer]
    losses: list[float]
    metrics: dict


def semeval_train_sample(n: int, seed: int = 7) -> list[GradedAnswer]:
    """A seeded sample of real SemEval training answers (compact copy, else the original release)."""
    from tutor.ml.data.asag import read_dataset, read_jsonl_gz

    rows: list[GradedAnswer] | None = None
    compact = PROJECT_DATA / "semeval.jsonl.gz"
    if compact.exists():
        try:
            rows = [r for r in read_jsonl_gz(compact) if r.split == "train"]
        except (OSError, EOFError, ValueError):
            rows = None  # being rewritten: fall back to the originals
    if not rows and (SHARED_ASAG / "semeval2013-3way" / "training").is_dir():
        rows = read_dataset("semeval", SHARED_ASAG / "semeval2013-3way" / "training")
    if not rows:
        pytest.skip("no SemEval data (data/asag/semeval.jsonl.gz or ../shared/data/asag)")
    rows = sorted(rows, key=lambda r: (r.subset, r.question_id, r.answer_id))
    return random.Random(seed).sample(rows, n)


_CACHE: dict = {}


def trained_grader(tmp_root: Path) -> TrainedGrader:
    if "grader" in _CACHE:
        return _CACHE["grader"]
    from tutor.ml.grading.config import TrainConfig
    from tutor.ml.grading.train import train

    torch.set_num_threads(1)
    items = semeval_train_sample(320)
    train_items, val_items = items[:280], items[280:]
    config = TrainConfig(
        output_dir=str(tmp_root / "grader-test"), max_steps=STEPS, batch_size=BATCH, max_length=MAX_LENGTH,
        eval_batch_size=40, lr=5e-5, head_lr=2e-3, warmup_ratio=0.1, num_threads=1, seed=3, epochs=1,
    )
    result = train(config, train_items, val_items, progress=False)
    _CACHE["grader"] = TrainedGrader(result.output_dir, train_items, val_items, result.metrics["losses"], result.metrics)
    return _CACHE["grader"]


def mohler_sample(n_questions: int, *, skip: int = 0) -> list[GradedAnswer]:
    """Every real Mohler answer to ``n_questions`` questions (after the first ``skip``), in file order."""
    rows = _asag_rows("mohler", "mohler-v2.0")
    questions = list(dict.fromkeys(r.question_id for r in rows))[skip : skip + n_questions]
    return [r for r in rows if r.question_id in set(questions)]


def fitted_score_model(fitted_questions: frozenset[str] = frozenset(), *, n_questions: int = 12):
    """A real score model (score_model.py) fitted on the real answers to the first ``n_questions``
    Mohler questions (12 leave room for unseen ones; it takes about 20 to tell SAF's incorrect answers)."""
    import dataclasses

    import numpy as np

    from tutor.ml.grading.alignment import Aligner
    from tutor.ml.grading.dataset import score_target
    from tutor.ml.grading.score_model import ScoreModel
    from tutor.ml.retrieval.embedder import get_embedder

    key = ("score_model", n_questions)
    if key not in _CACHE:
        items = mohler_sample(n_questions)
        features = Aligner(get_embedder()).features(items)
        _CACHE[key] = ScoreModel.fit(features, np.array([score_target(i) for i in items]))
    return dataclasses.replace(_CACHE[key], fitted_questions=fitted_questions)


def saf_sample(subset: str, n_questions: int, *, split: str = "train") -> list[GradedAnswer]:
    """Every real SAF answer of ``subset`` ("english" / "german") to its first ``n_questions`` questions."""
    rows = [r for r in _asag_rows("saf", "saf") if r.subset == subset and r.split == split]
    questions = set(list(dict.fromkeys(r.question_id for r in rows))[:n_questions])
    return [r for r in rows if r.question_id in questions]


def semeval_questions(subset: str, first: int, count: int) -> list[GradedAnswer]:
    """Every real SemEval training answer of ``subset`` ("sciEntsBank" / "beetle") to ``count`` questions,
    from the ``first``-th on, in file order."""
    rows = [r for r in _asag_rows("semeval", "semeval2013-3way/training") if r.subset == subset and r.split == "train"]
    questions = set(list(dict.fromkeys(r.question_id for r in rows))[first:first + count])
    return [r for r in rows if r.question_id in questions]


def _asag_rows(name: str, original: str) -> list[GradedAnswer]:
    """A data set's real graded answers: the repo's compact copy, else the original release."""
    from tutor.ml.data.asag import read_dataset, read_jsonl_gz

    if (PROJECT_DATA / f"{name}.jsonl.gz").exists():
        return read_jsonl_gz(PROJECT_DATA / f"{name}.jsonl.gz")
    if (SHARED_ASAG / original).is_dir():
        return read_dataset(name, SHARED_ASAG / original)
    pytest.skip(f"no {name} data (data/asag/{name}.jsonl.gz or ../shared/data/asag/{original})")
