"""Map task of sharded counting: one work unit -> sorted runs of counts in P hash buckets on disk.

A map task counts its unit (``bbpe.training.counting.pretokens``) and, whenever its table holds about
``flush_bytes``, writes it out as one sorted run per bucket and starts a new table, so its
memory is bounded whatever the size of its input.  A word's bucket is ``crc32(word) % P``
(the same in every process and on every machine).  A run file is a sequence of records
``<u32 length><word bytes><u64 count>`` sorted by word bytes; its name holds the task, the
flush and the bucket, so a retried task overwrites its own runs and never duplicates them.
``map_unit_streamed`` yields the same runs as bytes, flush by flush (for executors with an object store).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bbpe.corpus.documents import UnitStats, unit_texts
from bbpe.training.counting.pretokens import CountSettings, Unit, text_counter

FLUSH_BYTES = 256 << 20
_ENTRY_OVERHEAD = 100  # bytes of a Counter entry besides the word (dict slot, bytes and int objects)
_LENGTH = struct.Struct("<I")
_COUNT = struct.Struct("<Q")


@dataclass
class MapResult:
    """What a map task wrote (run files per bucket) and read."""

    runs: dict[int, list[str]] = field(default_factory=dict)
    stats: UnitStats = field(default_factory=UnitStats)


def bucket_of(word: bytes, buckets: int) -> int:
    """The bucket (reduce task) a word belongs to."""
    return zlib.crc32(word) % buckets


def map_unit(
    unit: Unit, settings: CountSettings, task: int, run_dir: str, buckets: int, flush_bytes: int | None = None
) -> MapResult:
    """Count one work unit into sorted runs ``run_dir/run-{task}-{flush}-{bucket}.bin``."""
    result = MapResult()
    for flush, table in enumerate(tables(unit, settings, result.stats, flush_bytes)):
        for bucket, words in enumerate(sorted_buckets(table, buckets)):
            if words:
                path = os.path.join(run_dir, f"run-{task:06d}-{flush:05d}-{bucket:05d}.bin")
                write_run(path, ((word, table[word]) for word in words))
                result.runs.setdefault(bucket, []).append(path)
    return result


def map_unit_streamed(
    unit: Unit, settings: CountSettings, buckets: int, flush_bytes: int | None = None
) -> Iterator[bytes | UnitStats]:
    """Count one work unit, yielding each flush as ``buckets`` sorted runs held as bytes (bucket 0 first,
    empty runs included), then the unit's statistics (for executors that stream results to an object store)."""
    stats = UnitStats()
    for table in tables(unit, settings, stats, flush_bytes):
        for words in sorted_buckets(table, buckets):
            yield encode_run((word, table[word]) for word in words)
    yield stats


def tables(unit: Unit, settings: CountSettings, stats: UnitStats, flush_bytes: int | None) -> Iterator[Counter[bytes]]:
    """The unit's counts as tables of about ``flush_bytes`` each (memory bounded whatever the input size)."""
    flush_bytes = flush_bytes or FLUSH_BYTES
    counter = text_counter(settings)
    held = 0
    for text in unit_texts(unit, settings.rule, jsonl_field=settings.jsonl_field, errors=settings.errors, stats=stats):
        before = len(counter.counts)
        counter.add(text)
        held += (len(counter.counts) - before) * _ENTRY_OVERHEAD + len(text) // 8
        if held >= flush_bytes:
            yield counter.counts
            counter.counts, held = Counter(), 0
    if counter.counts:
        yield counter.counts
    counter.counts = Counter()


def sorted_buckets(table: Mapping[bytes, int], buckets: int) -> list[list[bytes]]:
    """The table's words per bucket, each list sorted."""
    parts: list[list[bytes]] = [[] for _ in range(buckets)]
    for word in table:
        parts[bucket_of(word, buckets)].append(word)
    for words in parts:
        words.sort()
    return parts


def encode_run(rows: Iterable[tuple[bytes, int]]) -> bytes:
    """Sorted (word, count) rows in the run format."""
    return b"".join(_LENGTH.pack(len(word)) + word + _COUNT.pack(count) for word, count in rows)


def write_run(path: str, rows: Iterable[tuple[bytes, int]]) -> None:
    """Write sorted (word, count) rows; written to a temporary name, then renamed (a retry overwrites)."""
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "wb", buffering=1 << 20) as handle:
        for word, count in rows:
            handle.write(_LENGTH.pack(len(word)))
            handle.write(word)
            handle.write(_COUNT.pack(count))
    os.replace(temp, path)


def decode_run(blob: bytes) -> Iterator[tuple[bytes, int]]:
    """The (word, count) rows of a run held in memory."""
    at = 0
    while at < len(blob):
        (size,) = _LENGTH.unpack_from(blob, at)
        word = blob[at + 4 : at + 4 + size]
        (count,) = _COUNT.unpack_from(blob, at + 4 + size)
        at += 12 + size
        yield word, count


def read_run(path: str | Path) -> Iterator[tuple[bytes, int]]:
    """The (word, count) rows of a run file, in order."""
    with open(path, "rb", buffering=1 << 20) as handle:
        while header := handle.read(4):
            (size,) = _LENGTH.unpack(header)
            word = handle.read(size)
            (count,) = _COUNT.unpack(handle.read(8))
            yield word, count
