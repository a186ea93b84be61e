"""The metadata fields of a GGUF file (llama.cpp's format), read directly: header and key-value pairs only.

A vocabulary GGUF holds its tokenizer as metadata: ``tokenizer.ggml.tokens`` (strings),
``tokenizer.ggml.token_type`` (int32), ``tokenizer.ggml.scores`` (float32), ``tokenizer.ggml.merges``
(strings) and so on.  The ``gguf`` package reads them too but makes one numpy view per array element: 50 s for
Gemma 4's 262,144 tokens and 514,906 merges on a busy machine, against about a second here.

Layout (GGUF versions 2 and 3, little-endian): ``GGUF``, version (uint32), tensor count and key-value count
(uint64); then per pair a key (uint64 length + UTF-8), a value type (uint32) and the value.  Strings are a
uint64 length + bytes; arrays an element type (uint32), a count (uint64) and the elements.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Collection
from typing import Any

import numpy as np

from bbpe.errors import BBPEError

STRING, ARRAY = 8, 9
# value type -> (struct format, numpy dtype) of the fixed-size types
_FIXED: dict[int, tuple[str, str]] = {
    0: ("<B", "<u1"),
    1: ("<b", "<i1"),
    2: ("<H", "<u2"),
    3: ("<h", "<i2"),
    4: ("<I", "<u4"),
    5: ("<i", "<i4"),
    6: ("<f", "<f4"),
    7: ("<?", "<u1"),
    10: ("<Q", "<u8"),
    11: ("<q", "<i8"),
    12: ("<d", "<f8"),
}


class _Reader:
    """Values from a buffer, front to back."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def fixed(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.fixed("<Q")
        end = self.at + length
        if end > len(self.data):
            raise ValueError("a string runs past the end of the file")
        text = self.data[self.at : end].decode("utf-8")
        self.at = end
        return text

    def value(self, kind: int) -> Any:
        if kind == STRING:
            return self.string()
        if kind == ARRAY:
            element, count = self.fixed("<I"), self.fixed("<Q")
            if element == STRING:
                return [self.string() for _ in range(count)]
            if element in _FIXED:
                dtype = np.dtype(_FIXED[element][1])
                end = self.at + count * dtype.itemsize
                if end > len(self.data):
                    raise ValueError("an array runs past the end of the file")
                values = np.frombuffer(self.data, dtype, count, self.at)
                self.at = end
                return values.tobytes() if element in (0, 1) else values.tolist()
            return [self.value(element) for _ in range(count)]
        if kind not in _FIXED:
            raise ValueError(f"unknown value type {kind}")
        return self.fixed(_FIXED[kind][0])


def read_fields(path: str | os.PathLike[str], wanted: Collection[str] | None = None) -> dict[str, Any]:
    """The metadata of a GGUF file (only the keys in ``wanted``, when given): strings, numbers, lists, and
    bytes for arrays of 8-bit integers.  BBPEError naming the file if it is not a readable GGUF."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        reader = _Reader(data)
        if data[:4] != b"GGUF":
            raise ValueError("no GGUF magic number")
        reader.at = 4
        version = reader.fixed("<I")
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} (bbpe reads 2 and 3)")
        _tensors, count = reader.fixed("<Q"), reader.fixed("<Q")
        fields: dict[str, Any] = {}
        for _ in range(count):
            key = reader.string()
            value = reader.value(reader.fixed("<I"))
            if wanted is None or key in wanted:
                fields[key] = value
    except (OSError, ValueError, struct.error, UnicodeDecodeError, MemoryError) as exc:
        raise BBPEError(f"{path}: not a readable GGUF file (truncated or corrupt): {_one_line(exc)}") from None
    return fields


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
