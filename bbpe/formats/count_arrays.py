"""Word-count files read into three flat arrays, part by part, keeping only words counted ``min_count`` times.

``bbpe.formats.counts.read`` builds a dict of every word (about 100 bytes of Python objects per word);
``read_arrays`` keeps the words back to back in one byte array with their starts and counts (8 + 8 bytes
per word plus its bytes), filters each part as it is read (Arrow compute, no Python object per word), and
checks what ``read`` checks.  The parts of one ``bbpe count`` run hold disjoint words (a word's part is
chosen by its hash), so each part is filtered on its own; parts without run records (other engines) and
single files may repeat words, which are added up (in Arrow) before the filter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bbpe.errors import VocabFormatError
from bbpe.formats import counts as counts_file


@dataclass(frozen=True)
class CountArrays:
    """Word ``w`` is ``data[starts[w]:starts[w + 1]]`` with count ``counts[w]``; ``settings`` holds how the words
    were counted (its ``counts`` dict is empty); ``unique`` is the number of words before the filter."""

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64, one more than there are words
    counts: np.ndarray  # int64
    settings: counts_file.WordCounts
    unique: int


def read_arrays(path: str | os.PathLike[str], *, min_count: int = 1) -> CountArrays:
    r"""Read a word-count file or directory of parts as ``CountArrays``, without the words counted fewer
    than ``min_count`` times.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     counts_file.write(f"{tmp}/c.parquet", {"ab": 3, "c": 1, " the": 7}, pattern=r"\s*\S+|\s+")
    ...     words = read_arrays(f"{tmp}/c.parquet", min_count=2)
    >>> words.data.tobytes(), words.starts.tolist(), words.counts.tolist(), words.unique
    (b' theab', [0, 4, 6], [7, 3], 3)
    """
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        raise ValueError(f"min_count must be an int of at least 1, got {min_count!r}")
    pa, pq = counts_file._pyarrow()
    source = Path(path)
    if source.is_dir():
        parts = sorted(source.glob("part-*.parquet"))
        if not parts:
            raise VocabFormatError(source, "directory holds no part-*.parquet count files")
        counts_file._check_one_run(source, parts)
    elif source.is_file():
        parts = [source]
    else:
        raise VocabFormatError(source, "no such word-count file")
    infos = []
    for part in parts:
        try:
            raw = pq.read_schema(part).metadata or {}
        except (pa.ArrowException, OSError):
            raise VocabFormatError(part, "not a readable Parquet file (truncated, corrupt or another format)") from None
        infos.append(counts_file._metadata(part, raw))
    settings = _settings(parts, infos, directory=source.is_dir())
    disjoint = source.is_dir() and all(info.get("run") is not None for info in infos)
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    unique = 0
    if disjoint:
        for part in parts:
            table = _summed(part, pa, _table(part, pa, pq))
            unique += table.num_rows
            pieces.append(_kept(table, pa, min_count))
    else:  # words may repeat across parts: add them up first
        table = _summed(source, pa, pa.concat_tables([_table(part, pa, pq) for part in parts]))
        unique = table.num_rows
        pieces.append(_kept(table, pa, min_count))
    data = np.concatenate([piece[0] for piece in pieces])
    counts = np.concatenate([piece[2] for piece in pieces])
    starts = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(np.concatenate([piece[1] for piece in pieces]), out=starts[1:])
    return CountArrays(data, starts, counts, settings, unique)


def _settings(parts: list[Path], infos: list[dict[str, Any]], *, directory: bool) -> counts_file.WordCounts:
    """The parts' common settings and corpus record, as ``counts.read`` gives them (a directory's corpus
    statistics added up as ``counts.merge`` does)."""
    first = infos[0]
    for part, info in zip(parts[1:], infos[1:]):
        for name in ("pattern", "unit", "normalization", "special_tokens"):
            if info.get(name) != first.get(name):
                raise VocabFormatError(part, f"counted with a different {name.replace('_', ' ')} than {parts[0].name}")
    corpus: dict[str, Any] = dict(first.get("corpus") or {})
    if directory:
        keys = ("bytes", "lines", "documents", "files", "replaced_invalid_utf8")
        corpus = {key: sum(int((info.get("corpus") or {}).get(key, 0)) for info in infos) for key in keys}
        corpus["sources"] = [source for info in infos for source in (info.get("corpus") or {}).get("sources", [])]
    return counts_file.WordCounts(
        counts={},
        pattern=first["pattern"],
        special_tokens=tuple(first.get("special_tokens", ())),
        split_digits=bool(first.get("split_digits", False)),
        unit=first["unit"],
        normalization=first["normalization"],
        corpus=corpus,
    )


def _table(part: Path, pa: Any, pq: Any) -> Any:
    """The part's (word, count) columns, checked: binary or string words, not empty; non-negative integer counts."""
    try:
        table = pq.read_table(part)
    except (pa.ArrowException, OSError):
        raise VocabFormatError(part, "not a readable Parquet file (truncated, corrupt or another format)") from None
    types, names = pa.types, table.schema.names
    if "word" not in names or "count" not in names:
        raise VocabFormatError(part, f"expected columns 'word' and 'count', found {names}")
    words, counts = table.column("word"), table.column("count")
    if not any(
        check(words.type) for check in (types.is_binary, types.is_large_binary, types.is_string, types.is_large_string)
    ):
        raise VocabFormatError(part, f"column 'word' must be binary, not {words.type}")
    if not types.is_integer(counts.type):
        raise VocabFormatError(part, f"column 'count' must be an unsigned integer, not {counts.type}")
    if words.null_count or counts.null_count:
        raise VocabFormatError(part, "columns 'word' and 'count' must not hold nulls")
    import pyarrow.compute as pc

    if table.num_rows and pc.min(counts).as_py() < 0:
        raise VocabFormatError(part, f"negative count {pc.min(counts).as_py()}")
    words = pc.cast(words, pa.large_binary())
    if table.num_rows and pc.min(pc.binary_length(words)).as_py() == 0:
        raise VocabFormatError(part, "column 'word' holds an empty word")
    if types.is_unsigned_integer(counts.type) and table.num_rows and pc.max(counts).as_py() >= 2**63:
        raise VocabFormatError(part, f"count {pc.max(counts).as_py()} is not below 2**63")
    return pa.table({"word": words, "count": pc.cast(counts, pa.int64())})


