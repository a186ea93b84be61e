"""Planning work units: files cut into byte ranges at safe cuts, compressed files whole, stdin and
in-memory texts cut into pieces by the main process (see ``bbpe.corpus.documents`` for the units)."""

from __future__ import annotations

import logging
import lzma
import os
import select
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from bbpe.corpus import documents as reading  # sizes read at call time (tests change them)
from bbpe.corpus.documents import (
    POLL_SECONDS,
    FileUnit,
    PieceUnit,
    is_url,
    open_input,
    read_pieces,
)
from bbpe.corpus.reading import OPENERS, CorpusStats, expand_paths, is_jsonl, open_binary
from bbpe.corpus.urls import expand_url
from bbpe.errors import CorpusError
from bbpe.pretokenize.safe_cuts import CutRule

log = logging.getLogger("bbpe")


def plan_units(
    inputs: Iterable[str | os.PathLike[str]],
    rule: CutRule,
    *,
    max_bytes: int | None,
    stats: CorpusStats,
    range_bytes: int | None = None,
    parts: int = 1,
) -> Iterator[FileUnit | PieceUnit]:
    """The work units of the inputs, in input order; ``max_bytes`` keeps the first bytes, cut back to a line end.

    A file is cut into ranges of at most ``range_bytes``, of equal size, and into at least ``parts``
    of them (one per worker) while each keeps a ``BLOCK``, so that a small corpus keeps every worker busy.
    Only sizes, the first 8 KiB (binary check) and, with ``max_bytes``, the bytes up to the
    budget (to find the last line end) are read here; workers read the text.
    """
    range_bytes = range_bytes or reading.RANGE_BYTES
    budget = max_bytes
    for path in _paths(inputs):
        if isinstance(path, str):  # a URL: one whole-file unit, read by its task
            if budget is not None:
                raise CorpusError("--max-bytes applies to local inputs only")
            if _skip_binary(path, stats):
                continue
            stats.files += 1
            yield FileUnit(path, 0, None, None, is_jsonl(Path(path.split("://", 1)[1])), None)
            continue
        if budget == 0:
            stats.truncated = True
            break
        if str(path) == "-":
            for unit in _stream_units(sys.stdin.buffer, "-", rule, budget=budget, stats=stats):
                yield unit
                budget = None if budget is None else budget - sum(len(piece) for piece in unit.pieces)
            continue
        if _skip_binary(path, stats):
            continue
        stats.files += 1
        compressed = path.suffix in OPENERS
        size = None if compressed else path.stat().st_size
        limit = None
        if budget is not None:
            read, line_end = _prefix(path, budget)
            if read > budget:
                limit = size = line_end
                stats.truncated = True
                budget = 0
            else:
                size, budget = read, budget - read
        jsonl = is_jsonl(path)
        if size is None or (rule.name == "none" and not jsonl):
            yield FileUnit(str(path), 0, None, limit, jsonl, size)
            continue
        step = _range_size(size, range_bytes, parts)
        for start in range(0, size, step):
            end = start + step if start + step < size else None
            yield FileUnit(str(path), start, end, limit, jsonl, size)


