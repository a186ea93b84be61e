r"""Safe cut points: where a document can be split without changing its pre-tokens.

A position p is safe when the pre-tokens of the whole text are the pre-tokens of ``text[:p]``
followed by those of ``text[p:]``.  For every preset scanner key (``gpt2``, ``cl100k``, ``o200k``,
``llama3``, ``qwen``, with or without split digits) this holds for p = 0, p = len(text), and any p
where a line feed ends, the character before the line feed is not whitespace (or there is none)
and the character at p is a letter (``\p{L}``).  Why, with X the character before the ``\n`` and
Y (a letter) the one at p:

* p is a boundary of the whole: no alternative carries a ``\n`` on into a letter.  The prefixes
  before letters are an optional space (gpt2) or ``[^\r\n\p{L}\p{N}]`` (the others), never ``\n``;
  ``\n`` is whitespace, so no letter, number or ``[^\s\p{L}\p{N}]`` run contains it; the trailing
  ``[\r\n]*`` (cl100k, llama3, qwen) and ``[\r\n/]*`` (o200k) after such a run may take the ``\n``
  but stop before a letter; a whitespace run stops at the letter.
* the left part pre-tokenizes the same: since X is not whitespace, the whitespace run at the
  ``\n`` is the ``\n`` alone, and it is one pre-token whether a letter or the end of text follows
  (gpt2: ``\s+`` vs ``\s+(?!\S)``; cl100k: ``\s*[\r\n]`` vs ``\s++$``; llama3, qwen, o200k:
  ``\s*[\r\n]+`` either way); a run that swallowed the ``\n`` (``[\r\n]*``, ``[\r\n/]*``) ends at
  p either way.  Pre-tokens ending before the ``\n`` see the same characters up to and including
  it in both texts, and none of them looks further (``(?!\S)`` there looks at the ``\n``).
* the right part pre-tokenizes the same: no preset looks behind its match start (no lookbehind,
  no ``^``, ``\b`` or ``\G``), and the whole text has a boundary at p.

Whitespace before the ``\n`` is excluded because gpt2's ``\s+(?!\S)`` then splits the run
differently when the text ends at p; ``\r\n`` is excluded for the same reason.  A text with no
such line start cannot be cut.  tests/test_scanner.py checks the claim against ``regex`` for
random texts and every cut this function returns.

>>> text = "one two.\nThree\n four".encode()
>>> safe_cut(text, 1, "o200k"), safe_cut(text, 10, "o200k")
(9, 20)
"""

from __future__ import annotations

from bbpe.pretokenize.scanner_presets import scanner_key
from bbpe.pretokenize.unicode_tables import LETTER, SPACE, class_tables, lookup


def safe_cut(data: bytes, start: int, preset: str, split_digits: bool = False) -> int:
    """The first position p >= start that the rule above proves safe (``len(data)`` if none).

    ``preset`` is a preset name or scanner key (``supports`` gives it); KeyError otherwise.
    """
    scanner_key(preset, split_digits)  # the rule above is proven for the scanner presets only
    if start <= 0:
        return 0
    stage1, stage2 = class_tables()
    p = start - 1
    while True:
        p = data.find(b"\n", p)
        if p < 0 or p + 1 >= len(data):
            return len(data)
        letter_follows = _class_at(data, p + 1, stage1, stage2) & LETTER
        if letter_follows and not (p > 0 and _class_before(data, p, stage1, stage2) & SPACE):
            return p + 1
        p += 1


def _class_at(data: bytes, i: int, stage1, stage2) -> int:
    char = data[i : i + 4].decode("utf-8", "ignore")[:1]
    return lookup(stage1, stage2, ord(char)) if char else 0


def _class_before(data: bytes, end: int, stage1, stage2) -> int:
    """Class bits of the character that ends at byte offset ``end``."""
    start = end - 1
    while start > 0 and end - start < 4 and data[start] & 0xC0 == 0x80:
        start -= 1
    char = data[start:end].decode("utf-8", "ignore")[-1:]
    return lookup(stage1, stage2, ord(char)) if char else 0
