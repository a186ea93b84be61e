"""The local engine of ``bbpe count``: map tasks and reduce tasks on a process pool.

Map tasks turn work units into sorted runs per hash bucket in a temporary folder (always
removed); reduce tasks merge each bucket into ``part-{bucket:05d}.parquet`` (or, with one
bucket, into the single output file).  The main process holds paths and statistics only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bbpe.errors import CorpusError
from bbpe.formats import counts as counts_file
from bbpe.training.corpus import CorpusStats
from bbpe.training.count_map import MapResult, map_unit
from bbpe.training.count_reduce import part_name, reduce_bucket
from bbpe.training.counting import CountSettings, add_stats, run_tasks
from bbpe.training.units import plan_units


def part_paths(output: Path, buckets: int, *, directory: bool) -> list[Path]:
    """Where each bucket is written: ``output`` itself (one file) or ``output/part-NNNNN.parquet``."""
    return [output / part_name(b) for b in range(buckets)] if directory else [output]


def prepare_directory(output: Path, buckets: int) -> None:
    """Create the output folder; parts of an earlier run with more buckets are removed (never other files)."""
    output.mkdir(parents=True, exist_ok=True)
    keep = {part_name(b) for b in range(buckets)}
    for old in output.glob("part-*.parquet"):
        if old.name not in keep:
            old.unlink()


def part_metadata(
    settings: CountSettings, *, split_digits: bool, corpus: dict[str, Any], buckets: int
) -> list[dict[str, Any]]:
    """The metadata of every part: corpus statistics in part 0 only (adding parts up counts them once)."""
    return [
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
        metadata = part_metadata(settings, split_digits=split_digits, corpus=corpus, buckets=buckets)
        targets = part_paths(output, buckets, directory=directory)
        if directory:
            prepare_directory(output, buckets)
        totals = [0, 0]

        def reduced(result: tuple[int, int]) -> None:
            totals[0] += result[0]
            totals[1] += result[1]

        reduce_jobs = ((runs.get(b, []), str(targets[b]), metadata[b], min_count) for b in range(buckets))
        run_tasks(reduce_bucket, reduce_jobs, workers=workers, on_result=reduced)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return totals[0], totals[1]


def empty_corpus_problem(stats: CorpusStats, max_bytes: int | None) -> str:
    """Why nothing was counted."""
    if stats.truncated:
        return f"--max-bytes {max_bytes} is smaller than the first line of the corpus"
    return "all input files are binary" if stats.skipped_binary else "the corpus is empty (no text)"