def _range_size(size: int, range_bytes: int, parts: int) -> int:
    """Bytes per range of a file: equal ranges, at most ``range_bytes``, at least ``parts`` ranges of ``BLOCK`` or more.

    >>> MB = 1 << 20
    >>> [(size, _range_size(size, 8 * MB, 2)) for size in (10 * MB, 100 * MB, MB + 1)]
    [(10485760, 5242880), (104857600, 8065970), (1048577, 1048577)]
    """
    ranges = max(-(-size // range_bytes), min(parts, size // reading.BLOCK), 1)
    return max(1, -(-size // ranges))


def _paths(inputs: Iterable[str | os.PathLike[str]]) -> Iterator[Path | str]:
    """Local files (directories expanded) and URLs, in input order."""
    local: list[str | os.PathLike[str]] = []
    for item in [*inputs, None]:
        if item is not None and not is_url(item):
            local.append(item)
            continue
        if local:
            yield from expand_paths(local)
            local = []
        if item is not None:
            yield from expand_url(str(item))


def _skip_binary(path: Path | str, stats: CorpusStats) -> bool:
    handle = open_input(str(path))
    try:
        binary = b"\x00" in handle.read(8192)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise CorpusError(f"{path}: read error ({exc})") from None
    finally:
        handle.close()
    if binary:
        stats.skipped_binary.append(str(path))
        log.warning("%s: skipped (binary file: NUL bytes in the first 8 KiB)", path)
    return binary


def _prefix(path: Path, budget: int) -> tuple[int, int]:
    """(bytes read, up to ``budget`` + 1; the end of the last line within the first ``budget`` bytes)."""
    handle = open_binary(path)
    read = line_end = 0
    try:
        while read <= budget:
            block = handle.read(min(reading.BLOCK, budget + 1 - read))
            if not block:
                break
            newline = block.rfind(b"\n", 0, max(0, budget - read))
            if newline >= 0:
                line_end = read + newline + 1
            read += len(block)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise CorpusError(f"{path}: read error ({exc})") from None
    finally:
        handle.close()
    return read, line_end


class PollingReader:
    """A pipe (stdin) read with ``select``: the main thread wakes every ``POLL_SECONDS``, so a signal
    that another thread received is still acted on while no input comes."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        try:
            self.fd: int | None = handle.fileno()
        except (OSError, ValueError):
            self.fd = None  # not a real file (tests): read it directly
        self.head = b""

    def first_bytes(self, size: int) -> bytes:
        """The first ``size`` bytes (or all, if fewer), kept to be read again."""
        while len(self.head) < size:
            data = self._read_some(size - len(self.head))
            if not data:
                break
            self.head += data
        return self.head[:size]

    def read(self, size: int) -> bytes:
        out = bytearray(self.head[:size])
        self.head = self.head[size:]
        while len(out) < size:
            data = self._read_some(size - len(out))
            if not data:
                break
            out += data
        return bytes(out)

    def _read_some(self, size: int) -> bytes:
        if self.fd is None:
            return self.handle.read(size)
        while not select.select([self.fd], [], [], POLL_SECONDS)[0]:
            pass
        return os.read(self.fd, size)


def _stream_units(
    handle: BinaryIO, source: str, rule: CutRule, *, budget: int | None, stats: CorpusStats
) -> Iterator[PieceUnit]:
    """stdin, read here and cut at safe points: one unit per piece."""
    reader = PollingReader(handle)
    if b"\x00" in reader.first_bytes(8192):
        stats.skipped_binary.append(source)
        log.warning("%s: skipped (binary file: NUL bytes in the first 8 KiB)", source)
        return
    stats.files += 1
    limit = None if budget is None else budget + 1
    pieces = read_pieces(reader, rule, start=0, end=None, limit=limit)
    held: tuple[int, bytes] | None = None
    for item in pieces:
        if held is not None:
            yield PieceUnit(source, (held[1],), (held[0],), documents=int(held[0] == 0))
        held = item
    if held is None:
        return
    offset, piece = held
    if budget is not None and offset + len(piece) > budget:
        piece = piece[: piece.rfind(b"\n", 0, budget - offset) + 1]
        stats.truncated = True
    yield PieceUnit(
        source,
        (piece,),
        (offset,),
        documents=int(offset == 0),
        unterminated=int(bool(piece) and not piece.endswith(b"\n")),
    )


def text_units(texts: Iterable[bytes], rule: CutRule, *, block: int | None = None) -> Iterator[PieceUnit]:
    """In-memory documents (UTF-8) in units of about ``block`` bytes; long ones cut at safe points."""
    block = block or reading.BLOCK
    pieces: list[bytes] = []
    offsets: list[int] = []
    size = documents = unterminated = 0
    for data in texts:
        if not data:
            continue
        documents += 1
        unterminated += not data.endswith(b"\n")
        start = 0
        while start < len(data):
            cut = rule.next_cut(data, start + block, len(data) - 1) if len(data) - start > block else None
            end = cut or len(data)
            pieces.append(data[start:end])
            offsets.append(start)
            size += end - start
            start = end
            if size >= block:
                yield PieceUnit("<text>", tuple(pieces), tuple(offsets), documents, unterminated)
                pieces, offsets, size, documents, unterminated = [], [], 0, 0, 0
    if pieces:
        yield PieceUnit("<text>", tuple(pieces), tuple(offsets), documents, unterminated)
