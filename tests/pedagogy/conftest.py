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


@pytest.fixture(scope="session")
def _shared_model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def qa_model_dir(settings, _shared_model_dir):
    """A MODEL_DIR outside the project, and no engines left over from other tests. The directory
    (with its cached passage vectors, keyed by text) is shared by the tests to save embedding time."""
    from pedagogy.retrieval import clear_engines

    settings.MODEL_DIR = _shared_model_dir
    clear_engines()
    yield settings.MODEL_DIR
    clear_engines()
