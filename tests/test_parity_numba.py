"""The numba parity-aware merge loop gives exactly the Python loop's results (merges, choosing languages, stop reason)."""

from __future__ import annotations

import random
from dataclasses import astuple
from pathlib import Path

import _brute as brute
import pytest
from _samples import SCRIPTS, script_lines
from conftest import PARALLEL_DIR, TRAIN_DIR
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.corpus.reading import CorpusStats
from bbpe.errors import CorpusError
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.training.counting.pretokens import CountSettings
from bbpe.training.methods import parity, parity_dev

BYTES = [bytes([i]) for i in range(256)]


@pytest.fixture(scope="module")
def numba_parity():
    pytest.importorskip("numba", reason="numba is not installed (pip install 'bbpe[fast]')")
    from bbpe.training.methods import parity_compiled as parity_numba

    return parity_numba.learn_parity_merges


def run(learn, words, dev, n_new, **options):
    """(new token bytes, stop reason, merges per language in the order they first chose, merges)."""
    tokens, log = list(BYTES), parity_dev.ParityLog()
    merges, why = learn(
        {code: iter(ws) for code, ws in words.items()}, tokens, n_new_tokens=n_new, dev=dev, log=log, **options
    )
    return tokens[256:], why, list(log.chosen.items()), merges


def same_results(numba_parity, words, dev, n_new, **options):
    expected = run(parity.learn_parity_merges, words, dev, n_new, **options)
    assert run(numba_parity, words, dev, n_new, **options) == expected
    return expected


# eng: (a,b) 3 and (c,d) 3; fra: (e,f) 5, globally the most frequent pair.  Dev: 2 tokens each (a tie).
TIES = {"eng": [(b"ab", 3), (b"cd", 3)], "fra": [(b"ef", 5)]}
TIES_DEV = {"eng": {"xy": 1}, "fra": {"zw": 1}}


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_ties(backend, numba_parity):
    learn = numba_parity if backend == "numba" else parity.learn_parity_merges
    # Dev tokens tie (2 = 2) on every step: eng (the smaller code) chooses; its pairs tie (3 = 3): the smaller
    # pair (a,b) first, then (c,d); then eng has no pair and drops out, fra chooses (e,f); then nobody: stop.
    new, why, chosen, merges = run(learn, TIES, TIES_DEV, 10)
    assert new == [b"ab", b"cd", b"ef"] and why == "min_frequency"
    assert chosen == [("eng", 2), ("fra", 1)]
    assert [m.count for m in merges] == [3, 3, 5]


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_hybrid_switches_after_m_merges(backend, numba_parity):
    learn = numba_parity if backend == "numba" else parity.learn_parity_merges
    # Global: (e,f) 5, then (a,b) 3 = (c,d) 3 -> (a,b).  Then parity: eng (tie, smaller code) takes (c,d);
    # then eng and fra have no pair left.
    new, why, chosen, _ = run(learn, TIES, TIES_DEV, 10, global_merges=2)
    assert (new, why, chosen) == ([b"ef", b"ab", b"cd"], "min_frequency", [("*", 2), ("eng", 1)])
    # The vocab size stops it first: one global merge, one parity merge.
    assert run(learn, TIES, TIES_DEV, 2, global_merges=1)[:3] == ([b"ef", b"ab"], "vocab_size", [("*", 1), ("eng", 1)])


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_the_worst_language_beats_a_more_frequent_pair(backend, numba_parity):
    learn = numba_parity if backend == "numba" else parity.learn_parity_merges
    # fra's dev text "cdcdcd" costs 6 tokens, eng's "ab" 2: fra's (c,d) 4 wins over eng's (a,b) 20; then fra's
    # dev text is cd|cd|cd = 3 > 2: (cd,cd) 2 for fra; then it is cdcd|cd = 2, a tie with eng: eng (smaller code).
    words = {"eng": [(b"ab", 20)], "fra": [(b"cdcd", 2)]}
    new, why, chosen, _ = run(learn, words, {"eng": {"ab": 1}, "fra": {"cdcdcd": 1}}, 3)
    assert (new, why, chosen) == ([b"cd", b"cdcd", b"ab"], "vocab_size", [("fra", 2), ("eng", 1)])


def test_no_candidate_language_is_the_same_error(numba_parity):
    with pytest.raises(CorpusError, match="no language has both"):
        run(numba_parity, TIES, {"spa": {"x": 1}}, 3)


WORDS = st.lists(
    st.tuples(st.binary(min_size=1, max_size=7).map(lambda b: bytes(97 + x % 3 for x in b)), st.integers(1, 6)),
    min_size=1,
    max_size=8,
)


@st.composite
def parity_inputs(draw, words=WORDS):
    """Words per language and dev texts sharing at least one language (the error case is tested apart)."""
    train = draw(st.dictionaries(st.sampled_from(["deu", "eng", "fra", "hin"]), words, min_size=1))
    shared = draw(st.lists(st.sampled_from(sorted(train)), min_size=1, unique=True))
    others = draw(st.lists(st.sampled_from(["deu", "eng", "fra", "spa"]), unique=True))
    texts = st.text(alphabet="abc ", min_size=1, max_size=12)
    return train, {code: {draw(texts): draw(st.integers(1, 2))} for code in [*shared, *others]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parity_inputs(), st.integers(1, 20), st.integers(0, 6), st.integers(1, 3))
