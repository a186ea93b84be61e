"""Compiled rank-based BPE of many pieces at once (``bbpe.training.segmenting.segment_flat``).

Every function of this family is in this file (numba's cache tracks only the file of the function
it caches).  Data: the pieces back to back in one byte buffer with their end offsets; the tokens
in one byte buffer with start offsets, found by an open-addressing table of FNV-1a hashes (bytes
compared on a hit).

A piece that is a token is that token (as tiktoken and ``bpe.bpe_encode`` do).  Any other piece is
cut where no token can span: between two bytes that stand next to each other in no token
(``joinable``).  No merge joins the two sides of such a cut, so rank-based BPE of the piece is the
BPE of each part, from its bytes, concatenated.  Parts repeat (words, mostly), so each distinct
part is merged once and its ids kept in a cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_NONE = np.int64(1) << 62  # "no rank": above every token id


@njit(cache=True, inline="always")
def _hash(data, start, end):
    h = _FNV_OFFSET
    for k in range(start, end):
        h = (h ^ np.uint64(data[k])) * _FNV_PRIME
    h = (h ^ (h >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)  # mix the high bits into the low ones
    return h ^ (h >> np.uint64(33))


@njit(cache=True)
def _same(a, a_start, b, b_start, length):
    for k in range(length):
        if a[a_start + k] != b[b_start + k]:
            return False
    return True


@njit(cache=True)
def token_table(tok_data, tok_start):
    """Open-addressing table (at most half full) of token ids by the hash of their bytes; -1 is empty."""
    n = len(tok_start) - 1
    size = 1
    while size < 2 * n + 2:
        size *= 2
    table = np.full(size, -1, np.int64)
    mask = size - 1
    for t in range(n):
        slot = np.int64(_hash(tok_data, tok_start[t], tok_start[t + 1])) & mask
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = t
    return table


@njit(cache=True)
def find_token(data, start, end, tok_data, tok_start, table):
    """The id of the token whose bytes are ``data[start:end]``, or -1."""
    mask = len(table) - 1
    slot = np.int64(_hash(data, start, end)) & mask
    length = end - start
    while table[slot] >= 0:
        t = table[slot]
        if tok_start[t + 1] - tok_start[t] == length and _same(tok_data, tok_start[t], data, start, length):
            return t
        slot = (slot + 1) & mask
    return -1


@njit(cache=True)
def _merge_part(data, start, end, tok_data, tok_start, table, bounds, ranks, out, at):
    """BPE of ``data[start:end]`` from its bytes (lowest rank first, leftmost on ties); ids to ``out[at:]``."""
    n = end - start
    for k in range(n + 1):
        bounds[k] = start + k
    parts = n
    for k in range(parts - 1):
        rank = find_token(data, bounds[k], bounds[k + 2], tok_data, tok_start, table)
        ranks[k] = rank if rank >= 0 else _NONE
    while parts > 1:
        best = 0
        for k in range(1, parts - 1):
            if ranks[k] < ranks[best]:
                best = k
        if ranks[best] == _NONE:
            break
        for k in range(best + 1, parts):  # drop the bound between the two merged parts
            bounds[k] = bounds[k + 1]
        for k in range(best + 1, parts - 2):
            ranks[k] = ranks[k + 1]
        parts -= 1
        for k in (best - 1, best):
            if 0 <= k < parts - 1:
                rank = find_token(data, bounds[k], bounds[k + 2], tok_data, tok_start, table)
                ranks[k] = rank if rank >= 0 else _NONE
    for k in range(parts):
        t = find_token(data, bounds[k], bounds[k + 1], tok_data, tok_start, table)
        if t < 0:
            return -1  # a byte that is no token: the caller falls back
        out[at + k] = t
    return at + parts


@njit(cache=True)
def _grow(array, need):
    grown = np.empty(max(2 * len(array), need), array.dtype)
    grown[: len(array)] = array
    return grown


@njit(cache=True, nogil=True)
def segment(data, piece_ends, joinable, tok_data, tok_start, table):
    """(ids of every piece back to back, int32; ids per piece, int64), or (empty, [-1]) if a byte is no token."""
    out = np.empty(max(16, len(data)), np.int32)
    per_piece = np.zeros(len(piece_ends), np.int64)
    scratch = np.empty(16, np.int64)
    bounds, ranks = np.empty(16, np.int64), np.empty(16, np.int64)
    # Cache of parts: slots -> entry; entry = (data start, length, first id in cached, number of ids).
    slots = np.full(1 << 16, -1, np.int64)
    entries = np.empty((1 << 15, 4), np.int64)
    cached = np.empty(1 << 16, np.int32)
    n_entries, n_cached, at, start = 0, 0, 0, 0
    for p in range(len(piece_ends)):
        end = piece_ends[p]
        first = at
        whole = find_token(data, start, end, tok_data, tok_start, table)
        if whole >= 0:
            out[at] = whole
            at += 1
        part = start
        while whole < 0 and part < end:
            stop = part + 1  # the part runs to the next cut
            while stop < end and joinable[(np.int64(data[stop - 1]) << 8) | np.int64(data[stop])]:
                stop += 1
            length = stop - part
            if 2 * (n_entries + 1) > len(slots):
                slots = np.full(2 * len(slots), -1, np.int64)
                for e in range(n_entries):
                    s = np.int64(_hash(data, entries[e, 0], entries[e, 0] + entries[e, 1])) & (len(slots) - 1)
                    while slots[s] >= 0:
                        s = (s + 1) & (len(slots) - 1)
                    slots[s] = e
            mask = len(slots) - 1
            slot = np.int64(_hash(data, part, stop)) & mask
            hit = -1
            while slots[slot] >= 0:
                e = slots[slot]
                if entries[e, 1] == length and _same(data, entries[e, 0], data, part, length):
                    hit = e
                    break
                slot = (slot + 1) & mask
            if hit < 0:
                if len(bounds) < length + 1:
                    bounds, ranks, scratch = (
                        np.empty(2 * length + 2, np.int64),
                        np.empty(2 * length + 2, np.int64),
                        np.empty(2 * length + 2, np.int64),
                    )
                made = _merge_part(data, part, stop, tok_data, tok_start, table, bounds, ranks, scratch, 0)
                if made < 0:
                    return np.empty(0, np.int32), np.full(1, -1, np.int64)
                if n_entries == len(entries):
                    grown = np.empty((2 * len(entries), 4), np.int64)
                    grown[:n_entries] = entries
                    entries = grown
                if n_cached + made > len(cached):
                    cached = _grow(cached, n_cached + made)
                entries[n_entries, 0], entries[n_entries, 1] = part, length
                entries[n_entries, 2], entries[n_entries, 3] = n_cached, made
                cached[n_cached : n_cached + made] = scratch[:made]
                n_cached += made
                slots[slot] = n_entries
                hit = n_entries
                n_entries += 1
            first_id, count = entries[hit, 2], entries[hit, 3]
            if at + count > len(out):
                out = _grow(out, at + count)
            for k in range(count):
                out[at + k] = cached[first_id + k]
            at += count
            part = stop
        per_piece[p] = at - first
        start = end
    return out[:at].copy(), per_piece
