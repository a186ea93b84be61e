"""The reference merge loop of training, in pure Python (``backend="python"``).

Training is the textbook byte-level BPE loop with incremental pair counts:

* words are the unique pre-tokens (as token-id lists) with their counts;
* every step merges the most frequent adjacent pair inside a word;
* ties between equal counts go to the smaller (left id, right id) pair, a rule that
  depends only on the counts and the ids, never on input or dict order;
* if the merged bytes already are a token (two different pairs can spell the same
  bytes), occurrences are rewritten to that token and no new id is created.

The compiled loop (``bbpe.training.loops.compiled``) gives the same merges in the same order.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bbpe.formats.counts import check_pair_total

Pair = tuple[int, int]


def pair_counts(ids: list[int]) -> Counter[Pair]:
    """Occurrences of each adjacent pair in one word (overlaps counted)."""
    return Counter(zip(ids, ids[1:]))


def merge_pair(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` (left to right, non-overlapping) by ``new_id``.

    >>> merge_pair([1, 1, 1, 2], (1, 1), 9)
    [9, 1, 2]
    """
    out: list[int] = []
    i, n = 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


@dataclass(frozen=True)
class Merge:
    """One training step: ``left`` + ``right`` became ``token`` (``new`` if it got a fresh id)."""

    left: int
    right: int
    token: int
    count: int
    new: bool


MergeCallback = Callable[[int], None]


def learn_merges(
    words: Iterable[tuple[list[int], int]],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
    allow: Callable[[bytes], bool] | None = None,
) -> tuple[list[Merge], str]:
    """Run the merge loop until ``n_new_tokens`` were added or no pair is frequent enough.

    ``token_bytes[i]`` is the byte string of id ``i``; it is extended in place with the new
    tokens.  Returns the merges in order and the stop reason ("vocab_size" or
    "min_frequency").  ``allow(bytes)`` (if given) vetoes new tokens: a pair whose bytes it
    rejects is skipped (it must reject the same bytes every time).

    >>> vocab = [bytes([i]) for i in range(256)]
    >>> merges, why = learn_merges([(list(b"aaabdaaabac"), 1)], vocab, n_new_tokens=3)
    >>> [vocab[m.token] for m in merges], why
    ([b'aa', b'ab', b'aaab'], 'vocab_size')
    """
    word_ids: list[list[int]] = []
    word_counts: list[int] = []
    counts: dict[Pair, int] = {}
    where: dict[Pair, set[int]] = {}
    total = 0
    for ids, count in words:
        if count <= 0:
            if count < 0:
                raise ValueError(f"word counts must not be negative, got {count}")
            continue  # no pair to count (and no count to move when it merges)
        index = len(word_ids)
        word_ids.append(list(ids))
        word_counts.append(count)
        total += count * max(0, len(ids) - 1)
        for pair, occurrences in pair_counts(ids).items():
            counts[pair] = counts.get(pair, 0) + occurrences * count
            where.setdefault(pair, set()).add(index)
    check_pair_total(total)
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)
    id_of = {token: index for index, token in enumerate(token_bytes)}
    merges: list[Merge] = []
    added = 0
    while added < n_new_tokens:
        best = pop_best(heap, counts)
        if best is None or best[1] < min_frequency:
            return merges, "min_frequency"
        pair, count = best
        joined = token_bytes[pair[0]] + token_bytes[pair[1]]
        if joined not in id_of and allow is not None and not allow(joined):
            continue  # dropped from the heap; it comes back only when its count grows, and is dropped again
        token, is_new = token_for(joined, token_bytes, id_of)
        added += is_new
        merges.append(Merge(pair[0], pair[1], token, count, is_new))
        touched = apply_merge(pair, token, word_ids, word_counts, counts, where)
        for new_pair in touched:
            heapq.heappush(heap, (-counts[new_pair], new_pair))
        if on_merge is not None:
            on_merge(added)
    return merges, "vocab_size"


def token_for(joined: bytes, token_bytes: list[bytes], id_of: dict[bytes, int]) -> tuple[int, bool]:
    """The id of a merge's bytes: the existing token that spells them, or a new one appended (then True)."""
    token = id_of.get(joined)
    if token is not None:
        return token, False
    token = len(token_bytes)
    token_bytes.append(joined)
    id_of[joined] = token
    return token, True


def pop_best(heap: list[tuple[int, Pair]], counts: dict[Pair, int]) -> tuple[Pair, int] | None:
    """Pop the most frequent pair, refreshing stale heap entries lazily.

    Counts of existing pairs only fall, so an entry whose stored count is current is the
    true maximum, and among equal counts the heap order gives the smallest pair.
    """
    while heap:
        negative, pair = heapq.heappop(heap)
        current = counts.get(pair, 0)
        if current == -negative:
            return pair, current
        if current > 0:
            heapq.heappush(heap, (-current, pair))
    return None


def apply_merge(
    pair: Pair,
    token: int,
    word_ids: list[list[int]],
    word_counts: list[int],
    counts: dict[Pair, int],
    where: dict[Pair, set[int]],
) -> set[Pair]:
    """Merge ``pair`` in every word that holds it; update counts; return the pairs that grew."""
    left, right = pair
    grown: set[Pair] = set()

    def add(changed: Pair, amount: int, index: int) -> None:
        total = counts.get(changed, 0) + amount
        if total:
            counts[changed] = total
        else:
            del counts[changed]
        if amount > 0:
            where.setdefault(changed, set()).add(index)
            grown.add(changed)

    for index in where.pop(pair, ()):
        old = word_ids[index]
        count = word_counts[index]
        new: list[int] = []
        i, n = 0, len(old)
        merged_before = False
        while i < n:
            if i + 1 < n and old[i] == left and old[i + 1] == right:
                if new:  # left neighbour: (x, left) becomes (x, token)
                    if not merged_before:
                        add((old[i - 1], left), -count, index)
                    add((new[-1], token), count, index)
                if i + 2 < n:  # right neighbour: (right, y) goes; (token, y) comes unless y starts a merge too
                    follower = old[i + 2]
                    add((right, follower), -count, index)
                    if not (follower == left and i + 3 < n and old[i + 3] == right):
                        add((token, follower), count, index)
                new.append(token)
                i += 2
                merged_before = True
            else:
                new.append(old[i])
                i += 1
                merged_before = False
        if len(new) != n:
            word_ids[index] = new
    counts.pop(pair, None)
    grown.discard(pair)
    return grown
