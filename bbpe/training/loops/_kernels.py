"""The compiled merge loop: ``bbpe.training.loops.reference.learn_merges`` on flat arrays (see ``bbpe.training.loops.compiled``).

The merge state (words, tracked pairs, bucket sums, heap) is described in ``bbpe.training.loops._pair_state``,
the token rows in ``bbpe.training.loops._tokens``.  One step rewrites the words holding the best pair and
sums the changes of the pairs next to it per neighbour id (``near``, one row per token id), so the pair
table is touched once per distinct neighbour, not once per occurrence.  A pair that grows holds a new
token (or, rarely, a token that other pairs spell too), so when the token is new its count is exact and
it is tracked at once if it reaches the tracking limit; the words of its list are then written from
*events* (word, neighbour, side) noted while rewriting, without looking at the words again.
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import kernel
from bbpe.training.loops._pair_state import (
    BLOCK,
    BLOCKS,
    COUNT,
    KEY,
    LIMIT,
    PAIRS,
    POOL_END,
    RECOUNT,
    best_pair,
    bucket_of,
    end_mark,
    entry_size,
    get_entry,
    make_room,
    pair_key,
    push_grown,
    put_entry,
)
from bbpe.training.loops._tables import find, fit_rows, fit_table
from bbpe.training.loops._tokens import take_merge, token_rows

# Neighbour rows, for merging (left, right) into token: x stands before the pair, y after it.
# GAIN_*: count added to (x, token) / (token, y); LOSS_*: removed from (x, left) / (right, y);
# WORD_*: last word listed; SIZE_*: bytes of the word list, then the write position in the pool;
# KEEP_*: 1 if the grown pair is tracked (its words are listed), else 0.
_STEP, _GAIN_X, _LOSS_X, _WORD_X, _SIZE_X, _GAIN_Y, _LOSS_Y, _WORD_Y, _SIZE_Y, _KEEP_X, _KEEP_Y = range(11)
STOP_VOCAB_SIZE, STOP_MIN_FREQUENCY, STOP_INTERRUPTED, STOP_WIDEN = range(4)


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
def _list_word(near, z, side, w, events, n_events):
    """Note word ``w`` once in the list of neighbour ``z``'s grown pair on ``side`` (the list's size in bytes),
    and as an event ``w << 32 | 2 * z + side`` while ``events`` has room (``n_events`` -1: it had none)."""
    word, size = (_WORD_Y, _SIZE_Y) if side else (_WORD_X, _SIZE_X)
    if near[z, word] == w:
        return n_events
    near[z, size] += entry_size(w, near[z, word])
    near[z, word] = w
    if n_events == -1 or n_events == len(events):
        return -1
    events[n_events] = (w << 32) | (2 * z + side)
    return n_events + 1


@kernel()
def _write_word(pool, near, z, side, w):
    """Write word ``w`` once into the list of neighbour ``z``'s grown pair on ``side`` (if it is tracked)."""
    word, at, keep = (_WORD_Y, _SIZE_Y, _KEEP_Y) if side else (_WORD_X, _SIZE_X, _KEEP_X)
    if near[z, keep] and near[z, word] != w:
        near[z, at] = put_entry(pool, near[z, at], w, near[z, word])
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
                _list_word(near, store[i - 1], 0, w, near[0], -1)
        # (token, token) is the next occurrence's left pair
        if i + 1 < e and store[i + 1] != mark and store[i + 1] != token and near[store[i + 1], _STEP] == step:
            if write:
                _write_word(pool, near, store[i + 1], 1, w)
            else:
                _list_word(near, store[i + 1], 1, w, near[0], -1)


