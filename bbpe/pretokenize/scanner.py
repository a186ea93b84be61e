"""The compiled pre-tokenizer: the preset patterns scanned over UTF-8 bytes, pre-tokens counted exactly.

For the presets ``gpt2``, ``cl100k``, ``o200k``, ``llama3``, ``qwen`` and their split-digit forms
the scanner gives exactly the pre-tokens ``regex.findall(pattern, text)`` gives (the rules, one
per preset, are documented in ``bbpe.pretokenize._scan_kernels``; tests/test_scanner.py checks them
against ``regex``).  Custom patterns stay on ``regex``: ``supports(pattern)`` (from
``scanner_presets``, which needs no numba) says whether a pattern string is one of the presets.
Importing this module raises ImportError when numba is not installed.  The input is valid UTF-8
(an invalid sequence never makes the scanner read outside the buffer, but its pre-tokens are
then unspecified).

Counting is exact: a hash table holds one slot per unique pre-token with its key (the bytes
themselves for words of up to 16 bytes, else their first 8 and a 64-bit FNV-1a hash), length and
count; two long words with equal keys and length are compared byte by byte, so a hash collision
can never merge two words.  ``data`` may hold several documents back to back; ``doc_ends``
(ascending byte offsets, the last one ``len(data)``) says where each ends,
and no pre-token crosses a document end.

>>> pretoken_spans("Hello world!!\\n".encode(), "cl100k").tolist()
[5, 11, 14]
>>> sorted(count_pretokens_compiled(b"a a a b", "gpt2").items())
[(b' a', 2), (b' b', 1), (b'a', 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from bbpe._jit import announce_compile
from bbpe.pretokenize import _scan_kernels as kernels
from bbpe.pretokenize.patterns import O200K
from bbpe.pretokenize.scanner_presets import SCANNERS, scanner_pattern, scanner_rules, supports
from bbpe.pretokenize.unicode_tables import class_tables

__all__ = [
    "O200K",
    "SCANNERS",
    "CountTable",
    "count_pretokens_compiled",
    "pretoken_spans",
    "scanner_pattern",
    "supports",
]


def pretoken_spans(
    data: bytes, preset: str, split_digits: bool = False, *, doc_ends: np.ndarray | None = None
) -> np.ndarray:
    """The end offset (in bytes) of every pre-token of ``data``, in order (int64).

    ``preset`` is a preset name or a key returned by ``supports``.  While it runs, the output
    buffer takes 8 bytes per input byte and the class array 1; counting needs only the latter.

    >>> pretoken_spans(b"x 1234", "cl100k", split_digits=True).tolist()
    [1, 2, 3, 4, 5, 6]
    """
    rule, split = scanner_rules(preset, split_digits)
    buffer, ends = _arrays(data, doc_ends)
    stage1, stage2 = class_tables()
    return cast(np.ndarray, kernels.spans(buffer, ends, stage1, stage2, rule, split))  # numba kernels are untyped


def count_pretokens_compiled(
    data: bytes, preset: str, split_digits: bool = False, *, doc_ends: np.ndarray | None = None
) -> dict[bytes, int]:
    """Count the unique pre-tokens of ``data`` (bytes -> count), exactly as ``Counter(findall)`` would.

    >>> sorted(count_pretokens_compiled("día día día".encode(), "o200k").items())
    [(b' d\\xc3\\xada', 2), (b'd\\xc3\\xada', 1)]
    """
    table = CountTable(preset, split_digits)
    table.add(data, doc_ends=doc_ends)
    return table.counts()


class CountTable:
    """Exact pre-token counts added up over many buffers (a worker's pieces) in compiled code.

    Python objects are made once, by ``counts()``: the words' bytes are kept in one buffer in
    order of first occurrence, so adding a piece costs no Python work per pre-token.

    >>> table = CountTable("gpt2")
    >>> table.add(b"a a")
    >>> table.add(b" a b", doc_ends=[2, 4])
    >>> sorted(table.counts().items()), len(table)
    ([(b' a', 2), (b' b', 1), (b'a', 1)], 3)
    """

    def __init__(self, preset: str, split_digits: bool = False) -> None:
        self.rule, self.split = scanner_rules(preset, split_digits)
        announce_compile([kernels.count_into], "the pre-tokenizer", "5-15 s")
        self.stage1, self.stage2 = class_tables()
        self.clear()

    def clear(self) -> None:
        """Forget every count."""
        self._slots = np.zeros((1 << 15, 4), dtype=np.int64)  # key0, key1, row << 32 | length, count
        self._slots[:, 2] = -1  # empty
        self._rows = np.empty((1 << 14, 2), dtype=np.int64)  # arena offset, length
        self._arena = np.empty(1 << 16, dtype=np.uint8)
        self._sizes = np.zeros(2, dtype=np.int64)  # rows used, arena bytes used

    def __len__(self) -> int:
        return int(self._sizes[0])

    def add(self, data: bytes, *, doc_ends: np.ndarray | Sequence[int] | None = None) -> None:
        """Count the pre-tokens of ``data`` (valid UTF-8; ``doc_ends`` as in ``pretoken_spans``)."""
        buffer, ends = _arrays(data, doc_ends)
        grown = kernels.count_into(
            buffer,
            ends,
            self.stage1,
            self.stage2,
            self.rule,
            self.split,
            self._slots,
            self._rows,
            self._arena,
            self._sizes,
        )  # numba kernels are untyped
        self._slots, self._rows, self._arena = cast(tuple[np.ndarray, np.ndarray, np.ndarray], grown)

    def counts(self) -> dict[bytes, int]:
        """Every word counted so far (bytes -> count), in order of first occurrence."""
        used, arena_used = (int(x) for x in self._sizes)
        rows = self._rows[:used]
        arena = self._arena[:arena_used].tobytes()
        starts, lengths = rows[:, 0].tolist(), rows[:, 1].tolist()
        counts = kernels.table_counts(self._slots, used).tolist()
        return {arena[s : s + k]: c for s, k, c in zip(starts, lengths, counts)}


def _arrays(data: bytes, doc_ends: np.ndarray | Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    buffer = np.frombuffer(data, dtype=np.uint8)
    if doc_ends is None:
        return buffer, np.array([buffer.size], dtype=np.int64)
    ends = np.asarray(doc_ends, dtype=np.int64).reshape(-1)
    last = ends[-1] if ends.size else 0
    if last != buffer.size or (ends.size and ends[0] < 0) or np.any(np.diff(ends) < 0):
        raise ValueError("doc_ends must be ascending byte offsets ending at len(data)")
    return buffer, ends
