r"""Compiled encoding: pre-tokens scanned, looked up in a cache, BPE on a miss (``bbpe.encoding.compiled``).

Semantics are tiktoken's: every pre-token of a document (``bbpe.pretokenize`` scanner rules) is
encoded on its own; a pre-token that is a token is that token; any other is rank-based BPE of its
bytes (merge the adjacent parts whose concatenation has the lowest rank, leftmost first).

**The vocabulary** (built once, ``vocabulary_tables``): token bytes by *index* in one buffer, in
rank order (so comparing indexes compares ranks; ``rank_of`` maps an index to its id), a hash
table bytes -> index, the single bytes' indexes, ``joinable`` (do bytes a, b stand next to each
other in some token), ``reachable`` (does BPE of a token's own bytes end in that token: -1 until a
part first asks, then 0 or 1), a trie of the tokens (``edges``: (node << 8 | byte) -> child in an
open-addressing table; ``node_token``), per token the longest token that is a proper prefix of it
(``shorter``) and, per byte, the longest token of a run of that byte (``runs``, found on first use).

**A cache per running call** (``new_cache``; ``compiled`` keeps them across calls), bounded: pre-token bytes -> ids, and the same for the
parts of pre-tokens that missed; each is emptied when full, so memory never grows with the input.
Short keys are their own bytes (``_scan_kernels._word_key``), longer ones are compared byte by
byte, so the cache can never return another pre-token's ids.

**A miss** is cut into parts where no token can span (between bytes that are not ``joinable``):
no merge joins the two sides of such a cut, so BPE of the pre-token is the BPE of each part,
concatenated (``bbpe.bpe._kernels`` uses the same cut).  Parts repeat (words, and the
characters of unspaced CJK clauses), so each goes through the part cache.  A part that is a
reachable token is that token; a short one is merged with the heap (``_merge_part``, O(n log n));
a long one (one letter repeated a million times has no cut) by **backtracking** over valid pairs,
linear in its length: a token sequence is BPE's result iff every token is reachable and every two
neighbours ``a, b`` are a *valid pair* (BPE of ``a``'s bytes + ``b``'s bytes is ``[a, b]``), since
BPE never merges across a boundary that both pairs next to it keep (the argument of GitHub's
``bpe`` crate, which holds for tiktoken's rank rule with leftmost ties).  So: take the longest
token at the position; if it does not form a valid pair with the previous token, try its longest
proper prefix token, and so on; when none fits, mark the position dead and step back (a dead
position is never reached again, so each position is stepped back from at most once).  Valid pairs
are decided by merging the two tokens' bytes; the first fitting token of a prefix chain is
remembered per (previous token, chain start) in a bounded table, so a run of spaces that steps back
at nearly every position still costs a few lookups per step; the longest token at a position is a
trie walk, except inside a run of one byte, where it is that byte's (``runs``).

All functions of the family are in ``bbpe._jit``-stamped files, so numba's cache is refreshed when
any of them changes.
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import NO_REFCOUNT, kernel
from bbpe.bpe._kernels import _merge_part, _same, find_token
from bbpe.pretokenize._scan_kernels import _slot, _word_key, classify, next_end

_SPREAD = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15 as int64 (Fibonacci hashing)
LONG_PART = 64  # parts longer than this are encoded by backtracking, not the heap
MAX_KEY = 256  # pre-tokens and parts longer than this are not cached
_PACKED = 16  # keys of up to 16 bytes are their own bytes (no byte comparison needed)

# -- the vocabulary ----------------------------------------------------------------------------------


@kernel(inline="always")
def _edge_slot(key, mask):
    return ((key * _SPREAD) >> np.int64(20)) & mask


@kernel()
def build_trie(tok_data, tok_start):
    """(edges, node_token): the tokens' trie; node 0 is the root, ``node_token[node]`` its token or -1."""
    total = tok_start[-1]
    size = 1
    while size < 2 * (total + 2):
        size *= 2
    edges = np.full((size, 2), -1, np.int64)
    node_token = np.full(total + 1, -1, np.int64)
    mask = size - 1
    n_nodes = np.int64(1)
    for t in range(len(tok_start) - 1):
        node = np.int64(0)
        for k in range(tok_start[t], tok_start[t + 1]):
            key = (node << 8) | np.int64(tok_data[k])
            slot = _edge_slot(key, mask)
            while edges[slot, 0] != -1 and edges[slot, 0] != key:
                slot = (slot + 1) & mask
            if edges[slot, 0] == -1:
                edges[slot, 0] = key
                edges[slot, 1] = n_nodes
                n_nodes += 1
            node = edges[slot, 1]
        node_token[node] = t
    return edges, node_token[:n_nodes].copy()


