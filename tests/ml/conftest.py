import pytest

from .grader_fixture import trained_grader


@pytest.fixture(scope="session")
def grader(tmp_path_factory):
    """A real MiniLM grader fine-tuned for a few steps (see grader_fixture.py)."""
    return trained_grader(tmp_path_factory.mktemp("models"))
