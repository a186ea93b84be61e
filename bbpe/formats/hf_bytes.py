"""GPT-2's byte-level alphabet, as Hugging Face ``tokenizers`` uses it: every byte has a printable
stand-in character, so a byte string is written as a text of those characters.

>>> to_str(b"Hi there\\n"), to_bytes("HiĠthereĊ")
('HiĠthereĊ', b'Hi there\\n')
>>> to_bytes("<｜x｜>") is None, decodes_as_itself("<|endoftext|>"), decodes_as_itself("é")
(True, True, False)
"""

from __future__ import annotations

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
