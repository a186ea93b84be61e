"""The compiled merge loop: ``bbpe.training.loops.reference.learn_merges`` on flat arrays (see ``bbpe.training.loops.compiled``).

Data, all numpy arrays (tables, heap and growable rows from ``bbpe.training.loops._tables``):

* words ``(store, starts, counts)``: word ``w``'s ids are ``store[starts[w]:starts[w + 1]]`` up to the first
  *end mark* (the largest value of the store's dtype); a word shrinks in place as it merges.  The store is
  uint16 while every id is below 65,535 (``run`` stops there and ``widen`` copies the live ids into an
  int32 store); nothing else is kept per word.
* *tracked* pairs: a table key -> pair id (key = left << 32 | right), one row per pair ``[key, count,
  first block]``, and the pair's words as a chain of blocks ``[start, length, next]`` in a pool of word
  indices (int32).  Words that lost the pair are skipped when visited; the lists of pairs that are gone
  are dropped, and the pool compacted in place, when it fills up.
* the other pairs have no row and no list: their counts are added up in ``buckets`` by a hash of the key.
  Every pair counted ``limit`` times or more is tracked, so an untracked pair is rarer than ``limit``, and
  no untracked pair in a bucket whose sum is below ``limit`` can reach it.  When the best tracked pair
  falls below ``limit``, ``_track`` counts the pairs of the buckets reaching a lower limit exactly (one
  pass over the words) and tracks those that reach it (a second pass lists their words).  Most pairs
  are never counted often enough to be merged, so they never cost a row (``index_words``, used by the
  parity-aware loop, tracks every pair: limit 1).
* a heap of ``[count, key, pair id]`` rows, refreshed lazily, holding the tracked pairs that reach
  ``min_frequency`` (a rarer pair is pushed when it grows);
* tokens: rows ``[start, length, hash, base**length, next id with that hash]`` over one byte buffer, and
  a table hash -> newest id, so "these bytes already are a token" is a lookup plus a byte comparison.

One step rewrites the words holding the best pair and sums the changes of the pairs next to it per
neighbour id (``near``, one row per token id), so the pair table is touched once per distinct
neighbour, not once per occurrence.  A pair that grows holds a new token (or, rarely, a token that
other pairs spell too), so when the token is new its count is exact and it is tracked at once if it
reaches ``limit``.
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

_KEY, _COUNT, _BLOCK = range(3)  # pair rows
_START, _LENGTH, _HASH, _POWER, _NEXT = range(5)  # token rows
_HASH_BASE = 0x100000001B3
_BUCKET_SPREAD = -4417276706812531889  # 0xC2B2AE3D27D4EB4F as int64 (another multiplier than the tables')
# sizes: pairs, blocks, pool end, heap rows, tracking limit, divisor of the limit, recount needed, min frequency
_PAIRS, _BLOCKS, _POOL_END, _HEAP_ROWS, _LIMIT, _DIVISOR, _RECOUNT, _MIN_FREQUENCY = range(8)
UNLIMITED = 1 << 62
# Neighbour rows, for merging (left, right) into token: x stands before the pair, y after it.
# GAIN_*: count added to (x, token) / (token, y); LOSS_*: removed from (x, left) / (right, y);
# WORD_*: last word listed; SIZE_*: bytes of the word list, then the write position in the pool;
# KEEP_*: 1 if the grown pair is tracked (its words are listed), else 0.
_STEP, _GAIN_X, _LOSS_X, _WORD_X, _SIZE_X, _GAIN_Y, _LOSS_Y, _WORD_Y, _SIZE_Y, _KEEP_X, _KEEP_Y = range(11)
STOP_VOCAB_SIZE, STOP_MIN_FREQUENCY, STOP_INTERRUPTED, STOP_WIDEN = range(4)


@kernel()
def end_mark(store):
    """The value that ends a word that shrank: the largest value of the store's dtype."""
    return np.iinfo(store.dtype).max


@kernel()
def _key(left, right):
    return (np.int64(left) << 32) | np.int64(right)


@kernel()
def _bucket(key, mask):
    return ((key * _BUCKET_SPREAD) >> 32) & mask


