"""The merge loop: golden merge lists, the tie rule, and equality with a brute-force trainer."""

from __future__ import annotations

import random
from dataclasses import astuple

import _brute as brute
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bbpe import bpe
from bbpe.training.api import train
from bbpe.training.loops import reference


def byte_vocab() -> list[bytes]:
    return [bytes([i]) for i in range(256)]


def learned(words: dict[bytes, int], n: int, **kwargs) -> tuple[list[bytes], str]:
    vocab = byte_vocab()
    merges, reason = reference.learn_merges(
        [(list(w), c) for w, c in sorted(words.items())], vocab, n_new_tokens=n, **kwargs
    )
    return [vocab[m.token] for m in merges], reason


def test_textbook_example():
    # Wikipedia's "aaabdaaabac": Z=aa, Y=ab, X=ZY.
    tokens, reason = learned({b"aaabdaaabac": 1}, 3)
    assert tokens == [b"aa", b"ab", b"aaab"]
    assert reason == "vocab_size"


def test_tie_rule_prefers_smaller_left_then_right_id():
    # "ab" and "cd" both occur 3 times; (a, b) < (c, d).
    tokens, _ = learned({b"cd": 3, b"ab": 3}, 2)
    assert tokens == [b"ab", b"cd"]
    # Equal counts, same left id: the smaller right id wins.
    tokens, _ = learned({b"ac": 2, b"ab": 2}, 1)
    assert tokens == [b"ab"]
    # Input order does not matter.
    assert learned({b"ab": 3, b"cd": 3}, 2)[0] == learned({b"cd": 3, b"ab": 3}, 2)[0]


def test_counts_weight_words():
    tokens, _ = learned({b"xy": 5, b"ab": 1, b"abab": 2}, 1)
    assert tokens == [b"ab"]  # ab: 1 + 2*2 = 5 ties xy: 5, and (a, b) < (x, y)
    tokens, _ = learned({b"xy": 6, b"ab": 1, b"abab": 2}, 1)
    assert tokens == [b"xy"]


def test_overlapping_pairs_are_merged_left_to_right():
    tokens, _ = learned({b"aaaa": 1, b"aaa": 1}, 2, min_frequency=1)
    # (a,a) occurs 3 + 2 = 5 times; after merging: "AA" and "Aa" -> (A,A) once, (A,a) once;
    # the tie goes to (A, a) = (256, 97) < (256, 256).
    assert tokens == [b"aa", b"aaa"]


def test_min_frequency_stops_the_loop():
    tokens, reason = learned({b"abc": 2, b"xyz": 1}, 10)
    assert tokens == [b"ab", b"abc"]
    assert reason == "min_frequency"


def test_alias_merge_reuses_existing_token():
    # A base vocabulary with "ab" (256) and "bc" (257), words segmented as extension segments them: [a, bc] x5 and
    # [ab, c] x3.  1. (a, bc) 5 -> "abc", new id 258.  2. (ab, c) 3 spells "abc" too: an alias, id 258 again.
    vocab = byte_vocab() + [b"ab", b"bc"]
    words = [([97, 257], 5), ([256, 99], 3)]
    merges, reason = reference.learn_merges(words, vocab, n_new_tokens=2, min_frequency=1)
    assert [astuple(m) for m in merges] == [(97, 257, 258, 5, True), (256, 99, 258, 3, False)]
    assert vocab[256:] == [b"ab", b"bc", b"abc"] and reason == "min_frequency"
    assert [astuple(m) for m in merges] == brute.train(words, byte_vocab() + [b"ab", b"bc"], 2, min_frequency=1)[0]


def test_training_from_bytes_makes_no_alias():
    """Why the alias branch is never taken when training starts from the 256 bytes (so the tests above build aliases
    on a base vocabulary, as extension and superword stage 2 give them).

    Every merge is applied to every word, left to right, and a span of a word whose ends are token boundaries after
    merge k was such a boundary all along (boundaries only disappear), so inside that span the merges acted as on
    the span alone.  Hence, with seg_k(x) the segmentation of the bytes x alone after merges 1..k: a word span
    that is one token T, or two tokens P Q, after merge k is seg_k of its bytes.  T was made by merge j from an
    aligned occurrence of L R, so seg_(j-1)(T) = [L, R] and seg_j(T) = [T], and it stays [T] later.  An alias at
    step k > j would need an aligned occurrence of P Q with P + Q = T, i.e. seg_(k-1)(T) = [P, Q] != [T]:
    impossible.  A base vocabulary breaks the premise: its words are segmented by rank-based BPE, not by the merges.
    Checked here on random corpora, and by the hypothesis tests (test_numba_backend, test_parity*) that compare
    whole merge lists from bytes.
    """
    rng = random.Random(22)
    for _ in range(300):
        alphabet = rng.sample(b"abcd ", rng.randint(1, 5))
        words = [
            (bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 12))), rng.randint(1, 5))
            for _ in range(rng.randint(1, 15))
        ]
        merges, _ = reference.learn_merges(words, byte_vocab(), n_new_tokens=60, min_frequency=1)
        assert all(m.new for m in merges)


