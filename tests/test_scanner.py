"""The compiled pre-tokenizer gives exactly regex's pre-tokens and counts, for every preset and split-digit form.

Proofs: hypothesis over all of Unicode with strategies biased towards the characters the rules
treat specially; every code point in one text; a few MB of real text (training and parallel
corpora, Python sources).  ``scripts/check_scanner.py`` runs the same comparison on whole corpora.
"""

from __future__ import annotations

import gzip
import random
import sysconfig
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba", reason="the compiled pre-tokenizer needs numba (pip install 'bbpe[fast]')")

from conftest import PARALLEL_DIR, TRAIN_DIR

from bbpe.pretokenize import unicode_tables as ut
from bbpe.pretokenize.patterns import CL100K, GPT2, LLAMA3, QWEN, STAGE2, STAGE2_SPLIT_DIGITS, with_split_digits
from bbpe.pretokenize.scanner import (
    O200K,
    SCANNERS,
    CountTable,
    count_pretokens_compiled,
    pretoken_spans,
    scanner_pattern,
    supports,
)

KEYS = sorted({scanner_pattern(key): key for key in reversed(list(SCANNERS))}.values())  # one key per distinct regex
COMPILED = {key: regex.compile(scanner_pattern(key)) for key in KEYS}

WHITESPACE = [
    chr(c)
    for c in (
        *range(0x09, 0x0E),
        *range(0x1C, 0x21),
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
        0x180E,
        0x200B,
        0xFEFF,
    )
]
NUMBERS = list("0123456789٠٣۴७৪๓０９Ⅻⅰ〇𐍁½²①༳𝟘")  # Nd, Nl, No
CASE = list("sStTrReEvVmMlLdDkK") + ["ſ", "K", "Å", "ß", "ẞ", "İ", "ı", "ǅ", "ﬆ"]
MARKS = ["\u0301", "\u0300", "\u0903", "\u20dd", "\u0e31", "\ufe0f", "\ufe0e", "\u200d", "\u064b", "\U000e0100"]
LETTERS = list("éÉΣσʰ々中文あア한اहกǅᾈⅰ𝐀𠀀")
EMOJI = ["👍", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "❤️", "1️⃣", "🇫🇷", "☺︎"]
PUNCT = list("'’`\".,;:!?-_/\\()[]{}<>#@$%^&*+=|~") + ["«", "»", "—", "。", "、", "・"]
SNIPPETS = [
    "'s",
    "'S",
    "'ll",
    "'LL",
    "'Ll",
    "'ve",
    "'RE",
    "'d",
    "'m",
    "'t",
    "ſ'ſ",
    "\r\n",
    "\n\n",
    "\r\r\n",
    " \n",
    "\n/",
    "/\n/",
    "!\n/",
    " 1234",
    "12345",
    " '",
    "''s",
    "  ",
    "\t\t",
    " \u0301",
    "A\u0301B",
    "HTMLParser",
    " ..",
    " ...\n/",
    " \t",
    "a  b",
]

tricky = st.sampled_from(WHITESPACE + NUMBERS + CASE + MARKS + LETTERS + EMOJI + PUNCT + SNIPPETS + [" ", "\n", "\r"])
any_char = st.characters(exclude_categories=("Cs",))
texts = st.lists(st.one_of(tricky, tricky, any_char), max_size=40).map("".join)


def spans_of(text: str, key: str) -> list[int]:
    """Byte end offsets of regex's pre-tokens (the reference)."""
    ends, total = [], 0
    for piece in COMPILED[key].findall(text):
        total += len(piece.encode())
        ends.append(total)
    return ends


def assert_same_pretokens(text: str, key: str) -> None:
    data = text.encode()
    got = pretoken_spans(data, key).tolist()
    expected = spans_of(text, key)
    if got != expected:
        pieces = [data[a:b] for a, b in zip([0, *got], got)]
        pytest.fail(f"{key}: {text[:200]!r}\ncompiled {pieces[:40]}\nregex    {COMPILED[key].findall(text)[:40]}")


