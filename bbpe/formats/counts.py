"""Word-count files: pre-token counts in Parquet, the seam between counting and merging.

Layout (version 1), one row per unique pre-token ("word")::

    word   binary   the word's UTF-8 bytes
    count  uint64   how often it occurs

Rows are sorted by word bytes and unique.  The file's key-value metadata holds, under
the key ``bbpe``, a JSON object: ``{"format": "bbpe-counts", "version": 1, "pattern":
"<regex>", "unit": "document", "normalization": "none", "special_tokens": [...],
"split_digits": false, "bbpe_version": "...", "corpus": {...}}``.  ``unit`` says what was
pre-tokenized on its own ("document": a file, stdin, a JSONL record, a text; "line": every
line), ``normalization`` the Unicode form the text between special tokens was put in before
pre-tokenization (``none``, ``NFC``, ``NFD``, ``NFKC``, ``NFKD``).  Any engine (Spark, Dask, Ray) that writes these columns and this metadata
makes files bbpe can add up (``merge``) and train from; when reading, ``word`` may also
be a string column and ``count`` any non-negative integer column, in any row order.

pyarrow is imported only here, when a file is read or written: ``pip install 'bbpe[parquet]'``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bbpe._version import __version__
from bbpe.encoding.normalization import Normalization, check_normalization
from bbpe.errors import BBPEError, VocabFormatError
from bbpe.formats import _checks
from bbpe.output import atomic_path, check_writable
from bbpe.pretokenize.patterns import PRESETS, preset_name, validate_pattern, with_split_digits

FORMAT = "bbpe-counts"
VERSION = 1
METADATA_KEY = b"bbpe"
UNIT = "document"
UNITS = ("document", "line")
NORMALIZATION: Normalization = "none"
_SETTINGS = ("pattern", "unit", "normalization", "special_tokens")


@dataclass(frozen=True)
class WordCounts:
    """The content of a word-count file: counts by word bytes, and how they were counted."""

    counts: dict[bytes, int]
    pattern: str
    special_tokens: tuple[str, ...] = ()
    split_digits: bool = False
    unit: str = UNIT
    normalization: Normalization = NORMALIZATION
    corpus: dict[str, Any] = field(default_factory=dict)


PAIR_COUNT_LIMIT = 2**63  # pair counts are 64-bit signed integers in the compiled loops


def check_pair_total(total: int) -> None:
    """Refuse words whose pair counts could overflow 64-bit integers.

    ``total`` is the sum over words of count x (length - 1): no pair count, then or after any merge,
    can exceed it, so below 2**63 every backend counts exactly (and all give the same merges).

    >>> check_pair_total(2**63 - 1)
    >>> check_pair_total(2**63)
    Traceback (most recent call last):
    ...
    ValueError: the word counts are too large: the sum over words of count x (length - 1) is 9,223,372,036,854,775,808, not below 2**63, so pair counts could overflow 64-bit integers; scale the counts down
    """
    if total >= PAIR_COUNT_LIMIT:
        raise ValueError(
            f"the word counts are too large: the sum over words of count x (length - 1) is {total:,}, not below "
            "2**63, so pair counts could overflow 64-bit integers; scale the counts down"
        )


def write(
    path: str | os.PathLike[str],
    counts: Mapping[str, int] | Mapping[bytes, int],
    *,
    pattern: str,
    special_tokens: Iterable[str] = (),
    split_digits: bool = False,
    corpus: Mapping[str, Any] | None = None,
    unit: str = UNIT,
    normalization: str = NORMALIZATION,
) -> None:
    """Write counts (word text or bytes -> count) atomically: the old file or the whole new one."""
    rows = sorted(
        (word.encode("utf-8") if isinstance(word, str) else bytes(word), count) for word, count in counts.items()
    )
    metadata = file_metadata(
        pattern=pattern,
        special_tokens=special_tokens,
        split_digits=split_digits,
        corpus=corpus,
        unit=unit,
        normalization=normalization,
    )
    write_rows(path, iter(rows), metadata=metadata)


def file_metadata(
    *,
    pattern: str,
    special_tokens: Iterable[str] = (),
    split_digits: bool = False,
    corpus: Mapping[str, Any] | None = None,
    unit: str = UNIT,
    normalization: str = NORMALIZATION,
) -> dict[str, Any]:
    """The ``bbpe`` metadata object of a count file."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "pattern": pattern,
        "unit": unit,
        "normalization": check_normalization(normalization),
        "special_tokens": list(special_tokens),
        "split_digits": split_digits,
        "bbpe_version": __version__,
        "corpus": dict(corpus or {}),
    }


