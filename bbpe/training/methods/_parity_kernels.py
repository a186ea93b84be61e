"""The compiled parity-aware merge loop (see ``bbpe.training.methods.parity_compiled``; rules in ``bbpe.training.methods.parity``).

Every training language has a merge state of plain training's loop (``bbpe.training.loops._kernels``,
every pair tracked) over its training words, and every dev text the loop measures (a candidate's choosing
and held-out parts, a reference group's pivot text) one over its dev words; all words back to back in
one int32 store, state ``s``'s words ``segments[s] .. segments[s + 1] - 1`` (states ``0 .. L - 1``
training, then the measured ones).  A language's pair counts are its training state's, so the worst
language's best pair is the top of that state's heap; a merge is applied to every state holding the
pair, and a measured state's saved tokens lower its token count.  After the global merges only the
training states of candidates still choosing are merged (no other is read again); measured states
always are, so their final counts are exact.

The hybrid's global merges read the pair counts summed over the training states from a heap of
``[sum, key, key]`` rows refreshed lazily (a sum is one table lookup per language); the pairs that
grow in a step are pushed with sums added up from the states where they grew.
"""

from __future__ import annotations

import numpy as np
from numba.typed import List

from bbpe._jit import kernel
from bbpe.training.loops._kernels import merge_words, neighbour_rows
from bbpe.training.loops._pair_state import index_words, pair_count, pair_of, pair_rows, pop_pair, push_grown
from bbpe.training.loops._tables import (
    find,
    fit_rows,
    heap_drop_top,
    heap_push,
    heapify,
    new_table,
    sift_down,
)
from bbpe.training.loops._tokens import take_merge, token_rows

STOP_VOCAB_SIZE, STOP_MIN_FREQUENCY, STOP_INTERRUPTED = range(3)


@kernel()
def _summed(states, n_languages, key):
    """The count of pair ``key`` summed over the training states."""
    total = 0
    for language in range(n_languages):
        total += pair_count(states[language], key)
    return total


@kernel()
def _global_heap(states, n_languages, min_frequency):
    """``[sum, key, key]`` rows of every pair whose summed count reaches ``min_frequency``, as a heap."""
    n_keys = 0
    for language in range(n_languages):
        n_keys += len(pair_rows(states[language]))
    sums = new_table(n_keys)
    keys = np.empty(n_keys, np.int64)
    n_keys = 0
    for language in range(n_languages):
        for key, count in pair_rows(states[language]):
            slot = find(sums, key)
            if sums[slot, 1] == -1:
                sums[slot, 0] = key
                sums[slot, 1] = 0
                keys[n_keys] = key
                n_keys += 1
            sums[slot, 1] += count
    heap = np.empty((n_keys + 1024, 3), np.int64)
    size = 0
    for k in range(n_keys):
        total = sums[find(sums, keys[k]), 1]
        if total >= min_frequency:
            heap[size, 0], heap[size, 1], heap[size, 2] = total, keys[k], keys[k]
            size += 1
    heapify(heap, size)
    return heap, size


@kernel()
def _pop_global(heap, size, states, n_languages, min_frequency):
    """``loops._kernels.pop_best`` for the summed counts; returns the new size (0: none left)."""
    while size > 0:
        current = _summed(states, n_languages, heap[0, 1])
        if current == heap[0, 0]:
            return size
        if min_frequency <= current < heap[0, 0]:
            heap[0, 0] = current
            sift_down(heap, size, np.int64(0))
        else:  # gone, too rare, or grew (a newer row holds its sum)
            size = heap_drop_top(heap, size)
    return 0


@kernel()
def _push_sums(heap, size, grown, is_new, states, n_languages, min_frequency):
    """Push the summed counts of the pairs that grew in a step, from (key, count in a language) rows.

    A pair holding a new token occurs only in the languages where it grew, so its sum is the sum
    of its rows; a token that existed before may have pairs elsewhere: those are looked up.
    """
    order = np.argsort(grown[:, 0], kind="mergesort")
    heap = fit_rows(heap, size + len(grown))
    k = 0
    while k < len(order):
        key = grown[order[k], 0]
        total = 0
        while k < len(order) and grown[order[k], 0] == key:
            total += grown[order[k], 1]
            k += 1
        if not is_new:
            total = _summed(states, n_languages, key)
        if total >= min_frequency:
            size = heap_push(heap, size, total, key, key)
    return heap, size


@kernel()
def _worse(tokens, choose_at, reference_at, a, b):
    """Whether language ``a``'s cost (its dev tokens / its reference's, or 1) is above ``b``'s."""
    ref_a = tokens[reference_at[a]] if reference_at[a] >= 0 else 1
    ref_b = tokens[reference_at[b]] if reference_at[b] >= 0 else 1
    return tokens[choose_at[a]] * ref_b > tokens[choose_at[b]] * ref_a


