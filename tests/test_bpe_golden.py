"""The merge loop: golden merge lists, the tie rule, and equality with a brute-force trainer."""

from __future__ import annotations

from hypothesis import given, settings
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


def brute_force(words: dict[bytes, int], n: int, min_frequency: int = 2) -> list[bytes]:
    """Recount every pair from scratch at each step (the textbook definition)."""
    vocab = byte_vocab()
    seqs = {w: list(w) for w in words}
    out: list[bytes] = []
    added = 0
    while added < n:
        counts: dict[tuple[int, int], int] = {}
        for w, ids in seqs.items():
            for pair in zip(ids, ids[1:]):
                counts[pair] = counts.get(pair, 0) + words[w]
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        if counts[pair] < min_frequency:
            break
        joined = vocab[pair[0]] + vocab[pair[1]]
        if joined in vocab:
            token = vocab.index(joined)
        else:
            token = len(vocab)
            vocab.append(joined)
            added += 1
        out.append(joined)
        seqs = {w: reference.merge_pair(ids, pair, token) for w, ids in seqs.items()}
    return out


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
    # "ab"+"c" creates "abc"; later "a"+"bc" spells the same bytes and must not add a token.
    words = {b"abc": 5, b"xbc": 4, b"ab": 3}
    tokens, _ = learned(words, 4, min_frequency=1)
    assert tokens == brute_force(words, 4, min_frequency=1)
    vocab = byte_vocab()
    merges, _ = reference.learn_merges(
        [(list(w), c) for w, c in words.items()], vocab, n_new_tokens=10, min_frequency=1
    )
    assert len(set(vocab)) == len(vocab)
    assert sum(m.new for m in merges) == len(vocab) - 256


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
    assert tokens == brute_force(words, n, min_frequency=min_frequency)


def test_bpe_encode_uses_lowest_rank_first():
    ranks = {bytes([i]): i for i in range(256)}
    ranks.update({b"bc": 256, b"ab": 257, b"abc": 258})
    assert bpe.bpe_encode(b"abc", ranks) == [258]  # a whole pre-token that is a token
    # (b,c) has the lowest rank; then a+"bc" spells "abc", a token, so it merges too (tiktoken rule).
    assert bpe.bpe_encode(b"abcd", ranks) == [258, 100]
    del ranks[b"abc"]
    assert bpe.bpe_encode(b"abcd", ranks) == [97, 256, 100]
