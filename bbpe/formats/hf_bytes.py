"""GPT-2's byte-level alphabet, as Hugging Face ``tokenizers`` uses it: every byte has a printable
stand-in character, so a byte string is written as a text of those characters.

>>> to_str(b"Hi there\\n"), to_bytes("HiĠthereĊ")
('HiĠthereĊ', b'Hi there\\n')
>>> to_bytes("<｜x｜>") is None, decodes_as_itself("<|endoftext|>"), decodes_as_itself("é")
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache


@cache
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in character for every byte value."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


@cache
def unicode_to_byte() -> dict[str, int]:
    return {char: byte for byte, char in byte_to_unicode().items()}


def to_str(token: bytes) -> str:
    """The byte-level text of a byte string."""
    table = byte_to_unicode()
    return "".join(table[byte] for byte in token)


def to_bytes(text: str) -> bytes | None:
    """The bytes a byte-level text stands for; None if a character is not in the alphabet (or it is empty)."""
    reverse = unicode_to_byte()
    try:
        return bytes(reverse[char] for char in text) or None
    except KeyError:
        return None


def decodes_as_itself(text: str) -> bool:
    """True when ``tokenizers``' ByteLevel decoder gives ``text`` back for an added token with this text.

    The decoder reads a token made only of stand-in characters as the bytes they stand for (so ``é``
    would come back as byte 0xE9), and any other token as its own UTF-8.
    """
    return to_bytes(text) in (None, text.encode("utf-8"))


def byte_aliases(ranks: Mapping[bytes, int], added_tokens: Mapping[str, int]) -> dict[bytes, int]:
    """Byte tokens a byte-level vocabulary lacks, given by the added tokens whose text is the byte's stand-in.

    DeepSeek LLM and Coder lack the 13 bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5-0xFF) and add their
    stand-ins as added tokens; the byte then has that token's id (``tokenizers`` decodes the id to the byte).

    >>> byte_aliases({bytes([b]): b for b in range(255)}, {"ÿ": 300, "<x>": 301})
    {b'\\xff': 300}
    """
    stand_in = byte_to_unicode()
    return {
        bytes([byte]): added_tokens[stand_in[byte]]
        for byte in range(256)
        if bytes([byte]) not in ranks and stand_in[byte] in added_tokens
    }
