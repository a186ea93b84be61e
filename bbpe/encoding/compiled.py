"""The compiled encode engine: tiktoken's ids from bbpe's scanner, a pre-token cache and linear-time BPE.

For the preset patterns (``bbpe.pretokenize.scanner_presets``) only; ``supports(pattern)`` says
which.  Importing this module raises ImportError without numba.

>>> from bbpe.pretokenize.patterns import CL100K
>>> engine = CompiledEngine({bytes([i]): i for i in range(256)} | {b"ab": 256}, CL100K)
>>> engine.encode_ordinary_bytes("abab ab".encode()).tolist()
[256, 256, 32, 256]
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np

from bbpe.bpe._kernels import reachable_tokens, token_table
from bbpe.bpe.tables import joinable_pairs, pack_tokens
from bbpe.encoding import _kernels as kernels
from bbpe.pretokenize.scanner_presets import scanner_rules, supports
from bbpe.pretokenize.unicode_tables import class_tables

__all__ = ["CompiledEngine", "supports"]


class CompiledEngine:
    """Encode ordinary text (no special tokens) with a rank table and a preset pattern."""

    def __init__(self, ranks: Mapping[bytes, int], pattern: str) -> None:
        key = supports(pattern)
        if key is None:
            raise ValueError("the compiled engine runs the preset patterns only; use the tiktoken engine")
        self._rule, self._split = scanner_rules(key)
        self._stage1, self._stage2 = class_tables()
        tokens = sorted(ranks, key=ranks.__getitem__)
        tok_data, tok_start = pack_tokens(tokens)
        table = token_table(tok_data, tok_start)
        edges, node_token = kernels.build_trie(tok_data, tok_start)
        index = {token: i for i, token in enumerate(tokens)}
        self._vocab = (
            tok_data,
            tok_start,
            table,
            np.array([ranks[token] for token in tokens], np.int32),
            np.array([index[bytes([b])] for b in range(256)], np.int64),
            reachable_tokens(tok_data, tok_start, table),
            edges,
            node_token,
            kernels.prefix_tokens(tok_data, tok_start, edges, node_token),
            joinable_pairs(tokens),
        )
        self._longest = int(np.max(np.diff(tok_start)))
        self._local = threading.local()

    def _cache(self) -> tuple[object, ...]:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = kernels.new_cache(self._longest)
        return cache  # type: ignore[no-any-return]

    def encode_documents(self, data: bytes, doc_ends: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids as int32, end offset of each document's ids): each document pre-tokenized alone."""
        buffer = np.frombuffer(data, np.uint8)
        ends = np.asarray(doc_ends, np.int64)
        ids, id_ends = kernels.encode_documents(
            buffer, ends, self._stage1, self._stage2, self._rule, self._split, self._vocab, self._cache()
        )
        return ids, id_ends

    def encode_ordinary_bytes(self, data: bytes) -> np.ndarray:
        """Ids (int32) of one text given as valid UTF-8."""
        return self.encode_documents(data, [len(data)])[0]