@kernel()
def _entry_size(word, last):
    """Bytes of a word list entry: the zigzag varint of ``word`` minus the previous entry (0 before the first)."""
    delta = word - max(last, 0)
    value = (delta << 1) ^ (delta >> 63)
    size = 1
    while value >= 128:
        value >>= 7
        size += 1
    return size


@kernel()
def _put(pool, at, word, last):
    """Write a word list entry at byte ``at``; returns the next byte."""
    delta = word - max(last, 0)
    value = (delta << 1) ^ (delta >> 63)
    while value >= 128:
        pool[at] = (value & 127) | 128
        value >>= 7
        at += 1
    pool[at] = value
    return at + 1


@kernel()
def _get(pool, at, last):
    """The word list entry at byte ``at`` after word ``last`` (-1: the first); returns (word, next byte)."""
    value = np.int64(0)
    shift = 0
    while pool[at] >= 128:
        value |= np.int64(pool[at] & 127) << shift
        shift += 7
        at += 1
    value |= np.int64(pool[at]) << shift
    return max(last, 0) + ((value >> 1) ^ -(value & 1)), at + 1


@kernel(nogil=True)
def widen(words):
    """The words with their live ids copied into an int32 store (new starts; the counts are shared)."""
    store, starts, counts = words
    mark = end_mark(store)
    wide_starts = np.empty(len(starts), np.int64)
    live = 0
    for w in range(len(counts)):
        wide_starts[w] = live
        i = starts[w]
        while i < starts[w + 1] and store[i] != mark:
            i += 1
        live += i - starts[w]
    wide_starts[len(counts)] = live
    wide = np.empty(live, np.int32)
    for w in range(len(counts)):
        for k in range(wide_starts[w + 1] - wide_starts[w]):
            wide[wide_starts[w] + k] = store[starts[w] + k]
    return wide, wide_starts, counts


@kernel()
def _new_state(n_buckets, divisor, min_frequency):
    sizes = np.zeros(8, np.int64)
    sizes[_LIMIT] = UNLIMITED
    sizes[_DIVISOR] = divisor
    sizes[_MIN_FREQUENCY] = min_frequency
    pairs = np.empty((1024, 3), np.int64)
    blocks = np.empty((1024, 3), np.int64)
    heap = np.empty((1024, 3), np.int64)
    return (
        pairs,
        new_table(np.int64(1024)),
        blocks,
        np.empty(1024, np.uint8),
        heap,
        sizes,
        np.zeros(n_buckets, np.int64),
    )


@kernel()
def _fill_buckets(words, buckets):
    """Add every pair's count to its bucket."""
    store, starts, counts = words
    mark = end_mark(store)
    mask = len(buckets) - 1
    for w in range(len(counts)):
        if counts[w] == 0:
            continue
        for i in range(starts[w], starts[w + 1] - 1):
            if store[i + 1] == mark:
                break
            buckets[_bucket(_key(store[i], store[i + 1]), mask)] += counts[w]


@kernel(nogil=True)
def index_words(words, min_frequency):
    """The merge state of ``words`` with every pair tracked: (pairs, table, blocks, pool, heap, sizes, buckets)."""
    state = _new_state(1, 2, min_frequency)
    _fill_buckets(words, state[6])
    return _track(words, state, np.int64(1))


@kernel(nogil=True)
def index_tracked(words, min_frequency, n_buckets, divisor):
    """The merge state of ``words`` with no pair tracked yet (``best_pair`` tracks the frequent ones);
    ``n_buckets`` (a power of two) sums of untracked counts; each new limit is the best count / ``divisor``."""
    state = _new_state(n_buckets, divisor, min_frequency)
    _fill_buckets(words, state[6])
    return state


