import pytest

from tests.ml.retrieval.book import OTHERS, SHELL, book_documents


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
