"""The embedded SQLite database: concurrent transactions that read and then write wait for each other."""

import copy
import threading
import time

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.db.utils import load_backend

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="embedded (SQLite) mode only"
)

ALIAS = "sqlite-lock-test"


def _wrapper(path):
    """A connection configured like the project's default database, on a file of its own."""
    settings_dict = copy.deepcopy(settings.DATABASES["default"])
    settings_dict["NAME"] = str(path)
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, ALIAS)


def test_two_transactions_that_read_then_write_both_commit(tmp_path, django_db_blocker):
    """What submit_answer does from two requests at once: the second transaction reads while the first
    holds the write lock, then writes. Deferred SQLite transactions fail that write at once with
    "database is locked" (the busy timeout does not cover a lock upgrade); immediate ones wait."""
    path = tmp_path / "db.sqlite3"
    first_writing = threading.Event()
    errors: list[BaseException] = []

    with django_db_blocker.unblock():
        setup = _wrapper(path)
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            cursor.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
        setup.close()

        def increment(*, hold: float = 0.0, after: threading.Event | None = None) -> None:
            conn = _wrapper(path)
            connections[ALIAS] = conn  # this thread's connection under that alias
            try:
                if after is not None:
                    after.wait(5)
                with transaction.atomic(using=ALIAS):
                    with conn.cursor() as cursor:
                        cursor.execute("SELECT n FROM counter WHERE id = 1")
                        (n,) = cursor.fetchone()
                        cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
                    first_writing.set()
                    time.sleep(hold)
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)
                first_writing.set()
            finally:
                conn.close()
                del connections[ALIAS]

        threads = [
            threading.Thread(target=increment, kwargs={"hold": 0.5}),
            threading.Thread(target=increment, kwargs={"after": first_writing}),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert errors == []
        check = _wrapper(path)
        with check.cursor() as cursor:
            cursor.execute("SELECT n FROM counter WHERE id = 1")
            assert cursor.fetchone() == (2,)
        check.close()
