"""Rank-based BPE, once: the readable reference (``reference``) and the compiled kernels (``_kernels``,
numba) that encoding and training's segmentation use.

>>> bpe_encode(b"aab", {b"a": 0, b"b": 1, b"ab": 2, b"aa": 3})
[0, 2]
"""

from bbpe.bpe.reference import bpe_encode, bpe_split

__all__ = ["bpe_encode", "bpe_split"]