@kernel(nogil=True)
def learn(
    store,
    starts,
    counts,
    segments,
    tokens,
    languages,
    tok_data,
    tok_start,
    n_new,
    min_frequency,
    global_merges,
    patience,
    control,
):
    """Merge until ``n_new`` new tokens exist or no candidate language (global phase: no pair) has a pair
    reaching ``min_frequency`` (>= 1).

    ``languages[l]`` = (candidate 0/1, measured index of its choosing text, of its reference or -1, of the
    text the stop rule watches) for training language ``l``; ``tokens[m]``: the tokens of measured text
    ``m`` (state ``L + m``), updated in place.  ``patience`` > 0: a candidate stops after that many merges
    in a row that saved none of its watched tokens.  ``control[0]`` receives the tokens added so far; a
    nonzero ``control[1]`` stops the loop.  Returns ([left, right, token, count, new, language (-1:
    global)] per step, stop code, [why (0 choosing, 1 exhausted, 2 stalled), steps done then] per language).
    """
    n_languages = len(languages)
    n_states = len(segments) - 1
    choose_at, reference_at, watch_at = languages[:, 1], languages[:, 2], languages[:, 3]
    n_tok = len(tok_start) - 1
    tokens_rows, data, t_table = token_rows(tok_data, tok_start, n_tok + n_new)
    data_end = len(tok_data)
    states = List()
    words = List()
    for s in range(n_states):
        words.append((store, starts[segments[s] : segments[s + 1] + 1], counts[segments[s] : segments[s + 1]]))
        states.append(index_words(words[s], min_frequency))
    gheap = np.empty((0, 3), np.int64)
    gsize = 0
    if global_merges > 0:
        gheap, gsize = _global_heap(states, n_languages, min_frequency)
    near, nearby, grown, events = neighbour_rows(n_tok + n_new, 1 << 16)
    active = languages[:, 0].copy()
    stale = np.zeros(n_languages, np.int64)
    stopped = np.zeros((n_languages, 2), np.int64)
    grown_keys = np.empty((1024, 2), np.int64)  # (key, count in a language) of pairs that grew in a global step
    merges = np.empty((1024, 6), np.int64)
    stamp = 0
    steps = 0
    added = 0
    stop = STOP_VOCAB_SIZE
    while added < n_new:
        if control[1] != 0:
            stop = STOP_INTERRUPTED
            break
        key = -1
        count = 0
        chooser = -1
        is_global = steps < global_merges
        if is_global:
            gsize = _pop_global(gheap, gsize, states, n_languages, min_frequency)
            if gsize > 0:
                count, key = gheap[0, 0], gheap[0, 1]
                gsize = heap_drop_top(gheap, gsize)
        else:
            while key == -1:
                chooser = -1
                for language in range(n_languages):  # highest cost; ties: the first (smallest code)
                    if active[language] and (
                        chooser == -1 or _worse(tokens, choose_at, reference_at, language, chooser)
                    ):
                        chooser = language
                if chooser == -1:
                    break
                count, key, _ = pop_pair(states[chooser], min_frequency)
                if key == -1:
                    active[chooser] = 0  # merges never raise a language's highest pair count
                    stopped[chooser, 0], stopped[chooser, 1] = 1, steps
        if key == -1:
            stop = STOP_MIN_FREQUENCY
            break
        left, right = key >> 32, key & 0xFFFFFFFF
        token, is_new, data, data_end, merges = take_merge(
            tokens_rows, t_table, data, data_end, n_tok, merges, steps, left, right, count
        )
        if is_new:
            n_tok += 1
            added += 1
        merges[steps, 5] = chooser

        # Merge the pair in every state still read: all of them in the global phase.
        n_keys = 0
        watched_saved = 0
        for s in range(n_states):
            if s < n_languages and not (is_global or active[s]):
                continue
            pid = pair_of(states[s], key)
            if pid == -1:
                continue
            state, events, n_grown, saved = merge_words(
                words[s], states[s], pid, token, is_new, near, nearby, grown, events, stamp
            )
            stamp += 1
            if s >= n_languages:
                tokens[s - n_languages] -= saved
                if chooser >= 0 and s - n_languages == watch_at[chooser]:
                    watched_saved = saved
                states[s] = state
                continue
            states[s] = push_grown(state, grown, n_grown, min_frequency)
            if steps + 1 < global_merges:
                grown_keys = fit_rows(grown_keys, n_keys + n_grown)
                for k in range(n_grown):
                    grown_keys[n_keys] = pair_rows(state)[grown[k]]
                    n_keys += 1
        if n_keys:
            gheap, gsize = _push_sums(gheap, gsize, grown_keys[:n_keys], is_new, states, n_languages, min_frequency)
        steps += 1
        if patience > 0 and chooser >= 0:
            stale[chooser] = 0 if watched_saved > 0 else stale[chooser] + 1
            if stale[chooser] >= patience:
                active[chooser] = 0
                stopped[chooser, 0], stopped[chooser, 1] = 2, steps
        control[0] = added
    return merges[:steps].copy(), stop, stopped
