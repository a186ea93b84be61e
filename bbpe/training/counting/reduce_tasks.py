"""Reduce task of sharded counting: the sorted runs of one bucket -> one part (``part-{bucket:05d}.parquet``).

A streaming k-way merge (``heapq.merge``) adds up the counts of equal words, drops words
below ``min_count``, and writes the rows in batches: memory is bounded by the number of runs,
not by the bucket.  Parts of one output have disjoint words; the corpus statistics are
stored in part 0 only, so adding the parts up (``bbpe count --merge``, ``read`` of the
directory) counts them once.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bbpe.formats import counts as counts_file
from bbpe.training.counting.map_tasks import decode_run, encode_run, read_run

ROWS_PER_BATCH = 1 << 16


def merged_rows(runs: Iterable[str | Path], min_count: int = 1) -> Iterator[tuple[bytes, int]]:
    """(word, total) in word order over sorted run files; totals below ``min_count`` are dropped."""
    return merge_sorted([read_run(path) for path in runs], min_count)


def merge_sorted(runs: list[Iterator[tuple[bytes, int]]], min_count: int = 1) -> Iterator[tuple[bytes, int]]:
    """A streaming k-way merge of sorted (word, count) runs, adding up equal words."""
    word: bytes | None = None
    total = 0
    for next_word, count in heapq.merge(*runs):
        if next_word != word:
            if word is not None and total >= min_count:
                yield word, total
            word, total = next_word, 0
        total += count
    if word is not None and total >= min_count:
        yield word, total


def reduce_bucket(runs: list[str], out_path: str, metadata: dict[str, Any], min_count: int = 1) -> tuple[int, int]:
    """Merge a bucket's runs into a Parquet part written in place at ``out_path`` (a temporary file of the
    output set); returns (unique words, pre-tokens)."""
    rows = merged_rows(sorted(runs), min_count)
    return counts_file.write_rows(Path(out_path), rows, metadata=metadata, batch=ROWS_PER_BATCH, in_place=True)


def reduce_in_memory(out_path: str, metadata: dict[str, Any], min_count: int, *runs: bytes) -> tuple[int, int]:
    """``reduce_bucket`` over runs held as bytes."""
    rows = merge_sorted([decode_run(blob) for blob in runs], min_count)
    return counts_file.write_rows(Path(out_path), rows, metadata=metadata, batch=ROWS_PER_BATCH, in_place=True)


def merge_in_memory(min_count: int, *runs: bytes) -> bytes:
    """The merged rows of a bucket's runs held as bytes, as one run (for a driver that keeps the table)."""
    return encode_run(merge_sorted([decode_run(blob) for blob in runs], min_count))
