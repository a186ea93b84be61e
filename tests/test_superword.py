"""Superword training (SuperBPE): golden merges, word limit, init, engine equality, round trips, exports."""

from __future__ import annotations

from collections import Counter

import _brute as brute
import pytest
import regex
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe import cli
from bbpe.corpus import documents
from bbpe.formats import hf, tiktoken_file
from bbpe.pretokenize.patterns import GPT2, resolve_pattern
from bbpe.pretokenize.safe_cuts import NEWLINE_LETTER, cuts
from bbpe.training.counting.pretokens import CountSettings, count_corpus
from bbpe.training.loops import reference
from bbpe.training.methods.extend import segmenter
from bbpe.training.methods.superword import run_definition, stage2_pattern, word_count

GOLDEN = ["x y\n"] * 3  # stage 1 (gpt2): "x", " y", "\n"; stage 2: "x y", "\n"


def new_tokens(tokenizer: bbpe.Tokenizer, start: int = 256) -> list[bytes]:
    return [tokenizer.token_bytes(i) for i in range(start, len(tokenizer.ranks))]


def test_golden_superword_merge_crosses_a_space():
    # stage 1 sees one pair, (" ", "y") x 3 -> 256 " y".  Stage 2 pieces "x y" x 3 are segmented by
    # stage 1 as [x, 256]; their pair (x, 256) x 3 -> 257 "x y", a token across a space.
    tok = bbpe.train(GOLDEN, vocab_size=258, pattern="gpt2", superwords_after=257, workers=1)
    assert new_tokens(tok) == [b" y", b"x y"]
    assert tok.pattern == stage2_pattern(GPT2)
    assert tok.encode("x y\n") == [257, 10]
    plain = bbpe.train(GOLDEN, vocab_size=258, pattern="gpt2", workers=1)
    assert new_tokens(plain) == [b" y"]  # classic BPE has nothing left to merge
    training = tok.metadata["training"]
    assert training["superwords"] == training["superwords"] | {
        "after": 257,
        "max_words": None,
        "superword_tokens": 1,
        "stage1_pattern": GPT2,
    }
    assert (training["new_tokens"], training["stop_reason"]) == (2, "vocab_size")


def test_word_limit_vetoes_the_superword():
    tok = bbpe.train(GOLDEN, vocab_size=258, pattern="gpt2", superwords_after=257, max_superword_words=1, workers=1)
    assert new_tokens(tok) == [b" y"]
    assert tok.metadata["training"]["stop_reason"] == "min_frequency"
    two = bbpe.train(
        ["a b c\n"] * 4,
        vocab_size=262,
        pattern="gpt2",
        superwords_after=258,
        max_superword_words=2,
        workers=1,
        backend="python",
    )
    assert max(word_count(t) for t in new_tokens(two)) == 2
    assert b"a b" in new_tokens(two) and b"a b c" not in new_tokens(two)


def test_stage2_pattern_keeps_digits_punctuation_and_line_breaks_apart():
    pieces = regex.findall(stage2_pattern(resolve_pattern("cl100k")), "by the way, it's 12345!! ok  \nnext")
    assert pieces == ["by the way, it's ", "123", "45", "!!", " ok", "  \n", "next"]
    assert regex.findall(stage2_pattern(resolve_pattern("qwen")), "a 12") == ["a ", "1", "2"]


TRICKY = st.text(alphabet=st.sampled_from(list("ab é中1２ .,!?'\"-/\n\r\t\u00a0\u2028🤗")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TRICKY, st.text(max_size=40)), st.sampled_from(["cl100k", "qwen", "gpt2"]))
def test_fast_stage2_pattern_equals_its_definition(text, stage1):
    fast, slow = stage2_pattern(resolve_pattern(stage1)), run_definition(resolve_pattern(stage1))
    assert regex.findall(fast, text) == regex.findall(slow, text)


def test_fast_stage2_pattern_equals_its_definition_on_real_text(any_text):
    fast, slow = stage2_pattern(resolve_pattern("qwen")), run_definition(resolve_pattern("qwen"))
    assert regex.findall(fast, any_text) == regex.findall(slow, any_text)


def pieces_of_parts(text: str, pattern: str) -> list[str]:
    """The pattern's pieces of every part of ``text`` between the stage-2 cuts."""
    data = text.encode("utf-8")
    bounds = [0, *cuts(data, NEWLINE_LETTER), len(data)]
    return [piece for a, b in zip(bounds, bounds[1:]) for piece in regex.findall(pattern, data[a:b].decode("utf-8"))]


