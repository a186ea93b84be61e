"""The compiled engine gives tiktoken's ids (and the python engine's) for every preset, random and real
vocabularies, specials, normalization, worst-case inputs, small caches and threads."""

from __future__ import annotations

import random

import pytest
from _samples import MULTILINGUAL, sample_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.pretokenize.scanner_presets import SCANNERS
from bbpe.tokenizer import Tokenizer

pytest.importorskip("numba")

from bbpe.encoding import compiled

# Characters Python's Unicode database has assigned: a newer one (e.g. U+323B0, CJK Extension J) is a letter to
# `regex` (and bbpe's tables built from it) but unassigned to tiktoken's Rust regex, which cuts it elsewhere.
ASSIGNED = st.characters(codec="utf-8", exclude_categories=["Cn"])

PATTERNS = {key: regex for key, (_, _, regex) in SCANNERS.items()}
TRICKY = "a'sS'LL 1234567 x  \n\n \t\r\n.,!?/// 東京タワー 한국 ｆｕｌｌ e\u0301 ſ ß İ 🙂🙂 \u00a0\u2028\x85\x0c"


def engines(tokenizer: Tokenizer) -> tuple[Tokenizer, Tokenizer, Tokenizer]:
    return tuple(tokenizer.with_engine(name) for name in ("compiled", "tiktoken", "python"))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def trained() -> dict[str, Tokenizer]:
    """A small vocabulary per preset, trained on text every machine has, with overlapping specials."""
    text = sample_text(300_000)
    return {
        key: bbpe.train(
            [text],
            vocab_size=1200,
            pattern=PATTERNS[key],
            special_tokens=["<|end|>", "<|end|>x", "<s>"],
            workers=1,
        )
        for key in ("gpt2", "cl100k", "o200k", "llama3", "qwen", "cl100k+split-digits", "stage2")
    }


def random_vocabulary(seed: int, pattern: str) -> Tokenizer:
    """Random tokens over a small alphabet with random ranks: tokens not built in rank order, tokens BPE
    cannot reach, ranks with gaps, and specials whose text is also a regular token."""
    rng = random.Random(seed)
    alphabet = [b"a", b"b", b" ", b"\n", b"1", "é".encode(), "東".encode()[:2], "東".encode()[2:]]
    tokens = {bytes([i]) for i in range(256)}
    while len(tokens) < 256 + 60:
        tokens.add(b"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6))))
    ids = rng.sample(range(3 * len(tokens)), len(tokens))
    ranks = dict(zip(sorted(tokens), ids))
    top = max(ids)
    return Tokenizer(ranks, pattern=pattern, special_tokens={"ab": top + 5, "<|e|>": top + 1})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(["gpt2", "cl100k", "o200k", "llama3", "qwen", "cl100k+split-digits", "stage2"]),
    text=st.text(alphabet=st.sampled_from(TRICKY) | ASSIGNED, max_size=120),
)
def test_equal_to_tiktoken_and_python_on_any_text(trained, key, text):
    fast, tiktoken, python = engines(trained[key])
    expected = tiktoken.encode(text, allowed_special="all")
    assert fast.encode(text, allowed_special="all") == expected == python.encode(text, allowed_special="all")
    assert fast.encode_ordinary(text) == tiktoken.encode_ordinary(text)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    key=st.sampled_from(sorted(PATTERNS)),
    text=st.text(alphabet="ab \n1é東<|e|>", max_size=80),
)
def test_random_vocabularies_agree(seed, key, text):
    fast, tiktoken, python = engines(random_vocabulary(seed, PATTERNS[key]))
    expected = python.encode(text, allowed_special="all")
    assert fast.encode(text, allowed_special="all") == expected == tiktoken.encode(text, allowed_special="all")


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    key=st.sampled_from(["gpt2", "cl100k", "qwen"]),
    text=st.text(alphabet="abé", min_size=40, max_size=200).map(lambda letters: " " + letters),
)
def test_random_vocabularies_agree_on_long_parts(seed, key, text):
    """Pre-tokens over 64 bytes are encoded by backtracking over valid pairs, which must never take a token
    BPE cannot reach (a random vocabulary has many; glm4's real text found the first-token case)."""
    fast, _, python = engines(random_vocabulary(seed, PATTERNS[key]))
    assert fast.encode_ordinary(text) == python.encode_ordinary(text)


def test_the_default_engine_is_compiled_for_presets_and_tiktoken_otherwise(monkeypatch):
    from bbpe import _jit

    monkeypatch.setattr(
        _jit, "is_ready", lambda dispatcher: True
    )  # compiled on this machine (tests/test_cold_start.py)
    assert Tokenizer.from_bytes_only(pattern="o200k").engine == "compiled"
    assert Tokenizer.from_bytes_only(pattern=r"\w+|\s+|[^\w\s]+").engine == "tiktoken"
    with pytest.raises(ValueError, match="engine='tiktoken' for a custom pattern"):
        Tokenizer.from_bytes_only(pattern=r"\w+|\s+|[^\w\s]+", engine="compiled")