@kernel(inline="always")
def _child(edges, node, byte):
    """The trie node below ``node`` by ``byte``, or -1."""
    mask = edges.shape[0] - 1
    key = (node << 8) | byte
    slot = _edge_slot(key, mask)
    while edges[slot, 0] != -1:
        if edges[slot, 0] == key:
            return edges[slot, 1]
        slot = (slot + 1) & mask
    return np.int64(-1)


@kernel()
def prefix_tokens(tok_data, tok_start, edges, node_token):
    """Per token: the longest token that is a proper prefix of it, or -1."""
    shorter = np.full(len(tok_start) - 1, -1, np.int64)
    for t in range(len(tok_start) - 1):
        node = np.int64(0)
        for k in range(tok_start[t], tok_start[t + 1] - 1):
            node = _child(edges, node, np.int64(tok_data[k]))
            if node_token[node] >= 0:
                shorter[t] = node_token[node]
    return shorter


# -- the cache: bytes -> ids -------------------------------------------------------------------------
# slots: [key0, key1, length (-1: empty), entry]; entries: [arena offset, ids offset, number of ids];
# arena: the bytes of keys longer than _PACKED; ids: int32; sizes: [entries, arena bytes, ids] used.
_KEY0, _KEY1, _LENGTH, _ENTRY = range(4)


