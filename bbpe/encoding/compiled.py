"""The compiled engine: tiktoken's ids from bbpe's scanner, a pre-token cache and linear-time BPE (numba).

For the preset patterns only (``supports(pattern)``: gpt2, cl100k, o200k, llama3, qwen, their
split-digit forms and SuperBPE's stage-2 patterns); the kernels are in ``bbpe.encoding._kernels``.
Special tokens and normalization are handled around it by ``bbpe.encoding.encoder``, as for every
engine.  Each thread has its own bounded cache; ``encode_ordinary_batch`` encodes groups of texts on
threads (the kernel releases the GIL), and the ``*_flat`` form returns one id array plus offsets, so a
caller need not pay for millions of Python ints.  Importing this module raises ImportError without numba.

>>> from bbpe.pretokenize.patterns import CL100K
>>> engine = CompiledEngine({bytes([i]): i for i in range(256)} | {b"ab": 256}, CL100K)
>>> engine.encode_ordinary("abab ab")
[256, 256, 32, 256]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from bbpe._jit import announce_compile
from bbpe.bpe._kernels import token_table
from bbpe.bpe.tables import joinable_pairs, pack_tokens
from bbpe.encoding import _kernels as kernels
from bbpe.pretokenize.scanner_presets import scanner_rules, supports
from bbpe.pretokenize.unicode_tables import class_tables

__all__ = ["CompiledEngine", "supports"]
BATCH_BYTES = 1 << 20  # a batch is cut into groups of about this many bytes, spread over the threads
CACHE_SLOTS_LOG2 = 18  # 2**18 slots per thread (at most half used): about 20 MB with the part cache


class CompiledEngine:
    """Encodes text that holds no special tokens (already normalized) with a preset pattern."""

    name = "compiled"

    def __init__(self, ranks: Mapping[bytes, int], pattern: str, *, threads: int | None = None) -> None:
        key = supports(pattern)
        if key is None:
            raise ValueError(
                "the compiled engine runs the preset patterns (gpt2, cl100k, o200k, llama3, qwen, their "
                "split-digit and stage-2 forms); use engine='tiktoken' for a custom pattern"
            )
        self._ranks = ranks
        self._rule, self._split = scanner_rules(key)
        self._threads = threads or os.cpu_count() or 1
        self._tables: tuple[Any, ...] | None = None
        self._building = threading.Lock()
        self._local = threading.local()

    def encode_ordinary(self, text: str) -> list[int]:
        ids: list[int] = self._encode(_utf8(text), None)[0].tolist()
        return ids

    def encode_ordinary_batch(self, texts: Sequence[str]) -> list[list[int]]:
        ids, offsets = self.encode_ordinary_flat(texts)
        flat, ends = ids.tolist(), offsets.tolist()
        return [flat[a:b] for a, b in zip(ends, ends[1:])]

    def encode_ordinary_flat(
        self, texts: Sequence[str], *, threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, offsets): text ``i``'s ids are ``ids[offsets[i]:offsets[i + 1]]`` (int32, int64); on up to
        ``threads`` threads (default: the engine's, one per core)."""
        threads = threads or self._threads
        encoded = [_utf8(text) for text in texts]
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        data = b"".join(encoded)
        groups = _groups(ends, threads)
        if len(groups) == 1:
            ids, id_ends = self._encode(data, ends)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                parts = list(pool.map(lambda group: self._encode_group(data, ends, *group), groups))
            ids = np.concatenate([part for part, _ in parts]) if parts else np.zeros(0, np.int32)
            shifts = np.cumsum([0] + [len(part) for part, _ in parts[:-1]])
            id_ends = np.concatenate([part_ends + shift for (_, part_ends), shift in zip(parts, shifts)])
        offsets = np.zeros(len(encoded) + 1, np.int64)
        offsets[1:] = id_ends
        return ids, offsets

    def _encode_group(self, data: bytes, ends: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        start = int(ends[first - 1]) if first else 0
        return self._encode(data[start : int(ends[last - 1])], ends[first:last] - start)

    def _encode(self, data: bytes, doc_ends: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        buffer = np.frombuffer(data, np.uint8)
        ends = np.array([buffer.size], np.int64) if doc_ends is None else doc_ends
        stage1, stage2, vocab = self._vocabulary()
        result: tuple[np.ndarray, np.ndarray] = kernels.encode_documents(
            buffer, ends, stage1, stage2, self._rule, self._split, vocab, self._cache()
        )
        return result

    def _vocabulary(self) -> tuple[Any, ...]:
        """(class tables, vocabulary tables), built on first use (once, whichever thread comes first)."""
        if self._tables is None:
            with self._building:
                if self._tables is None:
                    announce_compile([kernels.encode_documents, kernels.build_trie], "the encoder", "10-20 s")
                    self._tables = (*class_tables(), shared_tables(self._ranks))
        return self._tables

    def _cache(self) -> tuple[Any, ...]:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            longest = max(map(len, self._ranks))
            cache = self._local.cache = kernels.new_cache(longest, CACHE_SLOTS_LOG2)
        return cache  # type: ignore[no-any-return]


_SHARED: dict[int, list[tuple[Mapping[bytes, int], tuple[np.ndarray, ...]]]] = {}
_SHARED_MAX = 4


def shared_tables(ranks: Mapping[bytes, int]) -> tuple[np.ndarray, ...]:
    """``vocabulary_tables`` of ``ranks``, built once per process for equal rank tables (``with_engine`` and
    loading one reference twice make new tokenizers over the same ranks); at most ``_SHARED_MAX`` kept."""
    items = list(ranks.items())
    key = hash((len(items), tuple(items[:: max(1, len(items) // 512)])))  # a sample; equality decides
    for kept, tables in _SHARED.get(key, []):
        if kept == ranks:
            return tables
    if sum(map(len, _SHARED.values())) >= _SHARED_MAX:
        _SHARED.clear()
    tables = vocabulary_tables(ranks)
    _SHARED.setdefault(key, []).append((dict(ranks), tables))
    return tables


def vocabulary_tables(ranks: Mapping[bytes, int]) -> tuple[np.ndarray, ...]:
    """The arrays ``bbpe.encoding._kernels`` reads, in its order (tokens by index in rank order)."""
    tokens = sorted(ranks, key=ranks.__getitem__)
    tok_data, tok_start = pack_tokens(tokens)
    table = token_table(tok_data, tok_start)
    edges, node_token = kernels.build_trie(tok_data, tok_start)
    index = {token: i for i, token in enumerate(tokens)}
    return (
        tok_data,
        tok_start,
        table,
        np.array([ranks[token] for token in tokens], np.int32),
        np.array([index[bytes([b])] for b in range(256)], np.int64),
        np.full(len(tokens), -1, np.int8),  # reachable: decided when first needed (bbpe.encoding._kernels)
        edges,
        node_token,
        kernels.prefix_tokens(tok_data, tok_start, edges, node_token),
        joinable_pairs(tokens),
        np.full((256, 2), -1, np.int64),  # per byte: the longest token of a run of it, the trie depth of the run
    )


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _groups(ends: np.ndarray, threads: int) -> list[tuple[int, int]]:
    """Ranges [first, last) of documents of about ``BATCH_BYTES`` each (one range when one thread suffices)."""
    total = int(ends[-1]) if len(ends) else 0
    if threads == 1 or total <= BATCH_BYTES or len(ends) < 2:
        return [(0, len(ends))]
    cuts = np.searchsorted(ends, np.arange(BATCH_BYTES, total, BATCH_BYTES), side="left") + 1
    bounds = np.unique(np.concatenate([[0], cuts, [len(ends)]]))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
