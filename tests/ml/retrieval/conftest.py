import os

import pytest
import torch

from tests.ml.retrieval.book import OTHERS, SHELL, book_documents

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def embedder():
    from tutor.ml.retrieval.embedder import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def small_course():
    return book_documents(SHELL, *OTHERS)


@pytest.fixture(scope="session")
def small_engine(small_course, embedder):
    from tutor.ml.retrieval.evaluate import build_engine

    return build_engine(small_course, embedder=embedder)