# Random text with line breaks followed by letters (the cuts) woven in: most examples have a cut.
LINE_STARTS = st.sampled_from(["\na", "\nZ", "\né", "\n中", "\r\nb", "\n\nc", " \nd", "!!\ne", "12\nf"])
WITH_CUTS = st.lists(st.one_of(TRICKY, st.text(max_size=10), LINE_STARTS), min_size=2, max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(WITH_CUTS, st.sampled_from(["cl100k", "qwen", "gpt2"]))
def test_newline_letter_cuts_are_safe_for_the_stage2_pattern(text, stage1):
    pattern = stage2_pattern(resolve_pattern(stage1))
    event(f"cuts: {bool(cuts(text.encode(), NEWLINE_LETTER))}")
    assert pieces_of_parts(text, pattern) == regex.findall(pattern, text)


def test_newline_letter_cuts_are_safe_for_the_stage2_pattern_on_real_text(any_text):
    for stage1 in ("cl100k", "qwen"):
        pattern = stage2_pattern(resolve_pattern(stage1))
        assert len(cuts(any_text.encode(), NEWLINE_LETTER)) > 1000
        assert pieces_of_parts(any_text, pattern) == regex.findall(pattern, any_text)


def test_stage2_counting_cuts_documents_and_counts_the_same(tmp_path, monkeypatch, any_text):
    text = any_text[:300_000]
    path = tmp_path / "doc.txt"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(documents, "RANGE_BYTES", 20_000)  # many work units in one document
    pattern = stage2_pattern(resolve_pattern("qwen"))
    settings = CountSettings(pattern)
    assert settings.rule is NEWLINE_LETTER
    expected = Counter(piece.encode() for piece in regex.findall(pattern, text))
    assert count_corpus([path], settings, workers=2) == expected


def test_transition_point_is_checked():
    with pytest.raises(ValueError, match="superwords_after"):
        bbpe.train(GOLDEN, vocab_size=258, superwords_after=300, workers=1)
    with pytest.raises(ValueError, match="superwords_after"):
        bbpe.train(GOLDEN, vocab_size=258, superwords_after=100, workers=1)


def replay(
    words: dict[str, int], tokens: list[bytes], n_stage1: int, merges: list[reference.Merge]
) -> dict[str, list[int]]:
    """Training's final segmentation of every stage-2 word: stage-1 BPE, then the stage-2 merges in order."""
    segment = segmenter(tokens[:n_stage1], engine="python")
    out = {}
    for word in words:
        ids = segment(word.encode("utf-8"))
        for merge in merges:
            ids = brute.replace_pair(ids, (merge.left, merge.right), merge.token)
        out[word] = ids
    return out


# Lines of a few short words (so word pairs repeat and superwords form), or of random characters.
PHRASES = st.lists(st.sampled_from(["a", "ab", "c", "b.", "1", ",", "ca", "a,"]), min_size=1, max_size=6).map(" ".join)
LINES = st.lists(PHRASES | st.text(alphabet="ab c.,1\n", min_size=1, max_size=30), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES, st.integers(0, 20), st.integers(1, 25), st.sampled_from([None, 1, 2]))
def test_encoding_reproduces_training_and_engines_agree(lines, stage1, stage2, max_words):
    lines = [part for line in lines for part in (line + "\n").splitlines(keepends=True)] * 2  # bbpe's unit: a line
    after = 256 + stage1
    tok = bbpe.train(
        lines,
        vocab_size=after + stage2,
        pattern="cl100k",
        superwords_after=after,
        max_superword_words=max_words,
        workers=1,
        backend="python",
    )
    pattern = tok.pattern
    # Recompute stage 2 from the stage-1 vocabulary with the brute-force trainer (not bbpe's merge loop) on the
    # pieces regex finds (not bbpe's counting), and compare the final segmentations.
    n_stage1 = tok.metadata["training"]["superwords"]["after"]
    words = Counter(piece for line in lines for piece in regex.findall(pattern, line))
    tokens = [tok.token_bytes(i) for i in range(n_stage1)]
    segment = segmenter(tokens, engine="python")
    allow = None if max_words is None else (lambda t: len(t.split()) <= max_words)
    steps, _ = brute.train(
        [(segment(w.encode()), c) for w, c in words.items()], tokens, len(tok.ranks) - n_stage1, allow=allow
    )
    merges = [reference.Merge(*step) for step in steps]
    assert tokens == [tok.token_bytes(i) for i in range(len(tok.ranks))]
    event(f"max_words={max_words}: superword tokens: {any(len(t.split()) > 1 for t in tokens[n_stage1:])}")
    python = tok.with_engine("python")
    final = replay(words, tokens, n_stage1, merges)
    for line in set(lines):  # pieces depend on their context (" " before a digit), so encode whole lines
        expected = [i for piece in regex.findall(pattern, line) for i in final[piece]]
        assert tok.encode_ordinary(line) == expected == python.encode_ordinary(line)
    text = "".join(lines)
    assert tok.encode_ordinary(text) == python.encode_ordinary(text)
    assert tok.decode(tok.encode_ordinary(text)) == text


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=60))
def test_round_trip_and_engine_equality_on_any_text(trained_superwords, text):
    tok = trained_superwords
    ids = tok.encode_ordinary(text)
    assert ids == tok.with_engine("python").encode_ordinary(text)
    assert tok.decode(ids) == text


