"""The local executor of ``bbpe count``: map tasks and reduce tasks on a process pool.

Map tasks turn work units into sorted runs per hash bucket in a temporary folder (always
removed); reduce tasks merge each bucket into a temporary file, and once all are written they
become ``part-{bucket:05d}.parquet`` (or, with one bucket, the single output file) as one set.
The main process holds paths and statistics only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bbpe.corpus.reading import CorpusStats
from bbpe.corpus.units import plan_units
from bbpe.corpus.workers import run_tasks
from bbpe.errors import CorpusError
from bbpe.formats import counts as counts_file
from bbpe.output import atomic_set
from bbpe.training.counting.map_tasks import MapResult, map_unit
from bbpe.training.counting.pretokens import CountSettings, add_stats
from bbpe.training.counting.reduce_tasks import reduce_bucket


def part_paths(output: Path, buckets: int, *, directory: bool) -> list[Path]:
    """Where each bucket is written: ``output`` itself (one file) or ``output/part-NNNNN.parquet``."""
    return [output / counts_file.part_name(b) for b in range(buckets)] if directory else [output]


@contextmanager
def part_files(output: Path, buckets: int, *, directory: bool) -> Iterator[list[str]]:
    """Temporary files (absolute paths, bucket order) for the reduce tasks to write; when the block ends
    without an error they become the parts as one set (``bbpe.output.atomic_set``), replacing parts of an
    earlier run with more buckets and temporary files an interrupted run left (never other files).
    After an error or a signal the old set is as it was.
    """
    targets = part_paths(output, buckets, directory=directory)
    created = directory and not output.is_dir()
    replaced: list[Path] = []
    if directory:
        output.mkdir(parents=True, exist_ok=True)
        keep = {target.name for target in targets}
        replaced = [old for old in output.glob("part-*.parquet") if old.name not in keep]
        replaced += output.glob(".part-*.tmp")
    try:
        with atomic_set(targets, remove=replaced) as temps:
            yield [os.path.abspath(temps[target]) for target in targets]
    except BaseException:
        if created:
            with suppress(OSError):
                output.rmdir()  # only if empty: a directory this run made
        raise


def part_metadata(
    settings: CountSettings,
    *,
    split_digits: bool,
    corpus: dict[str, Any],
    buckets: int,
    directory: bool,
    min_count: int = 1,
) -> list[dict[str, Any]]:
    """The metadata of every part: corpus statistics in part 0 only (adding parts up counts them once);
    the parts of a directory also record their run (``counts_file.with_run_records``)."""
    metadata = [
        counts_file.file_metadata(
            pattern=settings.pattern,
            special_tokens=settings.special_tokens,
            split_digits=split_digits,
            corpus=corpus if b == 0 else {},
            unit=settings.unit,
            normalization=settings.normalization,
        )
        for b in range(buckets)
    ]
    return counts_file.with_run_records(metadata, min_count=min_count) if directory else metadata


def count_local(
    inputs: Iterable[str | os.PathLike[str]],
    settings: CountSettings,
    output: Path,
    *,
    buckets: int,
    directory: bool,
    split_digits: bool = False,
    max_bytes: int | None = None,
    min_count: int = 1,
    workers: int | None = None,
    flush_bytes: int | None = None,
    stats: CorpusStats | None = None,
    on_bytes: Callable[[int], None] | None = None,
    temp_dir: str | None = None,
) -> tuple[int, int]:
    """Count a corpus into count file(s); returns (unique words, pre-tokens) written."""
    stats = stats if stats is not None else CorpusStats()
    if buckets < 1 or (not directory and buckets != 1):
        raise ValueError(f"buckets must be 1 for a file and at least 1 for a directory, got {buckets}")
    runs: dict[int, list[str]] = {}
    run_dir = tempfile.mkdtemp(prefix="bbpe-runs-", dir=temp_dir)
    try:

        def mapped(result: MapResult) -> None:
            for bucket, paths in result.runs.items():
                runs.setdefault(bucket, []).extend(paths)
            add_stats(stats, result.stats)
            if on_bytes:
                on_bytes(stats.bytes)

        units = plan_units(inputs, settings.rule, max_bytes=max_bytes, stats=stats)
        jobs = ((unit, settings, task, run_dir, buckets, flush_bytes) for task, unit in enumerate(units))
        run_tasks(map_unit, jobs, workers=workers, on_result=mapped)
        if stats.bytes == 0 and not runs:
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
        totals = [0, 0]

        def reduced(result: tuple[int, int]) -> None:
            totals[0] += result[0]
            totals[1] += result[1]

        with part_files(output, buckets, directory=directory) as targets:
            reduce_jobs = ((runs.get(b, []), targets[b], metadata[b], min_count) for b in range(buckets))
            run_tasks(reduce_bucket, reduce_jobs, workers=workers, on_result=reduced)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return totals[0], totals[1]


def empty_corpus_problem(stats: CorpusStats, max_bytes: int | None) -> str:
    """Why nothing was counted."""
    if stats.truncated:
        return f"--max-bytes {max_bytes} is smaller than the first line of the corpus"
    return "all input files are binary" if stats.skipped_binary else "the corpus is empty (no text)"