def test_hypothesis_numba_equals_python(numba_parity, inputs, n_new, global_merges, min_frequency):
    words, dev = inputs
    _new, _why, chosen, merges = same_results(
        numba_parity, words, dev, n_new, global_merges=global_merges, min_frequency=min_frequency
    )
    event(f"merges: {'some' if merges else 'none'}; parity choice: {any(code != '*' for code, _ in chosen)}")


# A base vocabulary ("ab" 256, "bc" 257, "abc" 258) and words segmented as extension segments them, so that
# pairs spell existing tokens (training from the 256 bytes never does: see test_bpe_golden).
A, B, C, Y = b"abcy"
AB, BC, ABC = 256, 257, 258
ALIAS_BASE = [*BYTES, b"ab", b"bc", b"abc"]
ALIAS_WORDS = {"eng": [([A, BC, Y], 6)], "fra": [([ABC, Y], 4), ([AB, C], 3)]}
ALIAS_DEV = {"eng": {"ab": 1}, "fra": {"abcabc": 1}}  # dev words are bytes: eng 2 tokens, fra 6 (worst throughout)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_aliases_in_the_global_and_the_parity_phase(backend, numba_parity):
    learn = numba_parity if backend == "numba" else parity.learn_parity_merges

    def steps(global_merges: int) -> tuple[list[tuple], list[tuple[str, int]], str]:
        tokens, log = list(ALIAS_BASE), parity_dev.ParityLog()
        merges, why = learn(
            {code: iter(ws) for code, ws in ALIAS_WORDS.items()},
            tokens,
            n_new_tokens=5,
            dev=ALIAS_DEV,
            log=log,
            global_merges=global_merges,
        )
        assert tokens[259:] == [b"abcy"]  # the only new token, whichever phase
        return [astuple(m) for m in merges], list(log.chosen.items()), why

    # Global: (a, bc) 6 = (bc, y) 6 -> (a, bc): "abc" is 258 already (alias).  Now eng has (abc, y) 6 beside fra's 4:
    # (abc, y) 10 -> "abcy" 259 (a pair holding a token that existed before: its count is summed over languages).
    # Parity: fra (6 dev tokens > 2) takes (ab, c) 3: "abc" again (alias); then no language has a pair.
    assert steps(2) == (
        [(A, BC, ABC, 6, False), (ABC, Y, 259, 10, True), (AB, C, ABC, 3, False)],
        [("*", 2), ("fra", 1)],
        "min_frequency",
    )
    # Parity only: fra takes (abc, y) 4 -> 259, then (ab, c) 3 -> 258 (alias) and drops out; eng takes (a, bc) 6 ->
    # 258 (alias), then (abc, y) 6 -> 259, an alias of the token made in training.
    assert steps(0) == (
        [(ABC, Y, 259, 4, True), (AB, C, ABC, 3, False), (A, BC, ABC, 6, False), (ABC, Y, 259, 6, False)],
        [("fra", 2), ("eng", 2)],
        "min_frequency",
    )


