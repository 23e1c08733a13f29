"""The training loop: a run stopped at a step cap resumes where it stopped; every epoch is validated, the
last one too; a run can start from a trained version's weights (``init_from``)."""

import json

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


def test_training_from_a_version_starts_from_its_trained_weights(tmp_path):
    """``init_from``: encoder and heads come from the version (with no learning rate nothing moves),
    not from the pretrained base, whose heads are new."""
    from safetensors.torch import load_file

    from tutor.ml.grading.model import WEIGHTS_NAME

    torch.set_num_threads(1)
    items = semeval_train_sample(24, seed=12)
    common = dict(batch_size=4, max_length=48, num_threads=1, seed=5, epochs=1, calibrate=False)
    first = train(TrainConfig(output_dir=str(tmp_path / "first"), max_steps=3, **common), items, progress=False)
    further = train(TrainConfig(output_dir=str(tmp_path / "further"), init_from=str(first.output_dir), max_steps=1,
                                lr=0.0, **common), items, progress=False)
    fresh = train(TrainConfig(output_dir=str(tmp_path / "fresh"), max_steps=1, lr=0.0, head_lr=0.0, **common),
                  items, progress=False)

    trained = load_file(str(first.output_dir / WEIGHTS_NAME))
    continued = load_file(str(further.output_dir / WEIGHTS_NAME))
    assert trained.keys() == continued.keys()
    assert all(torch.equal(trained[k], continued[k]) for k in trained)
    assert not torch.equal(trained["verdict_head.weight"], load_file(str(fresh.output_dir / WEIGHTS_NAME))["verdict_head.weight"])
    summary = json.loads((further.output_dir / "training_summary.json").read_text())
    assert summary["init_from"] == "first"

    with pytest.raises(ValueError, match="pools by 'mean'"):
        train(TrainConfig(output_dir=str(tmp_path / "cls"), init_from=str(first.output_dir), pooling="cls",
                          max_steps=1, **common), items, progress=False)


def test_every_epoch_is_validated_the_last_one_too(tmp_path):
    """The weights a run ends with are judged on validation (and kept if best), whether it ends at the last
    epoch or between two validations every N steps."""
    torch.set_num_threads(1)
    items = semeval_train_sample(32, seed=13)
    common = dict(batch_size=4, max_length=48, num_threads=1, seed=5, epochs=2, calibrate=False, patience=0)
    by_epoch = train(TrainConfig(output_dir=str(tmp_path / "epochs"), **common), items[:24], items[24:], progress=False)
    assert [h["step"] for h in by_epoch.metrics["history"]] == [6, 12]
    every = train(TrainConfig(output_dir=str(tmp_path / "every"), eval_every=5, **common), items[:24], items[24:],
                  progress=False)
    assert [h["step"] for h in every.metrics["history"]] == [5, 10, 12]
