import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from installed packages, never a hub

from tests import factories


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the other sessions on it. Channels' test communicator
    turns off the closing of old connections, so the threads that served a consumer's database calls
    (Channels' own and the chat's pools) keep theirs open, and PostgreSQL refuses to drop a database
    in use."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def course():
    return factories.CourseFactory()


@pytest.fixture
def student(course):
    user = factories.UserFactory(username="stu")
    factories.EnrollmentFactory(user=user, course=course, role="student")
    return user


@pytest.fixture
def teacher(course):
    user = factories.UserFactory(username="teach")
    factories.EnrollmentFactory(user=user, course=course, role="teacher")
    return user


@pytest.fixture
def admin_user():
    return factories.AdminFactory(username="root")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``services`` need the real PostgreSQL and Redis; say so when they are skipped."""
    import os

    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs the real services: set {' and '.join(missing)} (as .ci/run does)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def grader(tmp_path_factory):
    """A real MiniLM grader fine-tuned for a few steps on real SemEval answers (tests/ml/grader_fixture.py)."""
    from tests.ml.grader_fixture import trained_grader

    return trained_grader(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Model tests run on one thread: repeatable numbers, and the 2-core machine stays responsive."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def eager_celery():
    """Tasks run in-process even where a broker is configured (.ci/run sets REDIS_URL): for tests of what
    a task does, not of the broker (tests/tutor/test_real_services.py covers that with a real worker)."""
    from tutor.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
