"""Counting for training on a chosen executor: map/bucket/reduce tasks, then the whole table in this process.

``train(..., executor="local")`` runs ``bbpe count``'s map and reduce tasks on a process pool (parts in
a temporary folder, always removed, read back one by one); ``executor="ray"`` runs them as Ray tasks
whose reduce tasks return their bucket (``count_ray_table``).  Both give the table of the default
in-process counter, so training gives the same vocabulary on every executor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from bbpe.corpus.reading import CorpusStats
from bbpe.formats import counts as counts_file
from bbpe.progress import ProgressCallback, ProgressEvent
from bbpe.training.counting.pretokens import CountSettings
from bbpe.training.counting.process_pool import count_local
from bbpe.training.counting.ray_tasks import count_ray_table

Executor = Literal["local", "ray"]
EXECUTORS = ("local", "ray")
BUCKETS = 16


def check_executor(executor: str | None, address: str | None) -> None:
    """An unknown executor, or an address without Ray, is a ValueError before any work."""
    if executor is not None and executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)} (or None), got {executor!r}")
    if address is not None and executor != "ray":
        raise ValueError("address needs executor='ray' (--address needs --executor ray)")


def count_on_executor(
    paths: Iterable[str | os.PathLike[str]],
    settings: CountSettings,
    *,
    executor: Executor,
    address: str | None = None,
    max_bytes: int | None = None,
    workers: int | None = None,
    stats: CorpusStats,
    on_progress: ProgressCallback | None = None,
) -> Counter[bytes]:
    """The pre-token counts of ``paths`` counted by ``executor`` (``stats`` is filled as by ``count_corpus``)."""
    start = time.monotonic()

    def read_bytes(done: int) -> None:
        if on_progress:
            on_progress(ProgressEvent("count", done, None, time.monotonic() - start))

    def tasks_done(done: int, total: int, read: int) -> None:
        if on_progress:
            on_progress(ProgressEvent("tasks", done, total, time.monotonic() - start, read))

    if executor == "ray":
        return count_ray_table(
            paths,
            settings,
            buckets=BUCKETS,
            address=address,
            max_bytes=max_bytes,
            workers=workers,
            stats=stats,
            on_tasks=tasks_done,
        )
    folder = Path(tempfile.mkdtemp(prefix="bbpe-counts-"))
    try:
        count_local(
            paths,
            settings,
            folder,
            buckets=BUCKETS,
            directory=True,
            max_bytes=max_bytes,
            workers=workers,
            stats=stats,
            on_bytes=read_bytes,
        )
        table: Counter[bytes] = Counter()
        for part in sorted(folder.glob("part-*.parquet")):  # disjoint words: one part at a time
            table.update(counts_file.read(part).counts)
        return table
    finally:
        shutil.rmtree(folder, ignore_errors=True)
