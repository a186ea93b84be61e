"""A vocabulary as the compiled kernels take it: token bytes packed into arrays, and which bytes can stand
next to each other inside a token (no merge joins two bytes that do not: a cut there is safe).

>>> data, starts = pack_tokens([b"a", b"bc"])
>>> bytes(data), starts.tolist()
(b'abc', [0, 1, 3])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pack_tokens(token_bytes: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """All token bytes in one uint8 buffer plus start offsets; empty tokens are refused."""
    if not all(token_bytes):
        raise ValueError(f"token id {token_bytes.index(b'')} has empty bytes")
    starts = np.zeros(len(token_bytes) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, token_bytes), np.int64, len(token_bytes)), out=starts[1:])
    return np.frombuffer(b"".join(token_bytes), np.uint8).copy(), starts


def joinable_pairs(tokens: Sequence[bytes]) -> np.ndarray:
    """A 65,536-entry table: do the bytes a, b (index ``a << 8 | b``) stand next to each other in some token?

    >>> table = joinable_pairs([b"a", b"ab", b"b c"])
    >>> [divmod(int(i), 256) for i in table.nonzero()[0]]
    [(32, 99), (97, 98), (98, 32)]
    """
    found = np.zeros(1 << 16, dtype=bool)
    data = np.frombuffer(b"".join(tokens), np.uint8).astype(np.int64)
    within = np.ones(len(data), dtype=bool)  # is (data[k], data[k + 1]) inside one token?
    within[np.cumsum(np.fromiter(map(len, tokens), np.int64, len(tokens))) - 1] = False
    found[(data[:-1] << 8 | data[1:])[within[:-1]]] = True
    return found
