"""The merge loop of ``bbpe._bpe.learn_merges``, compiled with numba on flat integer arrays.

Same input, output and tie rule as the reference (highest count; ties to the smaller
(left id, right id); concatenations that already are a token reuse that id).  Layout:

* words: one int32 store holding, per unique pre-token, ``[length, count low, count
  high, token ids...]``; a word is named by its offset and shrinks in place as it merges;
* pairs: an open-addressing table key -> pair id (key = left << 32 | right), one row per
  pair ``[key, count, first block]``, and for each pair a chain of blocks of the words it
  occurs in (words that lost the pair are skipped on use; the lists of pairs that are
  gone are dropped when the pool of blocks fills up);
* a binary max-heap of ``[count, left << 32 | right, pair id]`` rows, refreshed lazily;
* token bytes in one buffer with a polynomial hash per token, so "these bytes already
  are a token" is a table lookup plus a byte comparison.

One merge step rewrites the words holding the pair and sums the changes of neighbour
pairs per neighbour id (one row per token id), so the pair table is touched once per
distinct neighbour, not once per occurrence.  The loop runs without the GIL in a helper
thread while the calling thread reports progress through ``on_merge`` a few times a
second.  Importing this module raises ImportError when numba is not installed.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Sequence

import numpy as np
from numba import njit

from bbpe._bpe import Merge, MergeCallback

_KEY, _COUNT, _BLOCK = range(3)  # pair rows; key = left << 32 | right
_HEADER = 3  # word store: length, count & 0xFFFFFFFF, count >> 32, then the ids
# Neighbour rows, for merging (left, right) into token: x before the pair, y after it.
# GAIN_*: count added to (x, token) / (token, y); LOSS_*: removed from (x, left) / (right, y);
# WORD_*: last word noted; SLOT_*: words noted, then the write position in the word pool.
_STEP, _GAIN_X, _LOSS_X, _WORD_X, _SLOT_X, _GAIN_Y, _LOSS_Y, _WORD_Y, _SLOT_Y = range(9)
_HASH_BASE = 0x100000001B3
_SPREAD = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64
_REPORT_SECONDS = 0.2
_STOP_REASONS = ("vocab_size", "min_frequency", "interrupted")


def learn_merges(
    words: Iterable[tuple[Sequence[int], int]],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
) -> tuple[list[Merge], str]:
    """Drop-in replacement for ``bbpe._bpe.learn_merges`` (words may be ``bytes`` or id lists).

    Words with count 0 are ignored; with ``min_frequency >= 1`` this changes nothing.

    >>> vocab = [bytes([i]) for i in range(256)]
    >>> merges, why = learn_merges([(list(b"aaabdaaabac"), 1)], vocab, n_new_tokens=3)
    >>> [vocab[m.token] for m in merges], why
    ([b'aa', b'ab', b'aaab'], 'vocab_size')
    """
    n_new_tokens = max(0, n_new_tokens)
    if len(token_bytes) + n_new_tokens >= 2**31:
        raise ValueError("bbpe supports at most 2**31 - 1 tokens")
    store = _word_store(*_flatten(words, len(token_bytes)))
    tok_data, tok_start = _pack(token_bytes)
    control = np.zeros(2, np.int64)  # [tokens added so far, stop request]
    args = (store, tok_data, tok_start, n_new_tokens, max(1, min_frequency), control)  # count 0: gone
    table, stop = _run_in_thread(args, control, on_merge)
    merges = []
    for left, right, token, count, new in table.tolist():
        if new:
            token_bytes.append(token_bytes[left] + token_bytes[right])
        merges.append(Merge(left, right, token, count, bool(new)))
    if on_merge is not None and merges:
        on_merge(int(control[0]))
    return merges, _STOP_REASONS[stop]


def _flatten(words: Iterable[tuple[Sequence[int], int]], n_tokens: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word ids back to back (int32), start offsets and counts (int64); words that cannot merge are left out.

    Streams ``words`` into compact buffers (one byte per id while all words are ``bytes``).
    """
    flat: bytearray | array[int] = bytearray()
    lengths, counts = array("q"), array("q")
    try:
        for ids, count in words:
            if count < 0:
                raise ValueError(f"word counts must not be negative, got {count}")
            if count and len(ids) > 1:
                if isinstance(flat, bytearray) and not isinstance(ids, (bytes, bytearray)):
                    flat = array("q", flat)
                flat.extend(ids)
                lengths.append(len(ids))
                counts.append(count)
    except OverflowError:
        raise ValueError("word counts and token ids must be below 2**63") from None
    if len(flat) + _HEADER * len(lengths) >= 2**31:
        raise ValueError("too many unique pre-tokens for one merge loop (over 2**31 ids and headers)")
    ids_array = np.frombuffer(flat, np.uint8 if isinstance(flat, bytearray) else np.int64)
    if len(ids_array) and (ids_array.min() < 0 or ids_array.max() >= n_tokens):
        bad = int(ids_array.min()) if ids_array.min() < 0 else int(ids_array.max())
        raise ValueError(f"word token id {bad} is not in token_bytes ({n_tokens} entries)")
    starts = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(np.frombuffer(lengths, np.int64), out=starts[1:])
    return ids_array.astype(np.int32), starts, np.frombuffer(counts, np.int64)


