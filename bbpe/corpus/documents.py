"""Work units of a corpus, and reading them inside a worker.

A work unit is small and cheap to send to a worker: a byte range of an uncompressed file
(``FileUnit`` with ``start``/``end``), a whole compressed file, or a batch of byte pieces
read by the main process (stdin, texts given to ``bbpe.train``).  A worker reads its unit
itself and turns it into *pieces*: consecutive byte strings that end at safe cuts
(``bbpe.pretokenize.safe_cuts``), so counting each piece on its own gives the counts of the whole
document.  A range owns the text from the first cut at or after ``start`` to the first cut
at or after ``end``; the ranges of one file tile it exactly, whoever reads them.

Invalid UTF-8 is replaced (and counted) or raises ``CorpusError`` naming file and line;
decoding piece by piece is exact because every cut follows a ``\\n`` byte.
"""

from __future__ import annotations

import logging
import lzma
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from bbpe.corpus.reading import open_binary, record_text, split_lines
from bbpe.errors import CorpusError
from bbpe.pretokenize.safe_cuts import LINE, TAIL, CutRule

log = logging.getLogger("bbpe")

BLOCK = 1 << 20
RANGE_BYTES = 8 << 20
BACK = 8  # bytes kept before a cut: the rule looks at most this far back
POLL_SECONDS = 0.2


class ByteReader(Protocol):
    """What ``read_pieces`` reads from: a binary file or a ``PollingReader``."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class FileUnit:
    """Bytes ``[start, end)`` of a file, moved to safe cuts (``end`` None: to ``limit`` or the end)."""

    path: str
    start: int = 0
    end: int | None = None
    limit: int | None = None
    jsonl: bool = False
    size: int | None = None  # bytes in the stream (``limit`` or the file size); None: unknown (compressed)


@dataclass(frozen=True)
class PieceUnit:
    """Pieces already read and cut by the main process (stdin, in-memory texts).

    ``documents`` start in this unit; ``unterminated`` of them end without ``\\n`` (for line statistics).
    """

    source: str
    pieces: tuple[bytes, ...]
    offsets: tuple[int, ...]
    documents: int = 0
    unterminated: int = 0
    jsonl: bool = False


@dataclass
class UnitStats:
    """What one unit held (added up by the main process)."""

    bytes: int = 0
    lines: int = 0
    documents: int = 0
    replaced: int = 0
    first_replaced: str | None = None


def read_pieces(
    handle: ByteReader, rule: CutRule, *, start: int, end: int | None, limit: int | None, block: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """(offset, piece) of ``handle`` from the first cut >= ``start`` to the first cut >= ``end`` (or the end).

    ``handle`` is positioned at ``max(0, start - BACK)``; ``limit`` ends the stream early.
    """
    block = block or BLOCK
    base = max(0, start - BACK)
    buf = b""
    eof = False
    first: int | None = 0 if start == 0 else None
    scan = start - base  # where the search for the next cut goes on
    while True:
        if not eof:
            want = block if limit is None else min(block, limit - base - len(buf))
            data = handle.read(want) if want > 0 else b""
            eof = not data
            buf += data
        hi = len(buf) - 1 if eof else len(buf) - TAIL
        if first is None:
            found = rule.next_cut(buf, scan, hi)
            if found is None:
                if eof:
                    return
                scan = max(scan, hi + 1)
                drop = max(0, scan - BACK - 1)
                buf, base, scan = buf[drop:], base + drop, scan - drop
                continue
            first = scan = found
            if end is not None and base + first >= end:
                return  # the range holds no cut: its text belongs to the range before
        if end is not None and base + hi >= end:
            stop = rule.next_cut(buf, max(scan, end - base, first + 1), hi)
            if stop is not None:
                yield base + first, buf[first:stop]
                return
            scan = max(scan, hi + 1, end - base)
        if eof:
            if len(buf) > first:
                yield base + first, buf[first:]
            return
        if len(buf) - first >= block:
            top = hi if end is None else min(hi, end - base - 1)
            cut = _last_cut(rule, buf, first + 1, top)
            if cut is not None:
                yield base + first, buf[first:cut]
                drop = max(0, cut - BACK)
                buf, base = buf[drop:], base + drop
                first, scan = cut - drop, max(scan - drop, cut - drop)


def _last_cut(rule: CutRule, buf: bytes, lo: int, hi: int) -> int | None:
    """The last safe cut in ``[lo, hi]`` (searching back from ``hi``)."""
    while hi >= lo:
        newline = buf.rfind(b"\n", lo - 1, hi)
        if newline < 0:
            return None
        if rule.is_cut(buf, newline + 1):
            return newline + 1
        hi = newline
    return None


def unit_pieces(unit: FileUnit, rule: CutRule) -> Iterator[tuple[int, bytes]]:
    """(offset in the file, piece) for a file unit; JSONL files are cut between records."""
    rule = LINE if unit.jsonl else rule
    path = unit.path
    handle = open_input(path)
    try:
        if unit.start:
            handle.seek(max(0, unit.start - BACK))
        yield from read_pieces(handle, rule, start=unit.start, end=unit.end, limit=unit.limit)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise CorpusError(f"{path}: read error ({exc})") from None
    finally:
        handle.close()


def unit_texts(
    unit: FileUnit | PieceUnit, rule: CutRule, *, jsonl_field: str, errors: str, stats: UnitStats
) -> Iterator[str]:
    """The texts of a work unit, in order: its JSONL records (``unit.jsonl``: each a whole document), or the
    pieces of its part of a document, ending at safe cuts (``rule``); fills ``stats``."""
    source = unit.path if isinstance(unit, FileUnit) else unit.source
    pieces: Iterable[tuple[int, bytes]] = (
        unit_pieces(unit, rule) if isinstance(unit, FileUnit) else zip(unit.offsets, unit.pieces)
    )
    last, at_end = b"", False
    for offset, piece in pieces:
        if unit.jsonl:
            yield from jsonl_documents(piece, source, offset, jsonl_field, errors, stats)
            continue
        yield decode(piece, source, offset, errors, stats)
        stats.bytes += len(piece)
        stats.lines += piece.count(b"\n")
        last = piece
        at_end = isinstance(unit, FileUnit) and offset + len(piece) == unit.size
    if isinstance(unit, PieceUnit):
        stats.documents += unit.documents
        stats.lines += unit.unterminated
    elif not unit.jsonl:
        stats.documents += unit.start == 0
        stats.lines += (at_end or unit.size is None) and bool(last) and not last.endswith(b"\n")


def decode(piece: bytes, source: str, offset: int, errors: str, stats: UnitStats) -> str:
    """A piece as text; invalid UTF-8 is replaced and counted, or an error naming file and line."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError as exc:
        if errors == "strict":
            line, byte = where_line(source, offset + exc.start)
            raise CorpusError(f"{line}: invalid UTF-8 at byte {byte} of the line") from None
        text = piece.decode("utf-8", errors="replace")
        stats.replaced += text.count("\ufffd") - piece.count("\ufffd".encode())
        stats.first_replaced = stats.first_replaced or f"{source}: byte {offset + exc.start}: invalid UTF-8"
        return text


