import os

from celery import Celery
from celery.signals import worker_before_create_process, worker_process_init

from tutor.ml.threads import WORKER_PROCESSES_ENV

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings.base")

app = Celery("tutor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="tutor.ping")
def ping() -> str:
    """Health check that proves a worker consumes from the broker."""
    return "pong"


@app.task(name="tutor.serving_threads")
def serving_threads() -> int:
    """The threads this worker process gives the grader and the embedder (0: every core)."""
    from student_model import grading

    return grading.serving_threads()


@worker_before_create_process.connect
def share_cores_among_pool_processes(sender, **kwargs) -> None:
    """Sent by a prefork pool in the parent before it starts a process, which inherits this environment:
    the pool's processes then split the cores between them (tutor/ml/threads.py)."""
    processes = getattr(sender, "_processes", None)
    if processes:
        os.environ[WORKER_PROCESSES_ENV] = str(processes)


@worker_process_init.connect
def use_this_process_share_of_the_cores(**kwargs) -> None:
    from student_model import grading

    threads = grading.serving_threads()
    if threads:
        import torch

        torch.set_num_threads(threads)