def test_without_numba_auto_takes_tiktoken_and_compiled_says_how_to_install(without_numba):
    assert Tokenizer.from_bytes_only(pattern="cl100k").engine == "tiktoken"
    with pytest.raises(ImportError, match=r"pip install 'bbpe\[fast\]'"):
        Tokenizer.from_bytes_only(pattern="cl100k", engine="compiled")


@pytest.mark.parametrize("piece", ["a", " ", "7", "的一是不了人我在有他这为之大来以个中上们", "ab"])
def test_long_runs_give_the_reference_ids(trained, piece):
    """100 KB of one letter, spaces, digits, unspaced CJK: a single pre-token that the heap cannot take in
    linear time; the backtracking path must give the reference's ids (the python engine, O(n log n))."""
    text = piece * (100_000 // len(piece.encode()))
    for key in ("cl100k", "gpt2", "o200k"):
        fast, _, python = engines(trained[key])
        assert fast.encode_ordinary(text) == python.encode_ordinary(text)


# Lengths of the runs of spaces that are tokens in a 152K vocabulary bbpe trained with the qwen pattern, in rank
# order: 32 spaces then 49 is a valid pair, but no token follows 49 spaces, so backtracking over 1 MB of spaces
# steps back at nearly every position (36x slower per byte than ordinary text before the table of fits).
SPACE_RUNS_152K = (2, 4, 3, 8, 7, 11, 16, 15, 12, 19, 5, 9, 23, 17, 10, 20, 18, 6, 13, 14, 27, 32, 31, 22, 21, 24)
SPACE_RUNS_152K += (26, 28, 30, 34, 35, 29, 25, 33, 39, 36, 40, 38, 42, 37, 43, 44, 41, 46, 47, 49)


def run_vocabulary(runs: dict[bytes, list[int]], extra: list[bytes], pattern: str) -> Tokenizer:
    """The 256 bytes, then per unit its runs of the given lengths, then ``extra``, ranks in that order."""
    tokens = [bytes([i]) for i in range(256)]
    tokens += [unit * length for unit, lengths in runs.items() for length in lengths] + extra
    return Tokenizer({token: rank for rank, token in enumerate(dict.fromkeys(tokens))}, pattern=pattern)


@pytest.mark.parametrize("key", ["qwen", "cl100k"])
def test_a_trained_vocabularys_space_runs_give_tiktokens_ids_on_100_kb(key):
    tokenizer = run_vocabulary(
        {b" ": list(SPACE_RUNS_152K), b"a": [2, 3], b"\n": [2, 3], b"\t ": [1, 2, 5]},
        [b" \t", b"  \t", b"aaab"],
        PATTERNS[key],
    )
    fast, tiktoken, _ = engines(tokenizer)
    runs = [" " * 100_000, " " * 100_001 + "x", "a" * 100_001, "a" * 100_001 + "b", "\n" * 100_000, "\t " * 50_000]
    for text in [*runs, "  \t" * 33_000]:  # "a" * n + "b" ends in "aaab": BPE's last token, not a run's
        assert fast.encode_ordinary(text) == tiktoken.encode_ordinary(text), repr(text[:4])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    runs=st.lists(st.integers(65, 400), min_size=1, max_size=6),
)
def test_random_run_vocabularies_agree_on_long_runs(seed, runs):
    """Runs of one letter with tokens of many run lengths, some followed by another letter (the trie path of a
    run goes deeper than its longest token), in random rank order: a run's longest token is found without
    walking the trie only where the run is longer than that path."""
    rng = random.Random(seed)
    deepest = rng.randint(3, 30)  # the run's trie path ends in a token "a" * deepest + "b"
    tokens = [b"a" * n for n in rng.sample(range(2, deepest), min(8, deepest - 2))]
    tokens += [b"a" * n + b"b" for n in [*rng.sample(range(1, deepest), min(4, deepest - 1)), deepest]]
    tokens += [b"b" * n for n in range(2, 5)] + [b"ba", b"ab" * 3]
    rng.shuffle(tokens)
    tokenizer = run_vocabulary({}, tokens, PATTERNS["qwen"])
    fast, tiktoken, _ = engines(tokenizer)
    text = " " + "b".join("a" * n for n in runs)  # one pre-token: runs of a's cut by single b's
    assert fast.encode_ordinary(text) == tiktoken.encode_ordinary(text)


def test_a_tiny_cache_is_emptied_when_full_and_gives_the_same_ids(trained, monkeypatch):
    monkeypatch.setattr(compiled, "CACHE_SLOTS_LOG2", 5)  # 32 slots: emptied every few pre-tokens
    tokenizer = trained["cl100k"]
    small, tiktoken, _ = engines(tokenizer)
    text = sample_text(60_000)
    assert small.encode_ordinary(text) == tiktoken.encode_ordinary(text)


