"""The numba merge backend: ``learn_merges`` with the reference's exact results, compiled.

Same input, output and tie rule as ``bbpe.training.loops.reference.learn_merges`` (highest count; ties to the
smaller (left id, right id); concatenations that already are a token reuse that id).  This
module turns the words into flat arrays and runs ``bbpe.training.loops._kernels.learn`` without the GIL
in a helper thread, while the calling thread reports progress through ``on_merge`` a few
times a second (and stops the loop on Ctrl-C or an error in ``on_merge``).  Importing it
raises ImportError when numba is not installed.
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
from bbpe.training.loops.flat_words import FlatWords
from bbpe.training.loops.reference import Merge, MergeCallback

_REPORT_SECONDS = 0.2
_Result = TypeVar("_Result")
Flat = tuple[np.ndarray, np.ndarray, np.ndarray]  # word ids back to back (int32), start offsets, counts
_STOP_REASONS = {
    loop.STOP_VOCAB_SIZE: "vocab_size",
    loop.STOP_MIN_FREQUENCY: "min_frequency",
    loop.STOP_INTERRUPTED: "interrupted",
}


def learn_merges(
    words: Iterable[tuple[Sequence[int], int]],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
) -> tuple[list[Merge], str]:
    """Drop-in replacement for ``bbpe.training.loops.reference.learn_merges`` (words may be ``bytes``, id lists or ``FlatWords``).

    Words with count 0 are ignored; with ``min_frequency >= 1`` this changes nothing.

    >>> vocab = [bytes([i]) for i in range(256)]
    >>> merges, why = learn_merges([(list(b"aaabdaaabac"), 1)], vocab, n_new_tokens=3)
    >>> [vocab[m.token] for m in merges], why
    ([b'aa', b'ab', b'aaab'], 'vocab_size')
    """
    n_new_tokens = max(0, n_new_tokens)
    if len(token_bytes) + n_new_tokens >= 2**31:
        raise ValueError("bbpe supports at most 2**31 - 1 tokens")
    if isinstance(words, FlatWords):
        flat = words.mergeable()
        word_ids, word_start, word_count = flat.ids, flat.starts, flat.counts
    else:
        word_ids, word_start, word_count = flatten_words(words, len(token_bytes))
    check_pair_total(np.diff(word_start), word_count)
    # Every merge step shortens at least one word by one id, so the corpus allows at most
    # (ids - words) steps: memory follows the corpus, not the requested vocab size.
    reachable = len(word_ids) - len(word_count)
    capped = reachable < n_new_tokens
    n_new_tokens = min(n_new_tokens, reachable)
    store = loop.word_store(word_ids, word_start, word_count)
    tok_data, tok_start = pack_tokens(token_bytes)
    control = np.zeros(2, np.int64)  # [tokens added so far, stop request]
    args = (store, tok_data, tok_start, n_new_tokens, max(1, min_frequency), control)  # count 0: gone
    announce_compile([loop.learn], "the merge loop", "10-20 s")
    table, stop = run_in_thread(loop.learn, args, control, on_merge)
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


def flatten_words(words: Iterable[tuple[Sequence[int], int]], n_tokens: int) -> Flat:
    """Word ids back to back (int32), start offsets and counts (int64); words that cannot merge are left out.

    Streams ``words`` into compact buffers (one byte per id while all words are ``bytes``).
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
    if len(flat) + loop.HEADER * len(lengths) >= 2**31:  # word store offsets are int32
        raise ValueError("too many unique pre-tokens for one merge loop (over 2**31 ids and headers)")
    ids_array = np.frombuffer(flat, np.uint8 if isinstance(flat, bytearray) else np.int64)
    if len(ids_array) and (ids_array.min() < 0 or ids_array.max() >= n_tokens):
        bad = int(ids_array.min()) if ids_array.min() < 0 else int(ids_array.max())
        raise ValueError(f"word token id {bad} is not in token_bytes ({n_tokens} entries)")
    starts = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(np.frombuffer(lengths, np.int64), out=starts[1:])
    return ids_array.astype(np.int32), starts, np.frombuffer(counts, np.int64)


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
