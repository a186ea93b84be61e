"""Corpus reading: formats, compression, directories, stdin, bad input, determinism across workers."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
from pathlib import Path

import pytest

import bbpe
from bbpe.corpus.reading import CorpusStats, iter_lines
from bbpe.errors import CorpusError
from bbpe.training.counting.pretokens import count_pretokens

TEXT = "Hello world\nsecond line 123\n你好世界\n"


def test_compressed_files_read_transparently(tmp_path):
    for suffix, opener in ((".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)):
        path = tmp_path / f"c.txt{suffix}"
        with opener(path, "wt", encoding="utf-8") as handle:
            handle.write(TEXT)
        assert "".join(iter_lines([path])) == TEXT


def test_directories_are_walked_recursively_and_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("two\n")
    (tmp_path / "1.txt").write_text("one\n")
    (tmp_path / "skip.csv").write_text("ignored\n")
    with gzip.open(tmp_path / "b" / "3.txt.gz", "wt") as handle:
        handle.write("three\n")
    assert list(iter_lines([tmp_path])) == ["one\n", "two\n", "three\n"]


def test_jsonl_documents_are_split_into_lines(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"body": "a\nb"}) + "\n\n" + json.dumps({"body": "c"}) + "\n")
    assert list(iter_lines([path], jsonl_field="body")) == ["a\n", "b", "c"]
    with pytest.raises(CorpusError, match="jsonl-field"):
        list(iter_lines([path]))


def test_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(TEXT.encode()))))
    assert "".join(iter_lines(["-"])) == TEXT


def test_max_bytes_stops_at_whole_lines(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT)
    assert list(iter_lines([path], max_bytes=30)) == ["Hello world\n", "second line 123\n"]


def test_bad_inputs(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        list(iter_lines([tmp_path / "missing.txt"]))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(CorpusError, match="empty"):
        list(iter_lines([empty]))
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CorpusError, match="binary"):
        list(iter_lines([binary]))
    good = tmp_path / "good.txt"
    good.write_text("fine\n")
    stats = CorpusStats()
    assert list(iter_lines([binary, good], stats=stats)) == ["fine\n"]
    assert stats.skipped_binary == [str(binary)]
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(CorpusError, match="no \\*.txt"):
        list(iter_lines([tmp_path / "emptydir"]))


def test_invalid_utf8_is_replaced_and_counted_or_rejected(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ok\ncaf\xe9\nbad \xff\xfe\n")
    stats = CorpusStats()
    assert list(iter_lines([path], stats=stats)) == ["ok\n", "caf\ufffd\n", "bad \ufffd\ufffd\n"]
    assert stats.replaced_invalid_utf8 == 2
    with pytest.raises(CorpusError, match=r"latin1.txt:2: invalid UTF-8 at byte 3"):
        list(iter_lines([path], errors="strict"))


def test_counts_do_not_depend_on_workers_or_batches(any_text, monkeypatch):
    lines = any_text[:2_000_000].splitlines(keepends=True)
    one = count_pretokens(lines, bbpe.PRESETS["cl100k"], workers=1)
    monkeypatch.setattr("bbpe.corpus.documents.BLOCK", 50_000)
    two = count_pretokens(lines, bbpe.PRESETS["cl100k"], workers=2)
    assert one == two
    assert sum(one.values()) > 100_000


def test_special_tokens_are_cut_out_of_counts():
    counts = count_pretokens(["a<|x|>b\n"], r"\S+|\s+", special_tokens=["<|x|>"], workers=1)
    assert counts == {b"a": 1, b"b": 1, b"\n": 1}


def test_trained_file_is_identical_for_one_and_two_workers(tmp_path, any_text):
    corpus = tmp_path / "c.txt"
    corpus.write_text(any_text[:1_500_000], encoding="utf-8")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.json"
        bbpe.train([Path(corpus)], vocab_size=1500, workers=workers, backend="python").save(out)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
