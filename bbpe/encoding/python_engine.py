"""The python engine: the readable reference.  Pieces from ``regex``'s ``findall``, each encoded by
rank-based BPE (``bbpe.bpe``), with a cache of recent pieces.

>>> engine = PythonEngine({bytes([i]): i for i in range(256)} | {b"ab": 256}, r"\\w+|\\s+")
>>> engine.encode_ordinary("ab a")
[256, 32, 97]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bbpe import bpe
from bbpe.encoding.coverage import check_pieces, needs_check
from bbpe.pretokenize.patterns import compile_pattern

CACHE_PIECES = 200_000


class PythonEngine:
    """Encodes text that holds no special tokens (already normalized)."""

    name = "python"

    def __init__(self, ranks: Mapping[bytes, int], pattern: str) -> None:
        self._ranks = ranks
        self._pattern = pattern
        self._findall = compile_pattern(pattern).findall
        self._check = needs_check(pattern)
        self._cache: dict[str, list[int]] = {}

    def encode_ordinary(self, text: str) -> list[int]:
        pieces: list[str] = self._findall(text)
        if self._check:
            check_pieces(self._pattern, text, pieces)
        ids: list[int] = []
        for piece in pieces:
            ids.extend(self._encode_piece(piece))
        return ids

    def encode_ordinary_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode_ordinary(text) for text in texts]

    def _encode_piece(self, piece: str) -> list[int]:
        ids = self._cache.get(piece)
        if ids is None:
            ids = bpe.bpe_encode(piece.encode("utf-8"), self._ranks)
            if len(self._cache) > CACHE_PIECES:
                self._cache.clear()
            self._cache[piece] = ids
        return ids
