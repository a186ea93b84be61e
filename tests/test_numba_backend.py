"""The numba merge loop gives exactly the reference merges (python == numba), and its fallbacks."""

from __future__ import annotations

import sys

import _brute as brute
import pytest
from conftest import MIX, real_text
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.cli import main
from bbpe.pretokenize.patterns import CL100K, GPT2, resolve_pattern
from bbpe.training.api import merge_backend
from bbpe.training.counting.pretokens import count_pretokens
from bbpe.training.loops import reference

BYTES = [bytes([i]) for i in range(256)]


@pytest.fixture(scope="module")
def numba_learn():
    pytest.importorskip("numba", reason="numba is not installed (pip install 'bbpe[fast]')")
    from bbpe.training.loops import compiled as merge_numba

    return merge_numba.learn_merges


def same_merges(numba_learn, words, token_bytes=BYTES, *, n_new, min_frequency=2):
    """Run both backends on copies; assert equal merges, token bytes and stop reason; return both."""
    python_tokens, numba_tokens = list(token_bytes), list(token_bytes)
    expected, why = reference.learn_merges(words, python_tokens, n_new_tokens=n_new, min_frequency=min_frequency)
    got, got_why = numba_learn(words, numba_tokens, n_new_tokens=n_new, min_frequency=min_frequency)
    assert got == expected
    assert numba_tokens == python_tokens
    assert got_why == why
    return expected, why


def reached(merges: list[reference.Merge]) -> None:
    """Record for --hypothesis-show-statistics whether an example merged at all, and made an alias."""
    event(f"merges: {'some' if merges else 'none'}; alias merges: {any(not m.new for m in merges)}")


def counted(text: str, pattern: str = CL100K) -> list[tuple[bytes, int]]:
    counts = count_pretokens(text.splitlines(keepends=True), pattern, workers=1)
    return sorted(counts.items())


CJK = "東京都の天気は晴れです。明日も晴れるでしょう。北京今天下雨了，上海明天会下雪。서울의 날씨는 맑습니다.\n" * 3
CODE = (
    "def f(x):\n    return x ** 2  # square\n\nfor i in range(10):\n\tprint(f(i), end='')\n"
    "if (a && b) { return -1; } else { x += 0x1F; }\n"
)
DIGITS = "In 1999 there were 123456789 cases; 2024-01-01 12:30:45, pi=3.14159265358979, 0000 1111 2222\n"
SPACES = "a  b   c    d     e\n\n\n\t\t x        y\r\n   \n" + " " * 40 + "end\n"


@pytest.mark.parametrize(
    "text",
    [CJK, CODE, DIGITS, SPACES, CJK + CODE + DIGITS + SPACES],
    ids=["cjk", "code", "digits", "whitespace", "mixed"],
)
@pytest.mark.parametrize(
    "pattern", [CL100K, GPT2, resolve_pattern("cl100k", split_digits=True)], ids=["cl100k", "gpt2", "split-digits"]
)
def test_varied_corpora_run_to_exhaustion(numba_learn, text, pattern):
    merges, why = same_merges(numba_learn, counted(text * 4, pattern), n_new=100_000, min_frequency=1)
    assert len(merges) > 10 and why == "min_frequency"


@pytest.mark.slow
def test_several_megabytes_of_real_text(numba_learn):
    words = counted(real_text(200_000, names=MIX))  # about 2.4 MB: English, CJK, other scripts, code
    merges, why = same_merges(numba_learn, words, n_new=2500)
    assert len(merges) >= 2500 and why == "vocab_size"


@pytest.mark.parametrize("min_frequency", [2, 3, 6])
def test_min_frequency_stops_at_the_same_step(numba_learn, min_frequency):
    words = counted(CODE * 7 + DIGITS * 3)
    merges, why = same_merges(numba_learn, words, n_new=10_000, min_frequency=min_frequency)
    assert why == "min_frequency" and merges and merges[-1].count >= min_frequency


def test_ties_go_to_the_smaller_pair(numba_learn):
    words = [(bytes(p), 1) for p in ([1, 2, 3, 4], [4, 3, 2, 1], [2, 1, 4, 3], [3, 4, 1, 2], [9, 9, 9, 9])]
    merges, _ = same_merges(numba_learn, words, n_new=6, min_frequency=1)
    assert (merges[0].left, merges[0].right) == (9, 9)  # count 2 (overlapping) beats the count-1 ties
    assert (merges[1].left, merges[1].right) == (1, 2)  # then the smallest (left, right) among ties