@settings(max_examples=300, deadline=None)
@given(corpus=brute.aliased_corpora(), n=st.integers(1, 20), min_frequency=st.integers(1, 3))
def test_base_vocabulary_merges_equal_brute_force(corpus, n, min_frequency):
    vocab, words = corpus
    ours = list(vocab)
    merges, reason = reference.learn_merges(words, ours, n_new_tokens=n, min_frequency=min_frequency)
    expected = list(vocab)
    assert ([astuple(m) for m in merges], reason) == brute.train(words, expected, n, min_frequency=min_frequency)
    assert ours == expected
    event(f"alias merges: {'some' if any(not m.new for m in merges) else 'none'}")


def test_digit_splitting_keeps_digits_apart():
    tok = train(["1234 1234 1234 abc abc"], vocab_size=300, pattern="cl100k", split_digits=True, workers=1)
    multi = [t for t in tok.ranks if len(t) > 1]
    assert multi and not any(any(ch in b"0123456789" for ch in t) for t in multi)
    plain = train(["1234 1234 1234 abc abc"], vocab_size=300, pattern="cl100k", workers=1)
    assert b"123" in plain.ranks


words_strategy = st.dictionaries(
    st.binary(min_size=1, max_size=8).map(lambda b: bytes(x % 4 + 97 for x in b)),
    st.integers(min_value=1, max_value=5),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(words=words_strategy, n=st.integers(min_value=1, max_value=15), min_frequency=st.integers(1, 3))
def test_incremental_counts_equal_brute_force(words, n, min_frequency):
    tokens, _ = learned(words, n, min_frequency=min_frequency)
    vocab = byte_vocab()
    steps, _ = brute.train([(list(w), c) for w, c in words.items()], vocab, n, min_frequency=min_frequency)
    assert tokens == [vocab[token] for _, _, token, _, _ in steps]
    event(f"merges: {'some' if tokens else 'none'}")


def test_bpe_encode_uses_lowest_rank_first():
    ranks = {bytes([i]): i for i in range(256)}
    ranks.update({b"bc": 256, b"ab": 257, b"abc": 258})
    assert bpe.bpe_encode(b"abc", ranks) == [258]  # a whole pre-token that is a token
    # (b,c) has the lowest rank; then a+"bc" spells "abc", a token, so it merges too (tiktoken rule).
    assert bpe.bpe_encode(b"abcd", ranks) == [258, 100]
    del ranks[b"abc"]
    assert bpe.bpe_encode(b"abcd", ranks) == [97, 256, 100]


def test_bpe_split_below_a_tokens_own_rank_gives_the_pair_it_is_built_from():
    ranks = {bytes([i]): i for i in range(256)} | {b"bc": 256, b"ab": 257, b"abc": 258}
    assert bpe.bpe_split(b"abc", ranks, max_rank=258) == [b"a", b"bc"]  # "bc" (256) merges first
    assert bpe.bpe_split(b"bc", ranks, max_rank=256) == [b"b", b"c"]
    assert bpe.bpe_split(b"abc", ranks, max_rank=257) == [b"a", b"bc"]
    assert bpe.bpe_split(b"abc", ranks, max_rank=256) == [b"a", b"b", b"c"]
    assert bpe.bpe_split(b"abc", ranks) == [b"abc"]


def test_a_pre_token_that_is_a_token_is_one_id_even_when_merging_cannot_reach_it():
    """No 2-byte token leads to "abc" (rank 256), so merging leaves a, b, c; the whole pre-token is still one id,
    as in tiktoken (reference vocabularies hold such tokens)."""
    import tiktoken

    ranks = {bytes([i]): i for i in range(256)} | {b"abc": 256}
    assert bpe.bpe_split(b"abc", ranks) == [b"a", b"b", b"c"]
    assert bpe.bpe_encode(b"abc", ranks) == [256]
    assert bpe.bpe_encode(b"abcabc", ranks) == [97, 98, 99, 97, 98, 99]
    encoding = tiktoken.Encoding("unreachable", pat_str=r"\S+|\s+", mergeable_ranks=ranks, special_tokens={})
    assert encoding.encode("abc abcabc") == [256, 32, 97, 98, 99, 97, 98, 99]
