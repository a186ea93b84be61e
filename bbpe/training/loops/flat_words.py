"""Words for the merge loops as three arrays instead of Python objects: ids back to back, starts, counts.

``FlatWords`` is the value; ``WordTable`` is how counting hands a table of counted words to the merge
loop: the loop ``take``s the arrays, so once it runs nobody else holds them and it can free what it has
turned into its own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FlatWords:
    """Word ``w`` is ``ids[starts[w]:starts[w + 1]]`` with count ``counts[w]``.

    ``ids`` are uint8 for words of bytes (counted pre-tokens) and int32 for words of token ids (extension,
    superwords).  Iterating gives ``(list of ids, count)`` pairs, the form every merge loop takes; the
    compiled loop reads the arrays directly.

    >>> words = FlatWords(np.array([1, 2, 3], np.int32), np.array([0, 2, 3]), np.array([5, 7]))
    >>> list(words), len(words), list(words.mergeable())
    ([([1, 2], 5), ([3], 7)], 2, [([1, 2], 5)])
    """

    ids: np.ndarray  # uint8 or int32
    starts: np.ndarray  # int64, one more than there are words
    counts: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.counts)

    def __iter__(self) -> Iterator[tuple[list[int], int]]:
        ids, starts = self.ids.tolist(), self.starts.tolist()
        return iter(zip((ids[a:b] for a, b in zip(starts, starts[1:])), self.counts.tolist()))

    def mergeable(self) -> FlatWords:
        """The words with two or more ids and a count above 0 (the only ones a merge can change)."""
        lengths = np.diff(self.starts)
        keep = (lengths > 1) & (self.counts > 0)
        if keep.all():
            return self
        starts = np.zeros(int(keep.sum()) + 1, np.int64)
        np.cumsum(lengths[keep], out=starts[1:])
        return FlatWords(self.ids[np.repeat(keep, lengths)], starts, self.counts[keep])

    def words(self) -> Iterator[tuple[bytes, int]]:
        """(word bytes, count) of words of bytes (uint8 ids), one at a time."""
        data, starts = self.ids.tobytes(), self.starts.tolist()
        return iter(zip((data[a:b] for a, b in zip(starts, starts[1:])), self.counts.tolist()))


class WordTable:
    """Counted words handed from counting to the merge loop: whoever ``take``s them owns the arrays.

    ``unique`` (the number of words) stays readable after the hand-over.

    >>> table = WordTable(FlatWords(np.frombuffer(b"abc", np.uint8), np.array([0, 2, 3]), np.array([4, 1])))
    >>> len(table), dict(table.take().words()), table.unique
    (2, {b'ab': 4, b'c': 1}, 2)
    >>> table.take()
    Traceback (most recent call last):
    ...
    ValueError: the word table was handed to a merge loop already
    """

    def __init__(self, words: FlatWords) -> None:
        self._words: FlatWords | None = words
        self.unique = len(words)

    def __len__(self) -> int:
        return self.unique

    def __iter__(self) -> Iterator[tuple[list[int], int]]:
        return iter(self.take())

    def take(self) -> FlatWords:
        """The words; the table holds nothing afterwards."""
        words, self._words = self._words, None
        if words is None:
            raise ValueError("the word table was handed to a merge loop already")
        return words
