"""How many threads a process gives the models it serves (ONNX Runtime's intra-op pool and PyTorch's).

Both runtimes start one thread per core by default. A Celery prefork worker runs one process per core, so
with the defaults its processes run twice as many threads as there are cores and slow each other down.
grader-minilm-v3 served int8 on ONNX Runtime, 2-core AMD EPYC (AVX2), session 21 (answers per second in
total, one answer per call as a grading task sends them, three runs): two processes of one thread each
64-75, two of two threads each (the old default) 55-68, one process of two threads 47-61; in batches of 8:
71-76, 52-61 and 57-69. ``tutor/celery.py`` tells the pool's processes how many of them share the cores
(``WORKER_PROCESSES_ENV``), and each takes its share.
"""

from __future__ import annotations

import os

WORKER_PROCESSES_ENV = "TUTOR_WORKER_PROCESSES"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_process(configured: int = 0) -> int:
    """``configured`` when positive; else this process's share of the cores (at least one) when
    ``WORKER_PROCESSES_ENV`` says several processes share them; else 0: the runtimes' own default, every core."""
    if configured > 0:
        return configured
    try:
        processes = int(os.environ.get(WORKER_PROCESSES_ENV) or 0)
    except ValueError:
        processes = 0
    if processes <= 1:
        return 0
    return max(1, available_cores() // processes)