def _summed(source: Path, pa: Any, table: Any) -> Any:
    """The table with each word once (counts of repeated words added up; a table of unique words as is)."""
    import pyarrow.compute as pc

    if pc.count_distinct(table.column("word")).as_py() == table.num_rows:
        return table
    try:
        summed = table.group_by("word").aggregate([("count", "sum")])
    except pa.ArrowInvalid:
        raise VocabFormatError(source, "the counts of a word add up to 2**63 or more") from None
    if pc.min(summed.column("count_sum")).as_py() < 0:  # an int64 sum wrapped
        raise VocabFormatError(source, "the counts of a word add up to 2**63 or more")
    return pa.table({"word": summed.column("word"), "count": summed.column("count_sum")})


def _kept(table: Any, pa: Any, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, lengths, counts) of the words counted ``min_count`` times or more."""
    import pyarrow.compute as pc

    if table.num_rows and pc.min(table.column("count")).as_py() < min_count:  # count 0: never a pair either
        table = table.filter(pc.greater_equal(table.column("count"), min_count))
    words = table.column("word").combine_chunks()
    counts = table.column("count").to_numpy().astype(np.int64, copy=False)
    if len(words) == 0:
        return np.empty(0, np.uint8), np.empty(0, np.int64), counts
    offsets = np.frombuffer(words.buffers()[1], np.int64)[words.offset : words.offset + len(words) + 1]
    data = np.frombuffer(words.buffers()[2], np.uint8)[offsets[0] : offsets[-1]].copy()
    return data, np.diff(offsets), counts
