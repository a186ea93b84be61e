"""Token files for model training (``bbpe tokenize``): every document of a corpus encoded, an end-of-text id
after each, one flat binary file of ids.

Written as one set (temporary files renamed together, as every bbpe output; a killed run leaves the old
files or none):

- ``OUT.bin``: the ids back to back, little-endian ``uint16`` when every id of the vocabulary fits,
  else ``uint32`` (``dtype="auto"``);
- ``OUT.idx.npy``: ``uint64``, the end offset in tokens (the end-of-text id included) of each document;
- ``OUT.json``: a manifest: format, dtype, end-of-text token and id, tokens, documents, the vocabulary's
  SHA-256, pattern, normalization and special tokens, the inputs and the corpus statistics.

Read back with ``np.memmap(OUT.bin, dtype=manifest["dtype"], mode="r")``; document ``i`` is
``ids[idx[i - 1]:idx[i]]`` (``idx[-1]`` for ``i = 0`` taken as 0).  nanoGPT's ``prepare.py`` writes the same
flat ``uint16`` array with the end-of-text id after each document; llm.c's shards are a 1,024-byte header
(256 int32: magic 20240520, version 1, the token count) followed by the same ``uint16`` ids.

A document is what training calls a document: a text file (or stdin) is one, a JSONL record another
(``jsonl_field``), a Parquet row another (``parquet_column``, with pyarrow).  Documents come in input order
(directories in sorted path order).  Work is spread as for counting: files are cut into byte ranges at safe
cuts (``bbpe.pretokenize.safe_cuts``), so no pre-token crosses a cut and the ids of a document are the ids of
its pieces one after another: the output is the same for any number of workers.  Memory stays bounded:
at most two work units per worker are in flight, and the ids go to disk in input order as they come.
Special-token text is ordinary text unless ``allow_special`` (then it becomes the special ids).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bbpe._version import __version__
from bbpe.corpus.documents import FileUnit, PieceUnit, UnitStats, unit_texts
from bbpe.corpus.reading import CorpusStats
from bbpe.corpus.units import plan_units
from bbpe.corpus.workers import run_tasks, worker_count
from bbpe.errors import BBPEError, CorpusError
from bbpe.formats import native
from bbpe.output import atomic_set
from bbpe.pretokenize.safe_cuts import CutRule, cut_rule
from bbpe.tokenizer import Tokenizer
from bbpe.vocabulary import Vocabulary

Dtype = Literal["auto", "uint16", "uint32"]
FORMAT = "bbpe-tokens"
NO_CUT = CutRule("none", lambda buf, p: False)


@dataclass(frozen=True)
class ParquetUnit:
    """One row group of a Parquet file: each row's ``column`` is a document."""

    path: str
    row_group: int
    column: str


@dataclass(frozen=True)
class Reading:
    """How the workers read and encode their units (sent with every unit)."""

    pattern: str
    special_tokens: tuple[str, ...]  # those that are matched in the text (``allow_special``), else none
    normalization: str
    jsonl_field: str = "text"
    errors: str = "replace"

    @property
    def rule(self) -> CutRule:
        """Where a document may be cut for parallel work (as counting cuts it)."""
        rule = cut_rule(
            self.pattern, unit="document", special_tokens=self.special_tokens, normalization=self.normalization
        )
        return rule or NO_CUT


@dataclass
class Written:
    """What was written so far (the manifest's counts and the documents' end offsets)."""

    tokens: int = 0
    ends: list[int] = field(default_factory=list)
    open_document: bool = False  # a text document whose end has not come yet
    stats: CorpusStats = field(default_factory=CorpusStats)