@pytest.mark.parametrize("n_symbols", [2, 3, 5])
def test_tie_heavy_permutations(numba_learn, n_symbols):
    import itertools

    words = [(bytes(p), 1) for p in itertools.permutations(range(65, 65 + n_symbols))]
    words += [(bytes(p) * 3, 2) for p in itertools.permutations(range(65, 65 + n_symbols), 2)]
    same_merges(numba_learn, words, n_new=10_000, min_frequency=1)


def test_alias_merges_reuse_the_existing_token(numba_learn):
    # "abc" is already a token: merging "ab" + "c" reuses its id (new=False) and adds no token.
    base = list(BYTES) + [b"abc"]
    merges, why = same_merges(numba_learn, [(b"abc", 10), (b"abd", 3)], base, n_new=2, min_frequency=1)
    assert merges[:2] == [reference.Merge(97, 98, 257, 13, True), reference.Merge(257, 99, 256, 10, False)]
    assert sum(m.new for m in merges) == 2 and why == "vocab_size"


def test_an_alias_merge_next_to_its_own_token_lists_the_word(numba_learn):
    # "a" + "bc" spells the base token "abc" (256), which already follows the pair in the second word:
    # ("abc", "abc") grows there, and the next merge must rewrite that word too.  Derived by hand: after
    # ab+c -> abc (8) and a+bc -> abc (5), abc+abc (9) -> 259 leaves [259, ab] and [259, abc] (x4); then
    # 259+abc (4); the last pair is (259, ab), count 1 (the compiled loop once left the second word
    # unmerged and took a stale (abc, ab)).
    base = list(BYTES) + [b"abc", b"ab", b"bc"]
    words = [([256], 1), ([97, 258, 256, 257], 1), ([97, 258, 257, 99, 257, 99], 4)]
    merges, _ = same_merges(numba_learn, words, base, n_new=3, min_frequency=1)
    assert [(m.left, m.right, m.token, m.count) for m in merges] == [
        (257, 99, 256, 8),
        (97, 258, 256, 5),
        (256, 256, 259, 9),
        (259, 256, 260, 4),
        (259, 257, 261, 1),
    ]


def test_base_vocabulary_with_large_ids(numba_learn):
    # A non-byte base: multi-byte tokens with ids far above 255, words already segmented into them.
    base = list(BYTES) + [f"<{i}>".encode() for i in range(150_000)] + [b"ab", b"abab", b"ba"]
    ab, abab, ba = len(base) - 3, len(base) - 2, len(base) - 1
    words = [([ab, ab, 97, 98], 5), ([149_999 + 256, ab, ba, 7], 3), ([ba, ba, ab], 4), ([97, 98, 97, 98], 2)]
    merges, _ = same_merges(numba_learn, words, base, n_new=20, min_frequency=1)
    assert merges[0] == reference.Merge(97, 98, ab, 9, False)  # "a" + "b" is the base token "ab"
    assert any(m.token == abab and not m.new for m in merges)
    assert any(m.new and m.token >= len(base) for m in merges)


def test_duplicate_bytes_in_the_base_reuse_the_last_id(numba_learn):
    base = list(BYTES) + [b"ab", b"ab"]
    merges, _ = same_merges(numba_learn, [(b"abab", 3)], base, n_new=2, min_frequency=1)
    assert merges[0].token == 257 and not merges[0].new


@st.composite
def small_corpora(draw):
    alphabet = draw(st.lists(st.integers(0, 255), min_size=1, max_size=4, unique=True))
    words = draw(
        st.lists(
            st.tuples(st.lists(st.sampled_from(alphabet), min_size=0, max_size=12), st.integers(1, 6)),
            min_size=2,
            max_size=25,
        )
    )
    return [(bytes(ids), count) for ids, count in words]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=small_corpora(), n_new=st.integers(1, 40), min_frequency=st.integers(1, 4))
def test_hypothesis_small_corpora(numba_learn, words, n_new, min_frequency):
    reached(same_merges(numba_learn, words, n_new=n_new, min_frequency=min_frequency)[0])


