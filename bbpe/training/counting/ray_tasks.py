"""The Ray executor of ``bbpe count``: the local executor's map and reduce functions as Ray tasks.

Map tasks (one per work unit) are streaming generators: every flush of a task's table leaves
the worker at once as one sorted run per bucket (a separate object), so a task's memory is bounded
by the flush size and each reduce task fetches only its bucket (Ray's object store spills to disk
when it fills).  Reduce tasks write the parts into the output folder as one set (temporary files
the driver renames once all are written: ``count_local.part_files``); every node must be able to
write that folder (a shared filesystem; on one machine any folder).  A task whose worker dies is retried by Ray; its output is the same, so the table is too.  Inputs are
local paths (seen by every node) or fsspec URLs; each task opens its own input.

``pip install 'bbpe[ray]'``.  Ray's logs stay out of bbpe's stderr (``log_to_driver=False``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from bbpe.corpus.reading import CorpusStats
from bbpe.corpus.units import plan_units
from bbpe.errors import BBPEError, CorpusError
from bbpe.training.counting.map_tasks import decode_run, map_unit_streamed
from bbpe.training.counting.pretokens import CountSettings, Unit, add_stats
from bbpe.training.counting.process_pool import empty_corpus_problem, part_files, part_metadata
from bbpe.training.counting.reduce_tasks import merge_in_memory, reduce_in_memory

MAX_RETRIES = 3
PROBE_SECONDS = 5.0


def import_ray() -> Any:
    """The ray module, or an ImportError naming the extra."""
    try:
        import ray
    except ImportError:
        raise ImportError("--executor ray needs ray: pip install 'bbpe[ray]'") from None
    return ray


def _map_task(unit: Unit, settings: CountSettings, buckets: int, flush_bytes: int | None) -> Iterator[Any]:
    """A streaming generator task: each flush's runs leave the worker as soon as they are made."""
    yield from map_unit_streamed(unit, settings, buckets, flush_bytes)


def connect(ray: Any, address: str | None, workers: int | None) -> bool:
    """Join the cluster at ``address`` (or start a local one); True if this call started Ray."""
    if ray.is_initialized():
        return False
    if address and address != "auto":
        _probe(address)
    try:
        ray.init(
            address=address,
            num_cpus=None if address else (workers or os.cpu_count()),
            log_to_driver=False,
            logging_level=logging.ERROR,
            include_dashboard=False,
        )
    except (ConnectionError, ValueError, RuntimeError, TimeoutError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BBPEError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: {first}") from None
    return True


def _probe(address: str) -> None:
    """One clear line, at once, when nothing listens at ``[ray://]host:port`` (Ray itself retries for minutes)."""
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise BBPEError(f"--address {address!r}: expected HOST:PORT (or ray://HOST:PORT, or auto)")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise BBPEError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def count_ray(
    inputs: Iterable[str | os.PathLike[str]],
    settings: CountSettings,
    output: Path,
    *,
    buckets: int,
    directory: bool,
    address: str | None = None,
    split_digits: bool = False,
    max_bytes: int | None = None,
    min_count: int = 1,
    workers: int | None = None,
    flush_bytes: int | None = None,
    stats: CorpusStats | None = None,
    on_tasks: Callable[[int, int, int], None] | None = None,
) -> tuple[int, int]:
    """Count a corpus into count file(s) on a Ray cluster; returns (unique words, pre-tokens) written.

    ``on_tasks(done, total, bytes_done)`` reports progress of the map tasks.
    """
    ray = import_ray()
    stats = stats if stats is not None else CorpusStats()
    inputs = list(inputs)
    units = list(plan_units(inputs, settings.rule, max_bytes=max_bytes, stats=stats))
    started_here = connect(ray, address, workers)
    try:
        runs = _map_all(ray, units, settings, buckets, flush_bytes, stats, on_tasks)
        if stats.bytes == 0:
            raise CorpusError(empty_corpus_problem(stats, max_bytes))
        corpus = stats.as_dict() | {"sources": [str(item) for item in inputs]}
        metadata = part_metadata(
            settings,
            split_digits=split_digits,
            corpus=corpus,
            buckets=buckets,
            directory=directory,
            min_count=min_count,
        )
        reduce_task = ray.remote(max_retries=MAX_RETRIES)(reduce_in_memory)
        with part_files(output, buckets, directory=directory) as targets:
            reduced = [reduce_task.remote(targets[b], metadata[b], min_count, *runs[b]) for b in range(buckets)]
            results = [_get(ray, ref) for ref in reduced]
    finally:
        if started_here:
            ray.shutdown()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def count_ray_table(
    paths: Iterable[str | os.PathLike[str]],
    settings: CountSettings,
    *,
    buckets: int,
    address: str | None = None,
    max_bytes: int | None = None,
    workers: int | None = None,
    flush_bytes: int | None = None,
    stats: CorpusStats | None = None,
    on_tasks: Callable[[int, int, int], None] | None = None,
) -> Counter[bytes]:
    """The counts of a corpus, counted on a Ray cluster, as one table in this process (for training).

    The same map tasks as ``count_ray``; each reduce task returns its bucket as one sorted run
    instead of writing a part, so no folder has to be shared by the nodes.
    """
    ray = import_ray()
    stats = stats if stats is not None else CorpusStats()
    units = list(plan_units(paths, settings.rule, max_bytes=max_bytes, stats=stats))
    started_here = connect(ray, address, workers)
    table: Counter[bytes] = Counter()
    try:
        runs = _map_all(ray, units, settings, buckets, flush_bytes, stats, on_tasks)
        if stats.bytes == 0:
            raise CorpusError(empty_corpus_problem(stats, max_bytes))
        reduce_task = ray.remote(max_retries=MAX_RETRIES)(merge_in_memory)
        reduced = [reduce_task.remote(1, *runs[b]) for b in range(buckets)]
        for ref in reduced:
            table.update(dict(decode_run(_get(ray, ref))))
    finally:
        if started_here:
            ray.shutdown()
    return table


def _map_all(
    ray: Any,
    units: list[Unit],
    settings: CountSettings,
    buckets: int,
    flush_bytes: int | None,
    stats: CorpusStats,
    on_tasks: Callable[[int, int, int], None] | None,
) -> list[list[Any]]:
    """Run one map task per unit; returns the object refs of the runs, per bucket.

    A task yields ``buckets`` runs per flush, then its statistics; the tasks run at once and
    are collected in order (each yielded object is owned by this process, so it outlives its worker).
    """
    map_task = ray.remote(max_retries=MAX_RETRIES)(_map_task)
    generators = [map_task.remote(unit, settings, buckets, flush_bytes) for unit in units]
    runs: list[list[Any]] = [[] for _ in range(buckets)]
    for done, generator in enumerate(generators, 1):
        refs = list(generator)
        add_stats(stats, _get(ray, refs[-1]))
        for bucket in range(buckets):
            runs[bucket].extend(refs[bucket:-1:buckets])
        if on_tasks:
            on_tasks(done, len(units), stats.bytes)
    return runs


def _get(ray: Any, ref: Any) -> Any:
    """A task's result; a task's own error (bad input) is re-raised as it was, Ray's are one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, (BBPEError, ValueError)):
            raise cause from None
        raise BBPEError(f"a Ray task failed: {str(exc).strip().splitlines()[-1]}") from None
    except ray.exceptions.RayError as exc:
        raise BBPEError(f"Ray: {str(exc).strip().splitlines()[0]}") from None
