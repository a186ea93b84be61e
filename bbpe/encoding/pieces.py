"""Segment many pre-tokens at once with a base vocabulary (rank-based BPE), on parallel threads.

Gives exactly ``[segmenter(tokens)(piece) for piece in pieces]``, in
fewer Python calls: the pieces of a chunk are joined with a separator character that occurs in
none of them, and tiktoken encodes the chunk in one call, with the separator as a special token
and a pattern that matches each piece whole (``[\\s\\S]+``), so every piece is BPE-encoded on its
own as before.  tiktoken releases the GIL while it encodes, so chunks run on several threads.
Pieces must not be empty.  A chunk that is not valid UTF-8, or input where no separator is free,
is segmented piece by piece (same ids).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bbpe import bpe
from bbpe.bpe.tables import joinable_pairs, pack_tokens
from bbpe.encoding.tiktoken_engine import has_tiktoken, require_tiktoken, single_piece_encoder, tiktoken_encoding

CHUNK_PIECES = 20_000
# Separator candidates: private-use characters (unlikely in text) before control characters.
SEPARATORS = [chr(c) for c in range(0xE000, 0xE010)] + [chr(c) for c in range(0x01, 0x09)]


def segmenter(tokens: list[bytes], *, engine: str = "auto") -> Callable[[bytes], list[int]]:
    """A function giving the ids (index in ``tokens``) of one pre-token under rank-based BPE.

    Uses tiktoken's per-piece encoder when available (same ids as ``bpe.bpe_encode``).
    """
    ranks = {token: index for index, token in enumerate(tokens)}
    if engine != "python":
        try:
            require_tiktoken()
        except ImportError:
            if engine == "tiktoken":
                raise
        else:
            return single_piece_encoder(ranks)
    return lambda piece: bpe.bpe_encode(piece, ranks)


def segment_all(
    pieces: Sequence[bytes], tokens: list[bytes], *, engine: str = "auto", threads: int | None = None
) -> list[list[int]]:
    """The ids (index in ``tokens``) of every piece under rank-based BPE, in order."""
    if engine == "python" or not has_tiktoken():
        single = segmenter(tokens, engine=engine)
        return [single(piece) for piece in pieces]
    joined = b"".join(pieces)
    separator = next((s for s in SEPARATORS if s.encode() not in joined), None)
    del joined
    sep_id = len(tokens)
    encoding = tiktoken_encoding(
        {token: index for index, token in enumerate(tokens)},
        pattern=r"[\s\S]+",
        special_tokens={} if separator is None else {separator: sep_id},
        name="bbpe-segment",
    )
    if separator is None:
        return [encoding._encode_single_piece(piece) for piece in pieces]

    def encode(text: str) -> list[int]:
        ids: list[int] = encoding.encode(text, allowed_special={separator}, disallowed_special=())
        return ids

    def work(chunk: Sequence[bytes]) -> list[list[int]]:
        return _segment_chunk(chunk, separator, sep_id, encode) or [encoding._encode_single_piece(p) for p in chunk]

    chunks = [pieces[start : start + CHUNK_PIECES] for start in range(0, len(pieces), CHUNK_PIECES)]
    with ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 1) as pool:
        return [words for chunk_words in pool.map(work, chunks) for words in chunk_words]


def segment_compiled(
    pieces: Sequence[bytes], tokens: list[bytes], *, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The pieces' ids as ``segment_all`` gives them, in compiled code on threads: (ids back to back,
    int32; start offsets, one more than there are pieces).

    None without numba, or if some byte of a piece is no token (then ``segment_all`` decides).
    """
    try:
        from bbpe.bpe import _kernels as compiled  # needs numba (optional)
    except ImportError:
        return None
    tok_data, tok_start = pack_tokens(tokens)
    table = compiled.token_table(tok_data, tok_start)
    reachable = compiled.reachable_tokens(tok_data, tok_start, table)
    joinable = joinable_pairs(tokens)
    data = np.frombuffer(b"".join(pieces), np.uint8)
    ends = np.cumsum(np.fromiter(map(len, pieces), np.int64, len(pieces)))
    threads = threads or os.cpu_count() or 1
    # Several ranges per thread: pieces come file by file, so scripts that segment slowly cluster.
    bounds = np.linspace(0, len(pieces), 4 * threads + 1).astype(np.int64)

    def work(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        offset = int(ends[first - 1]) if first else 0
        part = data[offset : ends[last - 1]] if last > first else data[:0]
        return compiled.segment(part, ends[first:last] - offset, joinable, tok_data, tok_start, table, reachable)  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=threads) as pool:  # the kernel releases the GIL
        done = list(pool.map(work, bounds[:-1], bounds[1:]))
    if any(len(per_piece) and per_piece[0] < 0 for _, per_piece in done):
        return None
    starts = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(np.concatenate([per_piece for _, per_piece in done]), out=starts[1:])
    return np.concatenate([ids for ids, _ in done]), starts


def _segment_chunk(
    chunk: Sequence[bytes], separator: str, sep_id: int, encode: Callable[[str], list[int]]
) -> list[list[int]] | None:
    """The chunk's words through one ``encode`` call, or None if the chunk is not valid UTF-8."""
    sep = separator.encode()
    try:  # a whole character between pieces: the text decodes only if every piece does
        text = (sep.join(chunk) + sep).decode("utf-8")
    except UnicodeDecodeError:
        return None
    ids = encode(text)
    words, start = [], 0
    for _ in range(len(chunk)):
        end = ids.index(sep_id, start)
        words.append(ids[start:end])
        start = end + 1
    return words
