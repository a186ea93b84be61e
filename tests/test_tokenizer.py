"""Tokenizer: lossless round trips, engine equality, special tokens, tiktoken-compatible API."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.tokenizer import Tokenizer

# Characters Python's Unicode database has assigned: a newer one (e.g. U+323B0, CJK Extension J) is a letter to
# `regex` (and bbpe's tables built from it) but unassigned to tiktoken's Rust regex, which cuts it elsewhere.
ASSIGNED = st.characters(codec="utf-8", exclude_categories=["Cn"])


@pytest.fixture(scope="module")
def trained(portable_text) -> Tokenizer:
    """A 3,000-token vocabulary trained on text every machine has (Python sources, generated text in 16 scripts),
    with two specials."""
    return bbpe.train(
        [portable_text],
        vocab_size=3000,
        pattern="cl100k",
        special_tokens=["<|endoftext|>", "<|pad|>"],
        workers=1,
    )


def test_sizes_and_ids(trained):
    assert trained.vocab_size == 3000
    assert trained.n_merges == 3000 - 256 - 2
    assert [trained.token_bytes(i) for i in range(256)] == [bytes([i]) for i in range(256)]
    assert trained.special_tokens == {"<|endoftext|>": 2998, "<|pad|>": 2999}
    assert trained.metadata["training"]["stop_reason"] == "vocab_size"


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_round_trip_any_text(trained, text):
    for engine in ("python", "tiktoken"):
        tok = trained.with_engine(engine)
        ids = tok.encode(text, disallowed_special=())
        assert tok.decode(ids, errors="strict") == text


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ASSIGNED, max_size=200))
def test_engines_agree_on_random_text(trained, text):
    assert trained.with_engine("python").encode_ordinary(text) == trained.with_engine("tiktoken").encode_ordinary(text)


# Text with special tokens (whole, cut short, back to back), non-NFC marks and long runs woven in.
WITH_SPECIALS = st.lists(
    st.one_of(
        st.sampled_from(["<|endoftext|>", "<|pad|>", "<|pad|><|pad|>"]),
        st.sampled_from(["<|endoftext|", "|>", "e\u0301\u0327", "한\u1100"]),
        st.text(alphabet=ASSIGNED, max_size=30),
        st.sampled_from(["a", " ", "9", "中", "\n"]).map(lambda char: char * 200),
    ),
    min_size=3,
    max_size=8,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=WITH_SPECIALS)
def test_engines_agree_with_specials_and_id_gaps(trained, text):
    gapped = Tokenizer(trained.ranks, pattern=trained.pattern, special_tokens={"<|endoftext|>": 5000, "<|pad|>": 4001})
    for tok in (trained, gapped):
        ids = tok.with_engine("python").encode(text, allowed_special="all")
        assert ids == tok.with_engine("tiktoken").encode(text, allowed_special="all")
        assert tok.decode(ids) == text
    event(f"special tokens in the text: {'<|endoftext|>' in text or '<|pad|>' in text}")


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100))
def test_arbitrary_bytes_round_trip(trained, data):
    assert trained.decode_bytes(trained.encode_bytes(data)) == data


@pytest.mark.parametrize("corpus", ["portable", "shared"])
def test_engines_agree_on_megabytes_of_real_text(trained, corpus, request):
    """On the training text (every machine) and on ../shared's real text in a dozen languages (where it exists)."""
    text = request.getfixturevalue("portable_text" if corpus == "portable" else "multilingual_text")
    python, fast = trained.with_engine("python"), trained.with_engine("tiktoken")
    lines = text.splitlines(keepends=True)
    assert len(text.encode()) > 2_000_000
    mismatches = [line for line in lines if python.encode_ordinary(line) != fast.encode_ordinary(line)]
    assert mismatches == []
    assert python.encode_ordinary(text[:500_000]) == fast.encode_ordinary(text[:500_000])


@pytest.mark.parametrize("engine", ["python", "tiktoken"])
def test_special_token_rules_match_tiktoken(trained, engine):
    tok = trained.with_engine(engine)
    text = "a<|endoftext|>b<|pad|>"
    with pytest.raises(ValueError, match="disallowed special token"):
        tok.encode(text)
    ordinary = tok.encode(text, disallowed_special=())
    assert ordinary == tok.encode_ordinary(text) and 2998 not in ordinary
    assert tok.encode(text, allowed_special="all") == [*tok.encode_ordinary("a"), 2998, *tok.encode_ordinary("b"), 2999]
    partial = tok.encode(text, allowed_special={"<|endoftext|>"}, disallowed_special=())
    assert partial == [*tok.encode_ordinary("a"), 2998, *tok.encode_ordinary("b<|pad|>")]
    with pytest.raises(ValueError):
        tok.encode(text, allowed_special={"<|endoftext|>"})
    assert tok.decode(tok.encode(text, allowed_special="all")) == text
    assert tok.encode_batch(["a", "b<|pad|>"], allowed_special="all") == [tok.encode("a"), tok.encode("b") + [2999]]


def test_decode_helpers(trained):
    ids = trained.encode("héllo wörld")
    assert b"".join(trained.decode_tokens_bytes(ids)) == "héllo wörld".encode()
    assert trained.decode_bytes(ids) == "héllo wörld".encode()
    assert trained.decode([0xC3]) == "\ufffd"
    with pytest.raises(KeyError, match="not in this vocabulary"):
        trained.token_bytes(10**6)


def test_general_rank_tables_are_supported():
    # Byte tokens need not be in byte order (as in cl100k): reverse them.
    ranks = {bytes([i]): 255 - i for i in range(256)}
    ranks[b"ab"] = 256
    for engine in ("python", "tiktoken"):
        tok = Tokenizer(ranks, pattern="gpt2", engine=engine)
        assert tok.encode("abc") == [256, 255 - ord("c")]


def test_invalid_vocabularies_are_rejected():
    with pytest.raises(ValueError, match="single-byte"):
        Tokenizer({b"a": 0}, pattern="gpt2")
    ranks = {bytes([i]): i for i in range(256)}
    with pytest.raises(ValueError, match="also a regular token"):
        Tokenizer(ranks, pattern="gpt2", special_tokens={"<s>": 5})
    with pytest.raises(ValueError, match="unknown engine"):
        Tokenizer(ranks, pattern="gpt2", engine="fast")  # type: ignore[arg-type]


def test_special_token_arguments_may_be_any_collection_on_both_engines(trained):
    """tiktoken wants sets; lists and tuples must work the same on both engines."""
    text = "a<|endoftext|>b<|pad|>"
    python, fast = trained.with_engine("python"), trained.with_engine("tiktoken")
    for allowed in (["<|endoftext|>"], ("<|endoftext|>",), {"<|endoftext|>"}):
        ids = python.encode(text, allowed_special=allowed, disallowed_special=[])
        assert ids == fast.encode(text, allowed_special=allowed, disallowed_special=())
        assert ids.count(python.special_tokens["<|endoftext|>"]) == 1
