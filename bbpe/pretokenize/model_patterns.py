"""The pre-tokenization regexes of reference models that are not presets: Qwen3.5's, and DeepSeek's as one regex.

``QWEN35`` is the regex of Qwen3.5's ``tokenizer.json``: Qwen's, with combining marks (``\\p{M}``) kept on
letters.

DeepSeek's ``tokenizer.json`` files pre-tokenize with a *sequence* of ``Split`` steps, each applied inside the
pieces of the one before (``DEEPSEEK_LLM_STEPS``, ``DEEPSEEK_CODER_STEPS``, ``DEEPSEEK_V3_STEPS``, as in the
files).  bbpe's engines take one regex, and no plain alternation of the steps' regexes cuts the same pieces
(DeepSeek LLM's punctuation class ``:-~`` holds the ASCII letters, so ``" !a"`` is ``" !"`` + ``"a"``; in V3
``" a  1"`` is ``" a"``, ``"  "``, ``"1"``).  So the pieces are described by where they end:

* **LLM and Coder**: every cut the steps make can be decided from the character before it and the text after
  it, so ``[\\s\\S](?:(?!CUT)[\\s\\S])*`` (a piece runs until a cut) with ``CUT`` the union of one lookaround
  test per step gives the same pieces;
* **V3**: its first two steps isolate numbers (up to 3 digits) and CJK/kana runs; the third step's regex is
  then matched twice, once restricted to CJK/kana characters and once to the others (its ``\\s+(?!\\S)`` must
  also stop before a digit or a CJK character), with catch-alls for the text its matches leave between them.

``tests/test_model_patterns.py`` compares the pieces with ``tokenizers`` running the steps themselves on random
and real text.  None of these regexes is a preset, so the compiled scanner does not run them; a tokenizer with
one encodes with the tiktoken engine (or the python one).

>>> import regex
>>> regex.findall(DEEPSEEK_LLM, " !a Việt 12")
[' !', 'a', ' Vi', 'ệ', 't', ' ', '1', '2']
"""

from __future__ import annotations

from typing import Any

QWEN35 = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# -- DeepSeek LLM and Coder: one piece per run between cuts -------------------------------------------------------
# The character classes of DeepSeek LLM's tokenizer.json (letters: an explicit list, not \p{L}; punctuation:
# ASCII !-/ and :-~, full-width forms, curly quotes, U+3000-U+3002; CJK: U+4E00-U+9FA5, U+0800-U+4E00 and
# Hangul U+AC00-U+D7FF).  Written with escapes: the letters include compatibility characters (the Kelvin sign)
# that an editor normalizing the file would change.
DEEPSEEK_LETTERS = (
    "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
    "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f"
    "\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
    "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d"
    "\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4"
    "\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
    "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d"
    "\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a"
    "\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2"
    "\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943"
)
DEEPSEEK_PUNCTUATION = "!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002"
DEEPSEEK_CJK = "\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff"

_SPACE = r"[^\S\r\n]"  # whitespace other than CR and LF (those are pieces of their own)
_END = r"(?![\s\S])"
_IDEOGRAPHIC_SPACE = "\u3000"  # U+3000 is whitespace, DeepSeek LLM punctuation and inside its CJK range at once


def pieces_between(cuts: list[str]) -> str:
    """A regex whose matches are the runs of text between the positions where one of ``cuts`` (zero-width
    tests) holds."""
    return r"[\s\S](?:(?!" + "|".join(cuts) + r")[\s\S])*"


def _runs_of(chars: str) -> str:
    """Cuts where a run of ``chars`` (a class body) starts or ends (a ``[...]+`` Split step)."""
    return rf"(?<=[{chars}])(?=[^{chars}])|(?<=[^{chars}])(?=[{chars}])"


def _space_prefixed_runs(chars: str) -> str:
    r"""Cuts of a ``\s?[chars]+`` Split step: after a run, before a run not preceded by whitespace, and before the
    one whitespace character that joins a run."""
    return rf"(?<=[{chars}])(?=[^{chars}])|(?<=[^{chars}\s])(?=[{chars}])|(?={_SPACE}[{chars}])"


