"""Per-course LoRA adapters over a trained grader (peft): train one, save it small, serve it merged.

A course's teachers confirm or correct grades; an adapter learns from those answers without
touching the grader other courses use. Low-rank updates go into the encoder's attention
(query, key, value, output) and feed-forward linear layers; the two heads (verdict, score)
are trained in full. The version directory holds the adapter only (about 1.5 MB):

    config.json                 kind "lora_adapter", base_version, labels, pooling, max_length,
                                temperature, adapter settings
    adapter_config.json         peft's LoraConfig
    adapter_model.safetensors   LoRA matrices + the two heads
    metrics.json, training_summary.json

The base is another version directory (a full grader or, for a course retrained again,
its previous adapter): ``load_grader`` loads the chain and merges every adapter into the
weights, so serving costs exactly what the base grader costs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..data.types import GradedAnswer
from ..metrics import clean
from .calibration import fit_temperature
from .config import trained_truncation
from .dataset import PairCollator, make_pairs, summarise
from .model import CONFIG_NAME, load_model, read_config
from .train import evaluate_model, optimisation_step, seed_everything

logger = logging.getLogger(__name__)

ADAPTER_KIND = "lora_adapter"
ADAPTER_CONFIG = "adapter_config.json"
HEADS = ("verdict_head", "score_head")
# The encoder's linear layers in every Transformer block (BERT naming, as MiniLM uses).
TARGET_MODULES = (
    r".*\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"
)
MAX_CHAIN = 20  # adapters stacked on adapters: a guard against a cycle in hand-edited configs

ProgressCallback = Callable[[float, str], None]


@dataclass
class AdapterConfig:
    """How an adapter is trained. Defaults keep a course retraining to a minute or two on a CPU."""

    rank: int = 8
    alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: str = TARGET_MODULES
    lr: float = 5e-4  # LoRA matrices
    head_lr: float = 1e-3
    weight_decay: float = 0.0
    epochs: int = 4
    batch_size: int = 16
    min_steps: int = 0  # tiny sets: loop over the data until at least this many steps
    max_steps: int = 300  # cap on optimiser steps
    max_examples: int = 2000  # cap on training answers (a seeded sample)
    max_length: int = 0  # 0: the base grader's
    warmup_ratio: float = 0.1
    score_loss_weight: float = 1.0
    grad_clip: float = 1.0
    train_references: str = "best_overlap"
    seed: int = 13
    num_threads: int = 0
    device: str = "cpu"
    calibrate: bool = True  # refit the temperature when validation answers are given

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AdapterConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class AdapterResult:
    output_dir: Path
    steps: int
    metrics: dict
    training_summary: dict
    losses: list[float] = field(default_factory=list)


def is_adapter(directory: str | Path) -> bool:
    path = Path(directory) / CONFIG_NAME
    return path.exists() and read_config(directory).get("kind") == ADAPTER_KIND


def base_dir(directory: str | Path) -> Path:
    """The version an adapter was trained on: a sibling directory named ``base_version`` (versions
    move together with their MODEL_DIR), else the absolute path recorded at training time."""
    directory = Path(directory)
    config = read_config(directory)
    sibling = directory.parent / config.get("base_version", "")
    if config.get("base_version") and (sibling / CONFIG_NAME).exists():
        return sibling
    recorded = Path(config.get("base_path", ""))
    if (recorded / CONFIG_NAME).exists():
        return recorded
    raise FileNotFoundError(f"the base grader of {directory} ({config.get('base_version')!r}) is missing")


def full_grader(directory: str | Path) -> Path:
    """The full grader under an adapter (through adapters trained on adapters); a full grader itself."""
    directory = Path(directory)
    for _ in range(MAX_CHAIN + 1):
        if not is_adapter(directory):
            return directory
        directory = base_dir(directory)
    raise ValueError(f"adapter chain deeper than {MAX_CHAIN} at {directory}")


def load_grader(directory: str | Path, *, device: str = "cpu", _depth: int = 0):
    """Any grader version: (model in eval mode, tokenizer, config). An adapter is loaded on its base
    (recursively) and merged into the weights."""
    from peft import PeftModel

    directory = Path(directory)
    if not is_adapter(directory):
        return load_model(directory, device=device)
    if _depth >= MAX_CHAIN:
        raise ValueError(f"adapter chain deeper than {MAX_CHAIN} at {directory}")
    model, tokenizer, _ = load_grader(base_dir(directory), device=device, _depth=_depth + 1)
    merged = PeftModel.from_pretrained(model, str(directory), is_trainable=False).merge_and_unload()
    return merged.to(device).eval(), tokenizer, read_config(directory)


def sample_examples(items: list[GradedAnswer], limit: int, seed: int) -> list[GradedAnswer]:
    if not limit or len(items) <= limit:
        return list(items)
    return random.Random(seed).sample(list(items), limit)


def _lora_config(config: AdapterConfig):
    from peft import LoraConfig

    return LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        modules_to_save=list(HEADS),
        bias="none",
    )


def _optimizer(model, config: AdapterConfig) -> torch.optim.Optimizer:
    lora, heads = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (lora if "lora_" in name else heads).append(param)
    return torch.optim.AdamW(
        [
            {"params": lora, "lr": config.lr, "weight_decay": config.weight_decay},
            {"params": heads, "lr": config.head_lr, "weight_decay": config.weight_decay},
        ]
    )


def train_adapter(
    base: str | Path,
    items: list[GradedAnswer],
    output_dir: str | Path,
    config: AdapterConfig | None = None,
    *,
    val_items: list[GradedAnswer] | None = None,
    on_progress: ProgressCallback | None = None,
) -> AdapterResult:
    """Fine-tune a LoRA adapter on ``items`` over the grader at ``base``; write it to ``output_dir``."""
    from peft import get_peft_model
    from transformers import get_linear_schedule_with_warmup

    config = config or AdapterConfig()
    base = Path(base)
    out = Path(output_dir)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    items = sample_examples(items, config.max_examples, config.seed)
    if not items:
        raise ValueError("no answers to train the adapter on")
    seed_everything(config.seed)
    report = on_progress or (lambda fraction, message: None)

    model, tokenizer, base_config = load_grader(base, device=config.device)
    max_length = config.max_length or int(base_config.get("max_length", 256))
    truncation = trained_truncation(base_config)
    model = get_peft_model(model, _lora_config(config))
    pairs = make_pairs(items, references=config.train_references, sep=tokenizer.sep_token)
    collate = PairCollator(tokenizer, max_length, truncation=truncation)
    steps_per_epoch = math.ceil(len(pairs) / config.batch_size)
    total = max(steps_per_epoch * config.epochs, config.min_steps)
    if config.max_steps:
        total = min(total, config.max_steps)
    optimizer = _optimizer(model, config)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total), total)

    started = time.monotonic()
    losses: list[float] = []
    model.train()
    step, epoch = 0, 0
    while step < total:
        order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch))
        for start in range(0, len(pairs), config.batch_size):
            batch = collate([pairs[i] for i in order[start : start + config.batch_size].tolist()])
            losses.append(optimisation_step(
                model, batch, optimizer=optimizer, scheduler=scheduler, device=config.device, weights=None,
                score_weight=config.score_loss_weight, grad_clip=config.grad_clip,
            ))
            step += 1
            report(step / total, f"step {step}/{total}, loss {losses[-1]:.3f}")
            if step >= total:
                break
        epoch += 1
    elapsed = time.monotonic() - started
    model.eval()

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's model-card stub says nothing about this grader
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    merged = model.merge_and_unload().eval()

    temperature = float(base_config.get("temperature", 1.0))
    metrics: dict = {"train_steps": step, "train_seconds": round(elapsed, 1), "epochs_seen": epoch,
                     "trainable_parameters": trainable, "losses": losses}
    if val_items:
        from .config import TrainConfig

        eval_config = TrainConfig(base_model="", max_length=max_length, truncation=truncation, eval_batch_size=64,
                                  predict_references=base_config.get("predict_references", "max_score"))
        val_metrics, item_logits, labels, allowed = evaluate_model(merged, tokenizer, val_items, eval_config,
                                                                   config.device)
        if config.calibrate and (labels >= 0).any():
            temperature = fit_temperature(item_logits, labels, allowed)
        metrics["validation"] = val_metrics

    adapter_config = {
        "kind": ADAPTER_KIND,
        "base_version": base.name,
        "base_path": str(base.resolve()),
        "labels": base_config.get("labels"),
        "pooling": base_config.get("pooling", "mean"),
        "attention": base_config.get("attention", "full"),
        "max_length": max_length,
        "truncation": truncation,
        "predict_references": base_config.get("predict_references", "max_score"),
        "temperature": temperature,
        "adapter": config.to_dict(),
    }
    (out / CONFIG_NAME).write_text(json.dumps(adapter_config, indent=2, sort_keys=True))
    metrics = clean(metrics)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    summary = {"train": summarise(items), "base_version": base.name, "pairs": len(pairs)}
    (out / "training_summary.json").write_text(json.dumps(summary, indent=2))
    _inherit_score_model(base, out, items)
    report(1.0, f"trained {step} steps in {elapsed:.0f} s")
    return AdapterResult(out, step, metrics, summary, losses)


def _inherit_score_model(base: Path, out: Path, items: list[GradedAnswer]) -> None:
    """The base's score model for new questions (score_model.py), the course's questions now counting as
    fitted: the adapter has learned their grades, so it keeps its own score on them."""
    from .score_model import ScoreModel, question_fingerprint

    inherited = ScoreModel.load(base)
    if inherited is not None:
        inherited.fitted_questions = inherited.fitted_questions | {question_fingerprint(i.question) for i in items}
        inherited.save(out)
