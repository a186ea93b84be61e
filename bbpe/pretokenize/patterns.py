"""Pre-tokenization regex presets, pattern validation and digit splitting.

A pattern is always a regex string (``regex`` module / tiktoken syntax).  Presets are
named constants; ``resolve_pattern`` turns a preset name or a custom regex into the
effective pattern, optionally with every digit as its own pre-token.  Every pattern, typed
or read from a file, is validated once (``validate_pattern``): it must compile in both
engines, have no capturing groups, match no empty string, and cover every character of
``probe_text()`` (``PROBE_TEXT`` plus every ASCII character and one character of every script and
general category, so no text is dropped); otherwise a ValueError names the rule it breaks.

>>> pretokenize("Hello 123!", resolve_pattern("cl100k", split_digits=True))
['Hello', ' ', '1', '2', '3', '!']
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import regex

from bbpe.pretokenize.model_patterns import MODEL_PATTERNS
from bbpe.pretokenize.probe import probe_characters

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
O200K = "|".join(
    (
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    )
)

PRESETS: dict[str, str] = {"gpt2": GPT2, "cl100k": CL100K, "llama3": LLAMA3, "qwen": QWEN, "o200k": O200K}

# Number alternatives of the presets and their one-digit-per-piece replacements.  For
# GPT-2 the optional leading space becomes its own piece, so the result equals
# "pre-tokenize, then cut every digit out" (checked by tests/test_patterns.py).
# SuperBPE's stage-2 pre-tokenization (bbpe.training.methods.superword; splits of PythonNut/superbpe's stage-2 regex
# plus line breaks): only these pieces are cut out, everything between two of them is one piece.
_STAGE2_SPLITS = r"""{digits}| ?[^\s\p{{L}}\p{{N}}]{{2,}}[\r\n/]*|\s*[\r\n]+| +(?!\S)"""


def stage2_splits(*, one_digit: bool) -> str:
    """The split alternatives of the stage-2 pattern; digits one per piece or up to three."""
    return _STAGE2_SPLITS.format(digits=r"\p{N}" if one_digit else r"\p{N}{1,3}")


def _stage2(*, one_digit: bool) -> str:
    # The run takes a letter, or a space before a letter, without testing the splits (none starts
    # there): ~3x faster than testing every character, the same pieces (tests/test_superword.py).
    splits = stage2_splits(one_digit=one_digit)
    return rf"(?:{splits})|(?: ?\p{{L}}++|(?!{splits})[\s\S])++"


STAGE2 = _stage2(one_digit=False)
STAGE2_SPLIT_DIGITS = _stage2(one_digit=True)

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
    validate_pattern(pattern)
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


# Patterns bbpe itself defines: validated by the tests (tests/test_patterns.py, tests/test_model_patterns.py), not
# at every use.  MODEL_PATTERNS: the reference models' regexes that are not presets (Qwen3.5, DeepSeek).
BUILT_IN = frozenset(
    [
        *PRESETS.values(),
        *(with_split_digits(preset) for preset in PRESETS.values()),
        STAGE2,
        STAGE2_SPLIT_DIGITS,
        *MODEL_PATTERNS,
    ]
)


_DIGIT_CUT = regex.compile(r"\p{N}|\P{N}+")


def cut_digits(text: str) -> list[str]:
    """A pre-token with every digit cut out as its own piece (what ``split_digits`` does to it).

    >>> cut_digits(" 123ab4")
    [' ', '1', '2', '3', 'ab', '4']
    """
    return cast(list[str], _DIGIT_CUT.findall(text))


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile a pattern, turning a syntax error into a ValueError that names it."""
    if not pattern:
        raise ValueError("the pre-tokenization pattern is empty")
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


# Letters of many scripts, digits, punctuation, whitespace kinds, emoji, combining marks, controls.
PROBE_TEXT = (
    "Hello, World! it's I'LL 123 4567.89 1,000 -x +y naïve café e\u0301 a\u0308\u0323 \tTab\r\nCRLF\rCR\n\n"
    "  two  spaces \u00a0nbsp\u2003em\u3000ideo\u2028ls\u2029ps\x0bvt\x0cff\x85nel "
    "Привет мир Γειά σου שָׁלוֹם مرحبا नमस्ते สวัสดี 你好世界 こんにちは 안녕하세요 ሰላም ᚠᚢᚦ "
    "١٢٣ ๑๒๓ ½ Ⅻ ²³ 𝐀𝐁 👋🏽 👨\u200d👩\u200d👧 🇩🇪 \x00\x07\x1b\x7f\u200b\ufeff\ue000\uffff\U0010fffd "
    "$%&*()[]{}\\/@#^_`~+=|;:\"'?<>«»“”‘’–—…、。！ <|endoftext|> end"
)


def validate_pattern(pattern: str) -> None:
    r"""Check a pre-tokenization pattern; a ValueError names the first rule it breaks.

    >>> validate_pattern(r"\w+")
    Traceback (most recent call last):
    ...
    ValueError: pattern '\\w+' drops text: it matches nothing at character 5 (',', U+002C) of the probe text
    """
    problem = _pattern_problem(pattern)
    if problem:
        raise ValueError(f"pattern {pattern!r} {problem}")


