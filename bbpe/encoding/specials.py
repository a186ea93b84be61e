"""The one special-token splitter of every engine, and what ``allowed_special`` / ``disallowed_special`` mean.

Special tokens are found in the raw text leftmost first and, where several start at one place, the
longest wins (as Hugging Face ``tokenizers`` matches added tokens), so ``<|end|>x`` beats ``<|end|>``.
``allowed_special`` and ``disallowed_special`` take ``"all"`` or any collection of special tokens;
a bare string other than ``"all"`` is a TypeError and an entry that is not a special token a
ValueError, in every engine.  Text of a disallowed special token left in an ordinary segment
(after the allowed ones are cut out) raises ValueError, as in tiktoken.

Added tokens (``bbpe.vocabulary``) are always cut out, whatever ``allowed_special`` says, in the same
leftmost-longest pass as the allowed special tokens (as ``tokenizers`` matches all added tokens in one
pass); the disallowed check runs before, on the text with only the allowed special tokens cut out.

>>> specials = SpecialTokens({"<|end|>": 9, "<|end|>x": 10})
>>> specials.segments("a<|end|>xb<|end|>", allowed_special="all", disallowed_special="all")
['a', '<|end|>x', 'b', '<|end|>', '']
>>> SpecialTokens({"<|end|>": 9}, added={"ö": 5}).segments("Köln<|end|>", allowed_special=(), disallowed_special=())
['K', 'ö', 'ln<|end|>']
"""

from __future__ import annotations

import re
from collections.abc import Collection, Hashable, Mapping
from functools import lru_cache
from typing import Literal, cast

AllowedSpecial = Literal["all"] | Collection[str]


@lru_cache(maxsize=256)
def special_pattern(tokens: frozenset[str]) -> re.Pattern[str]:
    """A regex with one group that matches the tokens leftmost, longest first (``split`` keeps them)."""
    ordered = sorted(tokens, key=lambda token: (-len(token), token))
    return re.compile("(" + "|".join(re.escape(token) for token in ordered) + ")")


def split_specials(text: str, tokens: frozenset[str]) -> list[str]:
    """``[ordinary, special, ordinary, ..., ordinary]``: the text cut at every special token of ``tokens``.

    >>> split_specials("a<s>b", frozenset({"<s>"})), split_specials("ab", frozenset())
    (['a', '<s>', 'b'], ['ab'])
    """
    if not tokens:
        return [text]
    return special_pattern(tokens).split(text)


class SpecialTokens:
    """A tokenizer's special tokens and always-matched added tokens (text -> id), and the rules for finding
    them in text; ``ids`` gives the id of every text that ``segments`` cuts out."""

    def __init__(self, tokens: Mapping[str, int], *, added: Mapping[str, int] | None = None) -> None:
        self.ids = {**(added or {}), **tokens}
        self.names = frozenset(tokens)
        self.added = frozenset(added or ())
        self._resolved: dict[tuple[Hashable, Hashable], tuple[frozenset[str], frozenset[str]]] = {}
        self._cut: dict[frozenset[str], frozenset[str]] = {}

    def resolve(
        self, allowed_special: AllowedSpecial, disallowed_special: AllowedSpecial
    ) -> tuple[frozenset[str], frozenset[str]]:
        """(allowed, disallowed) as sets of special tokens; TypeError/ValueError for a bad argument."""
        key = _cache_key(allowed_special, disallowed_special)
        if key is not None and key in self._resolved:
            return self._resolved[key]
        allowed = self._as_set(allowed_special, "allowed_special")
        if disallowed_special == "all":
            disallowed = self.names - allowed
        else:
            disallowed = self._as_set(disallowed_special, "disallowed_special")
        if key is not None and len(self._resolved) < 64:
            self._resolved[key] = (allowed, disallowed)
        return allowed, disallowed

    def segments(self, text: str, *, allowed_special: AllowedSpecial, disallowed_special: AllowedSpecial) -> list[str]:
        """``split_specials`` with the allowed and the added tokens, after the disallowed check on the text
        between the allowed ones."""
        allowed, disallowed = self.resolve(allowed_special, disallowed_special)
        parts = split_specials(text, allowed) if disallowed or not self.added else []
        if disallowed:
            pattern = special_pattern(disallowed)
            for part in parts[::2]:
                found = pattern.search(part)
                if found:
                    raise ValueError(
                        f"Encountered text corresponding to disallowed special token {found.group()!r}. "
                        f"Pass allowed_special={{{found.group()!r}}} to encode it as a special token, "
                        "or disallowed_special=() to encode it as ordinary text."
                    )
        return split_specials(text, self._with_added(allowed)) if self.added else parts

    def _with_added(self, allowed: frozenset[str]) -> frozenset[str]:
        """The texts cut out under ``allowed``: those special tokens and every added token."""
        cut = self._cut.get(allowed)
        if cut is None:
            cut = allowed | self.added
            if len(self._cut) < 64:
                self._cut[allowed] = cut
        return cut

    def _as_set(self, value: AllowedSpecial, name: str) -> frozenset[str]:
        if value == "all":
            return self.names
        if isinstance(value, (str, bytes)):
            raise TypeError(
                f"{name} must be 'all' or a collection of special tokens, not the string {value!r} "
                f"(for one token write {name}={{{value!r}}})"
            )
        try:
            given = frozenset(value)
        except TypeError:
            raise TypeError(
                f"{name} must be 'all' or a collection of special tokens, not {type(value).__name__}"
            ) from None
        unknown = sorted(repr(item) for item in given if item not in self.names)
        if unknown:
            known = ", ".join(sorted(self.names)[:5]) + (", ..." if len(self.names) > 5 else "")
            raise ValueError(
                f"{name} names {unknown[0]}, which is not a special token of this tokenizer "
                f"(its special tokens: {known or 'none'})"
            )
        return given


def _cache_key(allowed: AllowedSpecial, disallowed: AllowedSpecial) -> tuple[Hashable, Hashable] | None:
    """The arguments as a dictionary key, or None when they cannot be hashed (sets, lists)."""
    try:
        hash((allowed, disallowed))
    except TypeError:
        return None
    return (cast(Hashable, allowed), cast(Hashable, disallowed))