@kernel()
def _track(words, state, limit):
    """Track every untracked pair counted ``limit`` times or more (exact counts, word lists); the new limit."""
    store, starts, counts = words
    pairs, table, blocks, pool, heap, sizes, buckets = state
    mark = end_mark(store)
    mask = len(buckets) - 1
    hot = buckets >= limit
    sizes[_LIMIT] = limit
    if not hot.any():
        return state
    # Exact counts of the untracked pairs in hot buckets: [key, count, list bytes, last word, write position].
    seen = new_table(np.int64(1024))
    found = np.empty((1024, 5), np.int64)
    n_found = 0
    for w in range(len(counts)):
        if counts[w] == 0:
            continue
        for i in range(starts[w], starts[w + 1] - 1):
            if store[i + 1] == mark:
                break
            key = _key(store[i], store[i + 1])
            if not hot[_bucket(key, mask)] or table[find(table, key), 1] != -1:
                continue
            slot = find(seen, key)
            if seen[slot, 1] == -1:
                seen = fit_table(seen, n_found + 1)
                found = fit_rows(found, n_found + 1)
                slot = find(seen, key)
                seen[slot, 0] = key
                seen[slot, 1] = n_found
                found[n_found, 0] = key
                found[n_found, 1] = 0
                found[n_found, 2] = 0
                found[n_found, 3] = -1
                n_found += 1
            k = seen[slot, 1]
            found[k, 1] += counts[w]
            if found[k, 3] != w:
                found[k, 2] += _entry_size(w, found[k, 3])
                found[k, 3] = w
    need = 0
    n_new = 0
    for k in range(n_found):
        if found[k, 1] >= limit:
            need += found[k, 2]
            n_new += 1
    pairs, table, blocks, pool, heap, sizes, buckets = _make_room(state, need)  # may renumber: before new rows
    n_pairs, n_blocks, pool_end = sizes[_PAIRS], sizes[_BLOCKS], sizes[_POOL_END]
    pairs = fit_rows(pairs, n_pairs + n_new)
    table = fit_table(table, n_pairs + n_new)
    blocks = fit_rows(blocks, n_blocks + n_new)
    heap = fit_rows(heap, sizes[_HEAP_ROWS] + n_new)
    for k in range(n_found):
        found[k, 3] = -1
        found[k, 4] = -1
        if found[k, 1] < limit:
            continue
        key = found[k, 0]
        slot = find(table, key)
        table[slot, 0] = key
        table[slot, 1] = n_pairs
        pairs[n_pairs, _KEY], pairs[n_pairs, _COUNT], pairs[n_pairs, _BLOCK] = key, found[k, 1], n_blocks
        blocks[n_blocks, 0], blocks[n_blocks, 1], blocks[n_blocks, 2] = pool_end, found[k, 2], -1
        found[k, 4] = pool_end
        buckets[_bucket(key, mask)] -= found[k, 1]
        if found[k, 1] >= sizes[_MIN_FREQUENCY]:
            sizes[_HEAP_ROWS] = heap_push(heap, sizes[_HEAP_ROWS], found[k, 1], key, n_pairs)
        n_pairs += 1
        n_blocks += 1
        pool_end += found[k, 2]
    for w in range(len(counts)):  # list the words of the pairs just tracked, in the same order
        if counts[w] == 0:
            continue
        for i in range(starts[w], starts[w + 1] - 1):
            if store[i + 1] == mark:
                break
            key = _key(store[i], store[i + 1])
            if not hot[_bucket(key, mask)]:
                continue
            k = seen[find(seen, key), 1]
            if k != -1 and found[k, 4] != -1 and found[k, 3] != w:
                found[k, 4] = _put(pool, found[k, 4], w, found[k, 3])
                found[k, 3] = w
    sizes[_PAIRS], sizes[_BLOCKS], sizes[_POOL_END] = n_pairs, n_blocks, pool_end
    return pairs, table, blocks, pool, heap, sizes, buckets


@kernel()
def _make_room(state, need):
    """Room for ``need`` more pool entries: compact the pool in place if a quarter or more of it is the
    lists of pairs that are gone (renumbering the pairs), then grow it if that is not enough."""
    pairs, table, blocks, pool, heap, sizes, buckets = state
    if sizes[_POOL_END] + need <= len(pool):
        return state
    live = 0
    n_live_blocks = 0
    for pid in range(sizes[_PAIRS]):
        block = pairs[pid, _BLOCK] if pairs[pid, _COUNT] > 0 else -1
        while block != -1:
            live += blocks[block, 1]
            n_live_blocks += 1
            block = blocks[block, 2]
    if 4 * live <= 3 * sizes[_POOL_END]:
        pairs, table, blocks, heap = _compact(pairs, blocks, pool, heap, sizes, n_live_blocks)
    if sizes[_POOL_END] + need > len(pool):
        pool = fit_rows(pool, sizes[_POOL_END] + need)
    return pairs, table, blocks, pool, heap, sizes, buckets