@settings(max_examples=100, deadline=None)
@given(words=small_corpora(), n_new=st.integers(0, 30), seed=st.randoms(use_true_random=False))
def test_python_merges_do_not_depend_on_word_order(words, n_new, seed):
    # train_from_counts streams words in dict order, so this property is relied on.
    shuffled = list(words)
    seed.shuffle(shuffled)
    assert reference.learn_merges(words, list(BYTES), n_new_tokens=n_new, min_frequency=1) == reference.learn_merges(
        shuffled, list(BYTES), n_new_tokens=n_new, min_frequency=1
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=small_corpora(), n_new=st.integers(0, 30), seed=st.randoms(use_true_random=False))
def test_numba_merges_do_not_depend_on_word_order(numba_learn, words, n_new, seed):
    shuffled = list(words)
    seed.shuffle(shuffled)
    assert numba_learn(iter(words), list(BYTES), n_new_tokens=n_new, min_frequency=1) == numba_learn(
        shuffled, list(BYTES), n_new_tokens=n_new, min_frequency=1
    )


@st.composite
def repetitive_corpora(draw):
    """Words of short chunks repeated back to back ("aaaa", "abab", "aabaab"): runs of one symbol
    and chains of overlapping occurrences, where only a left-to-right rewrite gives the reference's merges."""
    chunk = st.lists(st.sampled_from([97, 98, 99]), min_size=1, max_size=3)
    word = st.lists(st.tuples(chunk, st.integers(1, 9)), min_size=1, max_size=6)
    words = draw(st.lists(st.tuples(word, st.integers(1, 4)), min_size=1, max_size=12))
    return [(bytes(b for ids, times in parts for _ in range(times) for b in ids), count) for parts, count in words]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=repetitive_corpora(), n_new=st.integers(1, 60), min_frequency=st.integers(1, 3))
def test_hypothesis_runs_and_overlapping_pairs(numba_learn, words, n_new, min_frequency):
    reached(same_merges(numba_learn, words, n_new=n_new, min_frequency=min_frequency)[0])


@st.composite
def aliased_runs(draw):
    """Repeated chunks over a base with tokens reachable by several pairs (abc = ab + c = a + bc),
    so a run of one token can be built over several steps."""
    base = list(BYTES) + [b"ab", b"bc", b"ca", b"abc", b"bca"]
    chunk = st.lists(st.sampled_from([97, 98, 99, 256, 257, 258, 259, 260]), min_size=1, max_size=3)
    word = st.lists(st.tuples(chunk, st.integers(1, 6)), min_size=1, max_size=5)
    words = draw(st.lists(st.tuples(word, st.integers(1, 4)), min_size=1, max_size=10))
    return base, [([i for ids, times in parts for _ in range(times) for i in ids], count) for parts, count in words]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=aliased_runs(), n_new=st.integers(1, 40))
def test_hypothesis_runs_built_over_several_steps(numba_learn, corpus, n_new):
    base, words = corpus
    reached(same_merges(numba_learn, words, base, n_new=n_new, min_frequency=1)[0])


@pytest.mark.parametrize("word", [b"a" * 9, b"ab" * 7 + b"a", b"aab" * 5, b"abba" * 4 + b"abb"])
def test_runs_merge_left_to_right(numba_learn, word):
    merges, _ = same_merges(numba_learn, [(word, 1)], n_new=100, min_frequency=1)
    assert merges


def test_a_run_built_over_several_steps_merges_left_to_right(numba_learn):
    # The base token "abc" is reached as ab + c (step 1) and as a + bc (step 2), so the run
    # abc abc abc is built in two steps, right end last: a loop that visits occurrences in the order
    # they arose goes wrong.  The reference's left-to-right rewrite gives abcabc + abc, not abc + abcabc.
    base = list(BYTES) + [b"ab", b"bc", b"abc"]
    ab, bc, abc = 256, 257, 258
    merges, _ = same_merges(numba_learn, [([ab, 99, ab, 99, 97, bc], 1)], base, n_new=2, min_frequency=1)
    assert [(m.left, m.right) for m in merges] == [(ab, 99), (97, bc), (abc, abc), (abc + 1, abc)]


