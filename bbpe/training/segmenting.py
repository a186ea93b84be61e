"""Segment many pre-tokens at once with a base vocabulary (rank-based BPE), in parallel threads.

Gives exactly ``[segmenter(tokens)(piece) for piece in pieces]`` (``bbpe.training.extend``), faster:
the pieces of a chunk are joined with a separator character that occurs in none of them, and
tiktoken encodes the chunk in one call with the separator as a special token and a pattern that
matches each piece whole (``[\\s\\S]+``), so every piece is BPE-encoded on its own as before.
tiktoken releases the GIL while it encodes, so chunks run on several threads.  A chunk that is not
valid UTF-8, or where no separator is free, falls back to the per-piece path (same ids).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bbpe.training.extend import segmenter

CHUNK_PIECES = 20_000
# Separator candidates: private-use characters (unlikely in text) before control characters.
_SEPARATORS = [chr(c) for c in range(0xE000, 0xE010)] + [chr(c) for c in range(0x01, 0x09)]


def segment_all(
    pieces: Sequence[bytes], tokens: list[bytes], *, engine: str = "auto", threads: int | None = None
) -> list[list[int]]:
    """The ids (index in ``tokens``) of every piece under rank-based BPE, in order."""
    single = segmenter(tokens, engine=engine)
    encoding = _chunk_encoding(tokens) if engine != "python" else None
    if encoding is None:
        return [single(bytes(piece)) for piece in pieces]
    chunks = [pieces[start : start + CHUNK_PIECES] for start in range(0, len(pieces), CHUNK_PIECES)]
    sep_id = len(tokens)

    def work(chunk: Sequence[bytes]) -> list[list[int]]:
        return _segment_chunk(chunk, encoding, sep_id) or [single(bytes(piece)) for piece in chunk]

    with ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 1) as pool:
        return [words for chunk_words in pool.map(work, chunks) for words in chunk_words]


def _chunk_encoding(tokens: list[bytes]) -> Callable[[str, str], list[int]] | None:
    """``encode(text, separator)``: tiktoken over one text whose pieces are cut by ``separator``."""
    try:
        import tiktoken
    except ImportError:
        return None
    ranks = {token: index for index, token in enumerate(tokens)}
    sep_id = len(tokens)
    encodings: dict[str, Any] = {}

    def encode(text: str, separator: str) -> list[int]:
        if separator not in encodings:  # a handful at most: one per separator ever needed
            encodings[separator] = tiktoken.Encoding(
                f"bbpe-segment-{ord(separator):x}",
                pat_str=r"[\s\S]+",
                mergeable_ranks=ranks,
                special_tokens={separator: sep_id},
            )
        result: list[int] = encodings[separator].encode(text, allowed_special={separator}, disallowed_special=())
        return result

    return encode


def _segment_chunk(
    chunk: Sequence[bytes], encode: Callable[[str, str], list[int]], sep_id: int
) -> list[list[int]] | None:
    """The chunk's words through one tiktoken call, or None if the fast path does not apply."""
    joined = b"".join(chunk)
    separator = next((s for s in _SEPARATORS if s.encode() not in joined), None)
    if separator is None:
        return None
    try:  # a whole character between pieces: the text decodes only if every piece does
        text = (separator.encode().join(chunk) + separator.encode()).decode("utf-8")
    except UnicodeDecodeError:
        return None
    ids = encode(text, separator)
    words, start = [], 0
    for _ in range(len(chunk)):
        end = ids.index(sep_id, start)
        words.append(ids[start:end])
        start = end + 1
    return words
