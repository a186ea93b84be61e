"""Where a document may be cut for parallel work without changing its pre-tokens.

A cut at position ``p`` of a text is *safe* for a pattern when
``findall(text) == findall(text[:p]) + findall(text[p:])``.  Rules are decided on UTF-8
bytes (so a worker can find them in a byte range of a file without the rest of it), and
only from bytes next to ``p``, so every worker finds the same cuts.

Rules (proofs in docs/concepts/safe-cuts.md; property-tested in tests/test_documents.py):

- ``newline_letter`` (cl100k, llama3, qwen and their split-digit forms): the byte before
  ``p`` is ``\\n`` and the character at ``p`` is a letter (``\\p{L}``).  No alternative
  that matches ``\\n`` continues into a letter (the letter alternative's optional prefix
  excludes ``\\r\\n``), so a match ends at ``p`` in the whole text; the whitespace run
  ending at ``p`` is one pre-token in both (``\\s*[\\r\\n]`` in the whole, ``\\s++$`` or
  ``\\s*[\\r\\n]+`` at the end of the left part); nothing earlier looks past the run.
- ``lone_newline_letter`` (gpt2 and its split-digit form): as above, and the character
  before the ``\\n`` is not whitespace.  GPT-2's ``\\s+(?!\\S)`` splits ``"  \\n" + "b"``
  into ``"  ", "\\n"`` but keeps ``"  \\n"`` whole at the end of a text, so a longer run
  is not a safe place.
  o200k (and its split-digit form) uses this rule too: its punctuation alternative
  `` ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*`` runs across newlines, but never into a letter.
- ``line``: every position after ``\\n`` (the unit is the line: lines are counted alone).

- SuperBPE's stage-2 patterns (``patterns.STAGE2``, ``STAGE2_SPLIT_DIGITS``) use ``newline_letter``
  (argued in ``bbpe.training.methods.superword``, property-tested in tests/test_superword.py).

A custom regex, or special tokens containing ``\\n`` (which could span a cut), get no rule:
documents are then not cut.  Bytes that are not valid UTF-8 next to ``p`` are no cut.

Normalized text (``normalization``): the parts are normalized one by one, which equals normalizing
the whole (``\\n`` neither composes nor reorders with its neighbours), and the rules must hold in the
normalized text.  Under NFC and NFD a letter's normal form starts with a letter and no other
character's ends in whitespace (checked over all of Unicode by tests/test_normalization.py); under
NFKC and NFKD 19 letters do not (U+037A becomes a space and a mark), so there the character at
``p`` must also be a letter after normalization.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import regex

from bbpe.pretokenize.patterns import (
    CL100K,
    GPT2,
    LLAMA3,
    O200K,
    QWEN,
    STAGE2,
    STAGE2_SPLIT_DIGITS,
    with_split_digits,
)

_NL = 0x0A
_LETTER = regex.compile(r"\p{L}")
_SPACE = regex.compile(r"\s")
TAIL = 4  # bytes after a cut needed to decide it (one UTF-8 character)


def _char_at(buf: bytes, p: int) -> str | None:
    """The character starting at byte ``p`` (None: not valid UTF-8 or not complete)."""
    lead = buf[p]
    size = 1 if lead < 0x80 else 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4
    try:
        return buf[p : p + size].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _char_before(buf: bytes, p: int) -> str | None:
    """The character ending just before byte ``p`` (None: not valid UTF-8)."""
    start = p - 1
    while start > 0 and p - start < 4 and 0x80 <= buf[start] < 0xC0:
        start -= 1
    try:
        text = buf[start:p].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if len(text) == 1 else None


def _after_newline(buf: bytes, p: int) -> bool:
    return buf[p - 1] == _NL


def _newline_letter(buf: bytes, p: int) -> bool:
    if buf[p - 1] != _NL:
        return False
    char = _char_at(buf, p)
    return char is not None and _LETTER.match(char) is not None


def _lone_newline_letter(buf: bytes, p: int) -> bool:
    if not _newline_letter(buf, p):
        return False
    if p == 1:
        return True
    before = _char_before(buf, p - 1)
    return before is not None and _SPACE.match(before) is None


@dataclass(frozen=True)
class CutRule:
    """A named test ``is_cut(buf, p)`` for ``0 < p < len(buf)`` with ``TAIL`` bytes after ``p`` (or the end)."""

    name: str
    is_cut: Callable[[bytes, int], bool]

    def next_cut(self, buf: bytes, lo: int, hi: int) -> int | None:
        """The first safe cut ``p`` with ``lo <= p <= hi`` and ``p < len(buf)``, or None."""
        lo = max(lo, 1)
        hi = min(hi, len(buf) - 1)
        while lo <= hi:
            newline = buf.find(b"\n", lo - 1, hi)
            if newline < 0:
                return None
            if self.is_cut(buf, newline + 1):
                return newline + 1
            lo = newline + 2
        return None


LINE = CutRule("line", _after_newline)
NEWLINE_LETTER = CutRule("newline_letter", _newline_letter)
LONE_NEWLINE_LETTER = CutRule("lone_newline_letter", _lone_newline_letter)

_RULES = {pattern: NEWLINE_LETTER for base in (CL100K, LLAMA3, QWEN) for pattern in (base, with_split_digits(base))}
# o200k's punctuation alternative takes [\r\n/]* past a newline; the stricter rule (no whitespace before the
# newline) is the one property-tested for it.
_RULES |= {pattern: LONE_NEWLINE_LETTER for base in (GPT2, O200K) for pattern in (base, with_split_digits(base))}
_RULES |= {STAGE2: NEWLINE_LETTER, STAGE2_SPLIT_DIGITS: NEWLINE_LETTER}


def cut_rule(
    pattern: str, *, unit: str = "document", special_tokens: tuple[str, ...] = (), normalization: str = "none"
) -> CutRule | None:
    """The safe-cut rule for a pattern and unit, or None when documents must not be cut.

    >>> cut_rule(CL100K).name, cut_rule(r"\\S+|\\s+"), cut_rule(r"\\S+|\\s+", unit="line").name
    ('newline_letter', None, 'line')
    """
    if unit == "line":
        return LINE
    if any("\n" in token for token in special_tokens):
        return None
    rule = _RULES.get(pattern)
    if rule is not None and normalization in ("NFKC", "NFKD"):
        return _COMPATIBILITY_RULES[(rule.name, normalization)]
    return rule


def _letter_after(is_cut: Callable[[bytes, int], bool], form: Literal["NFKC", "NFKD"], buf: bytes, p: int) -> bool:
    """``is_cut``, and the character at the cut is still a letter at the start of its normal form."""
    if not is_cut(buf, p):
        return False
    char = _char_at(buf, p)
    return char is not None and _LETTER.match(unicodedata.normalize(form, char)[0]) is not None


_COMPATIBILITY_RULES = {
    (rule.name, form): CutRule(f"{rule.name}+{form}", partial(_letter_after, rule.is_cut, form))
    for rule in (NEWLINE_LETTER, LONE_NEWLINE_LETTER)
    for form in ("NFKC", "NFKD")
}


def cuts(data: bytes, rule: CutRule) -> list[int]:
    """Every safe cut of a whole text (for tests and for cutting texts held in memory)."""
    found: list[int] = []
    at = rule.next_cut(data, 1, len(data) - 1)
    while at is not None:
        found.append(at)
        at = rule.next_cut(data, at + 1, len(data) - 1)
    return found