def test_a_long_word_touched_by_many_merges(numba_learn):
    # Hundreds of merges rewrite the same long words, so their symbols are merged over and over,
    # the pairs' lists of words go stale and the loop's pool is compacted and grown.
    import random

    rng = random.Random(7)
    long_word = bytes(rng.choice(b"abcd") for _ in range(4000))
    words = [(long_word, 3), (long_word[::-1][:1500], 5), (b"ab" * 300, 2), (b"a" * 501, 1), (b"dcba" * 50, 4)]
    merges, why = same_merges(numba_learn, words, n_new=500, min_frequency=1)
    assert len(merges) >= 500 and why == "vocab_size"
    ids, touching = list(long_word), 0
    for m in merges:
        merged = reference.merge_pair(ids, (m.left, m.right), m.token)
        touching += merged != ids
        ids = merged
    assert touching > 200 and len(ids) < len(long_word) // 3


@st.composite
def base_vocab_corpora(draw):
    """Random multi-byte base tokens and words of any of their ids, or a base whose tokens several pairs spell."""
    if draw(st.booleans()):
        return draw(brute.aliased_corpora())
    pieces = draw(st.lists(st.binary(min_size=1, max_size=3), min_size=1, max_size=8, unique=True))
    base = list(BYTES) + pieces
    ids = st.sampled_from([97, 98, 99] + list(range(256, len(base))))
    words = draw(st.lists(st.tuples(st.lists(ids, max_size=10), st.integers(1, 5)), min_size=1, max_size=20))
    return base, words


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=base_vocab_corpora(), n_new=st.integers(1, 30))
def test_hypothesis_base_vocabularies(numba_learn, corpus, n_new):
    base, words = corpus
    reached(same_merges(numba_learn, words, base, n_new=n_new, min_frequency=1)[0])


def test_counts_above_two_to_the_31(numba_learn):
    big = 2**32 + 2**31 + 5  # low half has its top bit set
    words = [(b"ab", big), (b"abc", 3 * 2**31), (b"bc", 2**31 - 1)]
    merges, _ = same_merges(numba_learn, words, n_new=3, min_frequency=1)
    assert merges[0].count == big + 3 * 2**31


def test_train_from_counts_backends_agree_on_huge_counts(numba_learn):
    counts = {"hello": 3 * 2**31, " world": 2**33 + 7, "help": 2**31 + 1, " word": 5}
    python = bbpe.train_from_counts(counts, vocab_size=280, backend="python")
    fast = bbpe.train_from_counts(counts, vocab_size=280, backend="numba")
    assert fast.ranks == python.ranks
    assert fast.metadata["training"]["backend"] == "numba"


OVERFLOW = "pair counts could overflow 64-bit integers"


def test_pair_counts_that_would_wrap_are_refused_by_both_backends(numba_learn):
    # (a, b) occurs 2**62 + 2**62 = 2**63 times: numba's int64 wrapped to -2**63 and it merged (c, a) first.
    for learn in (reference.learn_merges, numba_learn):
        with pytest.raises(ValueError, match=OVERFLOW):
            learn([(b"ab", 2**62), (b"cab", 2**62)], list(BYTES), n_new_tokens=2, min_frequency=1)
    for backend in ("python", "numba"):
        with pytest.raises(ValueError, match=OVERFLOW):
            bbpe.train_from_counts({"ab": 2**62, "cab": 2**62}, vocab_size=258, backend=backend)


def test_zero_and_negative_counts_are_treated_alike(numba_learn):
    # The reference loop ended in a KeyError on a word with count 0 and accepted negative counts.
    same_merges(numba_learn, [(b"aa", 1), (b"aaa", 0)], n_new=2, min_frequency=1)
    for learn in (reference.learn_merges, numba_learn):
        with pytest.raises(ValueError, match="must not be negative"):
            learn([(b"ab", -2)], list(BYTES), n_new_tokens=2)


def test_the_largest_pair_count_below_the_limit_is_exact(numba_learn):
    merges, _ = same_merges(numba_learn, [(b"ab", 2**63 - 1), (b"c", 2**63)], n_new=1, min_frequency=1)
    assert merges[0].count == 2**63 - 1


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.tuples(st.text("abc", min_size=1, max_size=4).map(str.encode), st.integers(0, 2**62) | st.integers(0, 9)),
        min_size=1,
        max_size=6,
    ),
    n_new=st.integers(1, 8),
)
def test_counts_near_the_limit_give_the_same_merges_or_the_same_error(numba_learn, words, n_new):
    bound = sum(count * (len(word) - 1) for word, count in words)
    outcomes = []
    for learn in (reference.learn_merges, numba_learn):
        try:
            outcomes.append(learn(words, list(BYTES), n_new_tokens=n_new, min_frequency=1))
        except ValueError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    assert isinstance(outcomes[0], str) == (bound >= 2**63)


