"""Parity-aware dev sets: several corpora compared through English, the held-out split, the stop rule, languages
left out; golden merges derived by hand, and the numba loop equal to the Python one on all of them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.errors import CorpusError
from bbpe.pretokenize.patterns import GPT2
from bbpe.training.methods import parity, parity_dev

BYTES = [bytes([i]) for i in range(256)]


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def as_saved(info: dict) -> dict:
    """Metadata as a saved tokenizer file has it (tuples become lists)."""
    return json.loads(json.dumps(info))


def new_tokens(tokenizer: bbpe.Tokenizer) -> list[bytes]:
    return [tokenizer.token_bytes(i) for i in range(256, len(tokenizer.ranks))]


@pytest.fixture
def train(tmp_path) -> Path:
    # eng: "ab" + " ab" x 9 -> (a,b) 10, (" ",a) 9; fra: "cdcd" x 3 -> (c,d) 6; deu: "ghgh" x 3 -> (g,h) 6.
    return write(
        tmp_path / "train",
        {"eng_Latn.a.txt": "ab" + " ab" * 9 + "\n", "fra_Latn.b.txt": "cdcd\n" * 3, "deu_Latn.c.txt": "ghgh\n" * 3},
    )


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_several_corpora_compare_premiums_over_english(tmp_path, train, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    dev = tmp_path / "dev"
    write(dev / "a", {"eng_Latn.txt": "ab\n", "fra_Latn.txt": "cdcd\n"})  # fra 4 / eng 2 = premium 2
    write(dev / "b", {"eng_Latn.txt": "efefefef\n", "deu_Latn.txt": "ghghghghgh\n"})  # deu 10 / eng 8 = 1.25
    tok = bbpe.train([train], vocab_size=261, pattern="gpt2", parity_dev=dev, backend=backend, workers=1)
    # 1. fra (2 > 1.25 > eng 10/10), though deu has the most dev tokens: cd; fra 2/2 = 1.
    # 2. deu 1.25: gh; deu 5/8.   3. eng 1 = fra 1, eng the smaller code: ab; eng's own English shrinks too
    #    (9/9) and so does fra's (eng of a: 1 token): fra 2/1.   4. fra: cd+cd.   5. eng and fra 1: eng " ab".
    assert new_tokens(tok) == [b"cd", b"gh", b"ab", b"cdcd", b" ab"]
    info = as_saved(tok.metadata["training"]["parity"])
    assert info["dev_corpora"] == ["a", "b"] and info["cost"].startswith("dev tokens / eng_Latn tokens")
    assert info["merges_per_language"] == {"fra_Latn": 2, "deu_Latn": 1, "eng_Latn": 2}
    assert info["dev_tokens"]["fra_Latn"] == {"dev": [4, 1], "dev_reference": [2, 1]}
    assert info["dev_tokens"]["deu_Latn"] == {"dev": [10, 5], "dev_reference": [8, 8]}
    assert info["dev_tokens"]["eng_Latn"] == {"dev": [10, 9], "dev_reference": [10, 9]}  # "ab" became 1 token


def test_several_corpora_need_the_pivot(tmp_path, train):
    dev = tmp_path / "dev"
    write(dev / "a", {"eng_Latn.txt": "ab\n", "fra_Latn.txt": "cdcd\n"})
    write(dev / "b", {"deu_Latn.txt": "gh\n", "fra_Latn.txt": "cd\n"})
    with pytest.raises(CorpusError, match="no eng_Latn.txt; several dev corpora are compared through eng_Latn"):
        bbpe.train([train], vocab_size=261, pattern="gpt2", parity_dev=dev, workers=1)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_holdout_chooses_on_the_even_lines(tmp_path, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    train = write(tmp_path / "train", {"eng_Latn.a.txt": "ab" + " ab" * 9 + "\n", "fra_Latn.b.txt": "cdcd\n" * 3})
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "abab\nab\n", "fra_Latn.txt": "cd\ncdcdcdcdcd\n"})
    options = {"vocab_size": 257, "pattern": "gpt2", "parity_dev": dev, "backend": backend, "workers": 1}
    # All lines: eng "abab ab" 7 tokens, fra "cd cdcdcdcdcd" 13: fra chooses (c,d).
    assert new_tokens(bbpe.train([train], **options)) == [b"cd"]
    # Even lines only: eng "abab" 4, fra "cd" 2: eng chooses (a,b); the odd lines are measured, not chosen on.
    tok = bbpe.train([train], parity_holdout=True, **options)
    assert new_tokens(tok) == [b"ab"]
    info = as_saved(tok.metadata["training"]["parity"])
    assert info["dev_tokens"] == {
        "eng_Latn": {"dev": [4, 2], "held_out": [2, 1]},
        "fra_Latn": {"dev": [2, 2], "held_out": [10, 10]},
    }
    assert info["held_out"].startswith("the odd lines")


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_golden_stop_rule_on_held_out_tokens(tmp_path, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    # fra: (x,y) 10 is its best pair but its held-out line has no x or y; then (c,d) 6 beats (xy,xy) 5.
    train = write(
        tmp_path / "train", {"eng_Latn.a.txt": "ab" + " ab" * 9 + "\n", "fra_Latn.b.txt": "cdcd\n" * 3 + "xyxy\n" * 5}
    )
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab\nab\n", "fra_Latn.txt": "xy xy\ncd cd\n"})
    options = {"vocab_size": 258, "pattern": "gpt2", "parity_dev": dev, "parity_holdout": True, "backend": backend}
    # Without the rule: fra (5 > 2) takes xy, then fra again (3 > 2) takes cd.
    assert new_tokens(bbpe.train([train], workers=1, **options)) == [b"xy", b"cd"]
    # Patience 1: xy saved none of fra's held-out tokens ("cd cd"): fra stops after 1 merge; eng takes ab.
    tok = bbpe.train([train], workers=1, parity_patience=1, **options)
    assert new_tokens(tok) == [b"xy", b"ab"]
    assert as_saved(tok.metadata["training"]["parity"])["stopped"] == {"fra_Latn": ["stalled", 1]}


def test_languages_with_little_or_no_training_text_are_left_out_with_a_reason(tmp_path, train):
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab\n", "fra_Latn.txt": "cdcdcdcd\n", "spa_Latn.txt": "x\n"})
    # fra has 15 bytes of training text ("cdcd\n" x 3), eng 30: with a 20-byte minimum only eng chooses.
    tok = bbpe.train([train], vocab_size=258, pattern="gpt2", parity_dev=dev, parity_min_bytes=20, workers=1)
    info = as_saved(tok.metadata["training"]["parity"])
    assert info["excluded"] == {"fra_Latn": "15 bytes of training text (< 20)", "spa_Latn": "no training text"}
    assert info["merges_per_language"] == {"eng_Latn": 2} and new_tokens(tok) == [b"ab", b" ab"]


def test_load_dev_of_a_directory_of_pairs(tmp_path):
    dev = tmp_path / "dev"
    write(dev / "deu_Latn", {"eng_Latn.txt": "one\ntwo\nthree\n", "deu_Latn.txt": "eins\nzwei\ndrei\n"})
    write(dev / "fra_Latn", {"eng_Latn.txt": "two\n", "fra_Latn.txt": "deux\n"})
    got = parity_dev.load_dev(dev, r"\S+|\s+", split=True)
    assert got.corpora == ["deu_Latn", "fra_Latn"] and got.split
    assert got.languages["deu_Latn"].choose == Counter({"eins": 1, " ": 1, "drei": 1})  # lines 0 and 2 choose
    assert got.languages["deu_Latn"].held_out == Counter({"zwei": 1})
    assert got.languages["eng_Latn"].choose == Counter({"one": 1, " ": 1, "three": 1, "two": 1})  # both corpora
    # references: per group of corpora, the English of the same lines
    assert [got.references[got.reference_of[c]].choose for c in ("deu_Latn", "fra_Latn")] == [
        Counter({"one": 1, " ": 1, "three": 1}),
        Counter({"two": 1}),
    ]


WORDS = st.lists(
    st.tuples(st.binary(min_size=1, max_size=6).map(lambda b: bytes(c % 4 + 97 for c in b)), st.integers(1, 4)),
    min_size=1,
    max_size=6,
)
TEXT = st.text(alphabet="abcd ", min_size=1, max_size=10)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(["deu", "eng", "fra", "hin"]), WORDS, min_size=1),
    st.dictionaries(st.sampled_from(["deu", "eng", "fra", "spa"]), st.tuples(TEXT, TEXT), min_size=1),
    st.booleans(),
    st.booleans(),
    st.integers(0, 20),
    st.integers(0, 5),
    st.integers(0, 3),
)
def test_hypothesis_numba_equals_python_with_references_split_and_patience(
    words, dev_texts, with_references, split, n_new, global_merges, patience
):
    pytest.importorskip("numba")
    from bbpe.training.methods import parity_compiled as parity_numba

    dev = parity_dev.DevSet({}, split=split)
    for index, (code, (choose, held)) in enumerate(sorted(dev_texts.items())):
        dev.languages[code] = parity_dev.DevText(Counter(choose.split(" ")), Counter(held.split(" ") if split else []))
        if with_references:
            group = index % 2
            while len(dev.references) <= group:
                dev.references.append(parity_dev.DevText(Counter({"ab": 1 + group, "c": 2}), Counter({"d": 1})))
            dev.reference_of[code] = group
    if not set(words) & set(dev.languages):
        return
    results = []
    for learn in (parity.learn_parity_merges, parity_numba.learn_parity_merges):
        tokens, log = list(BYTES), parity_dev.ParityLog()
        merges, why = learn(
            {code: iter(ws) for code, ws in words.items()},
            tokens,
            n_new_tokens=n_new,
            dev=dev,
            global_merges=global_merges,
            patience=patience,
            log=log,
        )
        results.append((tokens[256:], why, merges, list(log.chosen.items()), list(log.stopped.items()), log.tokens))
    assert results[0] == results[1]


@pytest.mark.parametrize("split", [False, True])
def test_dev_text_is_normalized_as_the_training_text(tmp_path, split):
    # "café" in NFD: e + U+0301 (2 bytes); NFC: é (2 bytes), one byte fewer, and gpt2 cuts the mark off in NFD.
    nfd = "cafe\u0301 nai\u0308ve"
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab\nab\n", "fra_Latn.txt": f"{nfd}\n{nfd}!\n"})
    got = parity_dev.load_dev(dev, GPT2, split=split, normalization="NFC")
    plain = parity_dev.load_dev(dev, GPT2, split=split)
    whole = {"caf\u00e9": 1, " na\u00efve": 2, " caf\u00e9": 1, "!": 1}  # the lines joined by one space
    want = Counter({"caf\u00e9": 1, " na\u00efve": 1}) if split else Counter(whole)
    assert got.languages["fra_Latn"].choose == want
    assert plain.languages["fra_Latn"].choose != want and "\u0301" in plain.languages["fra_Latn"].choose
    if split:
        assert got.languages["fra_Latn"].held_out == Counter({"caf\u00e9": 1, " na\u00efve": 1, "!": 1})


def test_training_normalizes_the_dev_text(tmp_path, train):
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab\n", "fra_Latn.txt": "cafe\u0301\n"})
    options = {"vocab_size": 257, "pattern": "gpt2", "parity_dev": dev, "workers": 1}
    nfc = bbpe.train([train], normalization="NFC", **options).metadata["training"]["parity"]["dev_tokens"]
    raw = bbpe.train([train], **options).metadata["training"]["parity"]["dev_tokens"]
    assert nfc["fra_Latn"]["dev"][0] == len("caf\u00e9".encode()) == 5  # NFC: é is 2 bytes
    assert raw["fra_Latn"]["dev"][0] == len("cafe\u0301".encode()) == 6


def test_command_line_options_are_the_api_keywords(tmp_path, train, capsys):
    from bbpe import cli

    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab\nab\n", "fra_Latn.txt": "cdcd\ncd\n", "deu_Latn.txt": "g\ng\n"})
    options = {"parity_holdout": True, "parity_patience": 3, "parity_min_bytes": 20, "parity_global_merges": 1}
    api = bbpe.train([train], vocab_size=260, pattern="gpt2", parity_dev=dev, workers=1, **options)
    out = tmp_path / "v.json"
    argv = ["train", str(train), "--vocab", "260", "--pattern", "gpt2", "--parity-dev", str(dev), "-o", str(out)]
    flags = ["--parity-holdout", "--parity-patience", "3", "--parity-min-bytes", "20", "--parity-global-merges", "1"]
    assert cli.main([*argv, *flags, "-q"]) == 0
    saved = bbpe.load(out)
    assert new_tokens(saved) == new_tokens(api)
    info = saved.metadata["training"]["parity"]
    assert (info["patience"], info["min_language_bytes"], info["global_merges"]) == (3, 20, 1)
    assert info["held_out"] is not None and set(info["excluded"]) == {"fra_Latn", "deu_Latn"}
    for flag in (["--parity-holdout"], ["--parity-patience", "2"], ["--parity-min-bytes", "5"]):
        assert cli.main(["train", str(train), "--vocab", "260", *flag, "-o", str(tmp_path / "x.json")]) == 2
        assert f"bbpe: error: {flag[0]} needs --parity-dev" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(ValueError, match="parity_holdout needs parity_dev"):
        bbpe.train([train], vocab_size=260, parity_holdout=True)
    with pytest.raises(ValueError, match="parity_patience"):
        bbpe.train([train], vocab_size=260, parity_dev=dev, parity_patience=-1)