@kernel()
def _compact(pairs, blocks, pool, heap, sizes, n_live_blocks):
    """Keep the pairs still counted (renumbered in order), their blocks moved down the pool in place; a new
    table and heap.  Returns (pairs, table, blocks, heap); ``sizes`` is updated."""
    owner = np.empty(n_live_blocks, np.int64)  # new pair id of each live block
    old_block = np.empty(n_live_blocks, np.int64)
    n = 0
    b = 0
    for pid in range(sizes[_PAIRS]):
        if pairs[pid, _COUNT] <= 0:
            continue
        block = pairs[pid, _BLOCK]
        while block != -1:
            owner[b] = n
            old_block[b] = block
            b += 1
            block = blocks[block, 2]
        pairs[n, _KEY], pairs[n, _COUNT], pairs[n, _BLOCK] = pairs[pid, _KEY], pairs[pid, _COUNT], -1
        n += 1
    order = np.argsort(blocks[old_block, 0])
    new_blocks = np.empty((n_live_blocks + 1024, 3), np.int64)
    end = 0
    for new in order:  # in pool order, so every block moves down (or stays)
        start, length = blocks[old_block[new], 0], blocks[old_block[new], 1]
        for k in range(length):
            pool[end + k] = pool[start + k]
        new_blocks[new, 0], new_blocks[new, 1], new_blocks[new, 2] = end, length, pairs[owner[new], _BLOCK]
        pairs[owner[new], _BLOCK] = new
        end += length
    table = new_table(np.int64(n))
    heap = fit_rows(heap, n)
    rows = 0
    for pid in range(n):
        slot = find(table, pairs[pid, _KEY])
        table[slot, 0] = pairs[pid, _KEY]
        table[slot, 1] = pid
        if pairs[pid, _COUNT] >= sizes[_MIN_FREQUENCY]:
            heap[rows, 0], heap[rows, 1], heap[rows, 2] = pairs[pid, _COUNT], pairs[pid, _KEY], pid
            rows += 1
    heapify(heap, rows)
    sizes[_PAIRS], sizes[_BLOCKS], sizes[_POOL_END], sizes[_HEAP_ROWS] = n, n_live_blocks, end, rows
    return pairs, table, new_blocks, heap


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
def pop_pair(state, min_frequency):
    """Take the most frequent tracked pair reaching ``min_frequency`` off the state's heap: (count, key,
    pair id), or (0, -1, -1) when there is none."""
    pairs, heap, sizes = state[0], state[4], state[5]
    sizes[_HEAP_ROWS] = pop_best(heap, sizes[_HEAP_ROWS], pairs, min_frequency)
    if sizes[_HEAP_ROWS] == 0:
        return 0, -1, -1
    count, key, pid = heap[0, 0], heap[0, 1], heap[0, 2]
    sizes[_HEAP_ROWS] = heap_drop_top(heap, sizes[_HEAP_ROWS])
    return count, key, pid


