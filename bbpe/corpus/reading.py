"""Reading training text: files, directories, JSONL, stdin; gzip/xz/bz2 transparently.

Finding inputs (``expand_paths``), opening them, the binary check and the line rule live here.
A line is its text up to and including ``\\n`` (and only ``\\n``: ``\\r``, ``\\x0c``, ``\\x85``,
U+2028 ... stay inside the line); ``split_lines`` is that one rule, used by ``--unit line``.
``iter_lines`` streams a corpus line by line (for scripts); counting reads work units
(``bbpe.corpus.documents``).  Input is read as bytes (no newline translation).

Invalid UTF-8 is replaced by U+FFFD and counted (``errors="replace"``, the default; the
first place is reported) or raises ``CorpusError`` naming file and line
(``errors="strict"``).  Binary files (a NUL byte in the first 8 KiB) are skipped with a
warning; if nothing readable is left, ``CorpusError`` is raised.
"""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import lzma
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from io import BufferedIOBase
from pathlib import Path
from typing import BinaryIO, Literal

from bbpe.errors import CorpusError

log = logging.getLogger("bbpe")

OPENERS: dict[str, Callable[[Path, Literal["rb"]], BufferedIOBase]] = {
    ".gz": gzip.open,
    ".xz": lzma.open,
    ".bz2": bz2.open,
}
TEXT_SUFFIXES = (".txt", ".jsonl")


@dataclass
class CorpusStats:
    """What was read: shown in the training summary and stored in the vocab metadata."""

    files: int = 0
    bytes: int = 0
    lines: int = 0
    documents: int = 0
    replaced_invalid_utf8: int = 0
    skipped_binary: list[str] = field(default_factory=list)
    truncated: bool = False  # --max-bytes ended the reading early

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "lines": self.lines,
            "documents": self.documents,
            "replaced_invalid_utf8": self.replaced_invalid_utf8,
            "skipped_binary": list(self.skipped_binary),
        }