@kernel()
def _rewrite(store, s, e, mark, c, w, left, right, token, near, nearby, n_near, step, events, n_events):
    """Merge (left, right) -> token in word ``w`` (ids ``store[s:e]`` up to the end mark, count ``c``) in
    place, as the reference does, noting the neighbour changes and the size of each grown pair's word list
    (and events, see ``_list_word``).  A word without the pair (merged on an earlier visit) is left as it is.

    Returns (noted neighbours, ids removed, events).
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
                n_events = _list_word(near, x, 0, w, events, n_events)
            if i + 2 < e and store[i + 2] != mark:  # (right, y) -> (token, y), unless y starts the next occurrence
                y = np.int64(store[i + 2])
                n_near = _note(near, nearby, n_near, y, step)
                near[y, _LOSS_Y] += c
                if not (y == left and i + 3 < e and store[i + 3] == right):
                    # (token, y) with y == token (a token other pairs spell, already in the word) is the
                    # pair (x, token) of neighbour x == token: kept on that side, where _list_grown lists it.
                    side = 0 if y == token else 1
                    near[y, _GAIN_X if side == 0 else _GAIN_Y] += c
                    n_events = _list_word(near, y, side, w, events, n_events)
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
    return n_near, i - j, n_events


@kernel()
def _lose(pairs, table, buckets, key, amount):
    pid = table[find(table, key), 1]
    if pid != -1:
        pairs[pid, COUNT] -= amount
    else:
        buckets[bucket_of(key, len(buckets) - 1)] -= amount


@kernel()
def merge_words(words, state, best, token, is_new, near, nearby, grown, scratch, stamp):
    """Merge pair ``best`` into ``token`` (``is_new``: an id no word held before) in every word of a merge
    state, as the reference does; ``stamp`` must differ from every earlier call's (``near`` rows of the call).

    The words of the pairs that grew are listed from the events of the first words changed, and by looking
    at the rest again once the events are full.  ``scratch`` is (changed words, events).
    Returns (state, scratch, number of tracked pairs that grew, ids saved x word counts); the ids of the
    pairs that grew are in ``grown`` (they are not pushed to the heap).
    """
    changed, events = scratch
    store, starts, counts = words
    pairs, table, blocks, pool, heap, sizes, buckets = state
    mark = end_mark(store)
    left, right = pairs[best, KEY] >> 32, pairs[best, KEY] & 0xFFFFFFFF

    # Rewrite every word holding the pair; sum the neighbour changes per neighbour id.
    n_near = np.int64(0)
    n_changed = 0
    n_events = np.int64(0)
    replayed = (0, 0)  # changed words and events of the words whose events all fit
    saved = np.int64(0)
    block = pairs[best, BLOCK]
    while block != -1:
        at, end, w = blocks[block, 0], blocks[block, 0] + blocks[block, 1], np.int64(-1)
        while at < end:
            w, at = get_entry(pool, at, w)
            n_near, gone, n_events = _rewrite(
                store,
                starts[w],
                starts[w + 1],
                mark,
                counts[w],
                w,
                left,
                right,
                token,
                near,
                nearby,
                n_near,
                stamp,
                events,
                n_events,
            )
            if gone:
                changed = fit_rows(changed, n_changed + 1)
                changed[n_changed] = w
                n_changed += 1
                saved += gone * counts[w]
                if n_events != -1:
                    replayed = (n_changed, n_events)
        block = blocks[block, 2]

    # Losses; which grown pairs are tracked (a new token's pairs: exact counts, tracked if they reach the limit).
    limit = sizes[LIMIT]
    direct = is_new or limit <= 1
    for k in range(n_near):
        z = nearby[k]
        if near[z, _LOSS_X]:
            _lose(pairs, table, buckets, pair_key(z, left), near[z, _LOSS_X])
        if near[z, _LOSS_Y]:
            _lose(pairs, table, buckets, pair_key(right, z), near[z, _LOSS_Y])
        for side in range(2):  # x: (z, token); y: (token, z)
            gain = near[z, _GAIN_Y if side else _GAIN_X]
            if gain == 0:
                continue
            key = pair_key(token, z) if side else pair_key(z, token)
            keep = table[find(table, key), 1] != -1 or (direct and gain >= limit)
            near[z, _KEEP_Y if side else _KEEP_X] = keep
            if not keep:
                h = bucket_of(key, len(buckets) - 1)
                buckets[h] += gain
                if not direct and buckets[h] >= limit:
                    sizes[RECOUNT] = 1  # the pair's earlier count is unknown: count again before the next pop
    pairs[best, COUNT] = 0  # the losses may have counted it again
    if not direct:  # the token occurred before: list the changed words for every pair of it found in them
        for k in range(n_near):
            z = nearby[k]
            near[z, _WORD_X], near[z, _WORD_Y], near[z, _SIZE_X], near[z, _SIZE_Y] = -1, -1, 0, 0
        for k in range(n_changed):
            w = np.int64(changed[k])
            _list_grown(store, starts[w], starts[w + 1], mark, token, near, stamp, w, pool, False)
        replayed = (0, 0)
    need = 0
    for k in range(n_near):
        z = nearby[k]
        need += near[z, _SIZE_X] * near[z, _KEEP_X] + near[z, _SIZE_Y] * near[z, _KEEP_Y]
    pairs, table, blocks, pool, heap, sizes, buckets = make_room(
        (pairs, table, blocks, pool, heap, sizes, buckets), need
    )

    # The tracked gains: one table lookup per neighbour and side, a new block each; then list the words again.
    n_pairs, n_blocks, pool_end = sizes[PAIRS], sizes[BLOCKS], sizes[POOL_END]
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
            key = pair_key(token, z) if side else pair_key(z, token)
            slot = find(table, key)
            if table[slot, 1] == -1:
                table[slot, 0] = key
                table[slot, 1] = n_pairs
                pairs[n_pairs, KEY], pairs[n_pairs, COUNT], pairs[n_pairs, BLOCK] = key, 0, -1
                n_pairs += 1
            pid = table[slot, 1]
            pairs[pid, COUNT] += gain
            blocks[n_blocks, 0], blocks[n_blocks, 1], blocks[n_blocks, 2] = pool_end, near[z, size], pairs[pid, BLOCK]
            pairs[pid, BLOCK] = n_blocks
            n_blocks += 1
            pool_end += near[z, size]
            near[z, size] = blocks[n_blocks - 1, 0]  # from here on: the write position
            grown[n_grown] = pid
            n_grown += 1
    for k in range(replayed[1]):
        code = events[k] & 0xFFFFFFFF
        _write_word(pool, near, code >> 1, code & 1, events[k] >> 32)
    for k in range(replayed[0], n_changed):
        w = np.int64(changed[k])
        _list_grown(store, starts[w], starts[w + 1], mark, token, near, stamp, w, pool, True)
    sizes[PAIRS], sizes[BLOCKS], sizes[POOL_END] = n_pairs, n_blocks, pool_end
    return (pairs, table, blocks, pool, heap, sizes, buckets), (changed, events), n_grown, saved


@kernel()
def neighbour_rows(capacity, n_events):
    """Scratch rows for ``merge_words`` for token ids below ``capacity``: near, nearby, grown, and (changed
    words, events): ``n_events`` events (8 bytes each) record the first list entries of a step."""
    near = np.zeros((capacity, 11), np.int64)
    near[:, _STEP] = -1
    scratch = (np.empty(1024, np.int32), np.empty(n_events, np.int64))
    return near, np.empty(capacity, np.int64), np.empty(2 * capacity, np.int64), scratch


@kernel()
def new_run(tok_data, tok_start, n_new, n_events):
    """The loop's own rows for ``n_new`` new tokens after the given ones: (tokens, token bytes, token table,
    near, nearby, grown, scratch, merges, [steps, tokens added, tokens, token bytes used])."""
    n_tok = len(tok_start) - 1
    tokens, data, t_table = token_rows(tok_data, tok_start, n_tok + n_new)
    near, nearby, grown, scratch = neighbour_rows(n_tok + n_new, n_events)
    counters = np.array([0, 0, n_tok, len(tok_data)], np.int64)
    return tokens, data, t_table, near, nearby, grown, scratch, np.empty((1024, 5), np.int64), counters


@kernel(nogil=True)
def run(words, state, loop, n_new, min_frequency, control):
    """Merge until ``n_new`` new tokens exist, no pair reaches ``min_frequency`` (>= 1), or the next new id
    would not fit the store (``STOP_WIDEN``: ``widen`` the words and run again with the same state and loop).

    ``control[0]`` receives the tokens added so far; a nonzero ``control[1]`` stops the loop.
    Returns (state, loop, stop code); the merges are ``loop[7][:loop[8][0]]``, rows [left, right, token, count, new].
    """
    tokens, data, t_table, near, nearby, grown, scratch, merges, counters = loop
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
        state, scratch, n_grown, _ = merge_words(words, state, best, token, is_new, near, nearby, grown, scratch, steps)
        state = push_grown(state, grown, n_grown, min_frequency)
        steps += 1
        control[0] = added
    counters[0], counters[1], counters[2], counters[3] = steps, added, n_tok, data_end
    return state, (tokens, data, t_table, near, nearby, grown, scratch, merges, counters), stop
