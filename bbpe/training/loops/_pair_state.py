"""The merge state of the compiled loop: words, tracked pairs, bucket sums and the heap (see ``bbpe.training.loops._kernels``).

Data, all numpy arrays (tables, heap and growable rows from ``bbpe.training.loops._tables``):

* words ``(store, starts, counts)``: word ``w``'s ids are ``store[starts[w]:starts[w + 1]]`` up to the first
  *end mark* (the largest value of the store's dtype); a word shrinks in place as it merges.  The store is
  uint16 while every id is below 65,535 (the loop stops there and ``widen`` copies the live ids into an
  int32 store); nothing else is kept per word.
* *tracked* pairs: a table key -> pair id (key = left << 32 | right), one row per pair ``[key, count,
  first block]``, and the pair's words as a chain of blocks ``[start, length, next]`` in a byte pool: each
  word index as the zigzag varint of its difference to the previous entry (``put_entry``, ``get_entry``).
  Words that lost the pair are skipped when visited; the lists of pairs that are gone are dropped, and
  the pool compacted in place, when it fills up.
* the other pairs have no row and no list: their counts are added up in ``buckets`` by a hash of the key.
  Every pair counted ``limit`` times or more is tracked, so an untracked pair is rarer than ``limit``, and
  no untracked pair in a bucket whose sum is below ``limit`` can reach it.  When the best tracked pair
  falls below ``limit``, ``track`` counts the pairs of the buckets reaching a lower limit exactly (one
  pass over the words) and tracks those that reach it (a second pass lists their words).  Most pairs
  are never counted often enough to be merged, so they never cost a row (``index_words``, used by the
  parity-aware loop, tracks every pair: limit 1).
* a heap of ``[count, key, pair id]`` rows, refreshed lazily, holding the tracked pairs that reach
  ``min_frequency`` (a rarer pair is pushed when it grows).

The state is the tuple (pairs, table, blocks, pool, heap, sizes, buckets).
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

KEY, COUNT, BLOCK = range(3)  # pair rows
_BUCKET_SPREAD = -4417276706812531889  # 0xC2B2AE3D27D4EB4F as int64 (another multiplier than the tables')
# sizes: pairs, blocks, pool end, heap rows, tracking limit, divisor of the limit, recount needed, min frequency
PAIRS, BLOCKS, POOL_END, HEAP_ROWS, LIMIT, DIVISOR, RECOUNT, MIN_FREQUENCY = range(8)
UNLIMITED = 1 << 62


@kernel()
def end_mark(store):
    """The value that ends a word that shrank: the largest value of the store's dtype."""
    return np.iinfo(store.dtype).max


@kernel()
def pair_key(left, right):
    return (np.int64(left) << 32) | np.int64(right)


@kernel()
def bucket_of(key, mask):
    return ((key * _BUCKET_SPREAD) >> 32) & mask


@kernel()
def entry_size(word, last):
    """Bytes of a word list entry: the zigzag varint of ``word`` minus the previous entry (0 before the first)."""
    delta = word - max(last, 0)
    value = (delta << 1) ^ (delta >> 63)
    size = 1
    while value >= 128:
        value >>= 7
        size += 1
    return size


@kernel()
def put_entry(pool, at, word, last):
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
def get_entry(pool, at, last):
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
    sizes[LIMIT] = UNLIMITED
    sizes[DIVISOR] = divisor
    sizes[MIN_FREQUENCY] = min_frequency
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
            buckets[bucket_of(pair_key(store[i], store[i + 1]), mask)] += counts[w]


@kernel(nogil=True)
def index_words(words, min_frequency):
    """The merge state of ``words`` with every pair tracked: (pairs, table, blocks, pool, heap, sizes, buckets)."""
    state = _new_state(1, 2, min_frequency)
    _fill_buckets(words, state[6])
    return track(words, state, np.int64(1))


@kernel(nogil=True)
def index_tracked(words, min_frequency, n_buckets, divisor):
    """The merge state of ``words`` with no pair tracked yet (``best_pair`` tracks the frequent ones);
    ``n_buckets`` (a power of two) sums of untracked counts; each new limit is the best count / ``divisor``."""
    state = _new_state(n_buckets, divisor, min_frequency)
    _fill_buckets(words, state[6])
    return state


