"""Batch segmentation (``segment_all``) gives exactly the per-piece ids of ``extend.segmenter``."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.encoding import pieces as segmenting
from bbpe.encoding.pieces import segment_all, segment_compiled
from bbpe.training.methods.extend import segmenter

TEXT = "by the way, the theory of the thing: 2024... ok\n" * 20 + "naïve café — 東京 \ue000\x01 x\n"
VOCAB = bbpe.train([TEXT], vocab_size=400, pattern="gpt2", workers=1)
TOKENS = [VOCAB.token_bytes(i) for i in range(len(VOCAB.ranks))]
ONE_BY_ONE = segmenter(TOKENS, engine="python")


def expected(pieces: list[bytes]) -> list[list[int]]:
    return [ONE_BY_ONE(piece) for piece in pieces]


def compiled(pieces: list[bytes], tokens: list[bytes], *, threads: int | None = None) -> list[list[int]] | None:
    """``segment_compiled``'s ids per piece (None without numba)."""
    flat = segment_compiled(pieces, tokens, threads=threads)
    if flat is None:
        return None
    ids, starts = (array.tolist() for array in flat)
    assert len(starts) == len(pieces) + 1
    return [ids[a:b] for a, b in zip(starts, starts[1:])]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="the yaw,.\n\ue000\ue001\x01éß東 ", min_size=1, max_size=30), max_size=40))
def test_batch_equals_one_by_one_on_tricky_text(texts):
    pieces = [t.encode("utf-8") for t in texts]
    assert segment_all(pieces, TOKENS) == expected(pieces)
    assert compiled(pieces, TOKENS) in (None, expected(pieces))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=12), max_size=30))
def test_batch_equals_one_by_one_on_any_bytes(pieces):  # invalid UTF-8 takes the fallback
    assert segment_all(pieces, TOKENS) == expected(pieces)
    assert compiled(pieces, TOKENS) in (None, expected(pieces))


def test_many_chunks_on_threads_keep_the_order(monkeypatch):
    monkeypatch.setattr(segmenting, "CHUNK_PIECES", 7)
    words = TEXT.split(" ")
    pieces = [" ".join(words[i : i + 3]).encode() for i in range(len(words))] + [b"\xff", "\ue000".encode()]
    assert segment_all(pieces, TOKENS, threads=3) == expected(pieces)
    assert segment_all(pieces, TOKENS, engine="python") == expected(pieces)


def test_every_separator_taken_falls_back():
    crowded = "".join(segmenting.SEPARATORS).encode()
    pieces = [b"the way", crowded, b"ok"]
    assert segment_all(pieces, TOKENS) == expected(pieces)


SUPER = bbpe.train([TEXT], vocab_size=420, pattern="gpt2", workers=1, superwords_after=330)
SUPER_TOKENS = [SUPER.token_bytes(i) for i in range(len(SUPER.ranks))]


def test_tokens_that_span_words_are_not_cut_apart():
    """A superword vocabulary has tokens across spaces: only cuts that no token spans are used."""
    assert any(b" " in token.strip(b" ") for token in SUPER_TOKENS)
    one_by_one = segmenter(SUPER_TOKENS, engine="python")
    pieces = [line.encode() for line in TEXT.splitlines(keepends=True)] + [b"the way, the theory", b"ok\n by"]
    assert segment_all(pieces, SUPER_TOKENS) == [one_by_one(piece) for piece in pieces]
    assert compiled(pieces, SUPER_TOKENS) in (None, [one_by_one(piece) for piece in pieces])


@settings(max_examples=60, deadline=None)
@given(
    merges=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=30),
    texts=st.lists(st.text(alphabet="ab é東", min_size=1, max_size=25), min_size=1, max_size=20),
)
def test_any_vocabulary_gives_the_one_by_one_ids(merges, texts):
    """Random vocabularies (random merges over bytes and earlier tokens) with random pieces."""
    tokens = [bytes([i]) for i in range(256)]
    alphabet = [ord(c) for c in "ab "] + list("é東".encode())
    for left, right in merges:
        pool = alphabet + list(range(256, len(tokens)))
        joined = tokens[pool[left % len(pool)]] + tokens[pool[right % len(pool)]]
        if joined not in tokens:
            tokens.append(joined)
    one_by_one = segmenter(tokens, engine="python")
    pieces = [t.encode() for t in texts]
    assert segment_all(pieces, tokens) == [one_by_one(piece) for piece in pieces]
    assert compiled(pieces, tokens) in (None, [one_by_one(piece) for piece in pieces])


def test_compiled_segmentation_runs_where_numba_is_installed():
    pytest.importorskip("numba")
    pieces = [b"the way, the theory", b"\xff\xfe", b"x"] + [line.encode() for line in TEXT.splitlines()]
    one_by_one = segmenter(SUPER_TOKENS, engine="python")
    assert compiled(pieces, SUPER_TOKENS) == [one_by_one(p) for p in pieces]
    for threads in (1, 3, len(pieces) + 2):  # ranges of pieces on threads, some empty
        assert compiled(pieces, SUPER_TOKENS, threads=threads) == [one_by_one(p) for p in pieces]


def test_a_token_that_bpe_cannot_reach_is_used_only_for_a_whole_piece():
    """b"abcd" is a token, but BPE from bytes stops at a + bc + d: inside a longer piece it is not used."""
    tokens = [bytes([i]) for i in range(256)] + [b"bc", b"ab", b"cd", b"abcd"]
    pieces = [b"abcd", b"abcd abcd", b"xabcd"]
    one_by_one = segmenter(tokens, engine="python")
    assert [one_by_one(p) for p in pieces] == [[259], [97, 256, 100, 32, 97, 256, 100], [120, 97, 256, 100]]
    assert segment_all(pieces, tokens) == [one_by_one(p) for p in pieces]
    assert compiled(pieces, tokens) in (None, [one_by_one(p) for p in pieces])


def test_long_unspaced_pieces_equal_one_by_one():
    """Text without spaces is one long part (every byte pair occurs in some token): the heap-ordered merge."""
    rng = random.Random(5)
    words = ["東京", "天気", "晴れ", "です", "の", "は", "今日", "明日", "雨", "曇り"]
    text = "".join(rng.choice(words) for _ in range(3000))
    vocab = bbpe.train([text], vocab_size=330, pattern="gpt2", workers=1)
    tokens = [vocab.token_bytes(i) for i in range(len(vocab.ranks))]
    one_by_one = segmenter(tokens, engine="python")
    pieces = ["".join(rng.choice(words) for _ in range(rng.randint(1, 400))).encode() for _ in range(20)]
    assert compiled(pieces, tokens) in (None, [one_by_one(p) for p in pieces])
    assert segment_all(pieces, tokens) == [one_by_one(p) for p in pieces]
