"""Word-count files, counting that does not depend on sharding, and the count / --from-counts CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

import bbpe
from bbpe.cli import main
from bbpe.errors import BBPEError, VocabFormatError
from bbpe.formats import counts
from bbpe.formats.count_arrays import read_arrays
from bbpe.pretokenize.patterns import CL100K, GPT2, resolve_pattern
from bbpe.training.counting import pretokens as counting

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:
    pa = pq = None
needs_pyarrow = pytest.mark.skipif(pa is None, reason="pyarrow is not installed (pip install 'bbpe[parquet]')")

TEXT_A = "Hello world, hello 12345!\n東京の天気は晴れ。\n    indented code(x)\n" * 3
TEXT_B = "Hello again: world 2024-01-01\n北京下雨了。\n\tdef f(): return 1\n" * 2


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT_A, encoding="utf-8")
    b.write_text(TEXT_B, encoding="utf-8")
    return a, b


@needs_pyarrow
def test_round_trip_keeps_counts_and_settings(tmp_path):
    path = tmp_path / "c.parquet"
    source = {"hello": 3, " world": 2**40, b"\xff\xfe": 1, "東京": 2**64 - 1}
    counts.write(path, source, pattern=GPT2, special_tokens=["<|end|>"], split_digits=True, corpus={"bytes": 99})
    back = counts.read(path)
    assert back.counts == {(k.encode() if isinstance(k, str) else k): v for k, v in source.items()}
    assert (back.pattern, back.special_tokens, back.split_digits) == (GPT2, ("<|end|>",), True)
    assert (back.unit, back.normalization, back.corpus) == ("document", "none", {"bytes": 99})


@needs_pyarrow
def test_file_layout_is_the_documented_one(tmp_path):
    path = tmp_path / "c.parquet"
    counts.write(path, {"b": 1, "a": 2, "ab": 3, "\u00e9": 4}, pattern=CL100K)
    table = pq.read_table(path)
    assert table.schema.field("word").type == pa.binary()
    assert table.schema.field("count").type == pa.uint64()
    words = table.column("word").to_pylist()
    assert words == sorted(words) == [b"a", b"ab", b"b", "\u00e9".encode()]
    meta = json.loads(table.schema.metadata[b"bbpe"])
    assert meta["format"] == "bbpe-counts" and meta["version"] == 1
    assert (meta["pattern"], meta["unit"], meta["normalization"]) == (CL100K, "document", "none")
    assert meta["bbpe_version"] == bbpe.__version__


@needs_pyarrow
def test_counts_that_do_not_fit_uint64_are_refused(tmp_path):
    with pytest.raises(BBPEError, match="does not fit a uint64"):
        counts.write(tmp_path / "c.parquet", {"a": 2**64}, pattern=CL100K)
    assert not list(tmp_path.iterdir())


@needs_pyarrow
def test_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c.parquet"
    counts.write(path, {"old": 1}, pattern=CL100K)

    def interrupted(self, table, **kwargs):  # the rows are streamed: interrupted after the file was begun
        raise KeyboardInterrupt

    monkeypatch.setattr(pq.ParquetWriter, "write_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        counts.write(path, {"new": 2}, pattern=CL100K)
    monkeypatch.undo()
    assert counts.read(path).counts == {b"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.parquet"]


def write_raw(path: Path, columns: dict, metadata: dict | None) -> Path:
    schema_metadata = None if metadata is None else {b"bbpe": json.dumps(metadata).encode()}
    pq.write_table(pa.table(columns, metadata=schema_metadata), path)
    return path


GOOD_META = {"format": "bbpe-counts", "version": 1, "pattern": CL100K, "unit": "line", "normalization": "none"}


@needs_pyarrow
@pytest.mark.parametrize(
    ("columns", "metadata", "message"),
    [
        (lambda: {"word": [b"a"], "count": pa.array([1], pa.uint64())}, None, "not a bbpe word-count file"),
        (
            lambda: {"word": [b"a"], "count": pa.array([1], pa.uint64())},
            GOOD_META | {"version": 2},
            "word-count format version 2 is not supported",
        ),
        (
            lambda: {"word": [b"a"], "count": pa.array([1], pa.uint64())},
            GOOD_META | {"format": "other"},
            "not a bbpe word-count file",
        ),
        (
            lambda: {"word": [b"a"], "count": pa.array([1], pa.uint64())},
            GOOD_META | {"pattern": None},
            "no 'pattern' string",
        ),
        (
            lambda: {"token": [b"a"], "count": pa.array([1], pa.uint64())},
            GOOD_META,
            "expected columns 'word' and 'count'",
        ),
        (lambda: {"word": [1], "count": pa.array([1], pa.uint64())}, GOOD_META, "column 'word' must be binary"),
        (lambda: {"word": [b"a"], "count": [1.5]}, GOOD_META, "column 'count' must be an unsigned integer"),
        (lambda: {"word": [b"a", None], "count": pa.array([1, 2], pa.uint64())}, GOOD_META, "must not hold nulls"),
        (lambda: {"word": [b"a"], "count": pa.array([-3], pa.int64())}, GOOD_META, "negative count -3"),
    ],
)
@pytest.mark.parametrize("read", [counts.read, read_arrays], ids=["dict", "arrays"])
def test_bad_files_get_one_clear_error(tmp_path, columns, metadata, message, read):
    path = write_raw(tmp_path / "bad.parquet", columns(), metadata)
    with pytest.raises(VocabFormatError, match=message) as info:
        read(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


@needs_pyarrow
def test_a_zero_count_is_an_unsigned_count_like_any_other(tmp_path):
    path = write_raw(
        tmp_path / "zero.parquet", {"word": [b"a", b"b"], "count": pa.array([0, 2], pa.uint64())}, GOOD_META
    )
    assert counts.read(path).counts == {b"a": 0, b"b": 2}


@needs_pyarrow
@pytest.mark.parametrize("read", [counts.read, read_arrays], ids=["dict", "arrays"])
def test_truncated_and_foreign_files(tmp_path, read):
    whole = tmp_path / "whole.parquet"
    counts.write(whole, {f"w{i}": i + 1 for i in range(1000)}, pattern=CL100K)
    for size in (0, 8, len(whole.read_bytes()) // 2, len(whole.read_bytes()) - 3):
        cut = tmp_path / f"cut{size}.parquet"
        cut.write_bytes(whole.read_bytes()[:size])
        with pytest.raises(VocabFormatError, match="not a readable Parquet file"):
            read(cut)
    with pytest.raises(VocabFormatError, match="no such word-count file"):
        read(tmp_path / "missing.parquet")


@needs_pyarrow
def test_a_different_pattern_than_requested_is_refused(tmp_path):
    path = tmp_path / "c.parquet"
    counts.write(path, {"a": 1}, pattern=CL100K)
    assert counts.read(path, pattern=CL100K).pattern == CL100K
    with pytest.raises(VocabFormatError, match="counted with pattern cl100k, not the requested gpt2"):
        counts.read(path, pattern=GPT2)
    parts = tmp_path / "parts"  # a directory of parts (from another engine: no run records), merged first
    parts.mkdir()
    for i, word in enumerate([b"a", b"b"]):
        write_raw(parts / f"part-{i:05d}.parquet", {"word": [word], "count": pa.array([i + 1], pa.uint64())}, GOOD_META)
    assert counts.read(parts, pattern=CL100K).counts == {b"a": 1, b"b": 2}
    with pytest.raises(VocabFormatError, match="counted with pattern cl100k, not the requested gpt2"):
        counts.read(parts, pattern=GPT2)


@needs_pyarrow
def test_files_from_other_engines_are_accepted(tmp_path):
    # e.g. Spark: string words, signed int64 counts, any row order, a word split over two rows.
    path = write_raw(
        tmp_path / "spark.parquet", {"word": ["b", "a", "b"], "count": pa.array([2, 1, 5], pa.int64())}, GOOD_META
    )
    assert counts.read(path).counts == {b"a": 1, b"b": 7}
    words = read_arrays(path)
    assert dict(zip(words_of(words), words.counts.tolist())) == {b"a": 1, b"b": 7} and words.unique == 2


def words_of(arrays) -> list[bytes]:
    data, starts = arrays.data.tobytes(), arrays.starts.tolist()
    return [data[a:b] for a, b in zip(starts, starts[1:])]


def test_without_pyarrow_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match=r"pip install 'bbpe\[parquet\]'"):
        counts.read(tmp_path / "c.parquet")
    corpus = tmp_path / "t.txt"
    corpus.write_text("hi\n")
    code, _, err = run(["count", str(corpus), "-o", str(tmp_path / "c.parquet"), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1 and "pip install 'bbpe[parquet]'" in err


def test_counts_do_not_depend_on_workers_or_batches(monkeypatch):
    lines = (TEXT_A + TEXT_B).splitlines(keepends=True) * 5
    one = counting.count_pretokens(lines, CL100K, workers=1)
    monkeypatch.setattr("bbpe.corpus.documents.BLOCK", 37)
    assert counting.count_pretokens(lines, CL100K, workers=2) == one
    assert counting.count_pretokens(lines, CL100K, workers=1) == one


@needs_pyarrow
def test_count_of_a_plus_b_is_the_merge_of_the_counts(corpus, tmp_path, capsys):
    a, b = corpus
    files = {name: str(tmp_path / f"{name}.parquet") for name in ("a", "b", "ab", "merged")}
    assert run(["count", str(a), str(b), "-o", files["ab"], "-q", "--workers", "2"], capsys)[0] == 0
    assert run(["count", str(a), "-o", files["a"], "-q", "--workers", "1"], capsys)[0] == 0
    assert run(["count", str(b), "-o", files["b"], "-q"], capsys)[0] == 0
    code, out, _ = run(["count", "--merge", files["a"], files["b"], "-o", files["merged"]], capsys)
    assert code == 0 and "added up 2 count files" in out
    whole, merged = counts.read(files["ab"]), counts.read(files["merged"])
    assert merged.counts == whole.counts
    assert whole.counts == counting.count_pretokens([TEXT_A, TEXT_B], CL100K, workers=1)
    assert merged.pattern == whole.pattern == CL100K
    assert {k: merged.corpus[k] for k in ("bytes", "lines", "files")} == {
        k: whole.corpus[k] for k in ("bytes", "lines", "files")
    }


@needs_pyarrow
def test_merge_refuses_different_settings(corpus, tmp_path, capsys):
    a, b = corpus
    cl, gpt, special = (str(tmp_path / f"{n}.parquet") for n in ("cl", "gpt", "sp"))
    run(["count", str(a), "-o", cl, "-q"], capsys)
    run(["count", str(b), "-o", gpt, "--pattern", "gpt2", "-q"], capsys)
    run(["count", str(b), "-o", special, "--special", "<|x|>", "-q"], capsys)
    for other, what in ((gpt, "different pattern (gpt2 vs cl100k)"), (special, "different special tokens")):
        code, _, err = run(["count", "--merge", cl, other, "-o", str(tmp_path / "m.parquet")], capsys)
        assert code == 2 and what in err and err.count("\n") == 1
    assert not (tmp_path / "m.parquet").exists()


@needs_pyarrow
def test_train_from_counts_equals_training_on_the_corpus(corpus, tmp_path, capsys):
    a, b = corpus
    file, direct, via = tmp_path / "c.parquet", tmp_path / "direct.json", tmp_path / "via.json"
    run(["count", str(a), str(b), "-o", str(file), "--pattern", "gpt2", "--special", "<|x|>", "-q"], capsys)
    run(
        [
            "train",
            str(a),
            str(b),
            "--vocab",
            "300",
            "-o",
            str(direct),
            "--pattern",
            "gpt2",
            "--special",
            "<|x|>",
            "-q",
            "--backend",
            "python",
        ],
        capsys,
    )
    code, out, _ = run(
        ["train", "--from-counts", str(file), "--vocab", "300", "-o", str(via), "-q", "--backend", "python"], capsys
    )
    assert code == 0 and "trained 300 tokens" in out
    left, right = bbpe.Tokenizer.load(direct), bbpe.Tokenizer.load(via)
    assert left.ranks == right.ranks and left.pattern == right.pattern == GPT2
    assert right.special_tokens == left.special_tokens == {"<|x|>": 299}


@needs_pyarrow
def test_huge_counts_survive_the_file_and_training(tmp_path):
    path = tmp_path / "big.parquet"
    counts.write(path, {"hello": 3 * 2**31, " world": 2**33 + 7}, pattern=CL100K)
    data = counts.read(path)
    assert data.counts[b"hello"] == 3 * 2**31
    tok = bbpe.train_from_counts(data.counts, vocab_size=262, pattern=data.pattern, backend="python")
    assert tok.token_bytes(256) == b" w"  # the pair inside " world" (2**33 + 7) beats "hello" (3 * 2**31)


@needs_pyarrow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "{a}", "--from-counts", "{c}", "--vocab", "300"], "give corpus inputs or --from-counts, not both"),
        (["train", "--vocab", "300"], "give corpus inputs (files, directories or -) or --from-counts FILE"),
        (
            ["train", "--from-counts", "{c}", "--vocab", "300", "--pattern", "gpt2"],
            "counted with pattern cl100k, not the requested gpt2",
        ),
        (
            ["train", "--from-counts", "{c}", "--vocab", "300", "--split-digits"],
            "not the requested cl100k + split digits",
        ),
        (["train", "--from-counts", "{c}", "--vocab", "300", "--max-bytes", "10"], "--max-bytes applies to counting"),
        (["train", "--from-counts", "{a}", "--vocab", "300"], "not a readable Parquet file"),
        (["train", "--from-counts", "{missing}", "--vocab", "300"], "no such word-count file"),
        (["count", "--merge", "{c}", "{c}", "--pattern", "gpt2"], "--pattern applies to counting a corpus"),
        (["count", "{missing}"], "no such file or directory"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(corpus, tmp_path, capsys, argv, message):
    a, _ = corpus
    file = tmp_path / "c.parquet"
    counts.write(file, {"a": 1}, pattern=CL100K)
    names = {"a": a, "c": file, "missing": tmp_path / "missing"}
    out = tmp_path / "out.file"
    code, _, err = run([arg.format(**names) for arg in argv] + ["-o", str(out), "-q"], capsys)
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()


def _die(unit: object, settings: object) -> Counter[bytes]:
    os._exit(9)  # a worker killed mid-batch (as by the OOM killer)


def test_a_killed_counting_worker_ends_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(counting, "count_unit", _die)
    with pytest.raises(BBPEError, match="a worker process died"):
        counting.count_pretokens(["some text\n"] * 100, CL100K, workers=2)


@needs_pyarrow
def test_split_digit_counts_keep_their_pattern(corpus, tmp_path, capsys):
    a, _ = corpus
    path = tmp_path / "c.parquet"
    run(["count", str(a), "-o", str(path), "--split-digits", "-q"], capsys)
    data = counts.read(path)
    assert data.pattern == resolve_pattern("cl100k", split_digits=True) and data.split_digits
    assert b"12" not in data.counts and b"1" in data.counts


# -- a directory of parts is written and read as one set (issue 21) -----------------------------------
def _parts(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def old_set(corpus, tmp_path, capsys) -> Path:
    """A directory of 5 parts counted from a.txt, which the tests try to replace with 3 parts of b.txt."""
    a, _ = corpus
    out = tmp_path / "counts"
    assert run(["count", str(a), "-o", f"{out}/", "--parts", "5", "-q", "--workers", "1"], capsys)[0] == 0
    return out


def _fail_at_bucket(monkeypatch, bucket: int, fail) -> None:
    """Make the reduce task of ``bucket`` write half a part, then call ``fail`` (which raises or signals)."""
    from bbpe.training.counting import process_pool as count_local

    real = count_local.reduce_bucket

    def reduce(runs, out_path, metadata, min_count=1):
        if metadata["run"]["part"] == bucket:
            Path(out_path).write_bytes(b"half a part")
            fail()
        return real(runs, out_path, metadata, min_count)

    monkeypatch.setattr(count_local, "reduce_bucket", reduce)


def _disk_full() -> None:
    raise OSError(28, "No space left on device")


def _sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # main()'s handler raises Terminated here


@needs_pyarrow
@pytest.mark.parametrize(
    ("fail", "code", "message"),
    [
        (_disk_full, 2, "bbpe: error: output: no space left on device"),
        (_sigterm, 128 + signal.SIGTERM, f"bbpe: terminated by signal {signal.SIGTERM}"),
    ],
)
def test_a_failed_reduce_leaves_the_old_set_intact(corpus, old_set, capsys, monkeypatch, fail, code, message):
    _, b = corpus
    before = _parts(old_set)
    _fail_at_bucket(monkeypatch, 1, fail)
    result, _, err = run(["count", str(b), "-o", f"{old_set}/", "--parts", "3", "-q", "--workers", "1"], capsys)
    assert result == code and err.count("\n") == 1 and err.startswith(message), err
    assert _parts(old_set) == before  # all five old parts, no new part, no temporary file
    assert counts.read(old_set).counts == counting.count_pretokens([TEXT_A], CL100K, workers=1)


@needs_pyarrow
def test_a_signal_during_the_renames_is_held_until_the_set_is_complete(corpus, old_set, capsys, monkeypatch):
    from bbpe import output

    _, b = corpus
    real_replace = output.os.replace
    calls: list[str] = []

    def replace(source, target):
        if Path(target).parent == old_set:  # the renames of the set (not the map tasks' run files)
            if not calls:
                os.kill(os.getpid(), signal.SIGTERM)
            calls.append(str(target))
        real_replace(source, target)

    monkeypatch.setattr(output.os, "replace", replace)
    result, _, err = run(["count", str(b), "-o", f"{old_set}/", "--parts", "3", "-q", "--workers", "1"], capsys)
    assert result == 128 + signal.SIGTERM, err
    assert len(calls) == 3 and sorted(os.listdir(old_set)) == [f"part-{i:05d}.parquet" for i in range(3)]
    assert counts.read(old_set).counts == counting.count_pretokens([TEXT_B], CL100K, workers=1)


@needs_pyarrow
def test_a_new_set_replaces_stale_parts_and_leftover_temporaries(corpus, old_set, capsys):
    _, b = corpus
    (old_set / ".part-00001.parquet.x1y2z3.tmp").write_bytes(b"left by a killed run")
    (old_set / "notes.txt").write_text("not ours")
    assert run(["count", str(b), "-o", f"{old_set}/", "--parts", "3", "-q", "--workers", "1"], capsys)[0] == 0
    assert sorted(os.listdir(old_set)) == ["notes.txt", *(f"part-{i:05d}.parquet" for i in range(3))]
    first = _parts(old_set)
    assert run(["count", str(b), "-o", f"{old_set}/", "--parts", "3", "-q", "--workers", "2"], capsys)[0] == 0
    assert _parts(old_set) == first  # same input: byte-identical parts (the run id is a hash of it)


@needs_pyarrow
def test_a_failed_count_into_a_new_directory_leaves_nothing(corpus, tmp_path, capsys, monkeypatch):
    a, _ = corpus
    _fail_at_bucket(monkeypatch, 0, _disk_full)
    assert run(["count", str(a), "-o", f"{tmp_path / 'new'}/", "-q", "--workers", "1"], capsys)[0] == 2
    assert not (tmp_path / "new").exists()


def _mixtures(a_set: Path, b_set: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Directories that are not one run's output, and the message each must give."""
    import shutil

    made: dict[str, tuple[Path, str]] = {}

    def variant(name: str, message: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(a_set, folder)
        made[name] = (folder, message)
        return folder

    shutil.copy(b_set / "part-00001.parquet", variant("mixed", "mixes parts of different `bbpe count` runs"))
    (variant("missing", "misses part-00002.parquet of the 3 parts") / "part-00002.parquet").unlink()
    shutil.copy(
        a_set / "part-00000.parquet", variant("extra", "holds parts beyond part-00002.parquet") / "part-00003.parquet"
    )
    (
        variant("leftover", "temporary file(s) of an unfinished `bbpe count`") / ".part-00001.parquet.abc.tmp"
    ).write_bytes(b"")
    return made


@needs_pyarrow
def test_a_directory_that_mixes_runs_is_refused_when_read(corpus, tmp_path, capsys):
    a, b = corpus
    a_set, b_set = tmp_path / "a_set", tmp_path / "b_set"
    for source, folder in ((a, a_set), (b, b_set)):
        assert run(["count", str(source), "-o", f"{folder}/", "--parts", "3", "-q"], capsys)[0] == 0
    for folder, message in _mixtures(a_set, b_set, tmp_path).values():
        with pytest.raises(VocabFormatError, match=re.escape(message)):
            counts.read(folder)
        for argv in (
            ["train", "--from-counts", str(folder), "--vocab", "300", "-o", str(tmp_path / "v.json")],
            ["count", "--merge", str(folder), "-o", str(tmp_path / "m.parquet")],
        ):
            code, _, err = run(argv, capsys)
            assert code == 2 and err.count("\n") == 1 and message in err and str(folder) in err, err
        assert not (tmp_path / "v.json").exists() and not (tmp_path / "m.parquet").exists()
    assert counts.read(a_set).counts == counting.count_pretokens([TEXT_A], CL100K, workers=1)


@needs_pyarrow
def test_parts_without_run_records_are_read_as_before(tmp_path):
    # Directories of parts written by other engines (Spark, Dask) carry no run record: nothing to check.
    folder = tmp_path / "spark"
    folder.mkdir()
    write_raw(folder / "part-00000.parquet", {"word": [b"a"], "count": pa.array([2], pa.uint64())}, GOOD_META)
    write_raw(folder / "part-00007.parquet", {"word": [b"b"], "count": pa.array([3], pa.uint64())}, GOOD_META)
    assert counts.read(folder).counts == {b"a": 2, b"b": 3}
    bad = GOOD_META | {"run": {"id": "x", "part": 3, "parts": 2}}
    write_raw(folder / "part-00001.parquet", {"word": [b"c"], "count": pa.array([1], pa.uint64())}, bad)
    with pytest.raises(VocabFormatError, match="metadata 'run'"):
        counts.read(folder)


@needs_pyarrow
def test_merge_refuses_counts_whose_pair_sums_could_overflow(tmp_path, capsys):
    a, b, out = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "m.parquet"
    for path in (a, b):
        counts.write(path, {"ab": 2**62}, pattern=CL100K)  # each trains; added up, (a, b) occurs 2**63 times
    assert bbpe.train_from_counts(counts.read(a).counts, vocab_size=257).token_bytes(256) == b"ab"
    code, _, err = run(["count", "--merge", str(a), str(b), "-o", str(out)], capsys)
    assert code == 2 and err.count("\n") == 1 and "pair counts could overflow 64-bit integers" in err, err
    assert "the sum of the 2 count files" in err and not out.exists()


@needs_pyarrow
def test_a_crafted_part_count_is_one_line_at_once(tmp_path):
    folder = tmp_path / "crafted"
    folder.mkdir()
    meta = GOOD_META | {"run": {"id": "x", "part": 0, "parts": 10**12}}  # never a list of 10**12 names
    write_raw(folder / "part-00000.parquet", {"word": [b"a"], "count": pa.array([2], pa.uint64())}, meta)
    with pytest.raises(VocabFormatError, match="misses part-00001.parquet of the 1000000000000 parts"):
        counts.read(folder)
