"""How two byte-level vocabularies relate: shared tokens, tokens only in each, rank order.

>>> c = compare({b"a": 0, b"b": 1, b"ab": 2}, {b"b": 0, b"a": 1, b"ba": 2})
>>> c.shared, c.only_b, c.order_preserved, c.first_break
(2, [b'ba'], False, (b'b', 1, 0))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    """The relation of vocabulary A to vocabulary B (regular tokens only)."""

    size_a: int
    size_b: int
    shared: int
    only_a: list[bytes]  # in A's rank order
    only_b: list[bytes]  # in B's rank order
    same_id: int  # shared tokens with the same id in both
    common_prefix: int  # ids 0..n-1 hold the same token in both
    order_preserved: bool  # shared tokens have the same relative order in A and B
    first_break: tuple[bytes, int, int] | None  # first shared token (A order) that B ranks before its predecessor


def compare(a: Mapping[bytes, int], b: Mapping[bytes, int]) -> Comparison:
    """Compare two rank tables (bytes -> id)."""
    in_a = sorted(a, key=a.__getitem__)
    in_b = sorted(b, key=b.__getitem__)
    shared = [token for token in in_a if token in b]
    first_break = None
    for before, token in zip(shared, shared[1:]):
        if b[token] < b[before]:
            first_break = (token, a[token], b[token])
            break
    prefix = 0
    for token_a, token_b in zip(in_a, in_b):
        if token_a != token_b or a[token_a] != b[token_b]:
            break
        prefix += 1
    return Comparison(
        size_a=len(a),
        size_b=len(b),
        shared=len(shared),
        only_a=[token for token in in_a if token not in b],
        only_b=[token for token in in_b if token not in a],
        same_id=sum(1 for token in shared if a[token] == b[token]),
        common_prefix=prefix,
        order_preserved=first_break is None,
        first_break=first_break,
    )
