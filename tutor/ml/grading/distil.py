"""Teacher -> student distillation for the grader.

A larger, slower grader (the teacher: e.g. MPNet-base fine-tuned with ``train_grader --base-model``,
on the GPU machine) is trained first. The small MiniLM student that serves then trains on the same
pairs with two targets: the labels, and the teacher's predictions. The teacher's verdict
distribution at temperature T carries what the labels do not (how close "partially correct" came
to "correct"); its score fills in where the data has no gold score. ``train_grader --distil-from
TEACHER`` runs it (``TrainConfig.distil_*``); the loss is in ``train.loss_fn``.

The teacher's predictions are computed once, before training, with the teacher's own tokenizer
(its separator token differs from MiniLM's), in the student's pair order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .config import trained_truncation
from .dataset import PairExample
from .inference import forward_pairs


@dataclass(frozen=True)
class Distillation:
    alpha: float  # weight of the teacher's targets (0 = labels only, 1 = teacher only)
    temperature: float


def with_teacher_targets(
    pairs: list[PairExample], teacher_dir: str | Path, *, device: str = "cpu", batch_size: int = 64, max_length: int = 256,
    student_sep: str = "[SEP]",
) -> list[PairExample]:
    """``pairs`` with the teacher's raw verdict logits and score attached to each."""
    from .adapters import load_grader

    teacher, tokenizer, teacher_config = load_grader(Path(teacher_dir), device=device)
    sep = tokenizer.sep_token or student_sep
    as_teacher_reads = [p if sep == student_sep else replace(p, text_a=p.text_a.replace(student_sep, sep)) for p in pairs]
    logits, scores = forward_pairs(
        teacher, tokenizer, as_teacher_reads, batch_size=batch_size, max_length=max_length, device=device,
        truncation=trained_truncation(teacher_config),
    )
    return [
        replace(p, teacher_logits=tuple(float(x) for x in row), teacher_score=float(score))
        for p, row, score in zip(pairs, logits.tolist(), scores.tolist())
    ]
