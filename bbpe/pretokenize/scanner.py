"""The compiled pre-tokenizer: the preset patterns scanned over UTF-8 bytes, pre-tokens counted exactly.

For the presets ``gpt2``, ``cl100k``, ``o200k``, ``llama3``, ``qwen`` and their split-digit forms
the scanner gives exactly the pre-tokens ``regex.findall(pattern, text)`` gives (the rules, one
per preset, are documented in ``bbpe.pretokenize._scan_kernels``; tests/test_scanner.py checks them
against ``regex``).  Custom patterns stay on ``regex``: ``supports(pattern)`` (from
``scanner_presets``, which needs no numba) says whether a pattern string is one of the presets.
Importing this module raises ImportError when numba is not installed.  The input is valid UTF-8
(an invalid sequence never makes the scanner read outside the buffer, but its pre-tokens are
then unspecified).

Counting is exact: a hash table holds one entry per unique pre-token with its key (the bytes
themselves for words of up to 8 bytes, else a 64-bit FNV-1a hash), length, first offset and count;
two long words with equal key and length are compared byte by byte, so a hash collision can never
merge two words.  ``data`` may hold several documents back
to back; ``doc_ends`` (ascending byte offsets, the last one ``len(data)``) says where each ends,
and no pre-token crosses a document end.

>>> pretoken_spans("Hello world!!\\n".encode(), "cl100k").tolist()
[5, 11, 14]
>>> sorted(count_pretokens_compiled(b"a a a b", "gpt2").items())
[(b' a', 2), (b' b', 1), (b'a', 1)]
"""

from __future__ import annotations

from typing import cast

import numpy as np

from bbpe.pretokenize import _scan_kernels as kernels
from bbpe.pretokenize.patterns import O200K
from bbpe.pretokenize.scanner_presets import SCANNERS, scanner_pattern, scanner_rules, supports
from bbpe.pretokenize.unicode_tables import class_tables

__all__ = [
    "O200K",
    "SCANNERS",
    "count_arrays",
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
    buffer takes 8 bytes per input byte; counting needs no such buffer.

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
    starts, lengths, counts = count_arrays(data, preset, split_digits, doc_ends=doc_ends)
    view = bytes(data)
    return {view[s : s + k]: c for s, k, c in zip(starts.tolist(), lengths.tolist(), counts.tolist())}


def count_arrays(
    data: bytes, preset: str, split_digits: bool = False, *, doc_ends: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unique pre-tokens as (first offset, length, count) arrays, in order of first occurrence."""
    rule, split = scanner_rules(preset, split_digits)
    buffer, ends = _arrays(data, doc_ends)
    stage1, stage2 = class_tables()
    counted = kernels.count(buffer, ends, stage1, stage2, rule, split)  # numba kernels are untyped
    return cast(tuple[np.ndarray, np.ndarray, np.ndarray], counted)


def _arrays(data: bytes, doc_ends: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    buffer = np.frombuffer(data, dtype=np.uint8)
    if doc_ends is None:
        return buffer, np.array([buffer.size], dtype=np.int64)
    ends = np.asarray(doc_ends, dtype=np.int64).reshape(-1)
    last = ends[-1] if ends.size else 0
    if last != buffer.size or (ends.size and ends[0] < 0) or np.any(np.diff(ends) < 0):
        raise ValueError("doc_ends must be ascending byte offsets ending at len(data)")
    return buffer, ends