def expand_paths(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus *.txt / *.jsonl (optionally .gz/.xz/.bz2) under directories, sorted."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if str(item) == "-":
            files.append(path)
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _is_text_name(p))
            if not found:
                raise CorpusError(f"{path}: directory holds no *.txt or *.jsonl files (compressed or not)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise CorpusError(f"{path}: not a regular file or directory")
        else:
            raise CorpusError(f"{path}: no such file or directory")
    if not files:
        raise CorpusError("no input files given")
    return files


def input_size(inputs: Iterable[str | os.PathLike[str]]) -> int | None:
    """Bytes on disk of the local files ``inputs`` name (directories expanded; compressed files count as
    stored); None when one of them is stdin, a URL or missing (then the size is not known up front)."""
    total = 0
    for item in inputs:
        text = str(item)
        if text == "-" or "://" in text:
            return None
        try:
            total += sum(path.stat().st_size for path in expand_paths([item]))
        except (CorpusError, OSError):
            return None
    return total


LINE_END = "\n"


def split_lines(text: str) -> list[str]:
    """The lines of a text, each keeping its ``\\n``; the only place where lines end.

    >>> split_lines("a\\r\\nb\\x85c\\u2028d\\n\\ne")
    ['a\\r\\n', 'b\\x85c\\u2028d\\n', '\\n', 'e']
    """
    lines = text.split(LINE_END)
    ends = [line + LINE_END for line in lines[:-1]]
    return ends + [lines[-1]] if lines[-1] else ends


def _byte_lines(handle: BinaryIO) -> Iterator[bytes]:
    """A binary stream's lines by the same rule as ``split_lines`` (a byte-level line split ends at b"\\n")."""
    return iter(handle)


def _is_text_name(path: Path) -> bool:
    name = path.name
    for suffix in OPENERS:
        name = name.removesuffix(suffix)
    return name.endswith(TEXT_SUFFIXES)


def open_binary(path: Path) -> BinaryIO:
    if str(path) == "-":
        return sys.stdin.buffer
    opener = OPENERS.get(path.suffix)
    try:
        # typeshed does not declare GzipFile, LZMAFile and BZ2File as BinaryIO, whose methods they have
        return opener(path, "rb") if opener else open(path, "rb")  # type: ignore[return-value]
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open ({exc.strerror or exc})") from None


def is_jsonl(path: Path) -> bool:
    return _is_text_name(path) and path.name.split(".jsonl")[0] != path.name


def iter_lines(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    jsonl_field: str = "text",
    max_bytes: int | None = None,
    errors: str = "replace",
    stats: CorpusStats | None = None,
) -> Iterator[str]:
    """Stream the corpus line by line (each line keeps its ``\\n``), at most ``max_bytes`` UTF-8 bytes."""
    stats = stats if stats is not None else CorpusStats()
    if max_bytes is not None and max_bytes < 1:
        raise CorpusError(f"max_bytes must be at least 1, got {max_bytes}")
    full = False
    for path in expand_paths(inputs):
        if full:
            break
        handle = open_binary(path)
        try:
            if looks_binary(handle):
                stats.skipped_binary.append(str(path))
                log.warning("%s: skipped (binary file: NUL bytes in the first 8 KiB)", path)
                continue
            stats.files += 1
            lines = (
                _json_lines(handle, path, jsonl_field, errors, stats)
                if is_jsonl(path)
                else _text_lines(handle, path, errors, stats)
            )
            for line in lines:
                size = len(line.encode("utf-8"))
                if max_bytes is not None and stats.bytes + size > max_bytes:
                    full = True
                    break
                stats.bytes += size
                stats.lines += 1
                yield line
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            raise CorpusError(f"{path}: read error ({exc})") from None
        finally:
            if str(path) != "-":
                handle.close()
    if stats.bytes == 0:
        problem = "all input files are binary" if stats.skipped_binary else "the corpus is empty (no text)"
        if full:
            problem = f"--max-bytes {max_bytes} is smaller than the first line of the corpus"
        raise CorpusError(problem)


def looks_binary(handle: BinaryIO) -> bool:
    """NUL bytes in the first 8 KiB (peeked, so nothing is consumed)."""
    # open_binary's handles are buffered readers, which peek; typeshed's BinaryIO does not declare peek
    return b"\x00" in handle.peek(8192)[:8192]  # type: ignore[attr-defined]


def _text_lines(handle: BinaryIO, path: Path, errors: str, stats: CorpusStats) -> Iterator[str]:
    for number, raw in enumerate(_byte_lines(handle), start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if errors == "strict":
                raise CorpusError(f"{path}:{number}: invalid UTF-8 at byte {exc.start} of the line") from None
            if stats.replaced_invalid_utf8 == 0:
                log.warning("%s:%d: invalid UTF-8 replaced by U+FFFD (further cases are counted)", path, number)
            stats.replaced_invalid_utf8 += 1
            yield raw.decode("utf-8", errors="replace")


_SURROGATES = re.compile("[\ud800-\udfff]")


def _json_lines(handle: BinaryIO, path: Path, field_name: str, errors: str, stats: CorpusStats) -> Iterator[str]:
    """The text field of every JSON line; a lone surrogate (a "\\ud800" escape) is treated like invalid UTF-8."""
    for number, raw in enumerate(_byte_lines(handle), start=1):
        if not raw.strip():
            continue
        value, replaced = record_text(raw, field_name, errors, partial("{}:{}".format, path, number))
        if replaced and stats.replaced_invalid_utf8 == 0:
            log.warning("%s:%d: lone surrogate replaced by U+FFFD (further cases are counted)", path, number)
        stats.replaced_invalid_utf8 += bool(replaced)
        yield from split_lines(value)


def record_text(raw: bytes, field_name: str, errors: str, where: Callable[[], str]) -> tuple[str, int]:
    """The text field of one JSON line and how many lone surrogates (``"\\ud800"`` escapes) were replaced by
    U+FFFD (``errors="strict"``: refused).  ``where()`` names the line in errors."""
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CorpusError(f"{where()}: not a valid JSON line") from None
    value = record.get(field_name) if isinstance(record, dict) else None
    if not isinstance(value, str):
        raise CorpusError(f"{where()}: no string field {field_name!r} (set --jsonl-field)")
    surrogates = len(_SURROGATES.findall(value))
    if surrogates:
        if errors == "strict":
            raise CorpusError(f"{where()}: a lone surrogate escape is not Unicode text")
        value = _SURROGATES.sub("\ufffd", value)
    return value, surrogates