def test_supports_maps_exactly_the_presets():
    for name, pattern in {"gpt2": GPT2, "cl100k": CL100K, "o200k": O200K, "llama3": LLAMA3, "qwen": QWEN}.items():
        assert supports(pattern) == name
        key = supports(with_split_digits(pattern))
        assert key is not None and scanner_pattern(key) == with_split_digits(pattern)
    assert supports(with_split_digits(CL100K)) == "cl100k+split-digits"
    assert supports(with_split_digits(LLAMA3)) == "qwen"  # the same regex
    assert supports(STAGE2) == "stage2" and supports(STAGE2_SPLIT_DIGITS) == "stage2+split-digits"  # SuperBPE
    assert supports(r"\w+|\s+") is None
    assert supports(CL100K + "|x") is None
    with pytest.raises(KeyError, match="no compiled scanner"):
        pretoken_spans(b"x", "gpt4")


def test_class_tables_agree_with_regex_on_sampled_code_points():
    stage1, stage2 = ut.class_tables()
    rng = random.Random(11)
    points = [*range(0x3000), *(rng.randrange(0x110000) for _ in range(20_000))]
    for bit, cls in ut.CLASSES:
        compiled = regex.compile(cls)
        for cp in points:
            if 0xD800 <= cp < 0xE000:
                continue
            assert bool(ut.lookup(stage1, stage2, cp) & bit) == bool(compiled.fullmatch(chr(cp))), (cls, hex(cp))


@settings(max_examples=1000, deadline=None)
@given(text=texts)
def test_pretokens_equal_regex_on_tricky_text(text):
    for key in KEYS:
        assert_same_pretokens(text, key)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=any_char, max_size=60))
def test_pretokens_equal_regex_on_any_unicode(text):
    for key in KEYS:
        assert_same_pretokens(text, key)


@pytest.mark.parametrize("key", KEYS)
def test_every_code_point(key):
    """Every code point once, in order and shuffled among tricky neighbours."""
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    assert_same_pretokens("".join(every), key)
    rng = random.Random(key)
    sample = rng.sample(every, 60_000)
    mixed = [c + rng.choice(SNIPPETS + WHITESPACE + MARKS) if rng.random() < 0.3 else c for c in sample]
    assert_same_pretokens("".join(mixed), key)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(texts, min_size=1, max_size=5))
def test_counts_equal_counter_of_findall_per_document(parts):
    data = b"".join(p.encode() for p in parts)
    doc_ends = np.cumsum([len(p.encode()) for p in parts])
    for key in KEYS:
        expected = Counter(piece.encode() for part in parts for piece in COMPILED[key].findall(part))
        assert count_pretokens_compiled(data, key, doc_ends=doc_ends) == expected
        ends = pretoken_spans(data, key, doc_ends=doc_ends).tolist()
        assert ends == [int(e) + off for part, off in zip(parts, [0, *doc_ends]) for e in spans_of(part, key)]


def _real_texts() -> list[str]:
    """A deterministic few-MB sample: the start of every corpus file, and Python sources of the stdlib."""
    found = []
    for path in sorted(TRAIN_DIR.glob("*.txt.gz")) if TRAIN_DIR.is_dir() else []:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            found.append(handle.read(10_000))
    for path in sorted(PARALLEL_DIR.glob("*/*.txt")) if PARALLEL_DIR.is_dir() else []:
        found.append(path.read_text(encoding="utf-8", errors="replace")[:5_000])
    size = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))[::25]:
        if size > 1_000_000:
            break
        found.append(path.read_text(encoding="utf-8", errors="replace"))
        size += len(found[-1])
    return found


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    texts_ = _real_texts()
    if not any(texts_):
        pytest.skip("no corpora beside the repo and no stdlib sources")
    return texts_


@pytest.mark.parametrize("key", KEYS)
def test_real_text_pretokens_and_counts(key, real_texts):
    for text in real_texts:
        assert_same_pretokens(text, key)
    data = "".join(real_texts).encode()
    doc_ends = np.cumsum([len(t.encode()) for t in real_texts])
    expected = Counter(piece.encode() for text in real_texts for piece in COMPILED[key].findall(text))
    assert count_pretokens_compiled(data, key, doc_ends=doc_ends) == expected