@st.composite
def aliased_words(draw):
    """Words over the alias base: its tokens "abc", "ab", "bc" cut into other tokens, and y."""
    cuts = {b"abc": [[A, BC], [AB, C], [A, B, C], [ABC]], b"ab": [[AB], [A, B]], b"bc": [[BC], [B, C]], b"y": [[Y]]}
    piece = st.sampled_from(sorted(cuts)).flatmap(lambda token: st.sampled_from(cuts[token]))
    word = st.lists(piece, min_size=1, max_size=4).map(lambda parts: [i for part in parts for i in part])
    return draw(st.lists(st.tuples(word, st.integers(1, 6)), min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parity_inputs(aliased_words()), st.integers(1, 12), st.integers(0, 4), st.integers(1, 3))
def test_hypothesis_aliases_equal_brute_force(numba_parity, inputs, n_new, global_merges, min_frequency):
    words, dev = inputs
    vocab = list(ALIAS_BASE)
    steps, chosen, why = brute.train_parity(
        words, dev, vocab, n_new, min_frequency=min_frequency, global_merges=global_merges
    )
    for learn in (parity.learn_parity_merges, numba_parity):
        tokens, log = list(ALIAS_BASE), parity_dev.ParityLog()
        merges, got_why = learn(
            {code: iter(ws) for code, ws in words.items()},
            tokens,
            n_new_tokens=n_new,
            dev=dev,
            log=log,
            global_merges=global_merges,
            min_frequency=min_frequency,
        )
        assert ([astuple(m) for m in merges], log.chosen, got_why, tokens) == (steps, chosen, why, vocab)
    event(f"alias merges: {'some' if any(not new for *_, new in steps) else 'none'}")


@pytest.fixture(scope="module", params=["portable", "shared"])
def real_sample(request, tmp_path_factory):
    """Words per language and a line-aligned dev set: generated text in 16 scripts (every machine; 10 KB of training
    text and 20 dev lines each), or 10 KB of every language of ../shared/corpora/train with NTREX-128 as the dev set."""
    pattern = resolve_pattern("qwen")
    if request.param == "portable":
        folder = tmp_path_factory.mktemp("parity")
        (folder / "train").mkdir()
        (folder / "dev").mkdir()
        for index, script in enumerate(SCRIPTS):
            lines = script_lines(script, 12_000, random.Random(index))
            (folder / "train" / f"{script.lower()}.gen.txt").write_text("\n".join(lines[20:]), encoding="utf-8")
            (folder / "dev" / f"{script.lower()}.txt").write_text("\n".join(lines[:20]) + "\n", encoding="utf-8")
        files, dev = sorted((folder / "train").glob("*.txt")), folder / "dev"
    else:
        if not (TRAIN_DIR.is_dir() and (PARALLEL_DIR / "ntrex128").is_dir()):
            pytest.skip("needs ../shared")
        files, dev = sorted(TRAIN_DIR.glob("*.txt.gz")), PARALLEL_DIR / "ntrex128"
    counts = parity.count_by_language(files, CountSettings(pattern), stats=CorpusStats(), max_bytes=10_000, workers=1)
    return {code: list(ws.items()) for code, ws in counts.items()}, parity_dev.load_dev(dev, pattern)


@pytest.mark.parametrize("global_merges", [0, 200])
def test_real_multilingual_text(numba_parity, real_sample, global_merges):
    words, dev = real_sample
    _new, _why, chosen, merges = same_results(numba_parity, words, dev, 500, global_merges=global_merges)
    assert len(merges) >= 500 and len(chosen) > 5  # many languages chose


def test_on_merge_reports_and_its_errors_propagate(numba_parity):
    words = {"eng": [(b"the cat sat on the mat", 3), (b"abcabcabc", 2)], "fra": [(b"le chat", 4)]}
    dev = {"eng": {"the cat": 1}, "fra": {"le chat": 1}}
    calls: list[int] = []
    tokens = list(BYTES)
    numba_parity({c: iter(w) for c, w in words.items()}, tokens, n_new_tokens=10, dev=dev, on_merge=calls.append)
    assert calls and calls[-1] == len(tokens) - 256 and calls == sorted(calls)

    def fail(added: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        numba_parity({c: iter(w) for c, w in words.items()}, list(BYTES), n_new_tokens=10, dev=dev, on_merge=fail)


def test_a_stop_request_ends_the_loop_before_the_next_step(numba_parity):
    import numpy as np

    from bbpe.bpe.tables import pack_tokens
    from bbpe.training.loops.compiled import flatten_words
    from bbpe.training.methods import _parity_kernels as loop
    from bbpe.training.methods.parity_compiled import _stores

    words = _stores([flatten_words([(b"abab", 5)], 256), flatten_words([(b"ab", 1)], 256)])
    control = np.array([0, 1], np.int64)  # stop requested
    languages = np.array([[1, 0, -1, 0]], np.int64)  # a candidate, its dev text is measured text 0
    args = (*words, np.array([2], np.int64), languages, *pack_tokens(list(BYTES)), 5, 2, 0, 0, control)
    steps, stop, _stopped = loop.learn(*args)
    assert (len(steps), stop) == (0, loop.STOP_INTERRUPTED)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_train_records_the_backend_and_both_give_the_same_tokenizer(numba_parity, tmp_path):
    train = write(
        tmp_path / "train",
        {"eng_Latn.a.txt": "The cat sat on the mat.\n" * 20, "deu_Latn.a.txt": "Die Katze saß auf der Matte.\n" * 20},
    )
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "The cat.\n", "deu_Latn.txt": "Die Katze.\n"})
    made = {
        backend: bbpe.train([train], vocab_size=300, parity_dev=dev, parity_global_merges=5, backend=backend, workers=1)
        for backend in ("python", "numba", "auto")
    }
    assert [made[b].metadata["training"]["backend"] for b in made] == ["python", "numba", "numba"]
    assert made["python"].ranks == made["numba"].ranks == made["auto"].ranks
    parities = [made[b].metadata["training"]["parity"] for b in made]
    assert parities[0] == parities[1] == parities[2]


def test_without_numba_auto_trains_on_the_python_loop(tmp_path, without_numba):
    train = write(tmp_path / "train", {"eng_Latn.a.txt": "ab" + " ab" * 9 + "\n", "fra_Latn.b.txt": "cdcd\n" * 3})
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab ab\n", "fra_Latn.txt": "cdcdcdcd\n"})
    tok = bbpe.train([train], vocab_size=262, pattern="gpt2", parity_dev=dev, workers=1)
    assert tok.metadata["training"]["backend"] == "python"
    with pytest.raises(ImportError, match=r"pip install 'bbpe\[fast\]'"):
        bbpe.train([train], vocab_size=262, pattern="gpt2", parity_dev=dev, backend="numba", workers=1)
