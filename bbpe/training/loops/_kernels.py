"""The compiled merge loop: ``bbpe.training.loops.reference.learn_merges`` on flat int arrays (see ``bbpe.training.loops.compiled``).

Data, all numpy arrays (tables, heap and growable rows from ``bbpe.training.loops._tables``):

* words: one int32 store holding, per unique pre-token, ``[length, count & 0xFFFFFFFF,
  count >> 32, token ids...]``; a word is named by its offset and shrinks in place as it merges;
* pairs: a table key -> pair id (key = left << 32 | right) and one row per pair
  ``[key, count, first block]``; a pair's words are a chain of blocks ``[start, length,
  next]`` in a pool of word offsets.  Words that lost the pair are skipped when visited;
  the lists of pairs that are gone (count 0) are dropped when the pool fills up;
* a heap of ``[count, key, pair id]`` rows, refreshed lazily, holding only pairs that
  reach ``min_frequency`` (a rarer pair is pushed when it grows);
* tokens: rows ``[start, length, hash, base**length, next id with that hash]`` over one
  byte buffer, and a table hash -> newest id, so "these bytes already are a token" is a
  lookup plus a byte comparison.

One step rewrites the words holding the best pair and sums the changes of the pairs next
to it per neighbour id (``near``, one row per token id), so the pair table is touched once
per distinct neighbour, not once per occurrence.  A *merge state* (``index_words``) holds the
pairs, blocks, pool and heap of one set of words: ``learn`` has one, the parity-aware loop
(``bbpe.training.methods._parity_kernels``) one per language and side.
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import kernel
from bbpe.training.loops._tables import (
    find,
    fit_rows,
    fit_table,
    heap_drop_top,
    heap_push,
    heapify,
    new_table,
    sift_down,
)

HEADER = 3  # word store: length, low and high half of the count, then the ids
_KEY, _COUNT, _BLOCK = range(3)  # pair rows
_START, _LENGTH, _HASH, _POWER, _NEXT = range(5)  # token rows
_HASH_BASE = 0x100000001B3
# Neighbour rows, for merging (left, right) into token: x stands before the pair, y after it.
# GAIN_*: count added to (x, token) / (token, y); LOSS_*: removed from (x, left) / (right, y);
# WORD_*: last word noted; SLOT_*: number of words noted, then the write position in the pool.
_STEP, _GAIN_X, _LOSS_X, _WORD_X, _SLOT_X, _GAIN_Y, _LOSS_Y, _WORD_Y, _SLOT_Y = range(9)
STOP_VOCAB_SIZE, STOP_MIN_FREQUENCY, STOP_INTERRUPTED = range(3)


@kernel()
def word_store(word_ids, word_start, word_count):
    """The word store built from ids back to back, start offsets and counts."""
    store = np.empty(len(word_ids) + HEADER * len(word_count), np.int32)
    at = 0
    for w in range(len(word_count)):
        n = word_start[w + 1] - word_start[w]
        store[at] = n
        store[at + 1] = word_count[w] & 0xFFFFFFFF
        store[at + 2] = word_count[w] >> 32
        store[at + HEADER : at + HEADER + n] = word_ids[word_start[w] : word_start[w + 1]]
        at += HEADER + n
    return store


@kernel()
def _word_count(store, w):
    return (np.int64(store[w + 2]) << 32) | (np.int64(store[w + 1]) & 0xFFFFFFFF)


@kernel()
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


@kernel()
def _index_pairs(store):
    """Pair rows and table for the initial words, and one block of word offsets per pair."""
    pairs = np.empty((1024, 3), np.int64)
    table = new_table(np.int64(1024))
    n_pairs = np.int64(0)
    position_pair = np.empty(len(store), np.int32)
    w = np.int64(0)
    while w < len(store):
        n = store[w]
        pairs = fit_rows(pairs, n_pairs + n)
        table = fit_table(table, n_pairs + n)
        for i in range(w + HEADER, w + HEADER + n - 1):
            pid, n_pairs = _pair_id(pairs, table, n_pairs, np.int64(store[i]), np.int64(store[i + 1]))
            pairs[pid, _COUNT] += _word_count(store, w)
            position_pair[i] = pid
        w += HEADER + n
    sizes = np.zeros(n_pairs + 1, np.int64)  # count, then list, the words of each pair
    _list_words(store, position_pair, sizes[1:], np.empty(0, np.int32))
    first = np.cumsum(sizes)
    pool = np.empty(max(1024, first[n_pairs]), np.int32)
    _list_words(store, position_pair, first[:-1].copy(), pool)
    blocks = np.empty((n_pairs + 1024, 3), np.int64)
    for pid in range(n_pairs):
        blocks[pid, 0] = first[pid]
        blocks[pid, 1] = sizes[pid + 1]
        blocks[pid, 2] = -1
        pairs[pid, _BLOCK] = pid
    return pairs, table, n_pairs, blocks, pool, first[n_pairs]


@kernel()
def _list_words(store, position_pair, at, pool):
    """Each word once per pair it holds: count into ``at[pid]`` (``pool`` empty), or write to ``pool[at[pid]++]``."""
    fill = len(pool) > 0
    last_word = np.full(len(at), -1, np.int64)
    w = np.int64(0)
    while w < len(store):
        for i in range(w + HEADER, w + HEADER + store[w] - 1):
            pid = position_pair[i]
            if last_word[pid] != w:
                last_word[pid] = w
                if fill:
                    pool[at[pid]] = w
                at[pid] += 1
        w += HEADER + store[w]


@kernel()
def _compact_or_grow(pairs, n_pairs, pool, blocks, n_blocks, pool_end, need):
    """Room for ``need`` more pool entries: drop the word lists of pairs that are gone if they
    fill half the pool, else grow it.  Returns (pool, blocks, number of blocks, pool end)."""
    live = 0
    for pid in range(n_pairs):
        block = pairs[pid, _BLOCK] if pairs[pid, _COUNT] > 0 else -1
        while block != -1:
            live += blocks[block, 1]
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
        new_blocks[count, 0] = end
        while block != -1:
            length = blocks[block, 1]
            new_pool[end : end + length] = pool[blocks[block, 0] : blocks[block, 0] + length]
            end += length
            block = blocks[block, 2]
        new_blocks[count, 1] = end - new_blocks[count, 0]
        new_blocks[count, 2] = -1
        count += 1
    return new_pool, new_blocks, count, end


@kernel()
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
            sift_down(heap, size, np.int64(0))
        else:  # gone, too rare, or grew (a newer row holds its count)
            size = heap_drop_top(heap, size)
    return 0


@kernel()
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


@kernel()
def _note(near, nearby, n_near, z, step):
    """Make neighbour row ``z`` current for this step; returns the number of noted neighbours."""
    if near[z, _STEP] == step:
        return n_near
    near[z] = 0
    near[z, _STEP] = step
    near[z, _WORD_X] = -1
    near[z, _WORD_Y] = -1
    nearby[n_near] = z
    return n_near + 1


@kernel()
def _rewrite(store, w, left, right, token, near, nearby, n_near, events, n_events, step):
    """Merge (left, right) -> token in word ``w`` in place (as the reference does), noting the
    neighbour changes, and an event (word, 2 * neighbour + side) per new (pair, word).

    A word without the pair (merged on an earlier visit) is left as it is.
    """
    n = store[w]
    c = _word_count(store, w)
    s = w + HEADER
    i = 0
    j = 0
    merged_before = False
    while i < n:
        a = store[s + i]
        if a == left and i + 1 < n and store[s + i + 1] == right:
            if j > 0:  # (x, left) -> (x, token); x is the token written last
                x = store[s + j - 1]
                n_near = _note(near, nearby, n_near, x, step)
                if not merged_before:  # else (right, left) was counted as lost already
                    near[x, _LOSS_X] += c
                near[x, _GAIN_X] += c
                if near[x, _WORD_X] != w:
                    near[x, _WORD_X] = w
                    near[x, _SLOT_X] += 1
                    events[n_events, 0] = w
                    events[n_events, 1] = 2 * x
                    n_events += 1
            if i + 2 < n:  # (right, y) -> (token, y), unless y starts the next occurrence
                y = store[s + i + 2]
                n_near = _note(near, nearby, n_near, y, step)
                near[y, _LOSS_Y] += c
                if not (y == left and i + 3 < n and store[s + i + 3] == right):
                    near[y, _GAIN_Y] += c
                    if near[y, _WORD_Y] != w:
                        near[y, _WORD_Y] = w
                        near[y, _SLOT_Y] += 1
                        events[n_events, 0] = w
                        events[n_events, 1] = 2 * y + 1
                        n_events += 1
            store[s + j] = token
            i += 2
            merged_before = True
        else:
            store[s + j] = a
            i += 1
            merged_before = False
        j += 1
    store[w] = j
    return n_near, n_events


@kernel()
def index_words(store, min_frequency):
    """The merge state of the words in ``store``: (pairs, table, blocks, pool, heap, sizes), where
    sizes = [pairs, blocks, pool end, heap rows] and the heap holds the pairs reaching ``min_frequency``."""
    pairs, table, n_pairs, blocks, pool, pool_end = _index_pairs(store)
    heap = np.empty((np.sum(pairs[:n_pairs, _COUNT] >= min_frequency) + 1024, 3), np.int64)
    heap_size = np.int64(0)
    for pid in range(n_pairs):
        if pairs[pid, _COUNT] >= min_frequency:
            heap[heap_size, 0] = pairs[pid, _COUNT]
            heap[heap_size, 1] = pairs[pid, _KEY]
            heap[heap_size, 2] = pid
            heap_size += 1
    heapify(heap, heap_size)
    sizes = np.array([n_pairs, n_pairs, pool_end, heap_size], np.int64)
    return pairs, table, blocks, pool, heap, sizes


@kernel()
def pair_of(state, key):
    """The id of pair ``key`` (left << 32 | right) in a merge state while some word holds it, else -1."""
    pairs, table = state[0], state[1]
    pid = table[find(table, key), 1]
    return -1 if pid == -1 or pairs[pid, _COUNT] == 0 else pid


@kernel()
def pair_count(state, key):
    """The count of pair ``key`` in a merge state (0 if no word holds it)."""
    pid = pair_of(state, key)
    return 0 if pid == -1 else state[0][pid, _COUNT]


@kernel()
def pair_rows(state):
    """``[key, count]`` of every pair id of a merge state (count 0: gone)."""
    return state[0][: state[5][0], _KEY : _COUNT + 1]


@kernel()
def pop_pair(state, min_frequency):
    """Take the most frequent pair reaching ``min_frequency`` off the state's heap: (count, key, pair id),
    or (0, -1, -1) when there is none."""
    pairs, heap, sizes = state[0], state[4], state[5]
    sizes[3] = pop_best(heap, sizes[3], pairs, min_frequency)
    if sizes[3] == 0:
        return 0, -1, -1
    count, key, pid = heap[0, 0], heap[0, 1], heap[0, 2]
    sizes[3] = heap_drop_top(heap, sizes[3])
    return count, key, pid


@kernel()
def merge_words(store, state, best, token, near, nearby, grown, events, stamp):
    """Merge pair ``best`` into ``token`` in every word of a merge state (see ``index_words``), as the
    reference does; ``stamp`` must differ from every earlier call's (``near`` rows of the call).

    Returns (state, events, number of pairs that grew, ids saved x word counts); the ids of the
    pairs that grew are in ``grown`` (they are not pushed to the heap).
    """
    pairs, table, blocks, pool, heap, sizes = state
    n_pairs, n_blocks, pool_end = sizes[0], sizes[1], sizes[2]
    left, right = pairs[best, _KEY] >> 32, pairs[best, _KEY] & 0xFFFFFFFF

    # Rewrite every word holding the pair; sum the neighbour changes per neighbour id.
    n_near = np.int64(0)
    n_events = np.int64(0)
    saved = np.int64(0)
    block = pairs[best, _BLOCK]
    while block != -1:
        for k in range(blocks[block, 0], blocks[block, 0] + blocks[block, 1]):
            w = np.int64(pool[k])
            n = store[w]
            events = fit_rows(events, n_events + n)
            n_near, n_events = _rewrite(store, w, left, right, token, near, nearby, n_near, events, n_events, stamp)
            saved += (n - store[w]) * _word_count(store, w)
        block = blocks[block, 2]
    pairs[best, _COUNT] = 0

    # Apply the sums: one table lookup per neighbour and side, a new word block per gain.
    pairs = fit_rows(pairs, n_pairs + 2 * n_near)
    table = fit_table(table, n_pairs + 2 * n_near)
    if pool_end + n_events > len(pool):
        pool, blocks, n_blocks, pool_end = _compact_or_grow(pairs, n_pairs, pool, blocks, n_blocks, pool_end, n_events)
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
    for k in range(n_events):
        column = _SLOT_Y if events[k, 1] & 1 else _SLOT_X
        z = events[k, 1] >> 1
        pool[near[z, column]] = events[k, 0]
        near[z, column] += 1
    pairs[best, _COUNT] = 0  # the losses may have counted it again
    sizes[0], sizes[1], sizes[2] = n_pairs, n_blocks, pool_end
    return (pairs, table, blocks, pool, heap, sizes), events, n_grown, saved


@kernel()
def push_grown(state, grown, n_grown, min_frequency):
    """Push the pairs that grew (``merge_words``) and reach ``min_frequency`` to the state's heap."""
    pairs, table, blocks, pool, heap, sizes = state
    heap = fit_rows(heap, sizes[3] + n_grown)
    for k in range(n_grown):
        pid = grown[k]
        if pairs[pid, _COUNT] >= min_frequency:
            sizes[3] = heap_push(heap, sizes[3], pairs[pid, _COUNT], pairs[pid, _KEY], pid)
    return pairs, table, blocks, pool, heap, sizes


