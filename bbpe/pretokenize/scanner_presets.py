"""Which patterns the compiled scanner reproduces: the preset table, without numba.

A scanner key is a preset name (``gpt2``, ``cl100k``, ``o200k``, ``llama3``, ``qwen``), optionally
followed by ``+split-digits``.  ``supports(pattern)`` maps a pattern string that is exactly one of
these regexes to its key; every other pattern stays on ``regex``.

>>> supports(CL100K), supports(with_split_digits(GPT2)), supports(r"\\w+|\\s+")
('cl100k', 'gpt2+split-digits', None)
"""

from __future__ import annotations

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

# The rule sets of bbpe.pretokenize._scan_kernels (qwen is llama3's rules with one digit per piece).
GPT2_RULES, CL100K_RULES, O200K_RULES, LLAMA3_RULES, STAGE2_RULES = 0, 1, 2, 3, 4
_PRESETS = {
    "gpt2": (GPT2_RULES, GPT2),
    "cl100k": (CL100K_RULES, CL100K),
    "o200k": (O200K_RULES, O200K),
    "llama3": (LLAMA3_RULES, LLAMA3),
    "qwen": (LLAMA3_RULES, QWEN),
}
PRESET_NAMES = tuple(_PRESETS)
SPLIT_SUFFIX = "+split-digits"
# Scanner key -> (rule set, split digits, the regex it reproduces), plain forms first.  qwen already
# has one digit per piece: "qwen", "qwen+split-digits" and "llama3+split-digits" are one regex.
SCANNERS: dict[str, tuple[int, bool, str]] = {
    name: (rules, name == "qwen", pattern) for name, (rules, pattern) in _PRESETS.items()
}
SCANNERS.update(
    {name + SPLIT_SUFFIX: (rules, True, with_split_digits(pattern)) for name, (rules, pattern) in _PRESETS.items()}
)
# SuperBPE's stage-2 patterns (bbpe.training.methods.superword): scanned, but not a preset one trains stage 1 with.
SCANNERS.update(
    {"stage2": (STAGE2_RULES, False, STAGE2), "stage2" + SPLIT_SUFFIX: (STAGE2_RULES, True, STAGE2_SPLIT_DIGITS)}
)


def supports(pattern: str) -> str | None:
    """The scanner key of a pattern that is exactly a preset or its split-digit form, else None."""
    return next((key for key, (_, _, regex_) in SCANNERS.items() if regex_ == pattern), None)


def scanner_key(preset: str, split_digits: bool = False) -> str:
    """The key for a preset name (or key) and a split-digits flag; KeyError for anything else.

    >>> scanner_key("o200k", split_digits=True)
    'o200k+split-digits'
    """
    key = preset + SPLIT_SUFFIX if split_digits and not preset.endswith(SPLIT_SUFFIX) else preset
    if key not in SCANNERS:
        names = ", ".join(PRESET_NAMES)
        raise KeyError(f"no compiled scanner for {preset!r}; use one of {names} (custom patterns: use regex)")
    return key


def scanner_pattern(preset: str, split_digits: bool = False) -> str:
    """The regex whose ``findall`` the scanner reproduces for a preset name or key."""
    return SCANNERS[scanner_key(preset, split_digits)][2]


def scanner_rules(preset: str, split_digits: bool = False) -> tuple[int, bool]:
    """(rule set, split digits) that the compiled scanner runs for a preset name or key."""
    rules, split, _ = SCANNERS[scanner_key(preset, split_digits)]
    return rules, split
