"""The numba backend of parity-aware merges: ``bbpe.training.parity.learn_parity_merges``, compiled.

Same input, output and rules (same merges in the same order, the same choosing language, the
same stop reason).  The words of all languages and of the dev set become one table of unique
words, each with its (language, count) lists; ``bbpe.training._numba_parity.learn`` runs
without the GIL in a helper thread while the calling thread reports progress through
``on_merge`` (Ctrl-C or an error in ``on_merge`` stops the loop).  Importing this module raises
ImportError when numba is not installed.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat

import numpy as np

from bbpe.bpe import Merge, MergeCallback
from bbpe.training import _numba_parity as loop
from bbpe.training.merge_numba import pack_tokens, run_in_thread
from bbpe.training.parity import candidate_languages

_STOP_REASONS = {
    loop.STOP_VOCAB_SIZE: "vocab_size",
    loop.STOP_MIN_FREQUENCY: "min_frequency",
    loop.STOP_INTERRUPTED: "interrupted",
}


def learn_parity_merges(
    words: Mapping[str, Iterable[tuple[Sequence[int], int]]],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
    dev: Mapping[str, Mapping[str, int]],
    global_merges: int = 0,
    chosen: dict[str, int] | None = None,
) -> tuple[list[Merge], str]:
    """Drop-in replacement for ``bbpe.training.parity.learn_parity_merges`` (``min_frequency`` below 1 acts as 1).

    >>> vocab = [bytes([i]) for i in range(256)]
    >>> words = {"eng": [(b"ab", 10)], "fra": [(b"cdcd", 3)]}
    >>> merges, why = learn_parity_merges(words, vocab, n_new_tokens=5, dev={"eng": {"ab": 2}, "fra": {"cdcdcd": 1}})
    >>> [vocab[m.token] for m in merges], why
    ([b'cd', b'ab', b'cdcd'], 'min_frequency')
    """
    codes = sorted(words)
    candidates = set(candidate_languages(codes, dev))
    if len(codes) >= 2**16:
        raise ValueError("parity-aware training supports at most 65,536 languages")
    table = _WordTable()
    for language, code in enumerate(codes):
        table.add(words[code], language, table.train)
    for language, code in enumerate(codes):
        if code in candidates:
            table.add(((text.encode("utf-8"), count) for text, count in dev[code].items()), language, table.dev)
    n_new_tokens = max(0, n_new_tokens)
    if len(token_bytes) + n_new_tokens >= 2**31:
        raise ValueError("bbpe supports at most 2**31 - 1 tokens")
    reachable = table.reachable()
    capped = reachable < n_new_tokens
    n_new_tokens = min(n_new_tokens, reachable)
    tok_data, tok_start = pack_tokens(token_bytes)
    control = np.zeros(2, np.int64)  # [tokens added so far, stop request]
    candidate = np.array([code in candidates for code in codes], np.int64)
    settings = (n_new_tokens, max(1, min_frequency), global_merges, control)
    args: tuple[object, ...] = (*table.arrays(len(token_bytes)), candidate, tok_data, tok_start, *settings)
    steps, stop = run_in_thread(loop.learn, args, control, on_merge)
    chosen = {} if chosen is None else chosen
    merges = []
    for left, right, token, count, new, language in steps.tolist():
        if new:
            token_bytes.append(token_bytes[left] + token_bytes[right])
        merges.append(Merge(left, right, token, count, bool(new)))
        name = "*" if language < 0 else codes[language]
        chosen[name] = chosen.get(name, 0) + 1
    if on_merge is not None and merges:
        on_merge(int(control[0]))
    if capped and stop == loop.STOP_VOCAB_SIZE:
        stop = loop.STOP_MIN_FREQUENCY  # every training word became one token: no pair is left
    return merges, _STOP_REASONS[stop]


class _WordTable:
    """Unique words of all languages (training and dev) with sparse (language, count) lists."""

    def __init__(self) -> None:
        self.index: dict[object, int] = {}
        self.ids: array[int] = array("q")
        self.lengths: array[int] = array("q")
        self.train = (array("q"), array("q"), array("q"))  # word, language, count
        self.dev = (array("q"), array("q"), array("q"))

    def add(
        self,
        words: Iterable[tuple[Sequence[int], int]],
        language: int,
        columns: tuple[array[int], array[int], array[int]],
    ) -> None:
        """Add one language's words to ``columns`` (``self.train`` or ``self.dev``); count 0 is left out."""
        index, ids, lengths = self.index, self.ids, self.lengths
        word_column, language_column, count_column = columns
        before = len(word_column)
        for word, count in words:
            if count <= 0:
                if count < 0:
                    raise ValueError(f"word counts must not be negative, got {count}")
                continue
            key = word if isinstance(word, bytes) else tuple(word)
            at = index.get(key)
            if at is None:
                at = index[key] = len(lengths)
                ids.extend(word)
                lengths.append(len(word))
            word_column.append(at)
            count_column.append(count)
        language_column.extend(repeat(language, len(word_column) - before))

    def reachable(self) -> int:
        """Training ids - training words: every merge step shortens a training word by at least one id."""
        lengths = np.frombuffer(self.lengths, np.int64)
        trained = np.bincount(np.frombuffer(self.train[0], np.int64), minlength=len(lengths)) > 0
        return int((lengths[trained] - 1).sum())

    def arrays(self, n_tokens: int) -> tuple[np.ndarray, ...]:
        """store, word offsets, then (start, language, count) of the training and of the dev lists."""
        lengths = np.frombuffer(self.lengths, np.int64)
        ids = np.frombuffer(self.ids, np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= n_tokens):
            raise ValueError(f"word token ids must be in token_bytes ({n_tokens} entries)")
        if len(ids) + len(lengths) >= 2**31:
            raise ValueError("too many unique pre-tokens for one merge loop (over 2**31 ids and headers)")
        word_at = np.zeros(len(lengths), np.int64)
        np.cumsum(lengths[:-1] + 1, out=word_at[1:])
        store = np.empty(len(ids) + len(lengths), np.int32)
        store[word_at] = lengths
        inside = np.ones(len(store), bool)
        inside[word_at] = False
        store[inside] = ids
        return (store, word_at, *_by_word(self.train, len(lengths)), *_by_word(self.dev, len(lengths)))


def _by_word(columns: tuple[array[int], array[int], array[int]], n_words: int) -> tuple[np.ndarray, ...]:
    """(word, language, count) rows grouped by word: start offsets per word, languages, counts."""
    word, language, count = (np.frombuffer(column, np.int64) for column in columns)
    order = np.argsort(word, kind="stable")
    start = np.zeros(n_words + 1, np.int64)
    np.cumsum(np.bincount(word, minlength=n_words), out=start[1:])
    return start, language[order].copy(), count[order].copy()
