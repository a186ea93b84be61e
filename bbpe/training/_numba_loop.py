"""The compiled merge loop: ``bbpe.bpe.learn_merges`` on flat int arrays (see ``bbpe.training.merge_numba``).

Data, all numpy arrays (tables, heap and growable rows from ``bbpe.training._numba_tables``):

* symbols: one int32 array holding every unique pre-token's token ids back to back, each word
  preceded by a separator -1 (and one more closes the last word); ``starts`` (int32) gives each
  word's first position and ``word_count`` (int64) its count, found from a position through a
  table of the word at every 16th position.  A merge writes the token at the left symbol's
  position and marks the right one dead: a live symbol covers a span of positions whose other
  positions are dead and hold -(span length) (at least the first and the last one do, so the
  next live symbol is ``p + length`` and the previous one ``p - length``), so words never move;
* pairs: a table key -> pair id (key = left << 32 | right) and one row per pair
  ``[key, count, first block]``; a pair's occurrences are a chain of blocks ``[start, length,
  next]`` in a pool of positions (of the pair's left symbol).  Positions that lost the pair are
  skipped when visited; the pool is compacted when it fills up (dropping the lists of pairs
  that are gone and the positions that no longer hold their pair);
* a heap of ``[count, key, pair id]`` rows, refreshed lazily, holding only pairs that
  reach ``min_frequency`` (a rarer pair is pushed when it grows);
* tokens: rows ``[start, length, hash, base**length, next id with that hash]`` over one
  byte buffer, and a table hash -> newest id, so "these bytes already are a token" is a
  lookup plus a byte comparison.

One step visits the best pair's positions, so it costs O(occurrences), not O(length of the
words holding them).  Results match the reference's left-to-right rewrite: only a position
that starts a chain of back-to-back occurrences (``a b a b``, or a run ``a a a`` for (a, a))
is taken, and the chain is merged from there left to right.  The changes of the pairs next
to the merged ones are summed per neighbour id (``near``, one row per token id), so the pair
table is touched once per distinct neighbour, not once per occurrence.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bbpe.training._numba_tables import (
    find,
    fit_rows,
    fit_table,
    heap_drop_top,
    heap_push,
    heapify,
    new_table,
    sift_down,
)

SEPARATOR = -1  # symbols: before each word and after the last; a dead position holds -(span length) <= -2
_WORD_SHIFT = 4  # the position -> word table has an entry per 2**_WORD_SHIFT positions
_KEY, _COUNT, _BLOCK = range(3)  # pair rows
_START, _LENGTH, _HASH, _POWER, _NEXT = range(5)  # token rows
_HASH_BASE = 0x100000001B3
# Neighbour rows, for merging (left, right) into token: x stands before the pair, y after it.
# GAIN_*: count added to (x, token) / (token, y); LOSS_*: removed from (x, left) / (right, y);
# SLOT_*: number of new occurrences, then the write position in the pool.
_STEP, _GAIN_X, _LOSS_X, _SLOT_X, _GAIN_Y, _LOSS_Y, _SLOT_Y = range(7)
STOP_VOCAB_SIZE, STOP_MIN_FREQUENCY, STOP_INTERRUPTED = range(3)


@njit(cache=True)
def word_store(word_ids, word_start):
    """Symbols (a separator, then the word's ids, per word; a separator at the end) and each word's first position."""
    n_words = len(word_start) - 1
    symbols = np.empty(len(word_ids) + n_words + 1, np.int32)
    starts = np.empty(n_words, np.int32)
    at = 0
    for w in range(n_words):
        symbols[at] = SEPARATOR
        starts[w] = at + 1
        n = word_start[w + 1] - word_start[w]
        symbols[at + 1 : at + 1 + n] = word_ids[word_start[w] : word_start[w + 1]]
        at += 1 + n
    symbols[at] = SEPARATOR
    return symbols, starts


@njit(cache=True)
def _next(symbols, p):
    """The position after live symbol ``p``: the next live symbol or a separator."""
    marker = symbols[p + 1]
    return p + 1 if marker >= SEPARATOR else p - marker


@njit(cache=True)
def _prev(symbols, p):
    """The live symbol before live symbol ``p``, or -1 at the start of its word."""
    marker = symbols[p - 1]
    if marker == SEPARATOR:
        return -1
    return p - 1 if marker >= 0 else p + marker


@njit(cache=True)
def _holds(symbols, p, left, right):
    """Whether position ``p`` is live and holds ``left`` followed by ``right``."""
    return symbols[p] == left and symbols[_next(symbols, p)] == right


@njit(cache=True)
def _starts_chain(symbols, p, left, right):
    """Whether the occurrence at ``p`` is merged first of its chain: left to right, no occurrence
    ends just before it (for left == right: no ``left`` stands before it)."""
    o = _prev(symbols, p)
    if o == -1:
        return True
    if left == right:
        return symbols[o] != left
    if symbols[o] != right:
        return True
    o = _prev(symbols, o)
    return o == -1 or symbols[o] != left


@njit(cache=True)
def _word_table(starts, n_positions):
    """The word holding (or the last word starting before) every 2**_WORD_SHIFT-th position."""
    table = np.empty((n_positions >> _WORD_SHIFT) + 1, np.int32)
    w = 0
    for k in range(len(table)):
        while w + 1 < len(starts) and starts[w + 1] <= k << _WORD_SHIFT:
            w += 1
        table[k] = w
    return table


@njit(cache=True)
def _word_at(starts, word_table, p):
    w = word_table[p >> _WORD_SHIFT]
    while w + 1 < len(starts) and starts[w + 1] <= p:
        w += 1
    return w


@njit(cache=True)
def _pair_id(pairs, table, n_pairs, left, right):
    """The id of pair (left, right), created with count 0 if new; returns (id, number of pairs)."""
    key = (np.int64(left) << 32) | right
    slot = find(table, key)
    if table[slot, 1] == -1:
        table[slot, 0] = key
        table[slot, 1] = n_pairs
        pairs[n_pairs, _KEY] = key
        pairs[n_pairs, _COUNT] = 0
        pairs[n_pairs, _BLOCK] = -1
        n_pairs += 1
    return table[slot, 1], n_pairs


@njit(cache=True)
def _index_pairs(symbols, starts, word_count):
    """Pair rows and table for the initial words, and one block of positions per pair."""
    pairs = np.empty((1024, 3), np.int64)
    table = new_table(1024)
    n_pairs = 0
    position_pair = np.empty(len(symbols), np.int32)  # set where a pair starts
    for w in range(len(starts)):
        end = starts[w + 1] - 1 if w + 1 < len(starts) else len(symbols) - 1
        pairs = fit_rows(pairs, n_pairs + end - starts[w])
        table = fit_table(table, n_pairs + end - starts[w])
        for p in range(starts[w], end - 1):
            pid, n_pairs = _pair_id(pairs, table, n_pairs, symbols[p], symbols[p + 1])
            pairs[pid, _COUNT] += word_count[w]
            position_pair[p] = pid
    first = np.zeros(n_pairs + 1, np.int64)  # count, then list, the positions of each pair
    for p in range(len(symbols) - 1):
        if symbols[p] != SEPARATOR and symbols[p + 1] != SEPARATOR:
            first[position_pair[p] + 1] += 1
    first = np.cumsum(first)
    pool = np.empty(max(1024, first[n_pairs]), np.int32)
    at = first[:-1].copy()
    for p in range(len(symbols) - 1):
        if symbols[p] != SEPARATOR and symbols[p + 1] != SEPARATOR:
            pool[at[position_pair[p]]] = p
            at[position_pair[p]] += 1
    blocks = np.empty((n_pairs + 1024, 3), np.int64)
    for pid in range(n_pairs):
        blocks[pid, 0] = first[pid]
        blocks[pid, 1] = first[pid + 1] - first[pid]
        blocks[pid, 2] = -1
        pairs[pid, _BLOCK] = pid
    return pairs, table, n_pairs, blocks, pool, first[n_pairs]


@njit(cache=True)
def _compact_or_grow(symbols, pairs, n_pairs, pool, blocks, n_blocks, pool_end, need):
    """Room for ``need`` more pool entries: keep only the positions still holding a pair that is
    not gone if they fill half the pool, else grow it.  Returns (pool, blocks, number of blocks, pool end)."""
    live = 0
    for pid in range(n_pairs):
        block = pairs[pid, _BLOCK] if pairs[pid, _COUNT] > 0 else -1
        left, right = pairs[pid, _KEY] >> 32, pairs[pid, _KEY] & 0xFFFFFFFF
        while block != -1:
            for k in range(blocks[block, 0], blocks[block, 0] + blocks[block, 1]):
                if _holds(symbols, pool[k], left, right):
                    live += 1
            block = blocks[block, 2]
    if 2 * live > pool_end:
        return fit_rows(pool, pool_end + need), blocks, n_blocks, pool_end
    new_pool = np.empty(max(1024, 2 * (live + need)), np.int32)
    new_blocks = np.empty((n_pairs + 1024, 3), np.int64)
    end = 0
    count = 0
    for pid in range(n_pairs):
        block = pairs[pid, _BLOCK] if pairs[pid, _COUNT] > 0 else -1
        pairs[pid, _BLOCK] = -1 if block == -1 else count
        if block == -1:
            continue
        left, right = pairs[pid, _KEY] >> 32, pairs[pid, _KEY] & 0xFFFFFFFF
        new_blocks[count, 0] = end
        while block != -1:
            for k in range(blocks[block, 0], blocks[block, 0] + blocks[block, 1]):
                if _holds(symbols, pool[k], left, right):
                    new_pool[end] = pool[k]
                    end += 1
            block = blocks[block, 2]
        new_blocks[count, 1] = end - new_blocks[count, 0]
        new_blocks[count, 2] = -1
        count += 1
    return new_pool, new_blocks, count, end


@njit(cache=True)
def pop_best(heap, size, pairs, min_frequency):
    """Drop or refresh stale rows until the top is current; returns the new size (0: none left).

    Counts only fall, except for pairs that grew, which were pushed again with the new count.
    """
    while size > 0:
        current = pairs[heap[0, 2], _COUNT]
        if current == heap[0, 0]:
            return size
        if min_frequency <= current < heap[0, 0]:
            heap[0, 0] = current
            sift_down(heap, size, 0)
        else:  # gone, too rare, or grew (a newer row holds its count)
            size = heap_drop_top(heap, size)
    return 0


@njit(cache=True)
def _token_rows(tok_data, tok_start, capacity):
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


@njit(cache=True)
def _index_token(tokens, table, t):
    slot = find(table, tokens[t, _HASH])
    tokens[t, _NEXT] = table[slot, 1]
    table[slot, 0] = tokens[t, _HASH]
    table[slot, 1] = t


@njit(cache=True)
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


@njit(cache=True)
def _spells(data, start, tokens, left, right):
    """Whether the bytes at ``start`` are left's followed by right's."""
    for part in (left, right):
        for k in range(tokens[part, _LENGTH]):
            if data[start + k] != data[tokens[part, _START] + k]:
                return False
        start += tokens[part, _LENGTH]
    return True


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _note(near, nearby, n_near, z, step):
    """Make neighbour row ``z`` current for this step; returns the number of noted neighbours."""
    if near[z, _STEP] == step:
        return n_near
    near[z] = 0
    near[z, _STEP] = step
    nearby[n_near] = z
    return n_near + 1


@njit(cache=True)
def _merge_chain(symbols, p, left, right, token, c, near, nearby, n_near, merged, n_merged, step):
    """Merge (left, right) -> token at ``p`` and at the occurrences right after it, as the reference
    does (``p`` starts a chain), noting the neighbour changes for a word counted ``c`` times.

    Each merged position goes to ``merged``: as is if (token, y) is a new occurrence there, else
    as ~position.  Returns (n_near, n_merged).
    """
    merged_before = False
    while True:
        q = _next(symbols, p)
        r = _next(symbols, q)
        o = _prev(symbols, p)
        if o != -1:  # (x, left) -> (x, token); x is the token merged last if any
            x = symbols[o]
            n_near = _note(near, nearby, n_near, x, step)
            if not merged_before:  # else (right, left) was counted as lost already
                near[x, _LOSS_X] += c
            near[x, _GAIN_X] += c
            near[x, _SLOT_X] += 1
        goes_on = False
        new_y = False
        if symbols[r] != SEPARATOR:  # (right, y) -> (token, y), unless y starts the next occurrence
            y = symbols[r]
            n_near = _note(near, nearby, n_near, y, step)
            near[y, _LOSS_Y] += c
            goes_on = y == left and symbols[_next(symbols, r)] == right
            if not goes_on:
                near[y, _GAIN_Y] += c
                near[y, _SLOT_Y] += 1
                new_y = True
        dead = p - r  # -(length of the merged span)
        symbols[p] = token
        symbols[p + 1] = dead
        symbols[q] = dead
        symbols[r - 1] = dead
        merged[n_merged] = p if new_y else ~p
        n_merged += 1
        if not goes_on:
            return n_near, n_merged
        p = r
        merged_before = True


@njit(cache=True, nogil=True)
def learn(symbols, starts, word_count, tok_data, tok_start, n_new, min_frequency, control):
    """Merge until ``n_new`` new tokens exist or no pair reaches ``min_frequency`` (>= 1).

    ``control[0]`` receives the tokens added so far; a nonzero ``control[1]`` stops the loop.
    Returns ([left, right, token, count, new] per step, stop code).
    """
    n_tok = len(tok_start) - 1
    capacity = n_tok + n_new
    tokens, data, t_table = _token_rows(tok_data, tok_start, capacity)
    data_end = len(tok_data)
    pairs, table, n_pairs, blocks, pool, pool_end = _index_pairs(symbols, starts, word_count)
    word_table = _word_table(starts, len(symbols))
    n_blocks = n_pairs
    heap = np.empty((np.sum(pairs[:n_pairs, _COUNT] >= min_frequency) + 1024, 3), np.int64)
    heap_size = 0
    for pid in range(n_pairs):
        if pairs[pid, _COUNT] >= min_frequency:
            heap[heap_size, 0] = pairs[pid, _COUNT]
            heap[heap_size, 1] = pairs[pid, _KEY]
            heap[heap_size, 2] = pid
            heap_size += 1
    heapify(heap, heap_size)
    near = np.zeros((capacity, 7), np.int64)
    near[:, _STEP] = -1
    nearby = np.empty(capacity, np.int64)
    grown = np.empty(2 * capacity, np.int64)
    merged = np.empty(1024, np.int32)
    merges = np.empty((1024, 5), np.int64)
    steps = 0
    added = 0
    stop = STOP_VOCAB_SIZE
    while added < n_new:
        if control[1] != 0:
            stop = STOP_INTERRUPTED
            break
        heap_size = pop_best(heap, heap_size, pairs, min_frequency)
        if heap_size == 0:
            stop = STOP_MIN_FREQUENCY
            break
        count, best = heap[0, 0], heap[0, 2]
        heap_size = heap_drop_top(heap, heap_size)
        left, right = pairs[best, _KEY] >> 32, pairs[best, _KEY] & 0xFFFFFFFF
        token, is_new, data, data_end, merges = take_merge(
            tokens, t_table, data, data_end, n_tok, merges, steps, left, right, count
        )
        if is_new:
            n_tok += 1
            added += 1

        # Merge the chains starting at the pair's positions; sum the neighbour changes per neighbour id.
        listed = 0
        block = pairs[best, _BLOCK]
        while block != -1:
            listed += blocks[block, 1]
            block = blocks[block, 2]
        merged = fit_rows(merged, listed)
        n_near = 0
        n_merged = 0
        block = pairs[best, _BLOCK]
        while block != -1:
            for k in range(blocks[block, 0], blocks[block, 0] + blocks[block, 1]):
                p = pool[k]
                if _holds(symbols, p, left, right) and _starts_chain(symbols, p, left, right):
                    c = word_count[_word_at(starts, word_table, p)]
                    n_near, n_merged = _merge_chain(
                        symbols, p, left, right, token, c, near, nearby, n_near, merged, n_merged, steps
                    )
            block = blocks[block, 2]
        pairs[best, _COUNT] = 0
        pairs[best, _BLOCK] = -1  # every listed occurrence is merged

        # Apply the sums: one table lookup per neighbour and side, a new block of positions per gain.
        pairs = fit_rows(pairs, n_pairs + 2 * n_near)
        table = fit_table(table, n_pairs + 2 * n_near)
        need = 0
        for k in range(n_near):
            need += near[nearby[k], _SLOT_X] + near[nearby[k], _SLOT_Y]
        if pool_end + need > len(pool):
            pool, blocks, n_blocks, pool_end = _compact_or_grow(
                symbols, pairs, n_pairs, pool, blocks, n_blocks, pool_end, need
            )
        blocks = fit_rows(blocks, n_blocks + 2 * n_near)
        n_grown = 0
        for k in range(n_near):
            z = nearby[k]
            if near[z, _LOSS_X]:
                pid, n_pairs = _pair_id(pairs, table, n_pairs, z, left)
                pairs[pid, _COUNT] -= near[z, _LOSS_X]
            if near[z, _LOSS_Y]:
                pid, n_pairs = _pair_id(pairs, table, n_pairs, right, z)
                pairs[pid, _COUNT] -= near[z, _LOSS_Y]
            for side in range(2):  # x: (z, token); y: (token, z)
                gain_column = _GAIN_Y if side else _GAIN_X
                slot_column = _SLOT_Y if side else _SLOT_X
                if near[z, gain_column]:
                    if side:
                        pid, n_pairs = _pair_id(pairs, table, n_pairs, token, z)
                    else:
                        pid, n_pairs = _pair_id(pairs, table, n_pairs, z, token)
                    pairs[pid, _COUNT] += near[z, gain_column]
                    blocks[n_blocks, 0] = pool_end
                    blocks[n_blocks, 1] = near[z, slot_column]
                    blocks[n_blocks, 2] = pairs[pid, _BLOCK]
                    pairs[pid, _BLOCK] = n_blocks
                    n_blocks += 1
                    near[z, slot_column] = pool_end
                    pool_end += blocks[n_blocks - 1, 1]
                    grown[n_grown] = pid
                    n_grown += 1
        for k in range(n_merged):  # the new occurrences, where _merge_chain counted them
            p = merged[k] if merged[k] >= 0 else ~merged[k]
            o = _prev(symbols, p)
            if o != -1:
                z = symbols[o]
                pool[near[z, _SLOT_X]] = o
                near[z, _SLOT_X] += 1
            if merged[k] >= 0:
                z = symbols[_next(symbols, p)]
                pool[near[z, _SLOT_Y]] = p
                near[z, _SLOT_Y] += 1
        pairs[best, _COUNT] = 0  # the losses may have counted it again

        heap = fit_rows(heap, heap_size + n_grown)
        for k in range(n_grown):
            if pairs[grown[k], _COUNT] >= min_frequency:
                heap_size = heap_push(heap, heap_size, pairs[grown[k], _COUNT], pairs[grown[k], _KEY], grown[k])
        steps += 1
        control[0] = added
    return merges[:steps].copy(), stop