def write_rows(
    path: str | os.PathLike[str],
    rows: Iterator[tuple[bytes, int]],
    *,
    metadata: Mapping[str, Any],
    batch: int = 1 << 16,
    in_place: bool = False,
) -> tuple[int, int]:
    """Stream (word, count) rows, sorted by word and unique, into a file atomically; (rows, total count).

    ``in_place=True`` writes ``path`` itself: it is a temporary file of a set (``bbpe.output.atomic_set``).
    """
    pa, pq = _pyarrow()
    target = check_writable(path)
    schema = pa.schema(
        [("word", pa.binary()), ("count", pa.uint64())],
        metadata={METADATA_KEY: json.dumps(metadata, ensure_ascii=False).encode("utf-8")},
    )
    unique = total = 0
    place = nullcontext(target) if in_place else atomic_path(target)
    with place as temp, pq.ParquetWriter(temp, schema) as writer:
        while chunk := list(itertools.islice(rows, batch)):
            bad = next((count for _, count in chunk if not 0 <= count < 2**64), None)
            if bad is not None:
                raise BBPEError(f"{target}: count {bad} does not fit a uint64 column")
            writer.write_table(
                pa.table(
                    {
                        "word": pa.array([w for w, _ in chunk], pa.binary()),
                        "count": pa.array([c for _, c in chunk], pa.uint64()),
                    },
                    schema=schema,
                )
            )
            unique += len(chunk)
            total += sum(c for _, c in chunk)
    return unique, total


def part_name(part: int) -> str:
    """The file name of part ``part`` of a directory of counts."""
    return f"part-{part:05d}.parquet"


def with_run_records(metadata: list[dict[str, Any]], *, min_count: int) -> list[dict[str, Any]]:
    """The metadata of a directory's parts, each with a record of the run that wrote them all:
    ``{"id", "part", "parts"}``.  The id hashes part 0's metadata (settings, corpus statistics and sources),
    the number of parts and ``min_count``: the same input gives the same id (and byte-identical parts).
    """
    summary = json.dumps([metadata[0], len(metadata), min_count], sort_keys=True, ensure_ascii=False)
    run_id = hashlib.sha256(summary.encode("utf-8")).hexdigest()[:16]
    return [meta | {"run": {"id": run_id, "part": part, "parts": len(metadata)}} for part, meta in enumerate(metadata)]


def read(path: str | os.PathLike[str], *, pattern: str | None = None) -> WordCounts:
    """Read and check a word-count file or a directory of parts; ``pattern`` (a regex), if given, must be the file's."""
    pa, pq = _pyarrow()
    source = Path(path)
    if source.is_dir():
        parts = sorted(source.glob("part-*.parquet"))
        if not parts:
            raise VocabFormatError(source, "directory holds no part-*.parquet count files")
        _check_one_run(source, parts)
        whole = merge(parts)
        if pattern is not None and pattern != whole.pattern:
            raise VocabFormatError(
                source, f"counted with pattern {describe(whole.pattern)}, not the requested {describe(pattern)}"
            )
        return whole
    if not source.is_file():
        raise VocabFormatError(source, "no such word-count file")
    try:
        table = pq.read_table(source)
    except (pa.ArrowException, OSError):
        raise VocabFormatError(source, "not a readable Parquet file (truncated, corrupt or another format)") from None
    info = _metadata(source, table.schema.metadata or {})
    if pattern is not None and pattern != info["pattern"]:
        raise VocabFormatError(
            source, f"counted with pattern {describe(info['pattern'])}, not the requested {describe(pattern)}"
        )
    return WordCounts(
        counts=_columns(source, pa, table),
        pattern=info["pattern"],
        special_tokens=tuple(info.get("special_tokens", ())),
        split_digits=bool(info.get("split_digits", False)),
        unit=info["unit"],
        normalization=info["normalization"],
        corpus=dict(info.get("corpus") or {}),
    )


