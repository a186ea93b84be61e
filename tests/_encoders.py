"""Tiny encoders for report tests whose counts are derived by hand."""

from __future__ import annotations


class Chars:
    """One token per character (id = code point)."""

    name, kind, vocab_size, normalizes = "chars", "bbpe", 1000, False

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(map(chr, ids))

    def is_byte_fallback(self, token_id: int) -> bool:
        return False