@kernel()
def neighbour_rows(capacity):
    """Scratch rows for ``merge_words`` for token ids below ``capacity``: near, nearby, grown, events."""
    near = np.zeros((capacity, 9), np.int64)
    near[:, _STEP] = -1
    return near, np.empty(capacity, np.int64), np.empty(2 * capacity, np.int64), np.empty((1024, 2), np.int64)


@kernel(nogil=True)
def learn(store, tok_data, tok_start, n_new, min_frequency, control):
    """Merge until ``n_new`` new tokens exist or no pair reaches ``min_frequency`` (>= 1).

    ``control[0]`` receives the tokens added so far; a nonzero ``control[1]`` stops the loop.
    Returns ([left, right, token, count, new] per step, stop code).
    """
    n_tok = len(tok_start) - 1
    tokens, data, t_table = _token_rows(tok_data, tok_start, n_tok + n_new)
    data_end = len(tok_data)
    state = index_words(store, min_frequency)
    near, nearby, grown, events = neighbour_rows(n_tok + n_new)
    merges = np.empty((1024, 5), np.int64)
    steps = np.int64(0)
    added = np.int64(0)
    stop = STOP_VOCAB_SIZE
    while added < n_new:
        if control[1] != 0:
            stop = STOP_INTERRUPTED
            break
        count, key, best = pop_pair(state, min_frequency)
        if best == -1:
            stop = STOP_MIN_FREQUENCY
            break
        token, is_new, data, data_end, merges = take_merge(
            tokens, t_table, data, data_end, n_tok, merges, steps, key >> 32, key & 0xFFFFFFFF, count
        )
        if is_new:
            n_tok += 1
            added += 1
        state, events, n_grown, _ = merge_words(store, state, best, token, near, nearby, grown, events, steps)
        state = push_grown(state, grown, n_grown, min_frequency)
        steps += 1
        control[0] = added
    return merges[:steps].copy(), stop