def output_paths(out: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``OUT.bin``, ``OUT.idx.npy`` and ``OUT.json`` for ``-o OUT.bin`` (or ``-o OUT``).

    >>> [p.name for p in output_paths("data/train.bin")]
    ['train.bin', 'train.idx.npy', 'train.json']
    """
    path = Path(out)
    stem = path.with_suffix("") if path.suffix == ".bin" else path
    return (
        stem.with_name(stem.name + ".bin"),
        stem.with_name(stem.name + ".idx.npy"),
        stem.with_name(stem.name + ".json"),
    )


def choose_dtype(tokenizer: Tokenizer, dtype: Dtype) -> np.dtype[Any]:
    """Little-endian ``uint16`` when every id fits (``auto``), else ``uint32``; a ``uint16`` request that cannot
    hold the largest id is a ValueError."""
    if dtype not in ("auto", "uint16", "uint32"):
        raise ValueError(f"unknown dtype {dtype!r}; use auto, uint16 or uint32")
    fits = tokenizer.max_token_value < 1 << 16
    if dtype == "uint16" and not fits:
        raise ValueError(f"--dtype uint16 cannot hold id {tokenizer.max_token_value}; use uint32 or auto")
    return np.dtype("<u2" if dtype == "uint16" or (dtype == "auto" and fits) else "<u4")


def tokenize_corpus(
    tokenizer: Tokenizer,
    inputs: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    eot: str | None,
    dtype: Dtype = "auto",
    workers: int | None = None,
    jsonl_field: str = "text",
    parquet_column: str | None = None,
    max_bytes: int | None = None,
    errors: str = "replace",
    allow_special: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the token files of ``inputs`` (see the module docstring); returns the manifest.

    ``eot``: the special token written after each document (None: nothing).  ``on_progress(bytes read,
    tokens written)`` is called after each work unit.
    """
    eot_id = _eot_id(tokenizer, eot)
    array_type = choose_dtype(tokenizer, dtype)
    paths = list(inputs)
    specials = tuple(sorted(tokenizer.special_tokens)) if allow_special else ()
    reading = Reading(tokenizer.pattern, specials, tokenizer.normalization, jsonl_field, errors)
    written = Written()
    bin_path, idx_path, json_path = output_paths(out)
    with atomic_set([bin_path, idx_path, json_path]) as temps, open(temps[bin_path], "wb") as ids_file:

        def add(result: tuple[Any, np.ndarray, np.ndarray, UnitStats]) -> None:
            unit, ids, record_ends, stats = result
            _append(ids_file, written, unit, ids, record_ends, eot_id, array_type)
            _add_stats(written.stats, stats)
            if on_progress:
                on_progress(written.stats.bytes, written.tokens)

        if tokenizer.engine == "compiled":
            tokenizer.encode_ordinary("warm up")  # its kernels compiled (or loaded) once, before the workers start
        units = _units(paths, reading.rule, parquet_column, max_bytes, written.stats, worker_count(workers))
        run_tasks(
            _encode_unit,
            ((unit, reading) for unit in units),
            workers=workers,
            on_result=add,
            setup=_load_tokenizer,
            setup_args=(Vocabulary.of(tokenizer), tokenizer.engine),
        )
        if written.open_document:
            _end_document(ids_file, written, eot_id, array_type)
        if not written.ends:
            problem = "all input files are binary" if written.stats.skipped_binary else "the corpus is empty (no text)"
            raise CorpusError(problem)
        with open(temps[idx_path], "wb") as idx_file:  # np.save would add ".npy" to a temporary file's name
            np.save(idx_file, np.asarray(written.ends, np.uint64), allow_pickle=False)
        manifest = _manifest(tokenizer, paths, written, eot, eot_id, array_type)
        temps[json_path].write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def _eot_id(tokenizer: Tokenizer, eot: str | None) -> int | None:
    if eot is None:
        return None
    if eot not in tokenizer.special_tokens:
        names = ", ".join(repr(t) for t in tokenizer.special_tokens) or "none"
        raise ValueError(f"--eot {eot!r} is not a special token of the vocabulary (it has {names}); or use --no-eot")
    return tokenizer.special_tokens[eot]


def _units(
    paths: list[str | os.PathLike[str]],
    rule: CutRule,
    parquet_column: str | None,
    max_bytes: int | None,
    stats: CorpusStats,
    parts: int,
) -> Iterator[FileUnit | PieceUnit | ParquetUnit]:
    """The work units in input order: Parquet row groups with ``parquet_column``, else as counting plans them."""
    if parquet_column is None:
        yield from plan_units(paths, rule, max_bytes=max_bytes, stats=stats, parts=parts)
        return
    if max_bytes is not None:
        raise BBPEError("--max-bytes does not apply to Parquet inputs")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("Parquet inputs need pyarrow: pip install 'bbpe[parquet]'") from None
    for path in _parquet_files(paths):
        try:
            metadata = pq.ParquetFile(path).metadata
        except Exception as exc:  # pyarrow raises its own error types for damaged files
            raise CorpusError(f"{path}: not a readable Parquet file ({exc})") from None
        if parquet_column not in metadata.schema.names:
            raise CorpusError(f"{path}: no column {parquet_column!r} (columns: {', '.join(metadata.schema.names)})")
        stats.files += 1
        for group in range(metadata.num_row_groups):
            yield ParquetUnit(str(path), group, parquet_column)


def _parquet_files(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus *.parquet under directories, sorted."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.parquet") if p.is_file())
            if not found:
                raise CorpusError(f"{path}: directory holds no *.parquet files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CorpusError(f"{path}: no such file or directory")
    return files


_WORKER: dict[str, Tokenizer] = {}


def _load_tokenizer(vocabulary: Vocabulary, engine: str) -> None:
    """Worker set-up: the tokenizer, built once per process."""
    _WORKER["tokenizer"] = Tokenizer.from_vocabulary(vocabulary, engine=engine)  # type: ignore[arg-type]


def _encode_unit(
    unit: FileUnit | PieceUnit | ParquetUnit, reading: Reading
) -> tuple[Any, np.ndarray, np.ndarray, UnitStats]:
    """(unit, ids, record ends, statistics) of one work unit (runs in a worker): for JSONL and Parquet units
    the end offset of each record's ids; for text units none (their pieces continue one document)."""
    stats = UnitStats()
    if isinstance(unit, ParquetUnit):
        texts = _parquet_texts(unit, stats)
    else:
        texts = list(
            unit_texts(unit, reading.rule, jsonl_field=reading.jsonl_field, errors=reading.errors, stats=stats)
        )
    special: dict[str, Any] = {"allowed_special": "all"} if reading.special_tokens else {"disallowed_special": ()}
    ids, offsets = _WORKER["tokenizer"].encode_batch_to_numpy(texts, threads=1, **special)
    records = isinstance(unit, ParquetUnit) or unit.jsonl
    return unit, ids, offsets[1:] if records else np.zeros(0, np.int64), stats


def _parquet_texts(unit: ParquetUnit, stats: UnitStats) -> list[str]:
    import pyarrow.parquet as pq

    column = pq.ParquetFile(unit.path).read_row_group(unit.row_group, columns=[unit.column]).column(0)
    texts = ["" if value is None else str(value) for value in column.to_pylist()]
    stats.documents += len(texts)
    stats.bytes += sum(len(text.encode("utf-8")) for text in texts)
    return texts


def _append(
    handle: Any,
    written: Written,
    unit: FileUnit | PieceUnit | ParquetUnit,
    ids: np.ndarray,
    record_ends: np.ndarray,
    eot_id: int | None,
    array_type: np.dtype[Any],
) -> None:
    """Write one unit's ids in place: records each followed by the end-of-text id, or a document's pieces."""
    records = isinstance(unit, ParquetUnit) or unit.jsonl
    if written.open_document and (isinstance(unit, ParquetUnit) or unit.jsonl or _starts_document(unit)):
        _end_document(handle, written, eot_id, array_type)
    if not records:
        ids.astype(array_type).tofile(handle)
        written.tokens += len(ids)
        written.open_document = True
        return
    start = 0
    for end in record_ends.tolist():
        ids[start:end].astype(array_type).tofile(handle)
        written.tokens += end - start
        _end_document(handle, written, eot_id, array_type)
        start = end


def _starts_document(unit: FileUnit | PieceUnit) -> bool:
    """Does this unit begin a new text document (a file's first range, or the start of stdin)?"""
    if isinstance(unit, FileUnit):
        return unit.start == 0
    return bool(unit.offsets) and unit.offsets[0] == 0


def _end_document(handle: Any, written: Written, eot_id: int | None, array_type: np.dtype[Any]) -> None:
    if eot_id is not None:
        np.array([eot_id], array_type).tofile(handle)
        written.tokens += 1
    written.ends.append(written.tokens)
    written.open_document = False


def _add_stats(stats: CorpusStats, unit: UnitStats) -> None:
    stats.bytes += unit.bytes
    stats.lines += unit.lines
    stats.documents += unit.documents
    stats.replaced_invalid_utf8 += unit.replaced


def _manifest(
    tokenizer: Tokenizer,
    inputs: list[str | os.PathLike[str]],
    written: Written,
    eot: str | None,
    eot_id: int | None,
    array_type: np.dtype[Any],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": 1,
        "dtype": "uint16" if array_type.itemsize == 2 else "uint32",
        "byte_order": "little",
        "tokens": written.tokens,
        "documents": len(written.ends),
        "eot": eot,
        "eot_id": eot_id,
        "vocabulary": {
            "sha256": hashlib.sha256(native.dumps(tokenizer).encode("utf-8")).hexdigest(),  # of its bbpe JSON file
            "vocab_size": tokenizer.vocab_size,
            "max_token_value": tokenizer.max_token_value,
            "pattern": tokenizer.pattern,
            "normalization": tokenizer.normalization,
            "special_tokens": tokenizer.special_tokens,
        },
        "inputs": [str(p) for p in inputs],
        "corpus": written.stats.as_dict(),
        "bbpe_version": __version__,
    }
