"""Fine-tuning loop of the cross-encoder grader: seeded, resumable, early-stopped, calibrated.

``train(config, train_items, val_items)`` writes a complete model directory to
``config.output_dir``:
    config.json, model.safetensors, encoder/   the best model (see model.py)
    metrics.json                               validation metrics, calibration, history
    training_summary.json                      what it was trained on
    checkpoint.pt                              while running (each epoch / at a step cap); resumed from
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.types import GradedAnswer
from ..metrics import clean, classification_report, pearson, rmse
from .calibration import NEG, calibration_report, fit_temperature
from .config import LABELS, TrainConfig
from .dataset import PairCollator, class_weights, make_pairs, student_reference_pairs, summarise
from .distil import Distillation, with_teacher_targets
from .inference import aggregate, forward_pairs
from .model import build_model, load_model, save_model
from .polarity import polarity_flip_pairs

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainResult:
    output_dir: Path
    global_step: int
    best_metric: float | None
    metrics: dict
    history: list[dict] = field(default_factory=list)
    stopped: str = ""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def optimisation_step(
    model, batch: dict, *, optimizer, scheduler, device: str, weights: torch.Tensor | None, score_weight: float,
    grad_clip: float, distil: Distillation | None = None,
) -> float:
    """One forward/backward/update on a collated batch; returns the loss. Shared by full fine-tuning and
    the course adapters (where only the trainable parameters are clipped and updated)."""
    batch = {k: v.to(device) for k, v in batch.items()}
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
    logits, scores = model(**inputs)
    loss = loss_fn(logits, scores, batch, weights=weights, score_weight=score_weight, distil=distil)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], grad_clip)
    optimizer.step()
    scheduler.step()
    return float(loss.item())


def loss_fn(
    logits, scores, batch, *, weights: torch.Tensor | None, score_weight: float, distil: Distillation | None = None
) -> torch.Tensor:
    """Verdict cross-entropy over each item's own classes + MSE on known normalised scores; with a
    teacher's predictions in the batch (``distil``), mixed with the teacher's soft targets."""
    labels = batch["labels"]
    alpha = distil.alpha if distil is not None and "teacher_logits" in batch else 0.0
    loss = logits.new_zeros(())
    masked = logits.masked_fill(~batch["allowed"], NEG)
    has_label = labels >= 0
    if has_label.any():
        loss = loss + (1 - alpha) * torch.nn.functional.cross_entropy(masked[has_label], labels[has_label], weight=weights)
    target = batch["scores"]
    if alpha:
        taught = ~torch.isnan(batch["teacher_logits"][:, 0])
        if taught.any():
            t = distil.temperature
            teacher = batch["teacher_logits"].masked_fill(~batch["allowed"], NEG)[taught]
            kd = torch.nn.functional.kl_div(
                torch.log_softmax(masked[taught] / t, dim=-1), torch.softmax(teacher / t, dim=-1), reduction="batchmean"
            )
            loss = loss + alpha * t * t * kd
        teacher_scores = batch["teacher_scores"]
        target = torch.where(
            torch.isnan(target), teacher_scores,
            torch.where(torch.isnan(teacher_scores), target, (1 - alpha) * target + alpha * teacher_scores),
        )
    has_score = ~torch.isnan(target)
    if has_score.any() and score_weight:
        loss = loss + score_weight * torch.nn.functional.mse_loss(scores[has_score], target[has_score])
    return loss


def evaluate_model(model, tokenizer, items: list[GradedAnswer], config: TrainConfig, device: str, temperature=1.0):
    """Validation metrics plus the per-item logits needed to fit the temperature."""
    sep = tokenizer.sep_token or " "
    pairs = make_pairs(items, references=config.predict_references, sep=sep)
    logits, scores = forward_pairs(
        model, tokenizer, pairs, batch_size=config.eval_batch_size, max_length=config.max_length, device=device,
        truncation=config.truncation,
    )
    mode = config.predict_references
    probs, item_scores, allowed = aggregate(pairs, logits, scores, len(items), mode=mode, temperature=temperature)
    # Per-item logits for calibration: log-probabilities at T=1 (shift-invariant, so exact for one pair).
    raw_probs, _, _ = aggregate(pairs, logits, scores, len(items), mode=mode, temperature=1.0)
    item_logits = raw_probs.clamp(min=1e-12).log()
    metrics: dict = {"n": len(items)}
    labelled = [i for i, it in enumerate(items) if it.label in LABELS]
    if labelled:
        pred = probs.argmax(-1)
        y_true = [items[i].label for i in labelled]
        y_pred = [LABELS[int(pred[i])] for i in labelled]
        metrics.update(classification_report(y_true, y_pred, sorted(set(y_true))))
    scored = [i for i, it in enumerate(items) if it.normalised_score is not None]
    if scored:
        t = [items[i].normalised_score for i in scored]
        p = [float(item_scores[i]) for i in scored]
        metrics["pearson"] = pearson(t, p)
        metrics["rmse"] = rmse(t, p)
    labels = torch.tensor([LABELS.index(it.label) if it.label in LABELS else -100 for it in items])
    return metrics, item_logits, labels, allowed


def _selection_metric(metrics: dict) -> float:
    if "macro_f1" in metrics:
        return float(metrics["macro_f1"])
    if "rmse" in metrics:
        return -float(metrics["rmse"])
    return 0.0


def _optimizer(model, config: TrainConfig):
    decay, no_decay, head = [], [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if not name.startswith("encoder."):
            head.append(param)
        elif param.ndim < 2 or "LayerNorm" in name or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay, "lr": config.lr},
        {"params": no_decay, "weight_decay": 0.0, "lr": config.lr},
        # Trained heads (init_from) go on at the encoder's pace: head_lr is for fresh ones.
        {"params": head, "weight_decay": config.weight_decay, "lr": config.lr if config.init_from else config.head_lr},
    ]
    return torch.optim.AdamW(groups)


def train(
    config: TrainConfig,
    train_items: list[GradedAnswer],
    val_items: list[GradedAnswer] | None = None,
    *,
    progress: bool = True,
    resume: bool = True,
) -> TrainResult:
    from transformers import get_linear_schedule_with_warmup

    if not config.output_dir:
        raise ValueError("config.output_dir is required")
    unknown = set(config.student_reference_datasets) - set(config.datasets)
    if unknown:
        raise ValueError(f"student references for data sets not trained on: {', '.join(sorted(unknown))}")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    seed_everything(config.seed)
    device = config.resolved_device()
    val_items = val_items or []

    if config.init_from:
        model, tokenizer, _ = load_model(config.init_from)
        model.dropout.p = config.dropout
        if model.pooling != config.pooling:
            raise ValueError(f"{config.init_from} pools by {model.pooling!r}, the config by {config.pooling!r}")
        model.use_attention(config.attention or model.attention)
    else:
        model, tokenizer = build_model(config.base_model, pooling=config.pooling, dropout=config.dropout,
                                       attention=config.attention or "full")
    model.to(device)
    pairs = make_pairs(train_items, references=config.train_references, sep=tokenizer.sep_token)
    pairs += student_reference_pairs(train_items, per_answer=config.student_references,
                                     sep=tokenizer.sep_token, seed=config.seed,
                                     datasets=config.student_reference_datasets)
    flips = polarity_flip_pairs(train_items, share=config.polarity_flips, references=config.train_references,
                                sep=tokenizer.sep_token, seed=config.seed)
    pairs += flips
    if not pairs:
        raise ValueError("no training pairs")
    distil = None
    if config.distil_from:
        pairs = with_teacher_targets(pairs, config.distil_from, device=device, batch_size=config.eval_batch_size,
                                     max_length=config.max_length, student_sep=tokenizer.sep_token)
        distil = Distillation(config.distil_alpha, config.distil_temperature)
    collate = PairCollator(tokenizer, config.max_length, truncation=config.truncation)
    steps_per_epoch = math.ceil(len(pairs) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)
    optimizer = _optimizer(model, config)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    weights = class_weights(train_items).to(device) if config.class_weights else None

    state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best": None, "bad_evals": 0, "history": []}
    checkpoint_path = out / CHECKPOINT
    if resume and checkpoint_path.exists():
        ckpt = torch.load(checkpoint_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        state = ckpt["state"]
        random.setstate(ckpt["rng"]["python"])
        np.random.set_state(ckpt["rng"]["numpy"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        logger.info("Resumed from %s at step %d", checkpoint_path, state["global_step"])

    def save_checkpoint():
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "state": state,
                "rng": {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()},
                "config": config.to_dict(),
            },
            checkpoint_path,
        )

    model_config = {"train_config": config.to_dict(), "max_length": config.max_length, "truncation": config.truncation,
                    "predict_references": config.predict_references, "temperature": 1.0}

    def validate() -> bool:
        """Evaluate, keep the best model on disk; return True when patience is exhausted."""
        metrics, *_ = evaluate_model(model, tokenizer, val_items, config, device)
        value = _selection_metric(metrics)
        entry = {"step": state["global_step"], "epoch": state["epoch"], "train_loss": state.get("running_loss"),
                 **{k: metrics[k] for k in ("macro_f1", "accuracy", "pearson", "rmse") if k in metrics}}
        state["history"].append(entry)
        logger.info("validation %s", entry)
        if state["best"] is None or value > state["best"]:
            state["best"], state["bad_evals"] = value, 0
            save_model(model, tokenizer, out, config=model_config)
            return False
        state["bad_evals"] += 1
        return config.patience > 0 and state["bad_evals"] >= config.patience

    started = time.monotonic()
    stopped = "epochs"
    bar = tqdm(total=total_steps, initial=state["global_step"], disable=not progress, desc="train_grader", unit="step")
    model.train()
    loss_sum, loss_n = 0.0, 0
    done = state["global_step"] >= total_steps
    while not done and state["epoch"] < config.epochs:
        order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(config.seed * 1000 + state["epoch"]))
        for b in range(state["step_in_epoch"], steps_per_epoch):
            batch = collate([pairs[i] for i in order[b * config.batch_size : (b + 1) * config.batch_size].tolist()])
            loss_value = optimisation_step(
                model, batch, optimizer=optimizer, scheduler=scheduler, device=device, weights=weights,
                score_weight=config.score_loss_weight, grad_clip=config.grad_clip, distil=distil,
            )
            state["global_step"] += 1
            state["step_in_epoch"] = b + 1
            loss_sum, loss_n = loss_sum + loss_value, loss_n + 1
            state["running_loss"] = loss_sum / loss_n
            state.setdefault("losses", []).append(loss_value)
            bar.update(1)
            bar.set_postfix(loss=f"{state['running_loss']:.4f}", epoch=state["epoch"])
            if val_items and config.eval_every and state["global_step"] % config.eval_every == 0:
                if validate():
                    done, stopped = True, "early_stopping"
            if state["global_step"] >= total_steps:
                if not done:
                    stopped = "max_steps" if config.max_steps and total_steps == config.max_steps else "epochs"
                done = True
            if done:
                break
        if state["step_in_epoch"] >= steps_per_epoch:
            state["epoch"] += 1
            state["step_in_epoch"] = 0
            loss_sum, loss_n = 0.0, 0
            if val_items and not config.eval_every and not done and validate():
                done, stopped = True, "early_stopping"
        save_checkpoint()
    bar.close()
    elapsed = time.monotonic() - started

    if val_items and stopped != "early_stopping" and (not state["history"]
                                                      or state["history"][-1]["step"] != state["global_step"]):
        validate()  # the run ended (last epoch, step cap) where no validation judged it: judge it too
    if not val_items or not (out / "model.safetensors").exists():
        save_model(model, tokenizer, out, config=model_config)

    # Calibrate and measure the kept (best) model on validation.
    best_model, best_tokenizer, saved_config = load_model(out, device=device)
    metrics: dict = {"train_steps": state["global_step"], "train_seconds": round(elapsed, 1),
                     "stopped": stopped, "history": state["history"], "losses": state.get("losses", [])}
    temperature = 1.0
    if val_items:
        val_metrics, item_logits, labels, allowed = evaluate_model(best_model, best_tokenizer, val_items, config, device)
        if config.calibrate and (labels >= 0).any():
            temperature = fit_temperature(item_logits, labels, allowed)
            metrics["calibration"] = calibration_report(item_logits, labels, temperature, allowed)
        metrics["validation"] = val_metrics
        metrics["validation_by_dataset"] = {
            ds: evaluate_model(best_model, best_tokenizer, [i for i in val_items if i.dataset == ds], config, device)[0]
            for ds in sorted({i.dataset for i in val_items})
        }
    saved_config["temperature"] = temperature
    (out / "config.json").write_text(json.dumps(saved_config, indent=2, sort_keys=True))
    (out / "metrics.json").write_text(json.dumps(clean(metrics), indent=2))
    summary = {"train": summarise(train_items), "validation": summarise(val_items),
               "pairs": len(pairs), "val_by": config.val_by, "val_fraction": config.val_fraction}
    if config.init_from:
        summary["init_from"] = Path(config.init_from).name
    if config.polarity_flips:
        summary["polarity_flip_pairs"] = len(flips)
    if config.distil_from:
        summary["teacher"] = {"model_dir": config.distil_from, "version": Path(config.distil_from).name,
                              "alpha": config.distil_alpha, "temperature": config.distil_temperature}
    (out / "training_summary.json").write_text(json.dumps(summary, indent=2))
    if not config.keep_checkpoint and checkpoint_path.exists():
        checkpoint_path.unlink()
    return TrainResult(out, state["global_step"], state["best"], clean(metrics), state["history"], stopped)
