"""The compiled loop's lean merge state: word lists as varints, bucket sums of the untracked pairs, the
events that list a step's words, and the switch from uint16 to int32 ids at 65,535 (python == numba)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import MIX, real_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_numba_backend import BYTES, CJK, CODE, DIGITS, counted, same_merges, small_corpora

from bbpe.training.loops import reference

numba = pytest.importorskip("numba", reason="numba is not installed (pip install 'bbpe[fast]')")

from bbpe.bpe.tables import pack_tokens  # noqa: E402
from bbpe.training.loops import _kernels as loop  # noqa: E402
from bbpe.training.loops import _pair_state as ps  # noqa: E402
from bbpe.training.loops import compiled  # noqa: E402
from bbpe.training.loops._tokens import take_merge  # noqa: E402

WORD_IDS = st.integers(0, 2**31 - 1)


def test_entry_sizes_by_hand():
    # zigzag: delta d >= 0 -> 2d, d < 0 -> -2d - 1; 7 bits per byte
    assert ps.entry_size(0, -1) == 1  # the first entry: the word itself
    assert ps.entry_size(63, 0) == 1  # 126
    assert ps.entry_size(64, 0) == 2  # 128
    assert ps.entry_size(0, 64) == 1  # -64 -> 127
    assert ps.entry_size(0, 65) == 2  # -65 -> 129
    assert ps.entry_size(2**31 - 1, 0) == 5  # 2**32 - 2: 32 bits


@settings(max_examples=300, deadline=None)
@given(words=st.lists(WORD_IDS, max_size=40))
def test_word_lists_round_trip_and_take_the_bytes_their_sizes_say(words):
    size = 0
    last = -1
    for w in words:
        size += ps.entry_size(w, last)
        last = w
    pool = np.zeros(size + 8, np.uint8)
    at, last = 0, -1
    for w in words:
        at = ps.put_entry(pool, at, w, last)
        last = w
    assert at == size and not pool[size:].any()
    got, at, last = [], 0, -1
    while at < size:
        last, at = ps.get_entry(pool, at, last)
        got.append(int(last))
    assert got == words


def true_pairs(words):
    """Counts of the pairs in the live ids of (store, starts, counts), recomputed from scratch."""
    store, starts, counts = words
    mark = ps.end_mark(store)
    pairs = Counter()
    holders = {}
    for w in range(len(counts)):
        ids = store[starts[w] : starts[w + 1]].tolist()
        ids = ids[: ids.index(mark)] if mark in ids else ids
        for a, b in zip(ids, ids[1:]):
            if counts[w]:
                pairs[(a << 32) | b] += int(counts[w])
                holders.setdefault((a << 32) | b, set()).add(w)
    return pairs, holders


def check_state(words, state):
    """Tracked counts are exact, each bucket sums its untracked pairs exactly, a tracked pair lists every
    word holding it."""
    pairs, table, blocks, pool, _heap, sizes, buckets = state
    truth, holders = true_pairs(words)
    tracked = {}
    for key, pid in table[table[:, 1] != -1].tolist():
        assert pid < sizes[ps.PAIRS]
        tracked[key] = pid
        assert pairs[pid, ps.COUNT] == truth.get(key, 0)
    expected = np.zeros(len(buckets), np.int64)
    for key, count in truth.items():
        if key not in tracked:
            expected[ps.bucket_of(key, len(buckets) - 1)] += count
    assert expected.tolist() == buckets.tolist()
    for key, pid in tracked.items():
        listed, block = set(), pairs[pid, ps.BLOCK]
        while block != -1 and pairs[pid, ps.COUNT] > 0:
            at, end, w = blocks[block, 0], blocks[block, 0] + blocks[block, 1], -1
            while at < end:
                w, at = ps.get_entry(pool, at, w)
                listed.add(int(w))
            block = blocks[block, 2]
        if pairs[pid, ps.COUNT] > 0:
            assert holders[key] <= listed


def stepped_merges(corpus, n_new, min_frequency, *, n_buckets, n_events):
    """The compiled loop driven one step at a time from Python, checking the state after every step."""
    words = compiled.word_arrays(compiled.flatten_words(corpus, 256), 256)
    state = ps.index_tracked(words, min_frequency, n_buckets, compiled.LIMIT_DIVISOR)
    check_state(words, state)
    run = loop.new_run(*pack_tokens(BYTES), n_new, n_events)
    tokens, data, t_table, near, nearby, grown, scratch, merges, counters = run
    n_tok, data_end, added, steps, found = 256, counters[3], 0, 0, []
    while added < n_new:
        state, count, key, best = ps.best_pair(words, state, min_frequency)
        check_state(words, state)
        if best == -1:
            break
        token, is_new, data, data_end, merges = take_merge(
            tokens, t_table, data, data_end, n_tok, merges, steps, key >> 32, key & 0xFFFFFFFF, count
        )
        n_tok += int(is_new)
        added += int(is_new)
        state, scratch, n_grown, _ = loop.merge_words(
            words, state, best, token, is_new, near, nearby, grown, scratch, steps
        )
        state = ps.push_grown(state, grown, n_grown, min_frequency)
        check_state(words, state)
        found.append(reference.Merge(int(key >> 32), int(key & 0xFFFFFFFF), int(token), int(count), bool(is_new)))
        steps += 1
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    corpus=small_corpora(),
    n_new=st.integers(0, 25),
    min_frequency=st.integers(1, 3),
    n_buckets=st.sampled_from([1, 2, 16]),
    n_events=st.sampled_from([0, 1, 4, 1024]),
)
def test_state_invariants_hold_after_every_step(corpus, n_new, min_frequency, n_buckets, n_events):
    expected, _ = reference.learn_merges(corpus, list(BYTES), n_new_tokens=n_new, min_frequency=min_frequency)
    assert stepped_merges(corpus, n_new, min_frequency, n_buckets=n_buckets, n_events=n_events) == expected


@pytest.mark.parametrize("n_buckets", [1, 64])
def test_state_invariants_on_real_text(n_buckets):
    corpus = counted(CJK + CODE * 2 + DIGITS)
    expected, _ = reference.learn_merges(corpus, list(BYTES), n_new_tokens=60, min_frequency=2)
    assert stepped_merges(corpus, 60, 2, n_buckets=n_buckets, n_events=7) == expected


@pytest.mark.parametrize("n_events", [0, 1, 5, 200])
def test_words_listed_from_events_or_by_looking_again_agree(numba_learn, monkeypatch, n_events):
    # The first n_events list entries of a step come from events, the rest from the words themselves.
    monkeypatch.setattr(compiled, "EVENTS", n_events)
    same_merges(numba_learn, counted((CODE + CJK + DIGITS) * 3), n_new=400, min_frequency=1)


@pytest.mark.slow
@pytest.mark.parametrize("n_events", [0, 50_000])
def test_events_on_real_text(numba_learn, monkeypatch, n_events):
    monkeypatch.setattr(compiled, "EVENTS", n_events)
    same_merges(numba_learn, counted(real_text(60_000, names=MIX)), n_new=1500)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=small_corpora(), n_new=st.integers(0, 40), n_events=st.integers(0, 6))
def test_hypothesis_events_of_any_capacity(numba_learn, corpus, n_new, n_events):
    compiled.EVENTS, saved = n_events, compiled.EVENTS
    try:
        same_merges(numba_learn, corpus, n_new=n_new, min_frequency=1)
    finally:
        compiled.EVENTS = saved


@pytest.fixture(scope="module")
def numba_learn():
    return compiled.learn_merges


def crossing_base(below: int) -> list[bytes]:
    """Bytes, unused fillers up to id ``below``, then tokens the merges of the code text will spell again."""
    fillers = [f"<{i}>".encode() for i in range(below - 256 - 4)]
    return [*BYTES, *fillers, b"in", b"re", b"  ", b"return"]


@pytest.mark.parametrize("below", [65_520, 65_534, 65_535])
def test_ids_cross_65535_as_in_the_reference(numba_learn, below):
    # Below 65,535 tokens the loop keeps uint16 ids and widens to int32 when the next new id would be the end mark.
    base = crossing_base(below)
    merges, _ = same_merges(numba_learn, counted(CODE * 5 + DIGITS * 2), base, n_new=60, min_frequency=1)
    new = [m.token for m in merges if m.new]
    assert min(new) < 65_535 <= max(new) or below == 65_535
    assert any(not m.new and m.token >= below - 4 for m in merges)  # an alias from the base
    for merge in merges:  # tokens at and above the switch merge further
        assert merge.left < len(base) + 60 and merge.right < len(base) + 60


def test_widen_keeps_the_live_ids():
    store = np.array([1, 2, 65_535, 9, 7, 8, 65_535, 65_535, 4], np.uint16)
    starts = np.array([0, 3, 4, 8, 9], np.int64)
    counts = np.array([3, 1, 2, 5], np.int64)
    wide, wide_starts, wide_counts = ps.widen((store, starts, counts))
    assert wide.dtype == np.int32 and wide.tolist() == [1, 2, 9, 7, 8, 4]
    assert wide_starts.tolist() == [0, 2, 3, 5, 6] and wide_counts.tolist() == [3, 1, 2, 5]