def where_line(source: str, offset: int) -> tuple[str, int]:
    """(``file:line``, byte in that line) for a byte offset; the file is read again up to there (errors only)."""
    if source == "-" or not os.path.isfile(source):
        return f"{source}: byte {offset}", 0
    handle = open_binary(Path(source))
    try:
        before = handle.read(offset)
    finally:
        handle.close()
    number = before.count(b"\n") + 1
    return f"{source}:{number}", offset - before.rfind(b"\n") - 1


def jsonl_documents(piece: bytes, source: str, offset: int, field: str, errors: str, stats: UnitStats) -> Iterator[str]:
    """The text field of every record in a piece of whole JSON lines."""
    for raw in piece.splitlines(keepends=True):
        at = offset
        offset += len(raw)
        if not raw.strip():
            continue
        value, replaced = record_text(raw, field, errors, partial(_line_of, source, at))
        if replaced:
            stats.replaced += replaced
            stats.first_replaced = stats.first_replaced or f"{_line_of(source, at)}: lone surrogate"
        stats.documents += 1
        stats.lines += len(split_lines(value))
        stats.bytes += len(value.encode("utf-8"))
        yield value


def _line_of(source: str, offset: int) -> str:
    return where_line(source, offset)[0]


def is_url(item: str | os.PathLike[str]) -> bool:
    """An fsspec URL (``s3://``, ``gs://``, ``hf://``, ``file://`` ...) rather than a local path."""
    return isinstance(item, str) and "://" in item


def open_input(path: str) -> BinaryIO:
    """Open a local path or an fsspec URL for reading bytes (compression from the name)."""
    if not is_url(path):
        return open_binary(Path(path))
    try:
        import fsspec
    except ImportError:
        raise CorpusError(f"{path}: reading URLs needs fsspec (and the filesystem's package, e.g. s3fs)") from None
    try:
        return cast(BinaryIO, fsspec.open(path, "rb", compression="infer").open())  # fsspec is untyped
    except (OSError, ValueError, ImportError) as exc:
        raise CorpusError(
            f"{path}: cannot open ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
