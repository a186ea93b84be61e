"""One special-token splitter and one set of allowed_special rules for both engines; the runtime coverage check.

Expected ids are derived by hand from the byte-level vocabulary (ids = bytes) or taken from tiktoken
on the ordinary segments, never from the code under test.
"""

from __future__ import annotations

import unicodedata

import pytest
import regex
from _samples import sample_text
from hypothesis import given, settings
from hypothesis import strategies as st

from bbpe import Tokenizer
from bbpe.encoding.coverage import needs_check
from bbpe.encoding.specials import SpecialTokens, split_specials
from bbpe.encoding.tiktoken_engine import tiktoken_encoding
from bbpe.pretokenize.patterns import CL100K, QWEN
from bbpe.pretokenize.scanner_presets import SCANNERS

ENGINES = ("python", "tiktoken")
BYTES = {bytes([i]): i for i in range(256)}


def overlapping(engine: str) -> Tokenizer:
    """The issue's case: specials <|end|> (594) and <|end|>x (595) over the 256 bytes plus a few merges."""
    ranks = BYTES | {b"ab": 256, b"abc": 257, b" x": 258}
    return Tokenizer(ranks, pattern="gpt2", special_tokens={"<|end|>": 594, "<|end|>x": 595}, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_overlapping_specials_longest_first(engine):
    tok = overlapping(engine)
    assert tok.encode("<|end|>x", allowed_special="all") == [595]  # was [594, 120] in the tiktoken engine
    assert tok.encode("<|end|>y<|end|>x", allowed_special="all") == [594, 121, 595]
    assert tok.encode("<|end|>x", allowed_special={"<|end|>"}, disallowed_special=()) == [594, 120]
    assert tok.encode_batch(["<|end|>x", "a<|end|>"], allowed_special=["<|end|>x", "<|end|>"]) == [[595], [97, 594]]


def test_splitter_is_leftmost_then_longest():
    tokens = frozenset({"ab", "abc", "bcd", "d"})
    # "bcd" starts later than "abc": the leftmost match wins even though both are 3 long.
    assert split_specials("xabcd", tokens) == ["x", "abc", "", "d", ""]
    assert split_specials("bcd", tokens) == ["", "bcd", ""]
    assert split_specials("", tokens) == [""]


@pytest.mark.parametrize("engine", ENGINES)
def test_allowed_special_arguments_are_checked_the_same_way(engine):
    tok = overlapping(engine)
    for bad in ("<|end|>", "all_of_them"):
        with pytest.raises(TypeError, match="not the string"):
            tok.encode("a", allowed_special=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not the string"):
        tok.encode("a", disallowed_special="<|end|>")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'<s>', which is not a special token"):
        tok.encode("a<s>", allowed_special={"<s>"})
    with pytest.raises(ValueError, match="not a special token"):
        tok.encode("a", disallowed_special=["nope"])
    with pytest.raises(ValueError, match="not a special token"):
        tok.encode_batch(["a"], allowed_special=["<|end|>", "x"])
    with pytest.raises(TypeError, match="collection"):
        tok.encode("a", allowed_special=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not one str"):
        tok.encode_batch("abc")
    for collection in (["<|end|>"], ("<|end|>",), {"<|end|>"}, frozenset({"<|end|>"}), {"<|end|>": 1}.keys()):
        assert tok.encode("a<|end|>", allowed_special=collection) == [97, 594]
        assert tok.encode_batch(["a<|end|>"], allowed_special=collection) == [[97, 594]]


@pytest.mark.parametrize("engine", ENGINES)
def test_disallowed_special_text_raises_only_outside_allowed_matches(engine):
    tok = overlapping(engine)
    with pytest.raises(ValueError, match="disallowed special token '<\\|end\\|>'"):
        tok.encode("a<|end|>")
    with pytest.raises(ValueError, match="disallowed special token"):
        tok.encode_batch(["fine", "a<|end|>y"], allowed_special={"<|end|>x"})
    # The allowed longer token covers the shorter disallowed one.
    assert tok.encode("<|end|>x", allowed_special={"<|end|>x"}) == [595]
    assert tok.encode("a<|end|>", disallowed_special=()) == tok.encode_ordinary("a<|end|>")


def test_special_tokens_resolve_and_cache():
    specials = SpecialTokens({"<a>": 1, "<b>": 2})
    assert specials.resolve("all", "all") == (frozenset({"<a>", "<b>"}), frozenset())
    assert specials.resolve(frozenset({"<a>"}), "all") == (frozenset({"<a>"}), frozenset({"<b>"}))
    assert specials.resolve(["<a>"], ()) == (frozenset({"<a>"}), frozenset())
    assert specials.resolve((), ("<a>",)) == (frozenset(), frozenset({"<a>"}))
    # Many distinct arguments (say a tuple per request in a server) keep the caches bounded.
    many = SpecialTokens({f"<{i}>": i for i in range(300)}, added={"<add>": 400})
    for i in range(300):
        allowed = (f"<{i}>",)
        assert many.resolve(allowed, ()) == (frozenset(allowed), frozenset())
        assert many.segments(f"a<{i}>b", allowed_special=allowed, disallowed_special=()) == ["a", f"<{i}>", "b"]
    assert len(many._resolved) < 300 and len(many._cut) < 300


@pytest.mark.parametrize("count", [5, 6])
def test_an_unknown_special_token_is_named_with_the_known_ones_or_a_sign_that_there_are_more(count):
    specials = SpecialTokens({f"<{letter}>": i for i, letter in enumerate("abcdef"[:count])})
    with pytest.raises(ValueError, match="'<z>', which is not a special token") as error:
        specials.resolve({"<z>"}, ())
    named = [token for token in specials.names if token in str(error.value)]
    assert len(named) == 5 and ("..." in str(error.value)) == (count > 5)


# -- the two engines agree, with specials and each normalization ------------------------------------------------
SPECIAL_TEXTS = ["<|end|>", "<|end|>x", "x", "é", "e\u0301", "<|endoftext|>", "\u037a"]


@pytest.fixture(scope="module")
def small_vocab() -> dict[bytes, int]:
    import bbpe

    return bbpe.train([sample_text(300_000)], vocab_size=1000, pattern="cl100k", workers=1).ranks


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.one_of(st.text(max_size=12), st.sampled_from(SPECIAL_TEXTS)), max_size=12),
    normalization=st.sampled_from(["none", "NFC", "NFD", "NFKC", "NFKD"]),
    pattern=st.sampled_from([CL100K, QWEN, "gpt2", "o200k"]),
    chosen=st.sets(st.sampled_from(SPECIAL_TEXTS), min_size=1),
)
def test_engines_equal_on_random_text_with_specials(small_vocab, pieces, normalization, pattern, chosen):
    text = "".join(pieces)
    specials = {token: 1000 + index for index, token in enumerate(sorted(chosen))}
    kwargs = {"pattern": pattern, "special_tokens": specials, "normalization": normalization}
    python = Tokenizer(small_vocab, engine="python", **kwargs)
    fast = Tokenizer(small_vocab, engine="tiktoken", **kwargs)
    ids = python.encode(text, allowed_special="all")
    assert ids == fast.encode(text, allowed_special="all")
    assert python.encode_ordinary(text) == fast.encode_ordinary(text)
    assert python.encode_batch([text, text[:3]], allowed_special="all") == fast.encode_batch(
        [text, text[:3]], allowed_special="all"
    )
    # Independent expectation: cut with a plain longest-first scan, normalize, encode with tiktoken itself.
    reference = tiktoken_encoding(small_vocab, pattern=python.pattern)
    expected: list[int] = []
    at = 0
    ordinary = ""
    while at < len(text):
        found = max((s for s in specials if text.startswith(s, at)), key=len, default=None)
        if found is None:
            ordinary += text[at]
            at += 1
            continue
        form = normalization
        expected += reference.encode_ordinary(ordinary if form == "none" else unicodedata.normalize(form, ordinary))
        expected.append(specials[found])
        ordinary, at = "", at + len(found)
    form = normalization
    expected += reference.encode_ordinary(ordinary if form == "none" else unicodedata.normalize(form, ordinary))
    assert ids == expected


# -- the runtime coverage check --------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_a_pattern_that_drops_characters_raises_instead(engine, monkeypatch):
    """``[^q]+`` passes the probe text (it has no q); at run time every q would be dropped by both engines."""
    import bbpe.vocabulary

    monkeypatch.setattr(bbpe.vocabulary, "resolve_pattern", lambda pattern: pattern)  # a probe that misses the hole
    tok = Tokenizer(BYTES, pattern="[^q]+", special_tokens={"<s>": 256}, engine=engine)
    assert tok.encode("abc") == [97, 98, 99]
    for call in (
        lambda: tok.encode("aqb"),
        lambda: tok.encode_ordinary("xyzq"),
        lambda: tok.encode("a<s>q", allowed_special="all"),
        lambda: tok.encode_batch(["ok", "q"]),
        lambda: tok.encode_bytes(b"\xffq"),
    ):
        with pytest.raises(ValueError, match="drops text: it matches nothing at character \\d+ \\('q'\\)"):
            call()


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), key=st.sampled_from(sorted(SCANNERS)))
def test_the_patterns_that_skip_the_check_match_every_character(text, key):
    """Presets, split-digit and stage-2 forms (``needs_check`` is False): pieces cover any text in both regex
    engines (tiktoken: the bytes of the ids of a bytes-only vocabulary are the text)."""
    pattern = SCANNERS[key][2]
    assert not needs_check(pattern)
    assert "".join(regex.findall(pattern, text)) == text
    encoding = tiktoken_encoding(BYTES, pattern=pattern)
    assert encoding.decode_bytes(encoding.encode_ordinary(text)) == text.encode()


def test_counting_with_a_pattern_that_drops_characters_raises(monkeypatch):
    from bbpe.training.counting import pretokens as counting

    monkeypatch.setattr(counting, "validate_pattern", lambda pattern: None)
    with pytest.raises(ValueError, match="drops text"):
        counting.count_pretokens(["aqb"], "[^q]+", workers=1)