def merge(paths: Iterable[str | os.PathLike[str]]) -> WordCounts:
    """Add up count files made with the same settings (pattern, unit, normalization, special tokens)."""
    parts = [(Path(p), read(p)) for p in paths]
    if not parts:
        raise BBPEError("no count files to merge")
    first_path, first = parts[0]
    totals: Counter[bytes] = Counter()
    corpus: dict[str, Any] = {
        "bytes": 0,
        "lines": 0,
        "documents": 0,
        "files": 0,
        "replaced_invalid_utf8": 0,
        "sources": [],
    }
    for path, part in parts:
        for name in _SETTINGS:
            if getattr(part, name) != getattr(first, name):
                mine, theirs = getattr(part, name), getattr(first, name)
                if name == "pattern":
                    mine, theirs = describe(mine), describe(theirs)
                raise BBPEError(
                    f"cannot add {path} to {first_path}: they were counted with a different "
                    f"{name.replace('_', ' ')} ({mine} vs {theirs})"
                )
        totals.update(part.counts)
        for key in ("bytes", "lines", "documents", "files", "replaced_invalid_utf8"):
            corpus[key] += int(part.corpus.get(key, 0))
        corpus["sources"] += list(part.corpus.get("sources", []))
    try:  # counts that training would refuse are refused here, before a file is written
        check_pair_total(sum(count * (len(word) - 1) for word, count in totals.items()))
    except ValueError as exc:
        what = f"the sum of the {len(parts)} count files {first_path}, ..." if len(parts) > 1 else str(first_path)
        raise BBPEError(f"{what}: {exc}") from None
    return WordCounts(
        dict(totals), first.pattern, first.special_tokens, first.split_digits, first.unit, first.normalization, corpus
    )


def _check_one_run(source: Path, parts: list[Path]) -> None:
    """Refuse a directory whose parts are not the whole output of one ``bbpe count`` run (parts of different
    runs, missing parts, leftover temporary files); parts without run records (other engines) are not checked."""
    leftovers = sorted(item.name for item in source.glob(".part-*.tmp"))
    if leftovers:
        raise VocabFormatError(
            source,
            f"holds {len(leftovers)} temporary file(s) of an unfinished `bbpe count` ({leftovers[0]}); "
            "count again into this directory (it replaces the whole set) or delete them",
        )
    pa, pq = _pyarrow()
    runs: dict[str, Any] = {}
    for part in parts:
        try:
            raw = pq.read_schema(part).metadata or {}
        except (pa.ArrowException, OSError):
            raise VocabFormatError(part, "not a readable Parquet file (truncated, corrupt or another format)") from None
        runs[part.name] = _metadata(part, raw).get("run")
    if all(run is None for run in runs.values()):
        return
    first_name, first = next((name, run) for name, run in runs.items() if run is not None)
    for name, run in runs.items():
        if run is None or (run["id"], run["parts"]) != (first["id"], first["parts"]):
            raise VocabFormatError(
                source,
                f"mixes parts of different `bbpe count` runs ({first_name} and {name}); "
                "count again into an empty directory",
            )
    total = first["parts"]
    # One of the first len(runs) + 1 names is missing if there are fewer files than parts (never a list of `total`).
    missing = next((part_name(i) for i in range(min(total, len(runs) + 1)) if part_name(i) not in runs), None)
    if missing is not None or len(runs) != total:
        what = f"misses {missing}" if missing else f"holds parts beyond {part_name(total - 1)}"
        raise VocabFormatError(
            source, f"{what} of the {total} parts of its `bbpe count` run (interrupted or partly copied)"
        )
    wrong = next((name for name, run in runs.items() if part_name(run["part"]) != name), None)
    if wrong is not None:
        raise VocabFormatError(source / wrong, f"metadata 'run': records part {runs[wrong]['part']}, not its name's")


def describe(pattern: str) -> str:
    """A pattern for messages: its preset name (with "+ split digits"), or the quoted regex."""
    for name, preset in PRESETS.items():
        if pattern == with_split_digits(preset) != preset:
            return f"{name} + split digits"
    return preset_name(pattern) or repr(pattern)


