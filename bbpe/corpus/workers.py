"""Worker processes for work on a corpus (counting, tokenizing): results in job order, a bounded queue, a
worker that dies is one clear error instead of a hang, and workers die with the main process.

Jobs run in a ``concurrent.futures.ProcessPoolExecutor`` (a killed worker raises ``BrokenProcessPool``;
``multiprocessing.Pool`` would wait forever).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bbpe.errors import BBPEError

T = TypeVar("T")
POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
_WATCHDOG_SECONDS = 0.5


def run_tasks(
    function: Callable[..., T],
    jobs: Iterable[tuple[Any, ...]],
    *,
    workers: int | None,
    on_result: Callable[[T], None],
    on_started: Callable[[], None] | None = None,
    setup: Callable[..., None] | None = None,
    setup_args: tuple[Any, ...] = (),
) -> None:
    """Run ``function(*job)`` for every job on a process pool, results in job order.

    At most two jobs per worker wait, so jobs may be produced lazily (stdin).  A worker that dies
    (killed, out of memory) is one clear error, and workers die with this process.  ``on_started``
    is called once the workers exist (so a thread it starts is never copied into a forked worker);
    ``setup(*setup_args)`` runs once in each worker (and here, with one worker) before its jobs.
    """
    workers = worker_count(workers)
    if workers == 1:
        if setup:
            setup(*setup_args)
        if on_started:
            on_started()
        for job in jobs:
            on_result(function(*job))
        return
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), setup, setup_args)
    )
    pending: list[Future[T]] = []
    try:
        for job in jobs:
            pending.append(pool.submit(function, *job))
            if on_started and len(pending) == 1:  # the first submit forks every worker
                on_started()
            while len(pending) >= 2 * workers:
                on_result(_result(pending.pop(0)))
        while pending:
            on_result(_result(pending.pop(0)))
    except BrokenProcessPool:
        raise BBPEError("a worker process died (killed or out of memory); try fewer --workers") from None
    except BaseException:  # Ctrl-C, SIGTERM, a bad input: stop at once, not after the running tasks
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def worker_count(workers: int | None) -> int:
    """The number of worker processes: ``workers``, or one per CPU."""
    return max(1, workers or os.cpu_count() or 1)


def _result(future: Future[T]) -> T:
    """A task's result, waiting in short slices: a signal taken by another thread (a pool thread, a
    native library's) is only acted on when the main thread runs Python code again."""
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except FutureTimeout:
            continue


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes (a task may read a whole compressed file).

    SIGKILL, not SIGTERM: a worker forked a moment ago still has the main process's SIGTERM handler
    (which raises ``Terminated``) until its initializer runs, and that exception, raised before the
    fork's child has entered its bootstrap, would run the main process's code in the child.
    """
    for process in list((pool._processes or {}).values()):  # no public API before Python 3.14
        if process.is_alive():
            process.kill()


def _start_worker(parent: int, setup: Callable[..., None] | None, setup_args: tuple[Any, ...]) -> None:
    _die_with_parent(parent)
    if setup:
        setup(*setup_args)


def _die_with_parent(parent: int) -> None:
    """Worker start-up: exit when the main process dies, however it dies (killed, out of memory).

    Linux kills the worker when its parent ends (prctl PR_SET_PDEATHSIG); elsewhere, and as a
    fallback, a watchdog thread exits when the parent process id changes.  SIGTERM and SIGHUP get
    their default action back (the main process may have made them raise).
    """
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="bbpe-watchdog", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCHDOG_SECONDS)
    os._exit(1)
