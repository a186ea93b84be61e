"""Words for the merge loops as three arrays instead of Python lists: ids back to back, starts, counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FlatWords:
    """Word ``w`` is ``ids[starts[w]:starts[w + 1]]`` with count ``counts[w]``.

    Iterating gives ``(list of ids, count)`` pairs, the form every merge loop takes; the compiled
    loop reads the arrays directly.

    >>> words = FlatWords(np.array([1, 2, 3], np.int32), np.array([0, 2, 3]), np.array([5, 7]))
    >>> list(words), len(words), list(words.mergeable())
    ([([1, 2], 5), ([3], 7)], 2, [([1, 2], 5)])
    """

    ids: np.ndarray  # int32
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
