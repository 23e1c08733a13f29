"""End-to-end training run in plain Python: data -> validation split -> train -> version directory.

``manage.py train_grader`` is a thin wrapper around ``run_training``; the same call works
from a notebook or a script.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.types import GradedAnswer
from .config import TrainConfig
from .dataset import split_validation
from .model import read_config
from .sources import cap_per_dataset, load_training_items
from .train import CHECKPOINT, TrainResult, train


def training_items(config: TrainConfig, *, data_dir: str | Path) -> list[GradedAnswer]:
    """Every graded answer of the run's data sets (excluded subsets left out), before any cap."""
    return [i for i in load_training_items(config.datasets, data_dir) if i.subset not in config.exclude_subsets]


def training_split(config: TrainConfig, items: list[GradedAnswer]) -> tuple[list[GradedAnswer], list[GradedAnswer]]:
    """The (fit, validation) answers of a run over ``training_items``: the same split for the run
    and for anything that must later tell the answers a version learned from those it never saw."""
    items = cap_per_dataset(items, config.max_train_items, config.seed)
    return split_validation(items, by=config.val_by, fraction=config.val_fraction, seed=config.seed)


def version_config(version_dir: str | Path) -> TrainConfig:
    """The training config a version was trained with (its ``config.json``)."""
    return TrainConfig.from_dict(read_config(version_dir)["train_config"])


def version_split(version_dir: str | Path, *, data_dir: str | Path) -> tuple[list[GradedAnswer], list[GradedAnswer]]:
    """The (fit, validation) answers a version was trained on and validated on."""
    config = version_config(version_dir)
    return training_split(config, training_items(config, data_dir=data_dir))


def run_training(config: TrainConfig, *, data_dir: str | Path, progress: bool = True) -> TrainResult:
    train_items, val_items = training_split(config, training_items(config, data_dir=data_dir))
    if config.init_from:
        _check_validation_unseen(config.init_from, val_items, data_dir=data_dir)
    return train(config, train_items, val_items, progress=progress)


def _check_validation_unseen(init_from: str | Path, val_items: list[GradedAnswer], *, data_dir: str | Path) -> None:
    """Training further from a version must still validate (and fit the score model's stack and bands) on
    questions that version never learned from: another data set list, seed or cap draws other questions."""
    fitted, _ = version_split(init_from, data_dir=data_dir)
    learned = {(i.dataset, i.subset, i.question_id) for i in fitted}
    overlap = {(i.dataset, i.subset, i.question_id) for i in val_items} & learned
    if overlap:
        raise ValueError(f"{len(overlap)} validation question(s) of this run were trained on by {Path(init_from).name}: "
                         "keep its datasets, seed, cap and validation settings")


def resume_config(output_dir: str | Path, **overrides) -> TrainConfig:
    """The config of an interrupted run (from its checkpoint), with ``overrides`` applied."""
    checkpoint = Path(output_dir) / CHECKPOINT
    if not checkpoint.exists():
        raise FileNotFoundError(f"no {CHECKPOINT} in {output_dir}: nothing to resume")
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)["config"]
    saved.update({k: v for k, v in overrides.items() if v is not None})
    saved["output_dir"] = str(output_dir)
    return TrainConfig.from_dict(saved)