@kernel()
def new_table(slots_log2):
    """An empty bytes -> ids table with ``2**slots_log2`` slots (kept at most half full)."""
    n_slots = 1 << slots_log2
    slots = np.zeros((n_slots, 4), np.int64)
    slots[:, _LENGTH] = -1
    entries = np.zeros((n_slots // 2, 3), np.int64)
    arena = np.zeros(n_slots * 16, np.uint8)
    ids = np.zeros(n_slots * 4, np.int32)
    return slots, entries, arena, ids, np.zeros(3, np.int64)


@kernel(**NO_REFCOUNT)
def _find(table, data, start, end):
    """(slot, entry) of ``data[start:end]``: entry -1 if absent (then slot is where it would go)."""
    slots, entries, arena = table[0], table[1], table[2]
    key0, key1 = _word_key(data, start, end)
    k0, k1, length = np.int64(key0), np.int64(key1), end - start
    mask = slots.shape[0] - 1
    slot = _slot(key0, key1, mask)
    while slots[slot, _LENGTH] >= 0:
        if slots[slot, _KEY0] == k0 and slots[slot, _KEY1] == k1 and slots[slot, _LENGTH] == length:
            e = slots[slot, _ENTRY]
            if length <= _PACKED or _same(arena, entries[e, 0], data, start, length):
                return slot, e
        slot = (slot + 1) & mask
    return slot, np.int64(-1)


@kernel(**NO_REFCOUNT)
def _store(table, slot, data, start, end, out, first, n_ids):
    """Remember ``out[first:first + n_ids]`` as the ids of ``data[start:end]`` (absent, would go to ``slot``).

    An over-long key is not kept; a full table is emptied first.
    """
    slots, entries, arena, ids, sizes = table
    length = end - start
    if length > MAX_KEY:
        return
    if (
        2 * (sizes[0] + 1) > slots.shape[0]
        or sizes[0] + 1 > entries.shape[0]
        or sizes[1] + length > arena.size
        or sizes[2] + n_ids > ids.size
    ):
        for k in range(slots.shape[0]):
            slots[k, _LENGTH] = -1
        sizes[0], sizes[1], sizes[2] = 0, 0, 0
        slot, _ = _find(table, data, start, end)
    e = sizes[0]
    if length > _PACKED:
        for k in range(length):
            arena[sizes[1] + k] = data[start + k]
        entries[e, 0] = sizes[1]
        sizes[1] += length
    entries[e, 1] = sizes[2]
    entries[e, 2] = n_ids
    for k in range(n_ids):
        ids[sizes[2] + k] = out[first + k]
    sizes[2] += n_ids
    key0, key1 = _word_key(data, start, end)
    slots[slot, _KEY0], slots[slot, _KEY1], slots[slot, _LENGTH], slots[slot, _ENTRY] = (
        np.int64(key0),
        np.int64(key1),
        length,
        e,
    )
    sizes[0] += 1


@kernel(**NO_REFCOUNT)
def _copy_ids(table, entry, out, at):
    """Append a cached entry's ids to ``out`` at ``at``; returns the new end."""
    entries, ids = table[1], table[3]
    first, n_ids = entries[entry, 1], entries[entry, 2]
    for k in range(n_ids):
        out[at + k] = ids[first + k]
    return at + n_ids


@kernel()
def new_cache(longest_token, slots_log2):
    """A thread's cache: pre-tokens (``2**slots_log2`` slots), parts (a quarter), valid pairs, and scratch rows."""
    memo = np.full((1 << 16, 2), -1, np.int64)  # [last << 32 | token, _fit]; the number of entries is in memo_used
    work = np.empty((6, 3 * max(LONG_PART, 2 * longest_token) + 2), np.int64)
    scratch = np.empty(max(LONG_PART, 2 * longest_token) + 2, np.int64)
    pair_bytes = np.empty(2 * longest_token + 1, np.uint8)
    parts_log2 = max(4, slots_log2 - 2)
    return new_table(slots_log2), new_table(parts_log2), memo, np.zeros(1, np.int64), work, scratch, pair_bytes


# -- BPE of one part ---------------------------------------------------------------------------------


_UNKNOWN = -2  # not in the table of fits


@kernel(**NO_REFCOUNT)
def _known_fit(memo, last, token):
    """``_fit(last, token)`` as remembered, or ``_UNKNOWN`` (the hot path: few arguments, so the call is cheap)."""
    mask = memo.shape[0] - 1
    key = (last << 32) | token
    slot = _edge_slot(key, mask)
    while memo[slot, 0] != -1:
        if memo[slot, 0] == key:
            return memo[slot, 1]
        slot = (slot + 1) & mask
    return np.int64(_UNKNOWN)


@kernel(**NO_REFCOUNT)
def _fit(last, token, vocab, cache):
    """The first of ``token``, its longest proper prefix token, that one's, ... that BPE reaches and that forms
    a valid pair with ``last`` (-1: none before it), or -1.  Remembered per (last, token), along the chain."""
    shorter = vocab[8]
    if last < 0:
        while token >= 0 and not _is_reachable(token, vocab, cache):
            token = shorter[token]
        return token
    memo, memo_used = cache[2], cache[3]
    mask = memo.shape[0] - 1
    found = np.int64(-1)
    t = token
    while t >= 0:
        found = _known_fit(memo, last, t)
        if found != _UNKNOWN:
            break
        found = np.int64(-1)
        if _is_reachable(t, vocab, cache) and _valid_pair(last, t, vocab, cache):
            found = t
            break
        t = shorter[t]
    while token >= 0:  # every token of the chain walked, up to ``t``, has the same fit
        if 2 * (memo_used[0] + 1) > memo.shape[0]:
            for k in range(memo.shape[0]):
                memo[k, 0] = -1
            memo_used[0] = 0
        key = (last << 32) | token
        slot = _edge_slot(key, mask)
        while memo[slot, 0] != -1 and memo[slot, 0] != key:
            slot = (slot + 1) & mask
        if memo[slot, 0] != key:
            memo[slot, 0] = key
            memo[slot, 1] = found
            memo_used[0] += 1
        if token == t:
            break
        token = shorter[token]
    return found


@kernel(**NO_REFCOUNT)
def _valid_pair(a, b, vocab, cache):
    """Is BPE (merges only) of token a's bytes + token b's bytes exactly [a, b]?"""
    tok_data, tok_start, table = vocab[0], vocab[1], vocab[2]
    work, scratch, pair_bytes = cache[4], cache[5], cache[6]
    la, lb = tok_start[a + 1] - tok_start[a], tok_start[b + 1] - tok_start[b]
    for k in range(la):
        pair_bytes[k] = tok_data[tok_start[a] + k]
    for k in range(lb):
        pair_bytes[la + k] = tok_data[tok_start[b] + k]
    made = _merge_part(pair_bytes, 0, la + lb, tok_data, tok_start, table, work, scratch, 0)
    return made == 2 and scratch[0] == a and scratch[1] == b


@kernel(**NO_REFCOUNT)
def _longest_token(data, i, end, edges, node_token):
    """Index of the longest token that is a prefix of ``data[i:end]`` (a single byte at least)."""
    node = np.int64(0)
    best = np.int64(-1)
    while i < end:
        node = _child(edges, node, np.int64(data[i]))
        if node < 0:
            break
        if node_token[node] >= 0:
            best = node_token[node]
        i += 1
    return best


@kernel(**NO_REFCOUNT)
def _longest_at(data, i, end, edges, node_token, runs):
    """``_longest_token``, without the walk inside a run of one byte ``c``: its trie path (depth
    ``runs[c, 1]``, longest token ``runs[c, 0]``; found on first use) is the same at every position."""
    c = data[i]
    if runs[c, 1] < 0:
        node, depth, best = np.int64(0), np.int64(0), np.int64(-1)
        while True:
            node = _child(edges, node, np.int64(c))
            if node < 0:
                break
            depth += 1
            if node_token[node] >= 0:
                best = node_token[node]
        runs[c, 0] = best
        runs[c, 1] = depth
    depth = runs[c, 1]
    if i + depth < end:  # the walk would stop at data[i + depth] if it is ``c`` too
        k = i + 1
        while k <= i + depth and data[k] == c:
            k += 1
        if k > i + depth:
            return runs[c, 0]
    return _longest_token(data, i, end, edges, node_token)


@kernel(**NO_REFCOUNT)
def _backtrack(data, start, end, vocab, cache, dead, out, at):
    """Token indexes of ``data[start:end]`` by backtracking over valid pairs into ``out[at:]``; returns the new end.

    ``dead[:end - start + 1]`` must be False (it is left so): positions from which no valid sequence reaches the
    end.  Each position dies at most once and a pushed token never ends at a dead one, so tokens are pushed and
    popped O(n) times, each step a lookup in the table of fits.
    """
    tok_start, edges, node_token, shorter, runs = vocab[1], vocab[6], vocab[7], vocab[8], vocab[10]
    memo = cache[2]
    first = at
    pos = start
    following = _longest_at(data, pos, end, edges, node_token, runs)
    while pos < end:
        last = out[at - 1] if at > first else np.int64(-1)
        token = following  # the candidates: ``following`` and its prefix tokens, longest first
        fit = np.int64(-1)
        while token >= 0:
            fit = _known_fit(memo, last, token) if last >= 0 else np.int64(_UNKNOWN)
            if fit == _UNKNOWN:
                fit = _fit(last, token, vocab, cache)
            if fit < 0 or not dead[pos - start + tok_start[fit + 1] - tok_start[fit]]:
                break
            token = shorter[fit]
            fit = np.int64(-1)
        if fit >= 0:
            out[at] = fit
            at += 1
            pos += tok_start[fit + 1] - tok_start[fit]
            if pos < end:
                following = _longest_at(data, pos, end, edges, node_token, runs)
        else:  # nothing fits after ``last``: drop it and go on with its shorter prefixes
            dead[pos - start] = True
            at -= 1
            pos -= tok_start[last + 1] - tok_start[last]
            following = shorter[last]
    for k in range(end - start + 1):
        dead[k] = False
    return at


@kernel(**NO_REFCOUNT)
def _is_reachable(token, vocab, cache):
    """Does BPE of the token's own bytes end in it?  Decided when first asked, remembered in ``vocab[5]``."""
    tok_data, tok_start, table, reachable = vocab[0], vocab[1], vocab[2], vocab[5]
    known = reachable[token]
    if known < 0:
        made = _merge_part(
            tok_data, tok_start[token], tok_start[token + 1], tok_data, tok_start, table, cache[4], cache[5], 0
        )
        known = 1 if made == 1 and cache[5][0] == token else 0
        reachable[token] = known
    return known == 1


@kernel(**NO_REFCOUNT)
def _part_indexes(data, start, end, vocab, cache, dead, out, at):
    """Token indexes of the part ``data[start:end]`` (BPE from its bytes) into ``out[at:]``; returns the new end."""
    tok_data, tok_start, table = vocab[0], vocab[1], vocab[2]
    whole = find_token(data, start, end, tok_data, tok_start, table)
    if whole >= 0 and _is_reachable(whole, vocab, cache):
        out[at] = whole
        return at + 1
    if end - start <= LONG_PART:
        made = _merge_part(data, start, end, tok_data, tok_start, table, cache[4], cache[5], 0)
        for k in range(made):
            out[at + k] = cache[5][k]
        return at + made
    return _backtrack(data, start, end, vocab, cache, dead, out, at)


@kernel(**NO_REFCOUNT)
def _encode_miss(data, start, end, vocab, cache, dead, out, at):
    """Ids of a pre-token that is not in the cache, into ``out[at:]``; returns the new end."""
    tok_data, tok_start, table, rank_of, byte_token, joinable = (
        vocab[0],
        vocab[1],
        vocab[2],
        vocab[3],
        vocab[4],
        vocab[9],
    )
    whole = find_token(data, start, end, tok_data, tok_start, table)
    if whole >= 0:
        out[at] = rank_of[whole]
        return at + 1
    parts = cache[1]
    part = start
    while part < end:
        stop = part + 1
        while stop < end and joinable[(np.int64(data[stop - 1]) << 8) | np.int64(data[stop])]:
            stop += 1
        if stop - part == 1:
            out[at] = rank_of[byte_token[data[part]]]
            at += 1
        else:
            slot, entry = _find(parts, data, part, stop)
            if entry >= 0:
                at = _copy_ids(parts, entry, out, at)
            else:
                made = _part_indexes(data, part, stop, vocab, cache, dead, out, at)
                for k in range(at, made):
                    out[k] = rank_of[out[k]]
                _store(parts, slot, data, part, stop, out, at, made - at)
                at = made
        part = stop
    return at


# -- documents ---------------------------------------------------------------------------------------


@kernel(**NO_REFCOUNT)
def _encode_document(data, cls, start, end, stage1, stage2, rule, split, vocab, cache, dead, out, at):
    """Ids of the document ``data[start:end]`` (``cls`` filled for it) into ``out[at:]``; returns the new end."""
    rank_of, byte_token = vocab[3], vocab[4]
    pieces = cache[0]
    i = start
    while i < end:
        stop = next_end(data, cls, i, end, stage1, stage2, rule, split)
        if stop - i == 1:
            out[at] = rank_of[byte_token[data[i]]]
            at += 1
        else:
            slot, entry = _find(pieces, data, i, stop)
            if entry >= 0:
                at = _copy_ids(pieces, entry, out, at)
            else:
                made = _encode_miss(data, i, stop, vocab, cache, dead, out, at)
                _store(pieces, slot, data, i, stop, out, at, made - at)
                at = made
        i = stop
    return at


@kernel(nogil=True)
def encode_documents(data, doc_ends, stage1, stage2, rule, split, vocab, cache):
    """(ids, id end offsets): every document ``data[previous end:doc_ends[d]]`` pre-tokenized and encoded alone."""
    out = np.empty(max(data.size, 1), np.int32)  # at most one id per byte
    out_ends = np.empty(len(doc_ends), np.int64)
    cls = np.empty(max(data.size, 1), np.uint8)
    dead = np.zeros(data.size + 1, np.bool_)
    at = np.int64(0)
    start = np.int64(0)
    for d in range(len(doc_ends)):
        end = doc_ends[d]
        if start < end:
            classify(data, start, end, stage1, stage2, cls)
            at = _encode_document(data, cls, start, end, stage1, stage2, rule, split, vocab, cache, dead, out, at)
        out_ends[d] = at
        start = end
    return out[:at].copy(), out_ends
