"""``bbpe train --from-counts ... --min-count N``: count files read into flat arrays part by part, only the kept
words loaded, the same vocabulary as training on the filtered counts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_counts import TEXT_A, TEXT_B, run, words_of

import bbpe
from bbpe.formats import counts
from bbpe.pretokenize.patterns import CL100K

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'bbpe[parquet]')")

from bbpe.formats.count_arrays import read_arrays  # noqa: E402

WORDS = st.dictionaries(st.binary(min_size=1, max_size=6), st.integers(0, 9), max_size=30)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=WORDS, min_count=st.integers(1, 6))
def test_read_arrays_keeps_exactly_the_words_counted_min_count_times(tmp_path, words, min_count):
    path = tmp_path / "c.parquet"
    counts.write(path, words, pattern=CL100K)
    got = read_arrays(path, min_count=min_count)
    kept = {word: count for word, count in words.items() if count >= min_count}
    assert dict(zip(words_of(got), got.counts.tolist())) == kept
    assert len(got.counts) == len(kept) and got.unique == len(words)  # nothing else is held
    assert got.data.nbytes == sum(map(len, kept)) and got.settings.pattern == CL100K


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(WORDS, min_size=1, max_size=4), min_count=st.integers(1, 8))
def test_parts_of_other_engines_are_added_up_before_the_filter(tmp_path, parts, min_count):
    # Without run records the parts may repeat a word: its counts are added up, then compared with min_count.
    directory = tmp_path / "parts"
    directory.mkdir(exist_ok=True)
    for old in directory.glob("*"):
        old.unlink()
    for index, words in enumerate(parts):
        counts.write(directory / counts.part_name(index), words, pattern=CL100K)
    total: dict[bytes, int] = {}
    for words in parts:
        for word, count in words.items():
            total[word] = total.get(word, 0) + count
    got = read_arrays(directory, min_count=min_count)
    assert dict(zip(words_of(got), got.counts.tolist())) == {w: c for w, c in total.items() if c >= min_count}
    assert got.unique == len(total)


@pytest.mark.parametrize("parts", [None, 1, 3])
def test_settings_and_corpus_record_are_those_of_counts_read(tmp_path, capsys, parts):
    # The vocabulary's metadata (and so its file) is the same as when the counts were read into a dict.
    out = tmp_path / "c.parquet" if parts is None else tmp_path / "c"
    split = [] if parts is None else ["--parts", str(parts)]
    target = str(out) if parts is None else f"{out}/"
    assert run(["count", *corpus_files(tmp_path), "-o", target, *split, "-q", "--pattern", "gpt2"], capsys)[0] == 0
    whole, arrays = counts.read(out), read_arrays(out)
    assert arrays.settings == dataclasses.replace(whole, counts={})
    assert json.dumps(arrays.settings.corpus) == json.dumps(whole.corpus)  # same keys in the same order


def corpus_files(tmp_path: Path) -> list[str]:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT_A * 5 + "rare words only once\n", encoding="utf-8")
    b.write_text(TEXT_B * 3 + "another singleton\n", encoding="utf-8")
    return [str(a), str(b)]


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("min_count", [1, 2, 5])
@pytest.mark.parametrize("parts", [None, 3])
def test_min_count_trains_as_the_filtered_counts_do(tmp_path, capsys, backend, min_count, parts):
    if backend == "numba":
        pytest.importorskip("numba", reason="numba is not installed")
    out = tmp_path / "c.parquet" if parts is None else tmp_path / "c"
    split = [] if parts is None else ["--parts", str(parts)]
    target = str(out) if parts is None else f"{out}/"
    assert run(["count", *corpus_files(tmp_path), "-o", target, *split, "-q"], capsys)[0] == 0
    via = tmp_path / "via.json"
    argv = ["train", "--from-counts", target, "--vocab", "320", "-o", str(via), "-q", "--backend", backend]
    code, _, err = run([*argv, "--min-count", str(min_count)], capsys)
    assert code == 0, err
    whole = counts.read(out).counts
    kept = {word: count for word, count in whole.items() if count >= min_count}
    assert len(kept) < len(whole) or min_count == 1
    expected = bbpe.train_from_counts(kept, vocab_size=320, pattern=CL100K, backend="python")
    got = bbpe.Tokenizer.load(via)
    assert got.ranks == expected.ranks
    training = got.metadata["training"]
    assert training["unique_pretokens"] == len(kept)
    if min_count > 1:
        assert got.metadata["corpus"]["min_count"] == min_count
        assert got.metadata["corpus"]["unique_words_counted"] == len(whole)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--min-count", "0"], "--min-count must be at least 1"),
        (["--min-count", "2", "CORPUS"], "--min-count needs --from-counts"),
    ],
)
def test_bad_min_count_is_one_line(tmp_path, capsys, extra, message):
    corpus = corpus_files(tmp_path)[0]
    if "CORPUS" in extra:
        argv = ["train", corpus, "--vocab", "300", "-o", str(tmp_path / "v.json"), *extra[:-1]]
    else:
        counted = tmp_path / "c.parquet"
        run(["count", corpus, "-o", str(counted), "-q"], capsys)
        argv = ["train", "--from-counts", str(counted), "--vocab", "300", "-o", str(tmp_path / "v.json"), *extra]
    code, _, err = run(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "v.json").exists()


def test_min_count_with_split_digits_and_init_falls_back_to_a_dict(tmp_path, capsys):
    counted = tmp_path / "c.parquet"
    run(["count", *corpus_files(tmp_path), "-o", str(counted), "-q"], capsys)
    base = tmp_path / "base.json"
    assert run(["train", "--from-counts", str(counted), "--vocab", "280", "-o", str(base), "-q"], capsys)[0] == 0
    out = tmp_path / "ext.json"
    argv = ["train", "--from-counts", str(counted), "--vocab", "300", "-o", str(out), "-q", "--min-count", "2"]
    code, _, err = run([*argv, "--init", str(base)], capsys)
    assert code == 0, err
    kept = {w: c for w, c in counts.read(counted).counts.items() if c >= 2}
    expected = bbpe.train_from_counts(kept, vocab_size=300, init=bbpe.Tokenizer.load(base), backend="python")
    assert bbpe.Tokenizer.load(out).ranks == expected.ranks
