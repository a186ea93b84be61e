"""Compiled rank-based BPE of many pieces at once (``bbpe.encoding.pieces.segment_flat``).

Every function of this family is in this file (numba's cache tracks only the file of the function
it caches).  Data: the pieces back to back in one byte buffer with their end offsets; the tokens
in one byte buffer with start offsets, found by an open-addressing table of FNV-1a hashes (bytes
compared on a hit).

A piece that is a token is that token (as tiktoken and ``bpe.bpe_encode`` do).  Any other piece is
cut where no token can span: between two bytes that stand next to each other in no token
(``joinable``).  No merge joins the two sides of such a cut, so rank-based BPE of the piece is the
BPE of each part, from its bytes, concatenated.  Parts repeat (words, mostly), so each distinct
part is merged once and its ids kept in a cache; a part that is a token which BPE of its own
bytes reaches (``reachable_tokens``, computed once per vocabulary) needs no merging at all.
Merging a part takes candidates from a heap (lowest rank, then leftmost) over a linked list of
parts: O(n log n) for a part of n bytes (text without spaces makes parts of hundreds of bytes).
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import NO_REFCOUNT, kernel

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_NONE = np.int64(1) << 62  # "no rank": above every token id
# The kernels that only read and write the arrays they are given (``_segment_pieces`` and what it
# calls) are compiled without reference counting (numba's private ``_nrt`` option): with it, every
# call taking arrays costs atomic reference-count updates, more than the work on a short part.
# ``segment`` holds the arrays, grows them when ``_segment_pieces`` stops for room, and calls it again.


@kernel(inline="always")
def _hash(data, start, end):
    h = _FNV_OFFSET
    for k in range(start, end):
        h = (h ^ np.uint64(data[k])) * _FNV_PRIME
    h = (h ^ (h >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)  # mix the high bits into the low ones
    return h ^ (h >> np.uint64(33))


@kernel(**NO_REFCOUNT)
def _same(a, a_start, b, b_start, length):
    for k in range(length):
        if a[a_start + k] != b[b_start + k]:
            return False
    return True


@kernel()
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


@kernel(**NO_REFCOUNT)
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


# Rows of ``work`` for ``_merge_part``: the parts as a linked list over their first byte (next
# part's start, previous part's start), and a binary heap of candidate merges (rank, left part's
# start, right part's start, right part's end), smallest (rank, start) on top.
_NEXT_PART, _PREV_PART, _H_RANK, _H_LEFT, _H_RIGHT, _H_END = range(6)


@kernel(inline="always")
def _heap_below(work, a, b):
    """Does heap entry a come before entry b: lower rank, then further left?"""
    if work[_H_RANK, a] != work[_H_RANK, b]:
        return work[_H_RANK, a] < work[_H_RANK, b]
    return work[_H_LEFT, a] < work[_H_LEFT, b]


@kernel(inline="always")
def _heap_swap(work, a, b):
    for row in range(_H_RANK, _H_END + 1):
        work[row, a], work[row, b] = work[row, b], work[row, a]


@kernel(**NO_REFCOUNT)
def _push_merge(data, start, left, right, end, tok_data, tok_start, table, work, size):
    """Push the merge of parts [left, right) and [right, end) if their bytes are a token; returns the heap size."""
    rank = find_token(data, start + left, start + end, tok_data, tok_start, table)
    if rank < 0:
        return size
    work[_H_RANK, size], work[_H_LEFT, size], work[_H_RIGHT, size], work[_H_END, size] = rank, left, right, end
    k = size
    while k > 0 and _heap_below(work, k, (k - 1) // 2):
        _heap_swap(work, k, (k - 1) // 2)
        k = (k - 1) // 2
    return size + 1


@kernel(**NO_REFCOUNT)
def _pop_merge(work, size):
    """Move the top entry to index ``size - 1`` and restore the heap below it; returns the new size."""
    size -= 1
    _heap_swap(work, 0, size)
    k = 0
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        if child + 1 < size and _heap_below(work, child + 1, child):
            child += 1
        if not _heap_below(work, child, k):
            break
        _heap_swap(work, k, child)
        k = child
    return size


@kernel(**NO_REFCOUNT)
def _merge_part(data, start, end, tok_data, tok_start, table, work, out, at):
    """BPE of ``data[start:end]`` from its bytes (lowest rank first, leftmost on ties); ids to ``out[at:]``.

    Heap entries of merges that are gone (a part was merged away meanwhile) are skipped when popped.
    ``work`` has 6 rows of at least ``3 * (end - start) + 1`` entries.
    """
    n = end - start
    for k in range(n):
        work[_NEXT_PART, k], work[_PREV_PART, k] = k + 1, k - 1
    size = 0
    for k in range(n - 1):
        size = _push_merge(data, start, k, k + 1, k + 2, tok_data, tok_start, table, work, size)
    while size > 0:
        size = _pop_merge(work, size)
        left, right, stop = work[_H_LEFT, size], work[_H_RIGHT, size], work[_H_END, size]
        if work[_NEXT_PART, left] != right or work[_PREV_PART, right] != left:
            continue  # left was merged into its neighbour, or right was merged away
        if (work[_NEXT_PART, right] if right < n else n) != stop:
            continue  # right grew
        work[_NEXT_PART, left] = stop
        work[_PREV_PART, right] = -2  # merged away
        if stop < n:
            work[_PREV_PART, stop] = left
        before = work[_PREV_PART, left]
        if before >= 0:
            size = _push_merge(data, start, before, left, stop, tok_data, tok_start, table, work, size)
        if stop < n:
            size = _push_merge(data, start, left, stop, work[_NEXT_PART, stop], tok_data, tok_start, table, work, size)
    k, parts = 0, 0
    while k < n:
        t = find_token(data, start + k, start + work[_NEXT_PART, k], tok_data, tok_start, table)
        if t < 0:
            return -1  # a byte that is no token: the caller falls back
        out[at + parts] = t
        parts += 1
        k = work[_NEXT_PART, k]
    return at + parts


_DONE, _NEEDS_ROOM, _NOT_A_TOKEN = 0, 1, 2
_ENTRIES, _CACHED, _AT, _NEXT = range(4)  # state: cache entries, cached ids, ids written, next piece


@kernel()
def reachable_tokens(tok_data, tok_start, table):
    """Per token: does BPE of its own bytes (no whole-token shortcut) end in this one token?"""
    n = len(tok_start) - 1
    longest = np.max(tok_start[1:] - tok_start[:-1]) if n else 0
    work, ids = np.empty((6, 3 * longest + 1), np.int64), np.empty(longest + 1, np.int64)
    reachable = np.zeros(n, np.bool_)
    for t in range(n):
        made = _merge_part(tok_data, tok_start[t], tok_start[t + 1], tok_data, tok_start, table, work, ids, 0)
        reachable[t] = made == 1 and ids[0] == t
    return reachable


@kernel(nogil=True, **NO_REFCOUNT)
def _segment_pieces(data, piece_ends, joinable, tok_data, tok_start, table, reachable, out, per_piece, cache, state):
    """Segment pieces from ``state[_NEXT]`` on until done, or until a piece might not fit (returns why)."""
    slots, entries, cached, work, scratch = cache
    n_entries, n_cached, at = state[_ENTRIES], state[_CACHED], state[_AT]
    mask = len(slots) - 1
    status = _DONE
    p = state[_NEXT]
    while p < len(piece_ends):
        start, end = (piece_ends[p - 1] if p else 0), piece_ends[p]
        room = end - start  # a piece has at most this many parts and ids
        if (
            2 * (n_entries + room) > len(slots)
            or n_entries + room > len(entries)
            or n_cached + room > len(cached)
            or 3 * room + 1 > work.shape[1]
        ):
            status = _NEEDS_ROOM
            break
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
            slot = np.int64(_hash(data, part, stop)) & mask
            hit = -1
            while slots[slot] >= 0:
                e = slots[slot]
                if entries[e, 1] == length and _same(data, entries[e, 0], data, part, length):
                    hit = e
                    break
                slot = (slot + 1) & mask
            if hit < 0:
                whole_part = find_token(data, part, stop, tok_data, tok_start, table)
                if whole_part >= 0 and reachable[whole_part]:  # BPE of its bytes ends in this token
                    scratch[0] = whole_part
                    made = 1
                else:
                    made = _merge_part(data, part, stop, tok_data, tok_start, table, work, scratch, 0)
                if made < 0:
                    status = _NOT_A_TOKEN
                    break
                entries[n_entries, 0], entries[n_entries, 1] = part, length
                entries[n_entries, 2], entries[n_entries, 3] = n_cached, made
                for k in range(made):
                    cached[n_cached + k] = scratch[k]
                n_cached += made
                slots[slot] = n_entries
                hit = n_entries
                n_entries += 1
            first_id, count = entries[hit, 2], entries[hit, 3]
            for k in range(count):
                out[at + k] = cached[first_id + k]
            at += count
            part = stop
        if status != _DONE:
            break
        per_piece[p] = at - first
        p += 1
    state[_ENTRIES], state[_CACHED], state[_AT], state[_NEXT] = n_entries, n_cached, at, p
    return status


@kernel()
def _rehash(data, entries, n_entries, size):
    slots = np.full(size, -1, np.int64)
    for e in range(n_entries):
        slot = np.int64(_hash(data, entries[e, 0], entries[e, 0] + entries[e, 1])) & (size - 1)
        while slots[slot] >= 0:
            slot = (slot + 1) & (size - 1)
        slots[slot] = e
    return slots


@kernel(nogil=True)
def segment(data, piece_ends, joinable, tok_data, tok_start, table, reachable):
    """(ids of every piece back to back, int32; ids per piece, int64), or (empty, [-1]) if a byte is no token."""
    out = np.empty(max(16, len(data)), np.int32)  # a piece has at most one id per byte
    per_piece = np.zeros(len(piece_ends), np.int64)
    # Cache of parts: slots -> entry; entry = (data start, length, first id in cached, number of ids).
    slots, entries, cached = (
        np.full(1 << 16, -1, np.int64),
        np.empty((1 << 15, 4), np.int64),
        np.empty(1 << 16, np.int32),
    )
    work, scratch = np.empty((6, 256), np.int64), np.empty(256, np.int64)
    state = np.zeros(4, np.int64)
    while True:
        status = _segment_pieces(
            data,
            piece_ends,
            joinable,
            tok_data,
            tok_start,
            table,
            reachable,
            out,
            per_piece,
            (slots, entries, cached, work, scratch),
            state,
        )
        if status == _DONE:
            return out[: state[_AT]].copy(), per_piece
        if status == _NOT_A_TOKEN:
            return np.empty(0, np.int32), np.full(1, -1, np.int64)
        p = state[_NEXT]
        room = piece_ends[p] - (piece_ends[p - 1] if p else 0)
        n_entries = state[_ENTRIES]
        if 2 * (n_entries + room) > len(slots):
            size = len(slots)
            while 2 * (n_entries + room) > size:
                size *= 2
            slots = _rehash(data, entries, n_entries, size)
        if n_entries + room > len(entries):
            grown = np.empty((2 * (n_entries + room), 4), np.int64)
            grown[:n_entries] = entries[:n_entries]
            entries = grown
        if state[_CACHED] + room > len(cached):
            grown_ids = np.empty(2 * (state[_CACHED] + room), np.int32)
            grown_ids[: state[_CACHED]] = cached[: state[_CACHED]]
            cached = grown_ids
        if 3 * room + 1 > work.shape[1]:
            work, scratch = np.empty((6, 6 * room + 2), np.int64), np.empty(6 * room + 2, np.int64)
