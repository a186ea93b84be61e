"""Pre-tokenization regex presets and digit splitting.

A pattern is always a regex string (``regex`` module / tiktoken syntax).  Presets are
named constants; ``resolve_pattern`` turns a preset name or a custom regex into the
effective pattern, optionally with every digit as its own pre-token.

>>> pretokenize("Hello 123!", resolve_pattern("cl100k", split_digits=True))
['Hello', ' ', '1', '2', '3', '!']
"""

from __future__ import annotations

import regex

# GPT-2 (openai/gpt-2 encoder.py), as published.
GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# GPT-4 cl100k_base, tiktoken_ext/openai_public.py (possessive form used by tiktoken).
CL100K = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
# Llama-3 (llama_models/llama3/tokenizer.py): the older cl100k form.
LLAMA3 = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# Qwen (tokenization_qwen.py): Llama-3/cl100k with every digit its own piece.
QWEN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# GPT-4o o200k_base, tiktoken_ext/openai_public.py (its seven alternatives joined by "|"):
# letters split at case changes, contractions kept on the word, "/" kept after punctuation.
O200K = "|".join((
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
))

PRESETS: dict[str, str] = {"gpt2": GPT2, "cl100k": CL100K, "llama3": LLAMA3, "qwen": QWEN, "o200k": O200K}

# Number alternatives of the presets and their one-digit-per-piece replacements.  For
# GPT-2 the optional leading space becomes its own piece, so the result equals
# "pre-tokenize, then cut every digit out" (checked by tests/test_patterns.py).
_DIGIT_REWRITES = (
    (r" ?\p{N}+", r" (?=\p{N})|\p{N}"),
    (r"\p{N}{1,3}+", r"\p{N}"),
    (r"\p{N}{1,3}", r"\p{N}"),
)
_SINGLE_DIGIT_ALTERNATIVE = regex.compile(r"(?:^|\|)\\p\{N\}(?:\||$)")


def resolve_pattern(name_or_regex: str, *, split_digits: bool = False) -> str:
    """Return the effective regex for a preset name or a custom regex.

    >>> resolve_pattern("qwen") == QWEN
    True
    """
    pattern = PRESETS.get(name_or_regex, name_or_regex)
    compile_pattern(pattern)
    return with_split_digits(pattern) if split_digits else pattern


def preset_name(pattern: str) -> str | None:
    """Name of the preset whose regex is ``pattern``, or None."""
    return next((name for name, value in PRESETS.items() if value == pattern), None)


def with_split_digits(pattern: str) -> str:
    """Rewrite a preset-style pattern so every digit is its own pre-token.

    Raises ValueError for a custom pattern whose number alternative is not recognised.
    """
    for old, new in _DIGIT_REWRITES:
        if old in pattern:
            return pattern.replace(old, new)
    if _SINGLE_DIGIT_ALTERNATIVE.search(pattern):
        return pattern  # already one digit per piece (e.g. qwen)
    raise ValueError(
        "--split-digits needs a pattern with a recognised number alternative "
        r"(\p{N}+ or \p{N}{1,3}); in a custom --regex, match digits one at a time with \p{N}"
    )


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile a pattern, turning a syntax error into a ValueError that names it."""
    if not pattern:
        raise ValueError("the pre-tokenization pattern is empty")
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


def pretokenize(text: str, pattern: str) -> list[str]:
    """Split text into pre-tokens with the pattern (the pieces BPE works inside)."""
    return compile_pattern(pattern).findall(text)


# A "+" right after a quantifier (+, *, ?, {m,n}) makes it possessive.
_POSSESSIVE = regex.compile(r"(?<=(?<!\\)(?:[+*?]|\{\d+(?:,\d*)?\}))\+")


def to_oniguruma(pattern: str) -> str:
    """An equivalent pattern for Hugging Face tokenizers (Oniguruma has no possessive ``{m,n}+``)."""
    equivalents = {CL100K: LLAMA3, with_split_digits(CL100K): QWEN}
    pattern = equivalents.get(pattern, pattern)
    return _POSSESSIVE.sub("", pattern)
