"""The compiled engine: tiktoken's ids from bbpe's scanner, a pre-token cache and linear-time BPE (numba).

For the preset patterns only (``supports(pattern)``: gpt2, cl100k, o200k, llama3, qwen, their
split-digit forms and SuperBPE's stage-2 patterns); the kernels are in ``bbpe.encoding._kernels``.
Special tokens and normalization are handled around it by ``bbpe.encoding.encoder``, as for every
engine.  Each call takes a bounded cache of its own from the engine's idle ones (so a batch's new
threads find them warm); ``encode_ordinary_batch`` encodes groups of texts on threads (the kernel
releases the GIL), and the ``*_flat`` form returns one id array plus offsets, so a caller need not
pay for millions of Python ints.  Importing this module raises ImportError without numba.

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
CACHE_SLOTS_LOG2 = 18  # 2**18 slots per cache (at most half used): about 20 MB with the part cache


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
        self._caches: list[tuple[Any, ...]] = []  # idle caches, kept across calls (a batch's threads are new ones)

    def encode_ordinary(self, text: str) -> list[int]:
        buffer = np.frombuffer(_utf8(text), np.uint8)
        cache = self._take_cache()
        try:
            ids: list[int] = self._encode(buffer, np.array([buffer.size], np.int64), cache)[0].tolist()
        finally:
            self._caches.append(cache)
        return ids

    def encode_ordinary_batch(self, texts: Sequence[str]) -> list[list[int]]:
        ids, offsets = self.encode_ordinary_flat(texts)
        flat, ends = ids.tolist(), offsets.tolist()
        return [flat[a:b] for a, b in zip(ends, ends[1:])]

    def encode_ordinary_flat(
        self, texts: Sequence[str], *, threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, offsets): text ``i``'s ids are ``ids[offsets[i]:offsets[i + 1]]`` (int32, int64); on up to
        ``threads`` threads (default: the engine's, one per core).

        The texts are cut into groups of about ``BATCH_BYTES``; worker ``w`` encodes groups ``w, w + workers, ...``
        with one cache, and the caches go back in the order they were taken, so the same batch encoded again
        finds each group's pre-tokens where it left them."""
        encoded = [_utf8(text) for text in texts]
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        buffer = np.frombuffer(b"".join(encoded), np.uint8)
        groups = _groups(ends)
        workers = min(threads or self._threads, len(groups))
        caches = [self._take_cache() for _ in range(workers)]
        try:
            if workers == 1:
                parts = [self._encode_group(buffer, ends, group, caches[0]) for group in groups]
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    shares = list(
                        pool.map(
                            lambda w: [
                                self._encode_group(buffer, ends, group, caches[w]) for group in groups[w::workers]
                            ],
                            range(workers),
                        )
                    )
                parts = [shares[g % workers][g // workers] for g in range(len(groups))]
        finally:
            self._caches.extend(reversed(caches))
        shifts = np.cumsum([0] + [len(part) for part, _ in parts[:-1]])
        offsets = np.zeros(len(encoded) + 1, np.int64)
        offsets[1:] = np.concatenate([part_ends + shift for (_, part_ends), shift in zip(parts, shifts)])
        ids = np.concatenate([part for part, _ in parts]) if len(parts) > 1 else parts[0][0]
        return ids, offsets

    def _encode_group(
        self, buffer: np.ndarray, ends: np.ndarray, group: tuple[int, int], cache: tuple[Any, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        first, last = group
        start, stop = (int(ends[first - 1]) if first else 0), (int(ends[last - 1]) if last else 0)
        return self._encode(buffer[start:stop], ends[first:last] - start, cache)

    def _encode(
        self, buffer: np.ndarray, doc_ends: np.ndarray, cache: tuple[Any, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        stage1, stage2, vocab = self._vocabulary()
        result: tuple[np.ndarray, np.ndarray] = kernels.encode_documents(
            buffer, doc_ends, stage1, stage2, self._rule, self._split, vocab, cache
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

    def _take_cache(self) -> tuple[Any, ...]:
        """An idle cache for one call (warm from earlier calls on any thread), or a new one when all are in use."""
        try:
            return self._caches.pop()  # atomic: a cache is never in two calls at once
        except IndexError:
            cache: tuple[Any, ...] = kernels.new_cache(max(map(len, self._ranks)), CACHE_SLOTS_LOG2)
            return cache


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


def _groups(ends: np.ndarray) -> list[tuple[int, int]]:
    """Ranges [first, last) of documents of about ``BATCH_BYTES`` each (so a call's scratch arrays stay small)."""
    total = int(ends[-1]) if len(ends) else 0
    if total <= BATCH_BYTES or len(ends) < 2:
        return [(0, len(ends))]
    cuts = np.searchsorted(ends, np.arange(BATCH_BYTES, total, BATCH_BYTES), side="left") + 1
    bounds = np.unique(np.concatenate([[0], cuts, [len(ends)]]))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