@pytest.fixture(scope="module")
def trained_superwords() -> bbpe.Tokenizer:
    text = ("It is what it is, by the way. The cat sat on the mat; 2024 was a year!! " * 8 + "\n") * 20
    return bbpe.train(
        [text, "Über straße 日本語のテキスト\n" * 5],
        vocab_size=420,
        pattern="cl100k",
        superwords_after=330,
        special_tokens=["<|endoftext|>"],
        workers=1,
    )


def test_exports_give_identical_ids(trained_superwords, tmp_path):
    tok = trained_superwords
    assert any(word_count(t) > 1 for t in tok.ranks)
    text = "The cat sat on the mat, by the way. It is what it is!! 2024\n日本語 Über"
    tiktoken_file.write(tok, tmp_path / "v.tiktoken")
    hf.write(tok, tmp_path / "tokenizer.json")
    expected = tok.encode_ordinary(text)
    assert bbpe.load(tmp_path / "v.tiktoken", pattern=tok.pattern).encode_ordinary(text) == expected
    tokenizers = pytest.importorskip("tokenizers")
    assert tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json")).encode(text).ids == expected


def test_init_keeps_base_ids(tmp_path):
    base = bbpe.train(["hello world, hello there\n" * 10], vocab_size=270, pattern="cl100k", workers=1)
    text = ["hello world and hello there, by the way\n"] * 10
    tok = bbpe.train(text, vocab_size=300, init=base, superwords_after=280, workers=1)
    ranks = tok.ranks
    assert all(ranks[token] == rank for token, rank in base.ranks.items())
    assert tok.metadata["training"]["init"]["base_tokens"] == 270
    after = tok.metadata["training"]["superwords"]["after"]  # stage 1 stops early on this tiny text
    assert 270 < after <= 280
    assert all(word_count(t) == 1 for t in new_tokens(tok, 270)[: after - 270])
    assert any(word_count(t) > 1 for t in new_tokens(tok, after))


def test_init_cl100k_keeps_its_ranks():
    from conftest import SHARED

    if not (SHARED / "vocabs").exists():
        pytest.skip("cl100k_base is in ../shared/vocabs")
    cl100k = bbpe.load("cl100k_base")
    text = ["The quick brown fox jumps over the lazy dog, by the way.\n"] * 20
    n = len(cl100k.ranks)
    tok = bbpe.train(text, vocab_size=n + 5 + len(cl100k.special_tokens), init=cl100k, superwords_after=n, workers=1)
    ranks = tok.ranks  # a copy per call
    assert all(ranks[token] == rank for token, rank in cl100k.ranks.items())
    assert any(word_count(t) > 1 for t in new_tokens(tok, n))


def test_cli(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(GOLDEN), encoding="utf-8")
    out = tmp_path / "v.json"
    assert (
        cli.main(
            [
                "train",
                str(corpus),
                "--vocab",
                "258",
                "--pattern",
                "gpt2",
                "--superwords-after",
                "257",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    assert new_tokens(bbpe.load(out)) == [b" y", b"x y"]
    assert cli.main(["train", str(corpus), "--vocab", "258", "--max-superword-words", "2", "-o", str(out)]) == 2
    assert "needs --superwords-after" in capsys.readouterr().err


def test_python_and_numba_backends_agree(trained_superwords):
    pytest.importorskip("numba")
    text = ("It is what it is, by the way. The cat sat on the mat; 2024 was a year!! " * 8 + "\n") * 20
    texts = [text, "Über straße 日本語のテキスト\n" * 5]
    python = bbpe.train(
        texts,
        vocab_size=420,
        pattern="cl100k",
        superwords_after=330,
        special_tokens=["<|endoftext|>"],
        workers=1,
        backend="python",
    )
    assert trained_superwords.metadata["training"]["backend"] == "numba"
    assert python.ranks == trained_superwords.ranks