@pytest.mark.parametrize("key", ["gpt2", "o200k"])
def test_count_table_tells_apart_words_that_share_their_start(key):
    """Words of 9-16 and of more than 16 bytes that share their first 8 bytes and their length, NUL
    bytes, and a table grown over several buffers: counts still equal ``Counter(findall)``."""
    rng = random.Random(key)
    stems = ["internat", "abcdefgh", "\x00\x00\x00\x00\x00\x00\x00\x00"]
    words = [
        stem + "".join(rng.choice("xyz\x00") for _ in range(rng.randint(0, 14))) for stem in stems for _ in range(300)
    ]
    words += [f"w{n}" for n in range(40_000)]
    rng.shuffle(words)
    texts = [" ".join(words[k : k + 5000]) for k in range(0, len(words), 5000)]
    table = CountTable(key)
    for text in texts:
        table.add(text.encode())
    expected = Counter(piece.encode() for text in texts for piece in regex.findall(scanner_pattern(key), text))
    assert table.counts() == expected and len(table) == len(expected)


def test_empty_input_and_document_ends():
    assert pretoken_spans(b"", "gpt2").tolist() == []
    assert count_pretokens_compiled(b"", "o200k") == {}
    assert pretoken_spans(b"ab", "gpt2", doc_ends=[1, 1, 2]).tolist() == [1, 2]
    for bad in ([], [1], [2, 1, 2], [-1, 2]):
        with pytest.raises(ValueError, match="doc_ends"):
            pretoken_spans(b"ab", "gpt2", doc_ends=bad)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=40))
def test_invalid_utf8_still_covers_the_buffer_in_order(data):
    """Pre-tokens of invalid UTF-8 are unspecified, but the scanner stays inside the buffer and ends at its end."""
    for key in KEYS:
        ends = pretoken_spans(data, key).tolist()
        assert ends == sorted(set(ends)) and (ends[-1] if ends else 0) == len(data) and all(e > 0 for e in ends)
        assert sum(count_pretokens_compiled(data, key).values()) == len(ends)


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(st.binary(max_size=40), texts.map(str.encode)), cuts=st.lists(st.integers(0, 200), max_size=4))
def test_documents_ending_inside_a_character_keep_to_their_bytes(data, cuts):
    """Document ends anywhere, also inside a multi-byte character (each document then ends in truncated
    UTF-8): no pre-token crosses a document end, and the counted words are exactly the scanned pieces."""
    doc_ends = sorted({min(cut, len(data)) for cut in cuts} | {len(data)})
    for key in KEYS:
        ends = pretoken_spans(data, key, doc_ends=doc_ends).tolist()
        assert ends == sorted(set(ends)) and all(e > 0 for e in ends)
        assert {e for e in doc_ends if e > 0} <= set(ends)
        pieces = Counter(data[a:b] for a, b in zip([0, *ends], ends))
        assert count_pretokens_compiled(data, key, doc_ends=doc_ends) == pieces


def test_examples_from_the_rules():
    def pieces(text: str, key: str) -> list[str]:
        data = text.encode()
        ends = pretoken_spans(data, key).tolist()
        return [data[a:b].decode() for a, b in zip([0, *ends], ends)]

    assert pieces("a  b  \n", "gpt2") == ["a", " ", " b", "  \n"]
    assert pieces("a  b  \n", "cl100k") == ["a", " ", " b", "  \n"]
    assert pieces("a \n\n  ", "cl100k") == ["a", " \n\n  "]
    assert pieces("a \n\n  ", "llama3") == ["a", " \n\n", "  "]
    assert pieces("x!\n/y", "o200k") == ["x", "!\n/", "y"]
    assert pieces("HTMLParser's IT'S", "o200k") == ["HTMLParser's", " IT'S"]
    assert pieces("IT'S ſ'ſ", "cl100k") == ["IT", "'S", " ſ", "'ſ"]
    assert pieces("a\u0301 1234", "o200k+split-digits") == ["a\u0301", " ", "1", "2", "3", "4"]
    assert unicodedata.category("\u0301") == "Mn"