def test_batches_on_threads_equal_one_by_one(trained, monkeypatch):
    monkeypatch.setattr(compiled, "BATCH_BYTES", 1000)  # many groups, spread over the threads
    fast, tiktoken, _ = engines(trained["qwen"])
    texts = [sample_text(40_000)[i : i + 700] for i in range(0, 40_000, 700)] + MULTILINGUAL + ["", "<|end|>x"]
    expected = [tiktoken.encode(t, allowed_special="all") for t in texts]
    assert fast.encode_batch(texts, allowed_special="all") == expected
    ids, offsets = fast.encode_batch_to_numpy(texts, allowed_special="all")
    assert [ids[a:b].tolist() for a, b in zip(offsets, offsets[1:])] == expected
    ordinary = [tiktoken.encode_ordinary(t) for t in texts]
    for threads in (1, 2, 3):  # the engine's flat path: groups in turn, or shared out among the threads
        ids, offsets = fast.encode_batch_to_numpy(texts, disallowed_special=(), threads=threads)
        assert [ids[a:b].tolist() for a, b in zip(offsets, offsets[1:])] == ordinary
    assert fast.encode_to_numpy(texts[3]).tolist() == tiktoken.encode(texts[3])


def test_batches_on_new_threads_reuse_the_caches_of_earlier_calls(trained, monkeypatch):
    """A batch's threads are new on every call; the caches are the engine's, so a second call builds none."""
    monkeypatch.setattr(compiled, "BATCH_BYTES", 1000)
    built = []
    new_cache = compiled.kernels.new_cache
    monkeypatch.setattr(compiled.kernels, "new_cache", lambda *args: built.append(args) or new_cache(*args))
    fast = trained["qwen"].with_engine("compiled")
    texts = [sample_text(20_000)[i : i + 700] for i in range(0, 20_000, 700)]
    first = fast.encode_batch_to_numpy(texts, threads=2)
    assert len(built) == 2
    again = fast.encode_batch_to_numpy(texts, threads=2)
    fast.encode_ordinary(texts[0])
    assert len(built) == 2
    assert [a.tolist() for a in first] == [a.tolist() for a in again]


def test_normalization_and_specials_are_applied_around_the_engine():
    base = Tokenizer.from_bytes_only(pattern="qwen")
    tok = Tokenizer(base.ranks, pattern=base.pattern, special_tokens={"<s>": 300}, normalization="NFC")
    fast, tiktoken, python = engines(tok)
    text = "e\u0301<s>क़ 12"
    assert fast.encode(text, allowed_special="all") == tiktoken.encode(text, allowed_special="all")
    assert fast.encode(text, allowed_special="all") == python.encode(text, allowed_special="all")
    assert fast.encode(text, allowed_special="all")[:2] == list("é".encode())


def test_lone_surrogates_raise_as_in_every_engine(trained):
    with pytest.raises(ValueError, match="lone surrogate"):
        trained["cl100k"].with_engine("compiled").encode("a\ud800b")


@pytest.mark.references
@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "qwen", "llama3"])
def test_references_on_real_text(name, multilingual_text, vocabs_dir):
    fast, tiktoken, _ = engines(bbpe.load(name))  # vocabs_dir: every reference found or fetched (else a skip)
    lines = multilingual_text.splitlines(keepends=True)
    assert fast.encode_batch(lines, disallowed_special=()) == tiktoken.encode_batch(lines, disallowed_special=())
    special = next(iter(fast.special_tokens))
    text = special.join(lines[:50]) + "e\u0301 " + "a" * 5000
    assert fast.encode(text, allowed_special="all") == tiktoken.encode(text, allowed_special="all")


def test_a_hash_collision_between_long_pre_tokens_is_not_a_cache_hit():
    """Keys of more than 16 bytes are (first 8 bytes, a 64-bit hash, length): on equal keys the bytes
    are compared.  Forge a collision by giving word B's slot the key of word A."""
    import numpy as np

    from bbpe.encoding import _kernels as kernels
    from bbpe.pretokenize._scan_kernels import _word_key

    table = kernels.new_table(6)
    a = np.frombuffer(b"collision-test-word-AAAA", np.uint8)
    b = np.frombuffer(b"collision-test-word-BBBB", np.uint8)
    out = np.array([7, 8], np.int32)
    home_of_b, entry = kernels._find(table, b, 0, len(b))
    assert entry == -1
    kernels._store(table, home_of_b, a, 0, len(a), out, 0, 2)  # A's entry where B's lookup starts
    slots = table[0]
    key0, key1 = _word_key(b, 0, len(b))
    slots[home_of_b, :2] = np.array([key0, key1], np.uint64).view(np.int64)  # ... with B's key: a collision
    assert kernels._find(table, b, 0, len(b))[1] == -1