def test_parity_backends_refuse_languages_whose_counts_add_up_past_the_limit(numba_learn):
    from bbpe.training.methods import parity
    from bbpe.training.methods import parity_compiled as parity_numba

    words = {"eng": [(b"ab", 2**62)], "fra": [(b"ab", 2**62)]}  # the global pair count is 2**63
    for learn in (parity.learn_parity_merges, parity_numba.learn_parity_merges):
        with pytest.raises(ValueError, match=OVERFLOW):
            learn(words, list(BYTES), n_new_tokens=2, dev={"eng": {"ab": 1}, "fra": {"ab": 1}}, global_merges=1)


def test_on_merge_reports_the_final_count(numba_learn):
    calls: list[int] = []
    tokens = list(BYTES)
    merges, _ = numba_learn(counted(CODE * 5), tokens, n_new_tokens=30, on_merge=calls.append)
    assert calls and calls[-1] == 30 == len(tokens) - 256 == sum(m.new for m in merges)
    assert calls == sorted(calls)


def test_on_merge_errors_propagate(numba_learn):
    def fail(added: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        numba_learn(counted(CODE), list(BYTES), n_new_tokens=5, on_merge=fail)


@pytest.mark.parametrize(
    ("words", "tokens", "message"),
    [
        ([([1, 300], 2)], BYTES, "word token id 300 is not in token_bytes"),
        ([([-1, 3], 2)], BYTES, "word token id -1"),
        ([(b"ab", -2)], BYTES, "must not be negative"),
        ([(b"ab", 2**64)], BYTES, "below 2**63"),
        ([([1, 2**64], 2)], BYTES, "below 2**63"),
        ([(b"ab", 2)], BYTES + [b""], "token id 256 has empty bytes"),
    ],
)
def test_bad_input_is_a_value_error(numba_learn, words, tokens, message):
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        numba_learn(words, list(tokens), n_new_tokens=2)


def test_numba_is_chosen_by_auto(numba_learn):
    assert merge_backend("auto") is numba_learn
    assert merge_backend("numba") is numba_learn


def test_without_numba_auto_falls_back_and_numba_says_how_to_install(without_numba):
    assert merge_backend("auto") is reference.learn_merges
    with pytest.raises(ImportError, match=r"pip install 'bbpe\[fast\]'"):
        merge_backend("numba")


def test_cli_backend_numba_without_numba_is_one_line(without_numba, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.modules["bbpe.training.api"], "count_pretokens", None)  # so it must fail before counting
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world\n" * 10)
    out = tmp_path / "v.json"
    assert main(["train", str(corpus), "--vocab", "260", "-o", str(out), "--backend", "numba", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'bbpe[fast]'" in err
    assert not out.exists()


def test_a_stop_request_ends_the_loop_before_the_next_step(numba_learn):
    import numpy as np

    from bbpe.bpe.tables import pack_tokens
    from bbpe.training.loops import _kernels as loop
    from bbpe.training.loops._pair_state import index_tracked
    from bbpe.training.loops.compiled import flatten_words, word_arrays

    words = word_arrays(flatten_words(counted(CODE * 3), 256), 256)
    state = index_tracked(words, 2, 1024, 4)
    control = np.array([0, 1], np.int64)  # stop requested
    _, run, stop = loop.run(words, state, loop.new_run(*pack_tokens(list(BYTES)), 50, 16), 50, 2, control)
    assert (run[8][0], stop) == (0, loop.STOP_INTERRUPTED)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_ctrl_c_while_merging_leaves_no_output(backend, tmp_path, capsys, monkeypatch):
    if backend == "numba":
        pytest.importorskip("numba", reason="numba is not installed (pip install 'bbpe[fast]')")

    class Interrupting:
        def __call__(self, event):
            if event.stage == "merge":
                raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr("bbpe.cli.train.StderrProgress", Interrupting)
    corpus, out = tmp_path / "c.txt", tmp_path / "v.json"
    corpus.write_text(CODE * 20)
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(out), "--backend", backend, "--workers", "1"]) == 130
    assert "interrupted; no output written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [corpus]