@kernel()
def track(words, state, limit):
    """Track every untracked pair counted ``limit`` times or more (exact counts, word lists); the new limit."""
    store, starts, counts = words
    pairs, table, blocks, pool, heap, sizes, buckets = state
    mark = end_mark(store)
    mask = len(buckets) - 1
    hot = buckets >= limit
    sizes[LIMIT] = limit
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
            key = pair_key(store[i], store[i + 1])
            if not hot[bucket_of(key, mask)] or table[find(table, key), 1] != -1:
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
                found[k, 2] += entry_size(w, found[k, 3])
                found[k, 3] = w
    need = 0
    n_new = 0
    for k in range(n_found):
        if found[k, 1] >= limit:
            need += found[k, 2]
            n_new += 1
    pairs, table, blocks, pool, heap, sizes, buckets = make_room(state, need)  # may renumber: before new rows
    n_pairs, n_blocks, pool_end = sizes[PAIRS], sizes[BLOCKS], sizes[POOL_END]
    pairs = fit_rows(pairs, n_pairs + n_new)
    table = fit_table(table, n_pairs + n_new)
    blocks = fit_rows(blocks, n_blocks + n_new)
    heap = fit_rows(heap, sizes[HEAP_ROWS] + n_new)
    for k in range(n_found):
        found[k, 3] = -1
        found[k, 4] = -1
        if found[k, 1] < limit:
            continue
        key = found[k, 0]
        slot = find(table, key)
        table[slot, 0] = key
        table[slot, 1] = n_pairs
        pairs[n_pairs, KEY], pairs[n_pairs, COUNT], pairs[n_pairs, BLOCK] = key, found[k, 1], n_blocks
        blocks[n_blocks, 0], blocks[n_blocks, 1], blocks[n_blocks, 2] = pool_end, found[k, 2], -1
        found[k, 4] = pool_end
        buckets[bucket_of(key, mask)] -= found[k, 1]
        if found[k, 1] >= sizes[MIN_FREQUENCY]:
            sizes[HEAP_ROWS] = heap_push(heap, sizes[HEAP_ROWS], found[k, 1], key, n_pairs)
        n_pairs += 1
        n_blocks += 1
        pool_end += found[k, 2]
    for w in range(len(counts)):  # list the words of the pairs just tracked, in the same order
        if counts[w] == 0:
            continue
        for i in range(starts[w], starts[w + 1] - 1):
            if store[i + 1] == mark:
                break
            key = pair_key(store[i], store[i + 1])
            if not hot[bucket_of(key, mask)]:
                continue
            k = seen[find(seen, key), 1]
            if k != -1 and found[k, 4] != -1 and found[k, 3] != w:
                found[k, 4] = put_entry(pool, found[k, 4], w, found[k, 3])
                found[k, 3] = w
    sizes[PAIRS], sizes[BLOCKS], sizes[POOL_END] = n_pairs, n_blocks, pool_end
    return pairs, table, blocks, pool, heap, sizes, buckets


@kernel()
def make_room(state, need):
    """Room for ``need`` more pool entries: compact the pool in place if a quarter or more of it is the
    lists of pairs that are gone (renumbering the pairs), then grow it if that is not enough."""
    pairs, table, blocks, pool, heap, sizes, buckets = state
    if sizes[POOL_END] + need <= len(pool):
        return state
    live = 0
    n_live_blocks = 0
    for pid in range(sizes[PAIRS]):
        block = pairs[pid, BLOCK] if pairs[pid, COUNT] > 0 else -1
        while block != -1:
            live += blocks[block, 1]
            n_live_blocks += 1
            block = blocks[block, 2]
    if 4 * live <= 3 * sizes[POOL_END]:
        pairs, table, blocks, heap = _compact(pairs, blocks, pool, heap, sizes, n_live_blocks)
    if sizes[POOL_END] + need > len(pool):
        pool = fit_rows(pool, sizes[POOL_END] + need)
    return pairs, table, blocks, pool, heap, sizes, buckets


