"""Checkpoints: a run stopped at a step cap resumes where it stopped."""

import pytest
import torch

from tutor.ml.grading.config import TrainConfig
from tutor.ml.grading.train import CHECKPOINT, train

from .grader_fixture import semeval_train_sample

pytestmark = pytest.mark.slow


def test_resume_from_checkpoint_continues_the_step_count(tmp_path):
    torch.set_num_threads(1)
    items = semeval_train_sample(40, seed=11)
    common = dict(output_dir=str(tmp_path / "run"), batch_size=4, max_length=48, num_threads=1, seed=5,
                  epochs=2, keep_checkpoint=True, calibrate=False)
    first = train(TrainConfig(max_steps=3, **common), items, progress=False)
    assert first.global_step == 3
    assert (tmp_path / "run" / CHECKPOINT).exists()
    saved = torch.load(tmp_path / "run" / CHECKPOINT, weights_only=False)
    assert saved["state"]["global_step"] == 3 and saved["state"]["step_in_epoch"] == 3

    resumed = train(TrainConfig(max_steps=5, **common), items, progress=False)
    assert resumed.global_step == 5
    assert resumed.metrics["losses"][:3] == first.metrics["losses"]
    assert len(resumed.metrics["losses"]) == 5
