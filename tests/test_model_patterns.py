"""The reference models' own pre-tokenization regexes (``bbpe.pretokenize.model_patterns``) cut the pieces that
Hugging Face ``tokenizers`` cuts running the models' own steps, in both of bbpe's regex engines.

The expected pieces come from ``tokenizers`` (its ``Sequence`` of ``Split``/``Digits`` pre-tokenizers built from
the steps, as each model's tokenizer.json holds them; tests/test_reference_models.py checks the steps against the
real files), on random strings over the characters where the steps' cuts meet, long random strings, and real
multilingual text.
"""

from __future__ import annotations

import json
import random

import pytest
import regex
from _samples import MULTILINGUAL, python_sources
from hypothesis import given, settings
from hypothesis import strategies as st

from bbpe.pretokenize import model_patterns
from bbpe.pretokenize.model_patterns import DEEPSEEK_CODER, DEEPSEEK_LLM, DEEPSEEK_V3, QWEN35, STEP_PATTERNS
from bbpe.pretokenize.patterns import BUILT_IN, rule_broken

# Characters Python's Unicode database has assigned: a newer one (e.g. U+323B0, CJK Extension J) is a letter to
# `regex` (and bbpe's tables built from it) but unassigned to tiktoken's Rust regex, which cuts it elsewhere.
ASSIGNED = st.characters(codec="utf-8", exclude_categories=["Cn"])

tokenizers = pytest.importorskip("tokenizers")

# Letters in and out of DeepSeek LLM's list, ASCII and full-width punctuation, U+3000, CJK/Hangul/kana, digits of
# several scripts, whitespace of every kind, controls, marks, symbols, emoji.
ALPHABET = (
    "a", "B", "z", "é", "ö", "ệ", "ǅ", "Ω", "я", "ḁ", "中", "日", "한", "ア", "ー", "・", "゠", "ก", "ㄱ", "㐀", "ℂ", "Ⅎ",
    "1", "23", "٣", "½", "Ⅻ", "!", ",", "'", "-", "_", "+", "$", "^", "'s", "！", "，", "：", "Ａ", "ｂ", "‘", "“", "、",
    "。", "\u3000", " ", "  ", "\t", "\n", "\r", "\u2009", "\u00a0", "\u0085", "\x1c", "\x00", "\u200b", "\ue000",
    "😀", "€", "©", "µ", "ß", "\u0300", "ࠀ", "\u0915\u093c",
)  # fmt: skip


def hf_pieces(steps: list[dict]) -> callable:
    """tokenizers' own pieces for a sequence of pre-tokenizer steps (ByteLevel left out: pieces as text)."""
    document = {"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}, "added_tokens": []}
    document["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": steps}
    pre = tokenizers.Tokenizer.from_str(json.dumps(document)).pre_tokenizer
    return lambda text: [piece for piece, _ in pre.pre_tokenize_str(text)]


CASES = [pytest.param(steps, pattern, id=name) for (steps, pattern), name in zip(STEP_PATTERNS, ["llm", "coder", "v3"])]


@pytest.mark.parametrize(("steps", "pattern"), CASES)
def test_one_regex_cuts_the_pieces_of_the_steps(steps, pattern):
    theirs, ours = hf_pieces(steps), regex.compile(pattern).findall
    rng = random.Random(25)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14))) for _ in range(30_000)]
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(50, 400))) for _ in range(300)]
    texts += [*MULTILINGUAL, python_sources(60_000), "x" * 5000 + "中" * 3000 + "1" * 100, " \u3000a\u3000 !a"]
    differ = [text for text in texts if theirs(text) != ours(text)]
    assert not differ, (differ[0], theirs(differ[0]), ours(differ[0]))


@pytest.mark.parametrize("pattern", [QWEN35, DEEPSEEK_LLM, DEEPSEEK_CODER, DEEPSEEK_V3])
def test_model_patterns_keep_every_rule_and_are_built_in(pattern):
    assert rule_broken(pattern) is None  # compiles in both engines, no groups, no empty match, covers the probe
    assert pattern in BUILT_IN


def test_qwen35_is_the_files_regex_with_marks_on_letters():
    steps = [{"type": "Split", "pattern": {"Regex": QWEN35}, "behavior": "Isolated", "invert": False}]
    assert hf_pieces(steps)("e\u0301te Việt\u0301 ab12") == regex.findall(QWEN35, "e\u0301te Việt\u0301 ab12")
    assert regex.findall(QWEN35, " e\u0301") == [" e\u0301"]  # Qwen's regex: [' e', '\u0301']


@pytest.fixture(scope="module")
def merged_vocab() -> dict[bytes, int]:
    """A vocabulary with merges across the places the patterns cut (spaces, punctuation, digits, CJK, ...)."""
    import bbpe

    rng = random.Random(7)
    text = "".join(rng.choice(ALPHABET) for _ in range(60_000)) + "\n".join(MULTILINGUAL * 20)
    return bbpe.train([text], vocab_size=3000, pattern=r"(?s:.{1,4})", workers=1).ranks


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(ALPHABET) | ASSIGNED, max_size=40).map("".join))
def test_both_engines_cut_the_same_pieces(merged_vocab, text):
    """tiktoken's regex engine (Rust fancy-regex) and ``regex`` cut the same pieces: the ids over a vocabulary
    whose tokens span the cuts are equal."""
    from bbpe import Tokenizer

    for pattern in (DEEPSEEK_LLM, DEEPSEEK_CODER, DEEPSEEK_V3, QWEN35):
        python = Tokenizer(merged_vocab, pattern=pattern, engine="python")
        assert python.encode_ordinary(text) == _tiktoken(merged_vocab, pattern).encode_ordinary(text)


_ENGINES: dict[str, object] = {}


def _tiktoken(ranks: dict[bytes, int], pattern: str):
    from bbpe import Tokenizer

    if pattern not in _ENGINES:
        _ENGINES[pattern] = Tokenizer(ranks, pattern=pattern, engine="tiktoken")
    return _ENGINES[pattern]


def test_module_names_every_pattern():
    assert model_patterns.MODEL_PATTERNS == (QWEN35, DEEPSEEK_LLM, DEEPSEEK_CODER, DEEPSEEK_V3)
