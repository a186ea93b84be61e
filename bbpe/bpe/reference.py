"""Rank-based BPE in pure Python: the readable reference every Python-side caller uses.

Encoding follows tiktoken: inside one pre-token, repeatedly merge the two neighbouring parts whose
bytes together have the lowest rank (the leftmost on ties); a pre-token that is a token is that token.
The compiled kernels (``bbpe.bpe._kernels``) give the same results faster.  No I/O here.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping


def bpe_encode(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """Token ids of one pre-token under a rank table (lowest rank merges first).

    >>> bpe_encode(b"aab", {b"a": 0, b"b": 1, b"ab": 2, b"aa": 3})
    [0, 2]
    """
    rank = ranks.get(piece)
    if rank is not None:
        return [rank]
    return [ranks[part] for part in bpe_split(piece, ranks)]


def bpe_split(piece: bytes, ranks: Mapping[bytes, int], max_rank: int | None = None) -> list[bytes]:
    """The byte parts of ``piece`` after rank-based merging, using only ranks below ``max_rank``.

    Repeatedly merges the two neighbouring parts whose bytes together have the lowest rank (the
    leftmost on ties), as tiktoken does, in O(n log n): the candidate merges wait in a heap, and one
    whose parts changed since it was pushed is skipped when it comes up.  With ``max_rank`` = a
    token's own rank this gives the pair it is built from.

    >>> bpe_split(b"aaab", {b"a": 0, b"b": 1, b"aa": 2, b"ab": 3})
    [b'aa', b'ab']
    """
    n = len(piece)
    after = list(range(1, n + 1))  # after[i]: where the part starting at i ends
    before = list(range(-1, n - 1))  # before[i]: where the part before it starts (-1: none; -2: merged away)
    candidates: list[tuple[int, int, int, int]] = []  # (rank, left start, right start, right end)

    def consider(left: int, right: int) -> None:
        rank = ranks.get(piece[left : after[right]])
        if rank is not None and (max_rank is None or rank < max_rank):
            heapq.heappush(candidates, (rank, left, right, after[right]))

    for i in range(n - 1):
        consider(i, i + 1)
    while candidates:
        _, left, right, end = heapq.heappop(candidates)
        if after[left] != right or before[right] != left or after[right] != end:
            continue  # a part of this merge changed since it was pushed
        after[left], before[right] = end, -2
        if end < n:
            before[end] = left
            consider(left, end)
        if before[left] >= 0:
            consider(before[left], left)
    parts, start = [], 0
    while start < n:
        parts.append(piece[start : after[start]])
        start = after[start]
    return parts