def _deepseek_llm() -> str:
    letters, punctuation, space = DEEPSEEK_LETTERS, DEEPSEEK_PUNCTUATION, _IDEOGRAPHIC_SPACE
    return pieces_between(
        [
            r"(?<=[\r\n])|(?=[\r\n])",  # step 1: every CR and LF alone
            rf"(?<=[{letters}])(?=[^{letters}])|(?<=[^{letters}\s])(?=[{letters}])|(?={_SPACE}[{letters}])",  # 2
            # step 3 (inside step 2's pieces); U+3000 is itself punctuation, and before "U+3000 letter" step 2 cut
            rf"(?<=[{punctuation}])(?=[^{punctuation}])|(?<=[^{punctuation}\s])(?=[{punctuation}])"
            rf"|(?=(?![{punctuation}]){_SPACE}(?!{space}[{letters}])[{punctuation}])",
            # step 4, \s+$ inside a piece: a whitespace run that ends the piece (text end, CR/LF, or where steps 2
            # and 3 start a piece), and a run of U+3000 ending a punctuation piece
            rf"(?<=\S)(?=(?:(?![{punctuation}]){_SPACE})+(?:{_END}|[\r\n]|[{letters}]|[{punctuation}]))",
            rf"(?<=\S)(?<=[{punctuation}])(?={space}(?:{space}*(?![{punctuation}])|{space}*(?={space}[{letters}])))",
            _runs_of(DEEPSEEK_CJK),  # step 5
            r"(?<=\p{N})|(?=\p{N})",  # step 6: Digits(individual_digits)
        ]
    )


def _deepseek_coder() -> str:
    return pieces_between(
        [
            r"(?<=[\r\n])|(?=[\r\n])",
            _space_prefixed_runs(r"\p{L}"),
            _space_prefixed_runs(r"\p{P}"),
            _runs_of(DEEPSEEK_CJK),
            r"(?<=\p{N})|(?=\p{N})",
        ]
    )


# -- DeepSeek V3: numbers, CJK/kana runs, then the main regex on each side ----------------------------------------
DEEPSEEK_V3_CJK = "\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff"
DEEPSEEK_V3_MAIN = (  # as in the file, whose regex holds CR and LF themselves
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"""
    r"""| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
).replace(r"\r\n", "\r\n")


def _deepseek_v3() -> str:
    cjk = DEEPSEEK_V3_CJK
    other = rf"(?![\p{{N}}{cjk}])"  # the next character is neither a digit nor CJK/kana
    inside = rf"(?=[{cjk}])"  # the next character is CJK/kana
    main_other = "|".join(
        [
            r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+""",
            rf"(?:{other}[^\r\n\p{{L}}\p{{P}}\p{{S}}])?(?:{other}[\p{{L}}\p{{M}}])+",
            rf" ?(?:{other}[\p{{P}}\p{{S}}])+[\r\n]*",
            r"\s*[\r\n]+",
            rf"\s+(?![^\s\p{{N}}{cjk}])",  # \s+(?!\S), where a digit or CJK character also ends the piece
            r"\s+",
        ]
    )
    main_cjk = rf"(?:{inside}[^\r\n\p{{L}}\p{{P}}\p{{S}}])?(?:{inside}[\p{{L}}\p{{M}}])+|(?:{inside}[\p{{P}}\p{{S}}])+"
    gaps = [rf"(?:(?!{main_cjk}){inside}[\s\S])+", rf"(?:(?!{main_other}){other}[\s\S])+"]
    return "|".join([r"\p{N}{1,3}", main_cjk, main_other, *gaps])


DEEPSEEK_LLM = _deepseek_llm()
DEEPSEEK_CODER = _deepseek_coder()
DEEPSEEK_V3 = _deepseek_v3()


# -- the models' own pre-tokenizer steps (tokenizer.json), for reading those files and for the tests ------------
def _split(regex_: str) -> dict[str, Any]:
    return {"type": "Split", "pattern": {"Regex": regex_}, "behavior": "Isolated", "invert": False}


_DIGITS = {"type": "Digits", "individual_digits": True}
DEEPSEEK_LLM_STEPS: list[dict[str, Any]] = [
    _split("[\r\n]"),
    _split(rf"\s?[{DEEPSEEK_LETTERS}]+"),
    _split(rf"\s?[{DEEPSEEK_PUNCTUATION}]+"),
    _split(r"\s+$"),
    _split(f"[{DEEPSEEK_CJK}]+"),
    _DIGITS,
]
DEEPSEEK_CODER_STEPS: list[dict[str, Any]] = [
    _split("[\r\n]"),
    _split(r"\s?\p{L}+"),
    _split(r"\s?\p{P}+"),
    _split(f"[{DEEPSEEK_CJK}]+"),
    _DIGITS,
]
DEEPSEEK_V3_STEPS: list[dict[str, Any]] = [
    _split(r"\p{N}{1,3}"),
    _split(f"[{DEEPSEEK_V3_CJK}]+"),
    _split(DEEPSEEK_V3_MAIN),
]

# The one regex for each sequence of steps (each followed by ByteLevel without a regex in the files).
STEP_PATTERNS: list[tuple[list[dict[str, Any]], str]] = [
    (DEEPSEEK_LLM_STEPS, DEEPSEEK_LLM),
    (DEEPSEEK_CODER_STEPS, DEEPSEEK_CODER),
    (DEEPSEEK_V3_STEPS, DEEPSEEK_V3),
]
MODEL_PATTERNS = (QWEN35, DEEPSEEK_LLM, DEEPSEEK_CODER, DEEPSEEK_V3)