@kernel()
def _compact(pairs, blocks, pool, heap, sizes, n_live_blocks):
    """Keep the pairs still counted (renumbered in order), their blocks moved down the pool in place; a new
    table and heap.  Returns (pairs, table, blocks, heap); ``sizes`` is updated."""
    owner = np.empty(n_live_blocks, np.int64)  # new pair id of each live block
    old_block = np.empty(n_live_blocks, np.int64)
    n = 0
    b = 0
    for pid in range(sizes[PAIRS]):
        if pairs[pid, COUNT] <= 0:
            continue
        block = pairs[pid, BLOCK]
        while block != -1:
            owner[b] = n
            old_block[b] = block
            b += 1
            block = blocks[block, 2]
        pairs[n, KEY], pairs[n, COUNT], pairs[n, BLOCK] = pairs[pid, KEY], pairs[pid, COUNT], -1
        n += 1
    order = np.argsort(blocks[old_block, 0])
    new_blocks = np.empty((n_live_blocks + 1024, 3), np.int64)
    end = 0
    for new in order:  # in pool order, so every block moves down (or stays)
        start, length = blocks[old_block[new], 0], blocks[old_block[new], 1]
        for k in range(length):
            pool[end + k] = pool[start + k]
        new_blocks[new, 0], new_blocks[new, 1], new_blocks[new, 2] = end, length, pairs[owner[new], BLOCK]
        pairs[owner[new], BLOCK] = new
        end += length
    table = new_table(np.int64(n))
    heap = fit_rows(heap, n)
    rows = 0
    for pid in range(n):
        slot = find(table, pairs[pid, KEY])
        table[slot, 0] = pairs[pid, KEY]
        table[slot, 1] = pid
        if pairs[pid, COUNT] >= sizes[MIN_FREQUENCY]:
            heap[rows, 0], heap[rows, 1], heap[rows, 2] = pairs[pid, COUNT], pairs[pid, KEY], pid
            rows += 1
    heapify(heap, rows)
    sizes[PAIRS], sizes[BLOCKS], sizes[POOL_END], sizes[HEAP_ROWS] = n, n_live_blocks, end, rows
    return pairs, table, new_blocks, heap


@kernel()
def pop_best(heap, size, pairs, min_frequency):
    """Drop or refresh stale rows until the top is current; returns the new size (0: none left).

    Counts only fall, except for pairs that grew, which were pushed again with the new count.
    """
    while size > 0:
        current = pairs[heap[0, 2], COUNT]
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
    sizes[HEAP_ROWS] = pop_best(heap, sizes[HEAP_ROWS], pairs, min_frequency)
    if sizes[HEAP_ROWS] == 0:
        return 0, -1, -1
    count, key, pid = heap[0, 0], heap[0, 1], heap[0, 2]
    sizes[HEAP_ROWS] = heap_drop_top(heap, sizes[HEAP_ROWS])
    return count, key, pid


@kernel()
def best_pair(words, state, min_frequency):
    """``pop_pair`` over all pairs: first tracks the pairs that could beat or tie the best tracked one.

    Returns (state, count, key, pair id); (state, 0, -1, -1) when no pair reaches ``min_frequency``.
    """
    while True:
        pairs, heap, sizes, buckets = state[0], state[4], state[5], state[6]
        sizes[HEAP_ROWS] = pop_best(heap, sizes[HEAP_ROWS], pairs, min_frequency)
        top = heap[0, 0] if sizes[HEAP_ROWS] > 0 else 0
        limit = sizes[LIMIT]
        if sizes[RECOUNT]:  # a token spelled by another pair grew pairs that were not tracked
            sizes[RECOUNT] = 0
            state = track(words, state, limit)
        elif top >= limit or limit <= min_frequency:
            break
        elif top > 0:
            state = track(words, state, max(min_frequency, top // sizes[DIVISOR]))
        else:
            state = track(words, state, max(min_frequency, min(buckets.max(), limit - 1) // sizes[DIVISOR]))
    count, key, pid = pop_pair(state, min_frequency)
    return state, count, key, pid


@kernel()
def push_grown(state, grown, n_grown, min_frequency):
    """Push the pairs that grew (``merge_words``) and reach ``min_frequency`` to the state's heap."""
    pairs, table, blocks, pool, heap, sizes, buckets = state
    heap = fit_rows(heap, sizes[HEAP_ROWS] + n_grown)
    for k in range(n_grown):
        pid = grown[k]
        if pairs[pid, COUNT] >= min_frequency:
            sizes[HEAP_ROWS] = heap_push(heap, sizes[HEAP_ROWS], pairs[pid, COUNT], pairs[pid, KEY], pid)
    return pairs, table, blocks, pool, heap, sizes, buckets


@kernel()
def pair_of(state, key):
    """The id of pair ``key`` (left << 32 | right) in a merge state while some word holds it, else -1."""
    pairs, table = state[0], state[1]
    pid = table[find(table, key), 1]
    return -1 if pid == -1 or pairs[pid, COUNT] == 0 else pid


@kernel()
def pair_count(state, key):
    """The count of pair ``key`` in a merge state (0 if no word holds it)."""
    pid = pair_of(state, key)
    return 0 if pid == -1 else state[0][pid, COUNT]


@kernel()
def pair_rows(state):
    """``[key, count]`` of every pair id of a merge state (count 0: gone)."""
    return state[0][: state[5][PAIRS], KEY : COUNT + 1]
