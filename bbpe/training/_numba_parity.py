"""The compiled parity-aware merge loop (see ``bbpe.training.parity_numba``; rules in ``bbpe.training.parity``).

Data, all numpy arrays (rows, tables and heaps from ``bbpe.training._numba_tables``):

* words: the unique pre-tokens of all languages and of the dev set, one int32 store of
  ``[length, token ids...]`` per word (named by its offset, shrinking in place as it merges),
  each with a sparse list of (language, training count) and one of (language, dev count);
* pairs: a table key -> pair id (key = left << 32 | right), the global count per pair id
  (summed over languages) and a table (pair id << 16 | language) -> row of that language's
  count; a pair's words are a linked list (head per pair, entries word offset + next) that
  may hold words that lost the pair or a word twice (skipped when visited);
* one max-heap of ``[count, key, pair id]`` per language, and a global one for the hybrid's
  first merges, refreshed lazily, holding only rows that reach ``min_frequency``;
* dev tokens per language, lowered by (tokens a word lost) x (its dev count) when it merges.

A merge rewrites every word of the chosen pair once, whatever its languages, and then adds
the pair changes of that word to each of its languages' counts.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.typed import List

from bbpe.training._numba_loop import _token_rows, take_merge
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

STOP_VOCAB_SIZE, STOP_MIN_FREQUENCY, STOP_INTERRUPTED = range(3)
_LANGUAGE_BITS = 16  # at most 65,536 languages
_SPREAD = -7046029254386353131  # 0x9E3779B97F4A7C15 (Fibonacci hashing) as int64
# A step's sums: rows (pair key, language or -1 for the global sum) in an open-addressing index.
# DELTA: count change; GREW: some word gained the pair; WORD: last word listed (global rows);
# PARENT: the pair's global row (language rows); PID: its pair id once resolved; SLOT: index slot.
_PAIR, _LANGUAGE, _DELTA, _GREW, _WORD, _PARENT, _PID, _SLOT = range(8)


@njit(cache=True)
def _pair_id(table, keys, n_pairs, left, right):
    """The id of pair (left, right), created if new; returns (id, keys, number of pairs)."""
    key = (np.int64(left) << 32) | right
    slot = find(table, key)
    if table[slot, 1] == -1:
        table[slot, 0] = key
        table[slot, 1] = n_pairs
        keys = fit_rows(keys, n_pairs + 1)
        keys[n_pairs] = key
        n_pairs += 1
    return table[slot, 1], keys, n_pairs


@njit(cache=True)
def _fit_pairs(gcount, head, first_row, pid):
    """The per-pair arrays with a row for pair ``pid`` (new rows: count 0, no word, no language row)."""
    if pid >= len(gcount):
        gcount = fit_rows(gcount, pid + 1)
        gcount[pid:] = 0
        head = fit_rows(head, pid + 1)
        head[pid:] = -1
        first_row = fit_rows(first_row, pid + 1)
        first_row[pid:] = -1
    return gcount, head, first_row


@njit(cache=True)
def _row(ltable, lcount, next_row, first_row, n_rows, pid, language):
    """The row of (pair, language) counts, created with count 0 if new and chained to the pair's rows
    (``first_row[pid]``, ``next_row``); returns (row, lcount, next_row, rows)."""
    key = (np.int64(pid) << _LANGUAGE_BITS) | language
    slot = find(ltable, key)
    if ltable[slot, 1] == -1:
        ltable[slot, 0] = key
        ltable[slot, 1] = n_rows
        lcount = fit_rows(lcount, n_rows + 1)
        next_row = fit_rows(next_row, n_rows + 1)
        lcount[n_rows] = 0
        next_row[n_rows] = first_row[pid]
        first_row[pid] = n_rows
        n_rows += 1
    return ltable[slot, 1], lcount, next_row, n_rows


@njit(cache=True)
def _acc_slot(acc, acc_rows, key, language):
    mask = len(acc) - 1
    slot = (((key * _SPREAD + language) * _SPREAD) >> 32) & mask
    while acc[slot] != -1 and (acc_rows[acc[slot], _PAIR] != key or acc_rows[acc[slot], _LANGUAGE] != language):
        slot = (slot + 1) & mask
    return slot


@njit(cache=True)
def _acc_row(acc, acc_rows, n_acc, key, language, parent):
    """The step row of (pair key, language), created if new; returns (row, acc, acc_rows, number of rows)."""
    slot = _acc_slot(acc, acc_rows, key, language)
    if acc[slot] != -1:
        return acc[slot], acc, acc_rows, n_acc
    acc_rows = fit_rows(acc_rows, n_acc + 1)
    acc_rows[n_acc] = 0
    acc_rows[n_acc, _PAIR] = key
    acc_rows[n_acc, _LANGUAGE] = language
    acc_rows[n_acc, _WORD] = -1
    acc_rows[n_acc, _PARENT] = parent
    acc_rows[n_acc, _SLOT] = slot
    acc[slot] = n_acc
    n_acc += 1
    if 2 * n_acc > len(acc):  # rehash at half load
        acc = np.full(4 * len(acc), -1, np.int64)
        for r in range(n_acc):
            slot = _acc_slot(acc, acc_rows, acc_rows[r, _PAIR], acc_rows[r, _LANGUAGE])
            acc[slot] = r
            acc_rows[r, _SLOT] = slot
    return n_acc - 1, acc, acc_rows, n_acc


@njit(cache=True)
def _lookup(ltable, lcount, pid, language):
    row = ltable[find(ltable, (np.int64(pid) << _LANGUAGE_BITS) | language), 1]
    return 0 if row == -1 else lcount[row]


@njit(cache=True)
def _pop_best(heap, size, ltable, lcount, gcount, language, min_frequency):
    """Drop or refresh stale rows until the top is current (``bbpe._numba_loop.pop_best`` per language;
    ``language`` -1: global counts); returns the new size (0: none left)."""
    while size > 0:
        pid = heap[0, 2]
        current = gcount[pid] if language < 0 else _lookup(ltable, lcount, pid, language)
        if current == heap[0, 0]:
            return size
        if min_frequency <= current < heap[0, 0]:
            heap[0, 0] = current
            sift_down(heap, size, 0)
        else:  # gone, too rare, or grew (a newer row holds its count)
            size = heap_drop_top(heap, size)
    return 0


@njit(cache=True)
def _rewrite(store, w, left, right, token, changes):
    """Merge (left, right) -> token in the word at offset ``w`` in place, as ``bbpe.bpe.apply_merge``
    does; writes the pair changes (left id, right id, +1 or -1) to ``changes`` and returns their number."""
    n = store[w]
    s = w + 1
    i = 0
    j = 0
    k = 0
    merged_before = False
    while i < n:
        a = store[s + i]
        if a == left and i + 1 < n and store[s + i + 1] == right:
            if j > 0:
                if not merged_before:
                    changes[k, 0], changes[k, 1], changes[k, 2] = store[s + i - 1], left, -1
                    k += 1
                changes[k, 0], changes[k, 1], changes[k, 2] = store[s + j - 1], token, 1
                k += 1
            if i + 2 < n:
                y = store[s + i + 2]
                changes[k, 0], changes[k, 1], changes[k, 2] = right, y, -1
                k += 1
                if not (y == left and i + 3 < n and store[s + i + 3] == right):
                    changes[k, 0], changes[k, 1], changes[k, 2] = token, y, 1
                    k += 1
            store[s + j] = token
            i += 2
            merged_before = True
        else:
            store[s + j] = a
            i += 1
            merged_before = False
        j += 1
    store[w] = j
    return k


@njit(cache=True, nogil=True)
def learn(
    store,
    word_at,
    train_start,
    train_language,
    train_count,
    dev_start,
    dev_language,
    dev_count,
    candidate,
    tok_data,
    tok_start,
    n_new,
    min_frequency,
    global_merges,
    control,
):
    """Merge until ``n_new`` new tokens exist or no candidate language (global phase: no pair) has a pair
    reaching ``min_frequency`` (>= 1).  Word ``i`` is at ``store[word_at[i]]``; its training counts are
    ``train_*[train_start[i]:train_start[i + 1]]``, its dev counts likewise; ``candidate[l]`` is 1 for the
    languages that may choose.  ``control[0]`` receives the tokens added so far; a nonzero ``control[1]``
    stops the loop.  Returns ([left, right, token, count, new, language (-1: global)] per step, stop code).
    """
    n_languages = len(candidate)
    n_words = len(word_at)
    n_tok = len(tok_start) - 1
    tokens, data, t_table = _token_rows(tok_data, tok_start, n_tok + n_new)
    data_end = len(tok_data)

    # Initial counts, word lists and dev tokens.
    table = new_table(1024)
    keys = np.empty(1024, np.int64)
    n_pairs = 0
    gcount = np.zeros(1024, np.int64)
    ltable = new_table(1024)
    lcount = np.empty(1024, np.int64)
    next_row = np.empty(1024, np.int64)
    first_row = np.full(1024, -1, np.int64)
    n_rows = 0
    head = np.full(1024, -1, np.int64)
    entry_word = np.empty(1024, np.int64)
    entry_next = np.empty(1024, np.int64)
    n_entries = 0
    seen = np.full(1024, -1, np.int64)  # last word listed per pair
    dev_tokens = np.zeros(n_languages, np.int64)
    for i in range(n_words):
        w = word_at[i]
        n = store[w]
        for d in range(dev_start[i], dev_start[i + 1]):
            dev_tokens[dev_language[d]] += n * dev_count[d]
        table = fit_table(table, n_pairs + n)
        for p in range(w + 1, w + n):
            pid, keys, n_pairs = _pair_id(table, keys, n_pairs, store[p], store[p + 1])
            gcount, head, first_row = _fit_pairs(gcount, head, first_row, pid)
            if pid >= len(seen):
                seen = fit_rows(seen, pid + 1)
                seen[pid:] = -1
            if seen[pid] != i:
                seen[pid] = i
                entry_word = fit_rows(entry_word, n_entries + 1)
                entry_next = fit_rows(entry_next, n_entries + 1)
                entry_word[n_entries] = i
                entry_next[n_entries] = head[pid]
                head[pid] = n_entries
                n_entries += 1
            ltable = fit_table(ltable, n_rows + train_start[i + 1] - train_start[i])
            for t in range(train_start[i], train_start[i + 1]):
                row, lcount, next_row, n_rows = _row(
                    ltable, lcount, next_row, first_row, n_rows, pid, train_language[t]
                )
                lcount[row] += train_count[t]
                gcount[pid] += train_count[t]

    # Heaps: one per language, one global.
    heaps = List()
    sizes = np.zeros(n_languages, np.int64)
    for _ in range(n_languages):
        heaps.append(np.empty((1024, 3), np.int64))
    for slot in range(ltable.shape[0]):
        row = ltable[slot, 1]
        if row != -1 and lcount[row] >= min_frequency:
            language = ltable[slot, 0] & ((1 << _LANGUAGE_BITS) - 1)
            pid = ltable[slot, 0] >> _LANGUAGE_BITS
            heap = fit_rows(heaps[language], sizes[language] + 1)
            heap[sizes[language], 0] = lcount[row]
            heap[sizes[language], 1] = keys[pid]
            heap[sizes[language], 2] = pid
            sizes[language] += 1
            heaps[language] = heap
    for language in range(n_languages):
        heapify(heaps[language], sizes[language])
    gheap = np.empty((1024, 3), np.int64)
    gsize = 0
    if global_merges > 0:
        gheap = np.empty((n_pairs + 1024, 3), np.int64)
        for pid in range(n_pairs):
            if gcount[pid] >= min_frequency:
                gheap[gsize, 0] = gcount[pid]
                gheap[gsize, 1] = keys[pid]
                gheap[gsize, 2] = pid
                gsize += 1
        heapify(gheap, gsize)

    active = candidate.copy()
    changes = np.empty((1024, 3), np.int64)
    acc = np.full(1024, -1, np.int64)
    acc_rows = np.empty((1024, 8), np.int64)
    events = np.empty((1024, 2), np.int64)  # (word, global row of a pair it gained)
    merges = np.empty((1024, 6), np.int64)
    steps = 0
    added = 0
    stop = STOP_VOCAB_SIZE
    while added < n_new:
        if control[1] != 0:
            stop = STOP_INTERRUPTED
            break
        best = -1
        count = 0
        chooser = -1
        if steps < global_merges:
            gsize = _pop_best(gheap, gsize, ltable, lcount, gcount, -1, min_frequency)
            if gsize > 0:
                count, best = gheap[0, 0], gheap[0, 2]
                gsize = heap_drop_top(gheap, gsize)
        else:
            while best == -1:
                chooser = -1
                for language in range(n_languages):  # most dev tokens; ties: the first (smallest code)
                    if active[language] and (chooser == -1 or dev_tokens[language] > dev_tokens[chooser]):
                        chooser = language
                if chooser == -1:
                    break
                heap = heaps[chooser]
                sizes[chooser] = _pop_best(heap, sizes[chooser], ltable, lcount, gcount, chooser, min_frequency)
                if sizes[chooser] > 0:
                    count, best = heap[0, 0], heap[0, 2]
                    sizes[chooser] = heap_drop_top(heap, sizes[chooser])
                else:
                    active[chooser] = 0  # merges never raise a language's highest pair count
        if best == -1:
            stop = STOP_MIN_FREQUENCY
            break
        left, right = keys[best] >> 32, keys[best] & 0xFFFFFFFF
        token, is_new, data, data_end, merges = take_merge(
            tokens, t_table, data, data_end, n_tok, merges, steps, left, right, count
        )
        if is_new:
            n_tok += 1
            added += 1
        merges[steps, 5] = chooser

        # Rewrite every word holding the pair; sum the pair changes of the step per (pair, language).
        n_acc = 0
        n_events = 0
        entry = head[best]
        head[best] = -1
        while entry != -1:
            i = entry_word[entry]
            w = word_at[i]
            entry = entry_next[entry]
            n = store[w]
            changes = fit_rows(changes, 2 * n)
            k = _rewrite(store, w, left, right, token, changes)
            if k == 0 and store[w] == n:
                continue  # lost the pair earlier, or listed twice
            saved = n - store[w]
            for d in range(dev_start[i], dev_start[i + 1]):
                dev_tokens[dev_language[d]] -= saved * dev_count[d]
            total = 0
            for t in range(train_start[i], train_start[i + 1]):
                total += train_count[t]
            for c in range(k):
                key = (np.int64(changes[c, 0]) << 32) | changes[c, 1]
                delta = changes[c, 2]
                g, acc, acc_rows, n_acc = _acc_row(acc, acc_rows, n_acc, key, -1, -1)
                acc_rows[g, _DELTA] += delta * total
                if delta > 0:
                    acc_rows[g, _GREW] = 1
                    if acc_rows[g, _WORD] != i:  # a new (pair, word): list it once
                        acc_rows[g, _WORD] = i
                        events = fit_rows(events, n_events + 1)
                        events[n_events, 0] = i
                        events[n_events, 1] = g
                        n_events += 1
                for t in range(train_start[i], train_start[i + 1]):
                    r, acc, acc_rows, n_acc = _acc_row(acc, acc_rows, n_acc, key, train_language[t], g)
                    acc_rows[r, _DELTA] += delta * train_count[t]
                    if delta > 0:
                        acc_rows[r, _GREW] = 1

        # Apply the sums: one table lookup per pair and per (pair, language); push what grew.
        for r in range(n_acc):
            language = acc_rows[r, _LANGUAGE]
            if language < 0:  # rows of a pair come after its global row
                table = fit_table(table, n_pairs + 1)
                key = acc_rows[r, _PAIR]
                pid, keys, n_pairs = _pair_id(table, keys, n_pairs, key >> 32, key & 0xFFFFFFFF)
                gcount, head, first_row = _fit_pairs(gcount, head, first_row, pid)
                acc_rows[r, _PID] = pid
                gcount[pid] += acc_rows[r, _DELTA]
                if acc_rows[r, _GREW] and pid != best and steps + 1 < global_merges and gcount[pid] >= min_frequency:
                    gheap = fit_rows(gheap, gsize + 1)
                    gsize = heap_push(gheap, gsize, gcount[pid], keys[pid], pid)
            else:
                pid = acc_rows[acc_rows[r, _PARENT], _PID]
                ltable = fit_table(ltable, n_rows + 1)
                row, lcount, next_row, n_rows = _row(ltable, lcount, next_row, first_row, n_rows, pid, language)
                lcount[row] += acc_rows[r, _DELTA]
                if acc_rows[r, _GREW] and pid != best and lcount[row] >= min_frequency:
                    heap = fit_rows(heaps[language], sizes[language] + 1)
                    sizes[language] = heap_push(heap, sizes[language], lcount[row], keys[pid], pid)
                    heaps[language] = heap
            acc[acc_rows[r, _SLOT]] = -1
        for e in range(n_events):
            pid = acc_rows[events[e, 1], _PID]
            entry_word = fit_rows(entry_word, n_entries + 1)
            entry_next = fit_rows(entry_next, n_entries + 1)
            entry_word[n_entries] = events[e, 0]
            entry_next[n_entries] = head[pid]
            head[pid] = n_entries
            n_entries += 1
        # The merged pair is gone from every language (its own neighbour changes included).
        gcount[best] = 0
        row = first_row[best]
        while row != -1:
            lcount[row] = 0
            row = next_row[row]
        steps += 1
        control[0] = added
    return merges[:steps].copy(), stop