@kernel()
def best_pair(words, state, min_frequency):
    """``pop_pair`` over all pairs: first tracks the pairs that could beat or tie the best tracked one.

    Returns (state, count, key, pair id); (state, 0, -1, -1) when no pair reaches ``min_frequency``.
    """
    while True:
        pairs, heap, sizes, buckets = state[0], state[4], state[5], state[6]
        sizes[_HEAP_ROWS] = pop_best(heap, sizes[_HEAP_ROWS], pairs, min_frequency)
        top = heap[0, 0] if sizes[_HEAP_ROWS] > 0 else 0
        limit = sizes[_LIMIT]
        if sizes[_RECOUNT]:  # a token spelled by another pair grew pairs that were not tracked
            sizes[_RECOUNT] = 0
            state = _track(words, state, limit)
        elif top >= limit or limit <= min_frequency:
            break
        elif top > 0:
            state = _track(words, state, max(min_frequency, top // sizes[_DIVISOR]))
        else:
            state = _track(words, state, max(min_frequency, min(buckets.max(), limit - 1) // sizes[_DIVISOR]))
    count, key, pid = pop_pair(state, min_frequency)
    return state, count, key, pid


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
def _list_word(near, z, side, w):
    """Note word ``w`` once in the list of neighbour ``z``'s grown pair on ``side``: the list's size in bytes."""
    word, size = (_WORD_Y, _SIZE_Y) if side else (_WORD_X, _SIZE_X)
    if near[z, word] != w:
        near[z, size] += _entry_size(w, near[z, word])
        near[z, word] = w


@kernel()
def _write_word(pool, near, z, side, w):
    """Write word ``w`` once into the list of neighbour ``z``'s grown pair on ``side`` (if it is tracked)."""
    word, at, keep = (_WORD_Y, _SIZE_Y, _KEEP_Y) if side else (_WORD_X, _SIZE_X, _KEEP_X)
    if near[z, keep] and near[z, word] != w:
        near[z, at] = _put(pool, near[z, at], w, near[z, word])
        near[z, word] = w


@kernel()
def _list_grown(store, s, e, mark, token, near, step, w, pool, write):
    """The grown pairs of ``token`` in word ``w`` (every occurrence, and its neighbours): their lists'
    sizes are counted, or (``write``) the word is written into the tracked ones."""
    for i in range(s, e):
        if store[i] == mark:
            return
        if store[i] != token:
            continue
        if i > s and near[store[i - 1], _STEP] == step:
            if write:
                _write_word(pool, near, store[i - 1], 0, w)
            else:
                _list_word(near, store[i - 1], 0, w)
        # (token, token) is the next occurrence's left pair
        if i + 1 < e and store[i + 1] != mark and store[i + 1] != token and near[store[i + 1], _STEP] == step:
            if write:
                _write_word(pool, near, store[i + 1], 1, w)
            else:
                _list_word(near, store[i + 1], 1, w)


@kernel()
def _rewrite(store, s, e, mark, c, w, left, right, token, near, nearby, n_near, step):
    """Merge (left, right) -> token in word ``w`` (ids ``store[s:e]`` up to the end mark, count ``c``) in
    place, as the reference does, noting the neighbour changes and the size of each grown pair's word list.
    A word without the pair (merged on an earlier visit) is left as it is.

    Returns (noted neighbours, ids removed).
    """
    i = s
    j = s
    merged_before = False
    while i < e:
        a = store[i]
        if a == mark:
            break
        if a == left and i + 1 < e and store[i + 1] == right:
            if j > s:  # (x, left) -> (x, token); x is the token written last
                x = np.int64(store[j - 1])
                n_near = _note(near, nearby, n_near, x, step)
                if not merged_before:  # else (right, left) was counted as lost already
                    near[x, _LOSS_X] += c
                near[x, _GAIN_X] += c
                _list_word(near, x, 0, w)
            if i + 2 < e and store[i + 2] != mark:  # (right, y) -> (token, y), unless y starts the next occurrence
                y = np.int64(store[i + 2])
                n_near = _note(near, nearby, n_near, y, step)
                near[y, _LOSS_Y] += c
                if not (y == left and i + 3 < e and store[i + 3] == right):
                    near[y, _GAIN_Y] += c
                    _list_word(near, y, 1, w)
            store[j] = token
            i += 2
            merged_before = True
        else:
            store[j] = a
            i += 1
            merged_before = False
        j += 1
    if j < i:
        store[j] = mark
    return n_near, i - j


@kernel()
def _lose(pairs, table, buckets, key, amount):
    pid = table[find(table, key), 1]
    if pid != -1:
        pairs[pid, _COUNT] -= amount
    else:
        buckets[_bucket(key, len(buckets) - 1)] -= amount


@kernel()
def merge_words(words, state, best, token, is_new, near, nearby, grown, changed, stamp):
    """Merge pair ``best`` into ``token`` (``is_new``: an id no word held before) in every word of a merge
    state, as the reference does; ``stamp`` must differ from every earlier call's (``near`` rows of the call).

    Returns (state, changed, number of tracked pairs that grew, ids saved x word counts); the ids of the
    pairs that grew are in ``grown`` (they are not pushed to the heap); ``changed`` is scratch space.
    """
    store, starts, counts = words
    pairs, table, blocks, pool, heap, sizes, buckets = state
    mark = end_mark(store)
    left, right = pairs[best, _KEY] >> 32, pairs[best, _KEY] & 0xFFFFFFFF

    # Rewrite every word holding the pair; sum the neighbour changes per neighbour id.
    n_near = np.int64(0)
    n_changed = 0
    saved = np.int64(0)
    block = pairs[best, _BLOCK]
    while block != -1:
        at, end, w = blocks[block, 0], blocks[block, 0] + blocks[block, 1], np.int64(-1)
        while at < end:
            w, at = _get(pool, at, w)
            n_near, gone = _rewrite(
                store, starts[w], starts[w + 1], mark, counts[w], w, left, right, token, near, nearby, n_near, stamp
            )
            if gone:
                changed = fit_rows(changed, n_changed + 1)
                changed[n_changed] = w
                n_changed += 1
                saved += gone * counts[w]
        block = blocks[block, 2]

    # Losses; which grown pairs are tracked (a new token's pairs: exact counts, tracked if they reach the limit).
    limit = sizes[_LIMIT]
    direct = is_new or limit <= 1
    for k in range(n_near):
        z = nearby[k]
        if near[z, _LOSS_X]:
            _lose(pairs, table, buckets, _key(z, left), near[z, _LOSS_X])
        if near[z, _LOSS_Y]:
            _lose(pairs, table, buckets, _key(right, z), near[z, _LOSS_Y])
        for side in range(2):  # x: (z, token); y: (token, z)
            gain = near[z, _GAIN_Y if side else _GAIN_X]
            if gain == 0:
                continue
            key = _key(token, z) if side else _key(z, token)
            keep = table[find(table, key), 1] != -1 or (direct and gain >= limit)
            near[z, _KEEP_Y if side else _KEEP_X] = keep
            if not keep:
                h = _bucket(key, len(buckets) - 1)
                buckets[h] += gain
                if not direct and buckets[h] >= limit:
                    sizes[_RECOUNT] = 1  # the pair's earlier count is unknown: count again before the next pop
    pairs[best, _COUNT] = 0  # the losses may have counted it again
    if not direct:  # the token occurred before: list the changed words for every pair of it found in them
        for k in range(n_near):
            z = nearby[k]
            near[z, _WORD_X], near[z, _WORD_Y], near[z, _SIZE_X], near[z, _SIZE_Y] = -1, -1, 0, 0
        for k in range(n_changed):
            w = np.int64(changed[k])
            _list_grown(store, starts[w], starts[w + 1], mark, token, near, stamp, w, pool, False)
    need = 0
    for k in range(n_near):
        z = nearby[k]
        need += near[z, _SIZE_X] * near[z, _KEEP_X] + near[z, _SIZE_Y] * near[z, _KEEP_Y]
    pairs, table, blocks, pool, heap, sizes, buckets = _make_room(
        (pairs, table, blocks, pool, heap, sizes, buckets), need
    )

    # The tracked gains: one table lookup per neighbour and side, a new block each; then list the words again.
    n_pairs, n_blocks, pool_end = sizes[_PAIRS], sizes[_BLOCKS], sizes[_POOL_END]
    pairs = fit_rows(pairs, n_pairs + 2 * n_near)
    table = fit_table(table, n_pairs + 2 * n_near)
    blocks = fit_rows(blocks, n_blocks + 2 * n_near)
    n_grown = 0
    for k in range(n_near):
        z = nearby[k]
        near[z, _WORD_X], near[z, _WORD_Y] = -1, -1
        for side in range(2):
            gain, size = (near[z, _GAIN_Y], _SIZE_Y) if side else (near[z, _GAIN_X], _SIZE_X)
            if not near[z, _KEEP_Y if side else _KEEP_X]:
                continue
            key = _key(token, z) if side else _key(z, token)
            slot = find(table, key)
            if table[slot, 1] == -1:
                table[slot, 0] = key
                table[slot, 1] = n_pairs
                pairs[n_pairs, _KEY], pairs[n_pairs, _COUNT], pairs[n_pairs, _BLOCK] = key, 0, -1
                n_pairs += 1
            pid = table[slot, 1]
            pairs[pid, _COUNT] += gain
            blocks[n_blocks, 0], blocks[n_blocks, 1], blocks[n_blocks, 2] = pool_end, near[z, size], pairs[pid, _BLOCK]
            pairs[pid, _BLOCK] = n_blocks
            n_blocks += 1
            pool_end += near[z, size]
            near[z, size] = blocks[n_blocks - 1, 0]  # from here on: the write position
            grown[n_grown] = pid
            n_grown += 1
    for k in range(n_changed):
        w = np.int64(changed[k])
        _list_grown(store, starts[w], starts[w + 1], mark, token, near, stamp, w, pool, True)
    sizes[_PAIRS], sizes[_BLOCKS], sizes[_POOL_END] = n_pairs, n_blocks, pool_end
    return (pairs, table, blocks, pool, heap, sizes, buckets), changed, n_grown, saved


@kernel()
def push_grown(state, grown, n_grown, min_frequency):
    """Push the pairs that grew (``merge_words``) and reach ``min_frequency`` to the state's heap."""
    pairs, table, blocks, pool, heap, sizes, buckets = state
    heap = fit_rows(heap, sizes[_HEAP_ROWS] + n_grown)
    for k in range(n_grown):
        pid = grown[k]
        if pairs[pid, _COUNT] >= min_frequency:
            sizes[_HEAP_ROWS] = heap_push(heap, sizes[_HEAP_ROWS], pairs[pid, _COUNT], pairs[pid, _KEY], pid)
    return pairs, table, blocks, pool, heap, sizes, buckets


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
    return state[0][: state[5][_PAIRS], _KEY : _COUNT + 1]


@kernel()
def neighbour_rows(capacity):
    """Scratch rows for ``merge_words`` for token ids below ``capacity``: near, nearby, grown, changed words."""
    near = np.zeros((capacity, 11), np.int64)
    near[:, _STEP] = -1
    return near, np.empty(capacity, np.int64), np.empty(2 * capacity, np.int64), np.empty(1024, np.int32)


@kernel()
def new_run(tok_data, tok_start, n_new):
    """The loop's own rows for ``n_new`` new tokens after the given ones: (tokens, token bytes, token table,
    near, nearby, grown, changed, merges, [steps, tokens added, tokens, token bytes used])."""
    n_tok = len(tok_start) - 1
    tokens, data, t_table = _token_rows(tok_data, tok_start, n_tok + n_new)
    near, nearby, grown, changed = neighbour_rows(n_tok + n_new)
    counters = np.array([0, 0, n_tok, len(tok_data)], np.int64)
    return tokens, data, t_table, near, nearby, grown, changed, np.empty((1024, 5), np.int64), counters


@kernel(nogil=True)
def run(words, state, loop, n_new, min_frequency, control):
    """Merge until ``n_new`` new tokens exist, no pair reaches ``min_frequency`` (>= 1), or the next new id
    would not fit the store (``STOP_WIDEN``: ``widen`` the words and run again with the same state and loop).

    ``control[0]`` receives the tokens added so far; a nonzero ``control[1]`` stops the loop.
    Returns (state, loop, stop code); the merges are ``loop[7][:loop[8][0]]``, rows [left, right, token, count, new].
    """
    tokens, data, t_table, near, nearby, grown, changed, merges, counters = loop
    steps, added, n_tok, data_end = counters[0], counters[1], counters[2], counters[3]
    mark = end_mark(words[0])
    stop = STOP_VOCAB_SIZE
    while added < n_new:
        if control[1] != 0:
            stop = STOP_INTERRUPTED
            break
        if n_tok >= mark:
            stop = STOP_WIDEN
            break
        state, count, key, best = best_pair(words, state, min_frequency)
        if best == -1:
            stop = STOP_MIN_FREQUENCY
            break
        token, is_new, data, data_end, merges = take_merge(
            tokens, t_table, data, data_end, n_tok, merges, steps, key >> 32, key & 0xFFFFFFFF, count
        )
        if is_new:
            n_tok += 1
            added += 1
        state, changed, n_grown, _ = merge_words(words, state, best, token, is_new, near, nearby, grown, changed, steps)
        state = push_grown(state, grown, n_grown, min_frequency)
        steps += 1
        control[0] = added
    counters[0], counters[1], counters[2], counters[3] = steps, added, n_tok, data_end
    return state, (tokens, data, t_table, near, nearby, grown, changed, merges, counters), stop
