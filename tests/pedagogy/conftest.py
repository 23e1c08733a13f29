import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def qa_model_dir(settings, tmp_path):
    """A fresh MODEL_DIR and no engines left over from other tests."""
    from pedagogy.retrieval import clear_engines

    settings.MODEL_DIR = tmp_path / "models"
    clear_engines()
    yield settings.MODEL_DIR
    clear_engines()