def _metadata(source: Path, raw: Mapping[bytes, bytes]) -> dict[str, Any]:
    if METADATA_KEY not in raw:
        raise VocabFormatError(source, "not a bbpe word-count file (no 'bbpe' key in the Parquet metadata)")
    try:
        info = json.loads(raw[METADATA_KEY])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise VocabFormatError(source, "the 'bbpe' metadata is not valid JSON") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise VocabFormatError(source, f"not a bbpe word-count file (format is not {FORMAT!r})")
    if info.get("version") != VERSION:
        raise VocabFormatError(
            source,
            f"word-count format version {info.get('version')!r} is not supported "
            f"(this bbpe {__version__} reads version {VERSION})",
        )
    for name in ("pattern", "unit", "normalization"):
        if not isinstance(info.get(name), str):
            raise VocabFormatError(source, f"the metadata has no {name!r} string")
    if info["unit"] not in UNITS:
        raise VocabFormatError(source, f"metadata 'unit': {info['unit']!r} is not 'document' or 'line'")
    try:
        info["normalization"] = check_normalization(info["normalization"])
    except ValueError as exc:
        raise VocabFormatError(source, f"metadata 'normalization': {exc}") from None
    try:
        validate_pattern(info["pattern"])
    except ValueError as exc:
        raise VocabFormatError(source, f"metadata 'pattern': {exc}") from None
    specials = info.get("special_tokens", [])
    if not isinstance(specials, list):
        raise VocabFormatError(source, "metadata 'special_tokens': expected a list of strings")
    for index, text in enumerate(specials):
        _checks.text_of(source, f"metadata 'special_tokens'[{index}]", text)
    if not isinstance(info.get("split_digits", False), bool):
        raise VocabFormatError(source, "metadata 'split_digits': expected true or false")
    _check_run_record(source, info.get("run"))
    corpus = _checks.object_or_none(source, "metadata 'corpus'", info.get("corpus"))
    for key in ("bytes", "lines", "files"):
        value = corpus.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise VocabFormatError(source, f"metadata 'corpus.{key}': expected a non-negative integer")
    sources = corpus.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(item, str) for item in sources):
        raise VocabFormatError(source, "metadata 'corpus.sources': expected a list of strings")
    return info


def _check_run_record(source: Path, run: Any) -> None:
    """A part's ``run`` record, if any: ``{"id": str, "part": 0..parts-1, "parts": >= 1}``."""
    if run is None:
        return
    fields = [run.get(key) for key in ("id", "part", "parts")] if isinstance(run, dict) else ["", 0, 0]
    run_id, part, parts = fields
    if not (
        isinstance(run_id, str)
        and isinstance(part, int)
        and isinstance(parts, int)
        and not isinstance(part, bool)
        and not isinstance(parts, bool)
        and 0 <= part < parts
    ):
        raise VocabFormatError(source, 'metadata \'run\': expected {"id": text, "part": P, "parts": N} with P < N')


def _columns(source: Path, pa: Any, table: Any) -> dict[bytes, int]:
    types = pa.types
    names = table.schema.names
    if "word" not in names or "count" not in names:
        raise VocabFormatError(source, f"expected columns 'word' and 'count', found {names}")
    words, counts = table.column("word"), table.column("count")
    if not any(
        check(words.type) for check in (types.is_binary, types.is_large_binary, types.is_string, types.is_large_string)
    ):
        raise VocabFormatError(source, f"column 'word' must be binary, not {words.type}")
    if not types.is_integer(counts.type):
        raise VocabFormatError(source, f"column 'count' must be an unsigned integer, not {counts.type}")
    if words.null_count or counts.null_count:
        raise VocabFormatError(source, "columns 'word' and 'count' must not hold nulls")
    result: dict[bytes, int] = {}
    for batch in table.select(["word", "count"]).to_batches(max_chunksize=1 << 16):  # bounded Python lists
        for word, count in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            if count < 0:
                raise VocabFormatError(source, f"negative count {count}")
            key = word.encode("utf-8") if isinstance(word, str) else word
            if not key:
                raise VocabFormatError(source, "column 'word' holds an empty word")
            result[key] = result.get(key, 0) + count
    return result


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError("word-count files need pyarrow: pip install 'bbpe[parquet]'") from None
    return pyarrow, pyarrow.parquet
