import pytest


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
