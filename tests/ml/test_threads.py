"""Threads per serving process: every core alone, a share of them when worker processes share the cores."""

import pytest

from tutor.ml import threads
from tutor.ml.threads import WORKER_PROCESSES_ENV, threads_per_process


@pytest.fixture
def cores(monkeypatch):
    def set_cores(n: int) -> None:
        monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(n)))

    return set_cores


def test_a_process_alone_leaves_the_threads_to_the_runtimes(monkeypatch, cores):
    cores(8)
    monkeypatch.delenv(WORKER_PROCESSES_ENV, raising=False)
    assert threads_per_process() == 0
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "1")
    assert threads_per_process() == 0


@pytest.mark.parametrize(("n_cores", "processes", "expected"), [(2, 2, 1), (8, 2, 4), (8, 3, 2), (2, 4, 1)])
def test_worker_processes_split_the_cores_between_them(monkeypatch, cores, n_cores, processes, expected):
    cores(n_cores)
    monkeypatch.setenv(WORKER_PROCESSES_ENV, str(processes))
    assert threads_per_process() == expected


def test_a_configured_number_wins(monkeypatch, cores):
    cores(8)
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "2")
    assert threads_per_process(3) == 3


def test_an_unreadable_count_is_ignored(monkeypatch, cores):
    cores(4)
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "many")
    assert threads_per_process() == 0
