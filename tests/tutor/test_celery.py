"""The Celery app's process set-up: a prefork pool's processes share the cores."""

import os

from celery.signals import worker_before_create_process, worker_process_init

from student_model import grading
from tutor.celery import serving_threads
from tutor.ml import threads
from tutor.ml.threads import WORKER_PROCESSES_ENV


class _PreforkPool:
    _processes = 3  # billiard's Pool keeps its size there


def test_a_prefork_pool_tells_the_processes_it_starts_how_many_share_the_cores(monkeypatch):
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "")  # put back as it was afterwards
    worker_before_create_process.send(sender=_PreforkPool())
    assert os.environ[WORKER_PROCESSES_ENV] == "3"


def test_each_process_serves_the_grader_and_runs_torch_with_its_share(monkeypatch, settings):
    import torch

    settings.GRADER_THREADS = 0
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "2")
    before = torch.get_num_threads()
    try:
        worker_process_init.send(sender=None)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert grading.serving_options()["num_threads"] == 2
    assert serving_threads.apply().get() == 2


def test_grader_threads_overrides_the_share(monkeypatch, settings):
    settings.GRADER_THREADS = 1
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "")
    assert grading.serving_options()["num_threads"] == 1
