"""Token rows of the compiled merge loop: "do these bytes already spell a token" as a hash lookup.

Rows ``[start, length, hash, base**length, next id with that hash]`` over one byte buffer, and a table
hash -> newest id, so the check is a lookup plus a byte comparison (see ``take_merge``).
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import kernel
from bbpe.training.loops._tables import find, fit_rows, new_table

_START, _LENGTH, _HASH, _POWER, _NEXT = range(5)  # token rows
_HASH_BASE = 0x100000001B3


@kernel()
def token_rows(tok_data, tok_start, capacity):
    """Token rows for ``capacity`` tokens, the byte buffer, and the hash table of the given tokens."""
    tokens = np.empty((capacity, 5), np.int64)
    data = np.empty(max(16, 2 * len(tok_data)), np.uint8)
    data[: len(tok_data)] = tok_data
    table = new_table(capacity)  # sized for every token to come: never grows
    for t in range(len(tok_start) - 1):
        h = 0
        p = 1
        for k in range(tok_start[t], tok_start[t + 1]):
            h = h * _HASH_BASE + tok_data[k] + 1
            p = p * _HASH_BASE
        tokens[t, _START] = tok_start[t]
        tokens[t, _LENGTH] = tok_start[t + 1] - tok_start[t]
        tokens[t, _HASH] = h
        tokens[t, _POWER] = p
        _index_token(tokens, table, t)
    return tokens, data, table


@kernel()
def _index_token(tokens, table, t):
    slot = find(table, tokens[t, _HASH])
    tokens[t, _NEXT] = table[slot, 1]
    table[slot, 0] = tokens[t, _HASH]
    table[slot, 1] = t


@kernel()
def _existing_token(tokens, table, data, left, right):
    """The id whose bytes are left's + right's (the newest, as in the reference), or -1."""
    h = tokens[left, _HASH] * tokens[right, _POWER] + tokens[right, _HASH]
    token = table[find(table, h), 1]
    while token != -1:
        if tokens[token, _LENGTH] == tokens[left, _LENGTH] + tokens[right, _LENGTH] and _spells(
            data, tokens[token, _START], tokens, left, right
        ):
            return token
        token = tokens[token, _NEXT]
    return -1


@kernel()
def _spells(data, start, tokens, left, right):
    """Whether the bytes at ``start`` are left's followed by right's."""
    for part in (left, right):
        for k in range(tokens[part, _LENGTH]):
            if data[start + k] != data[tokens[part, _START] + k]:
                return False
        start += tokens[part, _LENGTH]
    return True


@kernel()
def _add_token(tokens, table, data, data_end, token, left, right):
    """Token ``token`` = left's bytes + right's; returns the (maybe grown) buffer and its end."""
    length = tokens[left, _LENGTH] + tokens[right, _LENGTH]
    data = fit_rows(data, data_end + length)
    tokens[token, _START] = data_end
    for part in (left, right):
        start, n = tokens[part, _START], tokens[part, _LENGTH]
        data[data_end : data_end + n] = data[start : start + n]
        data_end += n
    tokens[token, _LENGTH] = length
    tokens[token, _HASH] = tokens[left, _HASH] * tokens[right, _POWER] + tokens[right, _HASH]
    tokens[token, _POWER] = tokens[left, _POWER] * tokens[right, _POWER]
    _index_token(tokens, table, token)
    return data, data_end


@kernel()
def take_merge(tokens, table, data, data_end, n_tok, merges, step, left, right, count):
    """Merge step ``step`` of (left, right) with ``count``: its token (the id already spelling those
    bytes, else the new id ``n_tok``) and its row (left, right, token, count, new) in ``merges``.

    Returns (token, is new, data, data_end, merges): the buffers may have grown.
    """
    token = _existing_token(tokens, table, data, left, right)
    is_new = token == -1
    if is_new:
        token = n_tok
        data, data_end = _add_token(tokens, table, data, data_end, token, left, right)
    merges = fit_rows(merges, step + 1)
    merges[step, 0] = left
    merges[step, 1] = right
    merges[step, 2] = token
    merges[step, 3] = count
    merges[step, 4] = 1 if is_new else 0
    return token, is_new, data, data_end, merges