def probe_text() -> str:
    """The text a pattern must cover: ``PROBE_TEXT`` (characters in context), then every ASCII character and
    one character of every (script, general category) pair (``bbpe.pretokenize.probe``)."""
    return PROBE_TEXT + probe_characters()


@lru_cache(maxsize=64)
def _pattern_problem(pattern: str) -> str | None:
    if isinstance(pattern, str) and pattern in BUILT_IN:
        return None  # tests/test_patterns.py checks that every built-in pattern keeps all the rules
    return rule_broken(pattern)


def rule_broken(pattern: str) -> str | None:
    """What is wrong with a pattern (the first rule it breaks), or None."""
    if not isinstance(pattern, str) or not pattern:
        return "is empty; give a regex or a preset name"
    try:
        compiled = regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        return f"is an invalid regex: {exc}"
    if compiled.groups:
        return "has capturing groups; write (?:...) instead of (...)"
    if compiled.search("") is not None:
        return "matches the empty string; every match must hold at least one character"
    probe = probe_text()
    matches = list(compiled.finditer(probe))
    empty = next((match.start() for match in matches if match.start() == match.end()), None)
    if empty is not None:
        return f"matches the empty string at character {empty} of the probe text"
    position = 0
    for match in matches:
        if match.start() != position:
            break
        position = match.end()
    if position != len(probe):
        missed = probe[position]
        return (
            f"drops text: it matches nothing at character {position} ({missed!r}, U+{ord(missed):04X}) "
            "of the probe text"
        )
    return _tiktoken_problem(pattern, probe)


def _tiktoken_problem(pattern: str, probe: str) -> str | None:
    """None if tiktoken's engine (Rust fancy-regex) compiles the pattern and encodes ``probe`` back to itself."""
    try:
        import tiktoken
    except ImportError:
        return None
    ranks = {bytes([byte]): byte for byte in range(256)}
    try:
        encoding = tiktoken.Encoding(
            name="bbpe-pattern-check", pat_str=pattern, mergeable_ranks=ranks, special_tokens={}
        )
        pieces = [encoding.decode_single_token_bytes(t) for t in encoding.encode_ordinary(probe)]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"does not compile in tiktoken's regex engine (fancy-regex): {first}"
    if b"".join(pieces) != probe.encode("utf-8"):
        return "loses text in tiktoken's regex engine"
    return None


def pretokenize(text: str, pattern: str) -> list[str]:
    """Split text into pre-tokens with the pattern (the pieces BPE works inside)."""
    return cast(list[str], compile_pattern(pattern).findall(text))  # regex has no type stubs


_POSSESSIVE_INTERVAL = regex.compile(r"(?<!\\)\{\d+(?:,\d*)?\}\+")


def to_oniguruma(pattern: str) -> str:
    r"""An equivalent pattern for Hugging Face tokenizers (Oniguruma).

    Oniguruma knows ``*+``, ``++`` and ``?+``, but reads ``X{m,n}+`` as "``X{m,n}`` one or more
    times", so the possessive interval becomes the atomic group ``(?>X{m,n})``; and its ``$`` is the
    end of a line, so ``$`` (the end of the text in tiktoken, and in ``regex`` where cl100k uses it,
    ``\s++$``) becomes ``\z``.  ``tokenizers`` runs the regex on each segment between added tokens, as
    bbpe does.  Export checks the result against bbpe on a probe text (``bbpe.formats.hf``).

    >>> to_oniguruma(r"a++|\p{N}{1,3}+|[a-z]{2}+|\s++$|[$]")
    'a++|(?>\\p{N}{1,3})|(?>[a-z]{2})|\\s++\\z|[$]'
    """
    for found in reversed(list(_POSSESSIVE_INTERVAL.finditer(pattern))):
        start = _atom_start(pattern, found.start())
        if start is None:
            continue  # left as is; the export check reports a disagreement
        atom = pattern[start : found.start()]
        pattern = f"{pattern[:start]}(?>{atom}{found.group()[:-1]}){pattern[found.end() :]}"
    return _end_of_text(pattern)


def from_oniguruma(pattern: str) -> str:
    """The preset (or its split-digit form) whose Oniguruma form is ``pattern``, else ``pattern`` itself."""
    for preset in PRESETS.values():
        for known in (preset, with_split_digits(preset)):
            if to_oniguruma(known) == pattern:
                return known
    return pattern


def _end_of_text(pattern: str) -> str:
    """``$`` outside character classes written as ``\\z``."""
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\z")
            continue
        out.append(char)
    return "".join(out)


def _atom_start(pattern: str, end: int) -> int | None:
    """Where the atom ending just before ``end`` starts: a character, escape, \\p{..}, [...] or (...)."""
    if end == 0:
        return None
    last = pattern[end - 1]
    if last == "}":
        brace = pattern.rfind("\\", 0, end)
        return brace if brace >= 0 and pattern[brace + 1] in "pPx" else None
    if last in ")]":
        opener = "(" if last == ")" else "["
        depth = 0
        for at in range(end - 1, -1, -1):
            if at and pattern[at - 1] == "\\":
                continue
            if pattern[at] == last and (last == ")" or at == end - 1):
                depth += 1
            elif pattern[at] == opener:
                depth -= 1
                if depth == 0:
                    return at
        return None
    return end - 2 if end >= 2 and pattern[end - 2] == "\\" else end - 1
