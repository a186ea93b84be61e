"""The runtime check that the pre-tokenization pattern's pieces cover the text: raise, never drop.

A custom regex that matches nothing at some character would make both engines skip it silently
(``findall`` and tiktoken ignore unmatched text).  The python engine compares the pieces' lengths
with the text's; the tiktoken engine compares the bytes of the ids with the text's UTF-8 length
(one pass over the ids: 0.5-0.7 s for 25 MB beside 4-5 s of encoding, reports/bench_encode_checks.md).
The presets, their split-digit forms and the stage-2 patterns need no check: each has an
alternative for letters, for digits, for whitespace and for everything else (``[^\\s\\p{L}\\p{N}]``
or ``[\\s\\S]``), so every character starts a match (property-tested in tests/test_specials.py).

>>> check_pieces(r"[a-z]+", "ab", ["ab"])
>>> check_pieces(r"[a-z]+", "ab1", ["ab"])
Traceback (most recent call last):
...
ValueError: the pre-tokenization pattern '[a-z]+' drops text: it matches nothing at character 2 ('1'); every character must be matched
"""

from __future__ import annotations

from collections.abc import Sequence

from bbpe.pretokenize.patterns import compile_pattern
from bbpe.pretokenize.scanner_presets import supports


def needs_check(pattern: str) -> bool:
    """False for the patterns known to match every character (presets, split-digit and stage-2 forms)."""
    return supports(pattern) is None


def utf8_length(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (without encoding an ASCII text)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def check_pieces(pattern: str, text: str, pieces: Sequence[str]) -> None:
    """ValueError naming the first dropped character unless the pieces hold every character of ``text``."""
    if sum(map(len, pieces)) != len(text):
        raise dropped_text(pattern, text)


def check_byte_count(pattern: str, text: str, encoded_bytes: int) -> None:
    """ValueError unless ids whose bytes add up to ``encoded_bytes`` can hold all of ``text``."""
    if encoded_bytes != utf8_length(text):
        raise dropped_text(pattern, text)


def dropped_text(pattern: str, text: str) -> ValueError:
    """The error for a pattern that leaves characters of ``text`` unmatched, naming the first one."""
    position = 0
    for match in compile_pattern(pattern).finditer(text):
        if match.start() != position:
            break
        position = match.end()
    if position < len(text):
        where = f"it matches nothing at character {position} ({text[position]!r})"
    else:
        where = "tiktoken's regex engine leaves some character unmatched"
    return ValueError(f"the pre-tokenization pattern {pattern!r} drops text: {where}; every character must be matched")
