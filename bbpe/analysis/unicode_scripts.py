"""Which writing system a token belongs to, for vocabulary summaries.

>>> script_of("你好".encode()), script_of(b" the"), script_of(b"\\xe4")
('Han', 'Latin', 'partial UTF-8')
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

_NAMES = {
    "CJK": "Han",
    "HIRAGANA": "Kana",
    "KATAKANA": "Kana",
    "HALFWIDTH": "Kana",
    "KATAKANA-HIRAGANA": "Kana",
    "HANGUL": "Hangul",
}


def script_of(token: bytes) -> str:
    """Script of the token's letters ("mixed" if several); digits, space and symbols otherwise."""
    try:
        text = token.decode("utf-8")
    except UnicodeDecodeError:
        return "partial UTF-8"
    found = {_letter_script(char) for char in text if unicodedata.category(char)[0] in "LM"}
    scripts = {script for script in found if script is not None}
    if len(scripts) == 1:
        return scripts.pop()
    if scripts:
        return "mixed"
    if any(char.isdigit() for char in text):
        return "digits"
    if text.isspace():
        return "whitespace"
    return "punctuation/symbols"


def _letter_script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    if not name:
        return None
    first = name.split()[0]
    return _NAMES.get(first, first.capitalize())


def count_scripts(tokens: Iterable[bytes]) -> Counter[str]:
    """How many tokens fall in each script."""
    return Counter(script_of(token) for token in tokens)
