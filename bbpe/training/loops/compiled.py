"""The numba merge backend: ``learn_merges`` with the reference's exact results, compiled.

Same input, output and tie rule as ``bbpe.training.loops.reference.learn_merges`` (highest count; ties to the
smaller (left id, right id); concatenations that already are a token reuse that id).  This
module turns the words into flat arrays (uint16 ids while they fit: ``word_arrays``) and runs the
kernels of ``bbpe.training.loops._kernels`` without the GIL in a helper thread, while the calling
thread reports progress through ``on_merge`` a few times a second (and stops the loop on Ctrl-C or an
error in ``on_merge``).  Importing it raises ImportError when numba is not installed.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np

from bbpe._jit import announce_compile
from bbpe.bpe.tables import pack_tokens
from bbpe.formats import counts as counts_format
from bbpe.training.loops import _kernels as loop
from bbpe.training.loops import _pair_state as pair_state
from bbpe.training.loops.flat_words import FlatWords, WordTable
from bbpe.training.loops.reference import Merge, MergeCallback

_REPORT_SECONDS = 0.2
_Result = TypeVar("_Result")
_STOP_REASONS = {
    loop.STOP_VOCAB_SIZE: "vocab_size",
    loop.STOP_MIN_FREQUENCY: "min_frequency",
    loop.STOP_INTERRUPTED: "interrupted",
}


def learn_merges(
    words: Iterable[tuple[Sequence[int], int]] | FlatWords | WordTable,
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
) -> tuple[list[Merge], str]:
    """Drop-in replacement for ``bbpe.training.loops.reference.learn_merges`` (words may be ``bytes``, id
    lists, ``FlatWords`` or a ``WordTable``, whose arrays the loop takes over).

    Words with count 0 are ignored; with ``min_frequency >= 1`` this changes nothing.

    >>> vocab = [bytes([i]) for i in range(256)]
    >>> merges, why = learn_merges([(list(b"aaabdaaabac"), 1)], vocab, n_new_tokens=3)
    >>> [vocab[m.token] for m in merges], why
    ([b'aa', b'ab', b'aaab'], 'vocab_size')
    """
    n_new_tokens = max(0, n_new_tokens)
    if len(token_bytes) + n_new_tokens >= 2**31:
        raise ValueError("bbpe supports at most 2**31 - 1 tokens")
    flat = flat_words(words, len(token_bytes))
    lengths = np.diff(flat.starts)
    check_pair_total(lengths, flat.counts)
    # Every merge step shortens at least one word by one id, so the corpus allows at most
    # (ids - words) steps: memory follows the corpus, not the requested vocab size.
    reachable = int(np.dot(np.maximum(lengths - 1, 0), flat.counts > 0))
    del lengths
    capped = reachable < n_new_tokens
    n_new_tokens = min(n_new_tokens, reachable)
    held = [word_arrays(flat, len(token_bytes))]  # the loop's own store; the caller's ids can be freed
    del flat, words
    tok_data, tok_start = pack_tokens(token_bytes)
    control = np.zeros(2, np.int64)  # [tokens added so far, stop request]
    min_frequency = max(1, min_frequency)  # count 0: gone

    def work() -> tuple[np.ndarray, int]:
        state = pair_state.index_tracked(held[0], min_frequency, bucket_count(len(held[0][2])), LIMIT_DIVISOR)
        run = loop.new_run(tok_data, tok_start, n_new_tokens, EVENTS)
        state, run, stop = loop.run(held[0], state, run, n_new_tokens, min_frequency, control)
        if stop == loop.STOP_WIDEN:
            held[0] = pair_state.widen(held[0])
            state, run, stop = loop.run(held[0], state, run, n_new_tokens, min_frequency, control)
        held.clear()
        return run[7][: run[8][0]].copy(), stop

    announce_compile(KERNELS, "the merge loop", "10-20 s")
    table, stop = run_in_thread(work, (), control, on_merge)
    merges = []
    for left, right, token, count, new in table.tolist():
        if new:
            token_bytes.append(token_bytes[left] + token_bytes[right])
        merges.append(Merge(left, right, token, count, bool(new)))
    if on_merge is not None and merges:
        on_merge(int(control[0]))
    if capped and stop == loop.STOP_VOCAB_SIZE:
        stop = loop.STOP_MIN_FREQUENCY  # every word became one token: no pair is left
    return merges, _STOP_REASONS[stop]


# The kernels a run calls (``bbpe._jit``: whether they are compiled, announcing a compile).
KERNELS = (pair_state.index_tracked, loop.new_run, loop.run)
LIMIT_DIVISOR = 4  # a pair is tracked once its count reaches the best count / 4 (see _pair_state)
# Words listed per step from what the rewrite noted (8 bytes each: 8 MB); the words changed after the
# first EVENTS entries are looked at again instead.  Tests lower it to check both ways.
EVENTS = 1 << 20


def bucket_count(n_words: int) -> int:
    """Sums of untracked pair counts: a power of two, about one per two words (at least 1,024)."""
    return 1 << max(10, (n_words // 2).bit_length())


def flat_words(words: Iterable[tuple[Sequence[int], int]] | FlatWords | WordTable, n_tokens: int) -> FlatWords:
    """The words as ``FlatWords`` (a ``WordTable``'s are taken over); ids outside ``n_tokens`` are an error."""
    if isinstance(words, WordTable):
        words = words.take()
    if not isinstance(words, FlatWords):
        return flatten_words(words, n_tokens)
    if words.ids.dtype != np.uint8 and len(words.ids) and (words.ids.min() < 0 or words.ids.max() >= n_tokens):
        bad = int(words.ids.min()) if words.ids.min() < 0 else int(words.ids.max())
        raise ValueError(f"word token id {bad} is not in token_bytes ({n_tokens} entries)")
    if len(words.ids) >= 2**31:
        raise ValueError("too many pre-token bytes for one merge loop (2**31 or more)")
    return words


def word_arrays(words: FlatWords, n_tokens: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(store, starts, counts) for the loop: ids as uint16 while they fit below the end mark, else int32."""
    narrow = n_tokens < np.iinfo(np.uint16).max
    store = words.ids.astype(np.uint16 if narrow else np.int32)
    return store, np.asarray(words.starts, np.int64), np.asarray(words.counts, np.int64)


def flatten_words(words: Iterable[tuple[Sequence[int], int]], n_tokens: int) -> FlatWords:
    """Words as ``FlatWords`` (uint8 ids while all words are ``bytes``, else int32); words that cannot merge
    are left out.  Streams ``words`` into compact buffers.
    """
    flat: bytearray | array[int] = bytearray()
    lengths, counts = array("q"), array("q")
    try:
        for ids, count in words:
            if count < 0:
                raise ValueError(f"word counts must not be negative, got {count}")
            if count >= counts_format.PAIR_COUNT_LIMIT and len(ids) > 1:  # as the reference loop refuses it
                counts_format.check_pair_total(count * (len(ids) - 1))
            if count and len(ids) > 1:
                if isinstance(flat, bytearray) and not isinstance(ids, (bytes, bytearray)):
                    flat = array("q", flat)
                flat.extend(ids)
                lengths.append(len(ids))
                counts.append(count)
    except OverflowError:
        raise ValueError("word counts and token ids must be below 2**63") from None
    if len(flat) >= 2**31:
        raise ValueError("too many pre-token bytes for one merge loop (2**31 or more)")
    ids_array = np.frombuffer(flat, np.uint8 if isinstance(flat, bytearray) else np.int64)
    if len(ids_array) and (ids_array.min() < 0 or ids_array.max() >= n_tokens):
        bad = int(ids_array.min()) if ids_array.min() < 0 else int(ids_array.max())
        raise ValueError(f"word token id {bad} is not in token_bytes ({n_tokens} entries)")
    starts = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(np.frombuffer(lengths, np.int64), out=starts[1:])
    narrow = ids_array if ids_array.dtype == np.uint8 else ids_array.astype(np.int32)
    return FlatWords(narrow, starts, np.frombuffer(counts, np.int64))


def check_pair_total(lengths: np.ndarray, counts: np.ndarray) -> None:
    """``bbpe.counts_format.check_pair_total`` of words given as lengths and counts, exact: a float estimate, then
    Python integers only near the limit (for up to 2**31 words the estimate is off by less than 2**-20 of
    itself, so an estimate below 2**62 proves the sum is below 2**63)."""
    pairs = lengths - 1
    if float(np.dot(counts.astype(np.float64), pairs.astype(np.float64))) >= 2**62:
        counts_format.check_pair_total(sum(count * pair for count, pair in zip(counts.tolist(), pairs.tolist())))


def run_in_thread(
    kernel: Callable[..., _Result], args: tuple[object, ...], control: np.ndarray, on_merge: MergeCallback | None
) -> _Result:
    """Run a merge kernel in a helper thread, calling ``on_merge`` here; Ctrl-C or an error in ``on_merge`` stops it.

    The kernel publishes its tokens added so far in ``control[0]`` and stops when ``control[1]`` is set.
    """
    results: list[_Result] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(kernel(*args))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

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
    if errors:
        raise errors[0]
    return results[0]