def _pack(token_bytes: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """All token bytes in one uint8 buffer plus start offsets; empty tokens are refused."""
    if not all(token_bytes):
        raise ValueError(f"token id {token_bytes.index(b'')} has empty bytes")
    starts = np.zeros(len(token_bytes) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, token_bytes), np.int64, len(token_bytes)), out=starts[1:])
    return np.frombuffer(b"".join(token_bytes), np.uint8).copy(), starts


def _run_in_thread(args: tuple, control: np.ndarray, on_merge: MergeCallback | None) -> tuple[np.ndarray, int]:
    """Run ``_learn`` in a helper thread, calling ``on_merge`` here; Ctrl-C or an error in ``on_merge`` stops it."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["result"] = _learn(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="bbpe-merge", daemon=True)
    thread.start()
    reported = 0
    try:
        while thread.is_alive():
            thread.join(_REPORT_SECONDS)
            added = int(control[0])
            if on_merge is not None and added != reported and thread.is_alive():
                on_merge(added)
                reported = added
    except BaseException:
        control[1] = 1
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


@njit(cache=True)
def _find(table, key):
    """The slot of ``key`` in a [key, value] table, or the empty slot (value -1) where it goes."""
    mask = table.shape[0] - 1
    slot = ((key * _SPREAD) >> 32) & mask
    while table[slot, 1] != -1 and table[slot, 0] != key:
        slot = (slot + 1) & mask
    return slot


@njit(cache=True)
def _new_table(entries):
    """An empty [key, value] table for ``entries`` keys at half load."""
    size = 1024
    while size < 2 * entries:
        size *= 2
    table = np.empty((size, 2), np.int64)
    table[:, 1] = -1
    return table


@njit(cache=True)
def _fit_table(table, entries):
    """``table``, or a rehashed copy at half load if ``entries`` would fill more than 70% of it."""
    if 10 * entries <= 7 * table.shape[0]:
        return table
    bigger = _new_table(2 * entries)
    for slot in range(table.shape[0]):
        if table[slot, 1] != -1:
            bigger[_find(bigger, table[slot, 0])] = table[slot]
    return bigger


@njit(cache=True)
def _fit_rows(rows, need):
    """``rows``, or a copy with room for at least ``need`` rows (growing by half)."""
    if need <= rows.shape[0]:
        return rows
    bigger = np.empty((max(need, rows.shape[0] + rows.shape[0] // 2),) + rows.shape[1:], rows.dtype)
    bigger[: rows.shape[0]] = rows
    return bigger


@njit(cache=True)
def _pair_id(pairs, table, n_pairs, left, right):
    """The id of pair (left, right), created with count 0 if new; returns (id, pair count)."""
    key = (np.int64(left) << 32) | right
    slot = _find(table, key)
    if table[slot, 1] == -1:
        table[slot, 0] = key
        table[slot, 1] = n_pairs
        pairs[n_pairs, _KEY] = key
        pairs[n_pairs, _COUNT] = 0
        pairs[n_pairs, _BLOCK] = -1
        n_pairs += 1
    return table[slot, 1], n_pairs


@njit(cache=True)
def _compact_or_grow(pairs, n_pairs, pool, blocks, n_blocks, pool_end, need):
    """Room for ``need`` more pool entries: drop the word lists of pairs that are gone (count 0)
    if they fill half the pool, else grow it.  Returns (pool, blocks, number of blocks, pool end)."""
    live = 0
    for pid in range(n_pairs):
        if pairs[pid, _COUNT] > 0:
            block = pairs[pid, _BLOCK]
            while block != -1:
                live += blocks[block, 1]
                block = blocks[block, 2]
    if 2 * live > pool_end:
        return _fit_rows(pool, pool_end + need), blocks, n_blocks, pool_end
    new_pool = np.empty(max(1024, 2 * (live + need)), np.int32)
    new_blocks = np.empty((n_pairs + 1024, 3), np.int64)
    end = 0
    count = 0
    for pid in range(n_pairs):
        block = pairs[pid, _BLOCK]
        pairs[pid, _BLOCK] = -1
        if pairs[pid, _COUNT] <= 0:
            continue
        new_blocks[count, 0] = end
        while block != -1:
            length = blocks[block, 1]
            new_pool[end : end + length] = pool[blocks[block, 0] : blocks[block, 0] + length]
            end += length
            block = blocks[block, 2]
        new_blocks[count, 1] = end - new_blocks[count, 0]
        new_blocks[count, 2] = -1
        pairs[pid, _BLOCK] = count
        count += 1
    return new_pool, new_blocks, count, end


@njit(cache=True)
def _above(heap, i, j):
    return heap[i, 0] > heap[j, 0] or (heap[i, 0] == heap[j, 0] and heap[i, 1] < heap[j, 1])


@njit(cache=True)
def _sift_down(heap, size, i):
    while True:
        child = 2 * i + 1
        if child >= size:
            return
        if child + 1 < size and _above(heap, child + 1, child):
            child += 1
        if not _above(heap, child, i):
            return
        for column in range(3):
            heap[i, column], heap[child, column] = heap[child, column], heap[i, column]
        i = child


@njit(cache=True)
def _push(heap, size, pairs, pid):
    """Add a row for pair ``pid`` with its current count; returns the new size."""
    heap[size, 0] = pairs[pid, _COUNT]
    heap[size, 1] = pairs[pid, _KEY]
    heap[size, 2] = pid
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if not _above(heap, i, parent):
            break
        for column in range(3):
            heap[i, column], heap[parent, column] = heap[parent, column], heap[i, column]
        i = parent
    return size + 1


@njit(cache=True)
def _pop_best(heap, size, pairs, min_frequency):
    """Remove stale rows until the top is current; returns the new size (0: no pair left)."""
    while size > 0:
        current = pairs[heap[0, 2], _COUNT]
        if current == heap[0, 0]:
            return size
        if min_frequency <= current < heap[0, 0]:  # fell since pushed: refresh in place
            heap[0, 0] = current
        else:  # gone, too rare, or grew (then a newer row holds the count)
            size -= 1
            heap[0] = heap[size]
        _sift_down(heap, size, 0)
    return 0


@njit(cache=True)
def _token_hashes(tok_data, tok_start, capacity):
    """Per token: polynomial hash of its bytes and base**length (both mod 2**64)."""
    hashes = np.empty(capacity, np.int64)
    powers = np.empty(capacity, np.int64)
    for t in range(len(tok_start) - 1):
        h = 0
        p = 1
        for k in range(tok_start[t], tok_start[t + 1]):
            h = h * _HASH_BASE + tok_data[k] + 1
            p = p * _HASH_BASE
        hashes[t] = h
        powers[t] = p
    return hashes, powers


@njit(cache=True)
def _same_bytes(data, start, left_start, left_len, right_start, right_len):
    for k in range(left_len):
        if data[start + k] != data[left_start + k]:
            return False
    for k in range(right_len):
        if data[start + left_len + k] != data[right_start + k]:
            return False
    return True


@njit(cache=True)
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


@njit(cache=True)
def _rewrite(store, w, left, right, token, near, nearby, n_near, events, n_events, step):
    """Merge (left, right) -> token in the word at offset ``w``, noting neighbour changes and events.

    A word without the pair (it was merged on an earlier visit) is left as it is.
    """
    n = store[w]
    c = (np.int64(store[w + 2]) << 32) | (np.int64(store[w + 1]) & 0xFFFFFFFF)
    s = w + _HEADER
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


@njit(cache=True)
def _word_store(word_ids, word_start, word_count):
    """The int32 word store: ``[length, count low, count high, ids...]`` per word."""
    store = np.empty(len(word_ids) + _HEADER * len(word_count), np.int32)
    at = 0
    for w in range(len(word_count)):
        n = word_start[w + 1] - word_start[w]
        store[at] = n
        store[at + 1] = word_count[w] & 0xFFFFFFFF
        store[at + 2] = word_count[w] >> 32
        store[at + _HEADER : at + _HEADER + n] = word_ids[word_start[w] : word_start[w + 1]]
        at += _HEADER + n
    return store


@njit(cache=True)
def _index_pairs(store):
    """Pair rows and table for the initial words, and one block of word offsets per pair."""
    pairs = np.empty((1024, 3), np.int64)
    table = _new_table(1024)
    n_pairs = 0
    position_pair = np.empty(len(store), np.int32)
    w = 0
    while w < len(store):
        n = store[w]
        c = (np.int64(store[w + 2]) << 32) | (np.int64(store[w + 1]) & 0xFFFFFFFF)
        pairs = _fit_rows(pairs, n_pairs + n)
        table = _fit_table(table, n_pairs + n)
        for i in range(w + _HEADER, w + _HEADER + n - 1):
            pid, n_pairs = _pair_id(pairs, table, n_pairs, store[i], store[i + 1])
            pairs[pid, _COUNT] += c
            position_pair[i] = pid
        w += _HEADER + n
    # Count, then list, the words of each pair.
    sizes = np.zeros(n_pairs + 1, np.int64)
    _list_words(store, position_pair, sizes[1:], np.empty(0, np.int32), False)
    first = np.cumsum(sizes)
    pool = np.empty(max(1024, first[n_pairs]), np.int32)
    _list_words(store, position_pair, first[:-1].copy(), pool, True)
    blocks = np.empty((n_pairs + 1024, 3), np.int64)  # [pool start, length, next block]
    for pid in range(n_pairs):
        blocks[pid, 0] = first[pid]
        blocks[pid, 1] = sizes[pid + 1]
        blocks[pid, 2] = -1
        pairs[pid, _BLOCK] = pid
    return pairs, table, n_pairs, blocks, pool, first[n_pairs]


@njit(cache=True)
def _list_words(store, position_pair, at, pool, fill):
    """Each word once per pair it holds: count into ``at[pid]``, or write to ``pool[at[pid]++]``."""
    last_word = np.full(len(at), -1, np.int64)
    w = 0
    while w < len(store):
        for i in range(w + _HEADER, w + _HEADER + store[w] - 1):
            pid = position_pair[i]
            if last_word[pid] != w:
                last_word[pid] = w
                if fill:
                    pool[at[pid]] = w
                at[pid] += 1
        w += _HEADER + store[w]


@njit(cache=True, nogil=True)
def _learn(store, tok_data, tok_start, n_new, min_frequency, control):
    """The merge loop; returns ([left, right, token, count, new] per step, stop code)."""
    # Tokens: bytes, hash, base**length, and a table hash -> newest id, chained by t_next
    # (sized for every token up front).
    n_tok = len(tok_start) - 1
    capacity = n_tok + n_new
    t_hash, t_pow = _token_hashes(tok_data, tok_start, capacity)
    t_start = np.empty(capacity, np.int64)
    t_len = np.empty(capacity, np.int64)
    t_next = np.empty(capacity, np.int64)
    data = np.empty(max(16, 2 * len(tok_data)), np.uint8)
    data[: len(tok_data)] = tok_data
    data_end = len(tok_data)
    t_table = _new_table(capacity)
    for t in range(n_tok):
        t_start[t] = tok_start[t]
        t_len[t] = tok_start[t + 1] - tok_start[t]
        slot = _find(t_table, t_hash[t])
        t_next[t] = t_table[slot, 1]
        t_table[slot, 0] = t_hash[t]
        t_table[slot, 1] = t

    pairs, table, n_pairs, blocks, pool, pool_end = _index_pairs(store)
    n_blocks = n_pairs
    # Pairs below min_frequency cannot be chosen until they grow (and are pushed then).
    heap = np.empty((np.sum(pairs[:n_pairs, _COUNT] >= min_frequency) + 1024, 3), np.int64)
    heap_size = 0
    for pid in range(n_pairs):
        if pairs[pid, _COUNT] >= min_frequency:
            heap[heap_size, 0] = pairs[pid, _COUNT]
            heap[heap_size, 1] = pairs[pid, _KEY]
            heap[heap_size, 2] = pid
            heap_size += 1
    for i in range(heap_size // 2 - 1, -1, -1):
        _sift_down(heap, heap_size, i)

    near = np.zeros((capacity, 9), np.int64)
    near[:, _STEP] = -1
    nearby = np.empty(capacity, np.int64)
    grown = np.empty(2 * capacity, np.int64)
    events = np.empty((1024, 2), np.int64)
    merges = np.empty((1024, 5), np.int64)
    steps = 0
    added = 0
    stop = 0
    while added < n_new:
        if control[1] != 0:
            stop = 2
            break
        heap_size = _pop_best(heap, heap_size, pairs, min_frequency)
        if heap_size == 0 or heap[0, 0] < min_frequency:
            stop = 1
            break
        best = heap[0, 2]
        count = heap[0, 0]
        heap_size -= 1
        heap[0] = heap[heap_size]
        _sift_down(heap, heap_size, 0)
        left = pairs[best, _KEY] >> 32
        right = pairs[best, _KEY] & 0xFFFFFFFF

        # The token for left + right: an existing one with those bytes, or a new id.
        h = t_hash[left] * t_pow[right] + t_hash[right]
        length = t_len[left] + t_len[right]
        slot = _find(t_table, h)
        token = t_table[slot, 1]
        while token != -1 and not (
            t_len[token] == length
            and _same_bytes(data, t_start[token], t_start[left], t_len[left], t_start[right], t_len[right])
        ):
            token = t_next[token]
        is_new = token == -1
        if is_new:
            token = n_tok
            n_tok += 1
            added += 1
            if data_end + length > len(data):
                bigger = np.empty(2 * (data_end + length), np.uint8)
                bigger[:data_end] = data[:data_end]
                data = bigger
            data[data_end : data_end + t_len[left]] = data[t_start[left] : t_start[left] + t_len[left]]
            data[data_end + t_len[left] : data_end + length] = data[t_start[right] : t_start[right] + t_len[right]]
            t_start[token] = data_end
            t_len[token] = length
            data_end += length
            t_hash[token] = h
            t_pow[token] = t_pow[left] * t_pow[right]
            t_next[token] = t_table[slot, 1]
            t_table[slot, 0] = h
            t_table[slot, 1] = token
        merges = _fit_rows(merges, steps + 1)
        merges[steps, 0] = left
        merges[steps, 1] = right
        merges[steps, 2] = token
        merges[steps, 3] = count
        merges[steps, 4] = 1 if is_new else 0

        # Rewrite every word holding the pair; sum the neighbour changes per neighbour id.
        n_near = 0
        n_events = 0
        block = pairs[best, _BLOCK]
        while block != -1:
            for k in range(blocks[block, 0], blocks[block, 0] + blocks[block, 1]):
                w = pool[k]
                events = _fit_rows(events, n_events + store[w])
                n_near, n_events = _rewrite(
                    store, w, left, right, token, near, nearby, n_near, events, n_events, steps
                )
            block = blocks[block, 2]

        # Apply the sums: one table lookup per neighbour and side; new word blocks for gains.
        pairs = _fit_rows(pairs, n_pairs + 2 * n_near)
        table = _fit_table(table, n_pairs + 2 * n_near)
        if pool_end + n_events > len(pool):
            pool, blocks, n_blocks, pool_end = _compact_or_grow(pairs, n_pairs, pool, blocks, n_blocks, pool_end,
                                                                n_events)
        blocks = _fit_rows(blocks, n_blocks + 2 * n_near)
        n_grown = 0
        for k in range(n_near):
            z = nearby[k]
            if near[z, _LOSS_X]:
                pid, n_pairs = _pair_id(pairs, table, n_pairs, z, left)
                pairs[pid, _COUNT] -= near[z, _LOSS_X]
            if near[z, _LOSS_Y]:
                pid, n_pairs = _pair_id(pairs, table, n_pairs, right, z)
                pairs[pid, _COUNT] -= near[z, _LOSS_Y]
            for side in range(2):
                gain = near[z, _GAIN_Y if side else _GAIN_X]
                if gain:
                    if side:
                        pid, n_pairs = _pair_id(pairs, table, n_pairs, token, z)
                    else:
                        pid, n_pairs = _pair_id(pairs, table, n_pairs, z, token)
                    pairs[pid, _COUNT] += gain
                    slot_column = _SLOT_Y if side else _SLOT_X
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
        pairs[best, _COUNT] = 0

        heap = _fit_rows(heap, heap_size + n_grown)
        for k in range(n_grown):
            if pairs[grown[k], _COUNT] >= min_frequency:
                heap_size = _push(heap, heap_size, pairs, grown[k])
        steps += 1
        control[0] = added
    return merges[:steps].copy(), stop
