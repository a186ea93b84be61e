"""Hostile input (issue 9): outputs, patterns, numbers, text and the CLI's last line of defence.

Every case runs the CLI in-process and checks the exit code, exactly one stderr line with the
expected message, and that no output or temporary file is left (or the old output is untouched).
File readers: tests/test_hostile_files.py; signals: tests/test_hostile_signals.py.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import bbpe
from bbpe.cli import inspection, main

CORPUS = "The quick brown fox jumps over the lazy dog. 12345\n" * 30 + "你好，世界。こんにちは\n" * 10


def call(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse errors
        return int(exit_.code or 0)


def one_error(capsys, argv: list[str], message: str, *, code: int = 2) -> str:
    """Run the CLI; expect ``code`` and exactly one stderr line containing ``message`` (case-insensitive)."""
    result = call(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert result == code, err
    assert len(lines) == 1, err
    assert message.lower() in lines[0].lower(), lines[0]
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.fixture
def vocab(tmp_path, corpus, capsys) -> Path:
    out = tmp_path / "v.json"
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(out), "-q", "--workers", "1"]) == 0
    capsys.readouterr()
    return out


# -- outputs ----------------------------------------------------------------------------------
def _mknod(path: Path, device: int) -> Path:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, device)
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc})")
    return path


def test_output_on_a_device_node_writes_through_it(capsys, tmp_path, vocab):
    null = _mknod(tmp_path / "null", os.makedev(1, 3))
    assert call(["export", str(vocab), "--format", "tiktoken", "-o", str(null)]) == 0
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert call(["export", str(vocab), "--format", "tiktoken", "-o", "/dev/null"]) == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert leftovers(tmp_path) == []


def test_output_on_dev_full_is_one_no_space_line(capsys, tmp_path, vocab):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    one_error(capsys, ["export", str(vocab), "--format", "tiktoken", "-o", "/dev/full"], "no space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_output_on_dev_stdout_prints(vocab):
    done = subprocess.run(
        [sys.executable, "-m", "bbpe", "export", str(vocab), "--format", "tiktoken", "-o", "/dev/stdout"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("AA== 0\nAQ== 1\n")


def test_symlink_output_writes_the_target_and_keeps_the_link(capsys, tmp_path, corpus):
    target, link = tmp_path / "t.json", tmp_path / "l.json"
    target.write_text("old")
    link.symlink_to(target.name)
    assert call(["train", str(corpus), "--vocab", "270", "-o", str(link), "-q", "--workers", "1"]) == 0
    assert link.is_symlink() and os.readlink(link) == "t.json"
    assert bbpe.load(target).vocab_size == 270


def test_existing_output_keeps_its_mode(capsys, tmp_path, corpus):
    out = tmp_path / "v.json"
    out.write_text("old")
    out.chmod(0o640)
    assert call(["train", str(corpus), "--vocab", "270", "-o", str(out), "-q", "--workers", "1"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.parametrize("command", ["train", "count"])
def test_output_that_is_an_input_is_refused(capsys, tmp_path, corpus, command):
    extra = ["--vocab", "300"] if command == "train" else []
    one_error(capsys, [command, str(corpus), *extra, "-o", str(corpus)], "the output is also an input")
    one_error(capsys, [command, str(tmp_path), *extra, "-o", str(tmp_path / "new.txt")], "inside the input directory")
    assert corpus.read_text(encoding="utf-8") == CORPUS
    assert not (tmp_path / "new.txt").exists()


def test_export_onto_its_own_vocab_is_refused(capsys, vocab):
    before = vocab.read_bytes()
    one_error(capsys, ["export", str(vocab), "--format", "hf", "-o", str(vocab)], "also an input")
    assert vocab.read_bytes() == before


def test_report_files_are_written_as_one_set(tmp_path, monkeypatch):
    from bbpe import output as _io
    from bbpe.cli.report import write_outputs

    old = {"compression.md": "old md", "compression.csv": "old csv", "compression.json": "old json"}
    for name, text in old.items():
        (tmp_path / name).write_text(text)
    calls = []

    def fsync_until_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", fsync_until_full)
    with pytest.raises(OSError, match="No space"):
        write_outputs(tmp_path, {name: "new" for name in old})
    assert {name: (tmp_path / name).read_text() for name in old} == old
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    write_outputs(tmp_path, {name: "new" for name in old})
    assert {(tmp_path / name).read_text() for name in old} == {"new"}


# -- patterns ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("x*", "matches the empty string"),
        ("a|(?=b)", "empty string"),
        (r"\w+", "drops text"),
        ("[^q]+", "drops text: it matches nothing at character"),  # passed the old probe text, then dropped every q
        (r"[^\p{Mandaic}]+", "U+0840"),
        (r"(\w+)|(?s:.)", "capturing groups"),
        (r"(\w)(\w)|(?s:.)", "capturing groups"),
        (r"\X", "tiktoken"),
        ("", "is empty"),
        ("[a-", "invalid regex"),
    ],
)
def test_bad_custom_regex_is_refused_before_any_work(capsys, tmp_path, corpus, regex, message):
    out = tmp_path / "v.json"
    one_error(capsys, ["train", str(corpus), "--vocab", "300", "--regex", regex, "-o", str(out)], message)
    assert not out.exists() and leftovers(tmp_path) == []


def test_bad_pattern_in_a_vocab_file_is_refused(capsys, tmp_path, vocab):
    data = json.loads(vocab.read_text())
    data["pattern"] = "x*"
    vocab.write_text(json.dumps(data))
    line = one_error(capsys, ["encode", str(vocab), "hello"], "matches the empty string")
    assert str(vocab) in line


def test_bad_pattern_in_a_count_file_is_refused(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    from bbpe.formats import counts

    path = tmp_path / "c.parquet"
    counts.write(path, {"ab": 3}, pattern=r"\w+")  # the writer trusts its caller; the reader checks
    line = one_error(
        capsys, ["train", "--from-counts", str(path), "--vocab", "300", "-o", str(tmp_path / "v.json")], "drops text"
    )
    assert str(path) in line


def test_custom_possessive_regex_exports_to_hf_with_the_same_ids(capsys, tmp_path, corpus):
    tokenizers = pytest.importorskip("tokenizers")
    regex = r"\p{L}++|\p{N}{1,3}+|\s++|[^\p{L}\p{N}\s]++"
    out, hf = tmp_path / "v.json", tmp_path / "tokenizer.json"
    assert call(["train", str(corpus), "--vocab", "300", "--regex", regex, "-o", str(out), "-q", "--workers", "1"]) == 0
    assert call(["export", str(out), "--format", "hf", "-o", str(hf)]) == 0
    text = "12345678 quick, brown!! 你好 " + CORPUS[:200]
    assert tokenizers.Tokenizer.from_file(str(hf)).encode(text).ids == bbpe.load(out).encode(text)


def test_hf_export_that_disagrees_is_refused(capsys, tmp_path, vocab, monkeypatch):
    pytest.importorskip("tokenizers")
    monkeypatch.setattr("bbpe.formats.hf.to_oniguruma", lambda pattern: r"\S+|\s+")
    out = tmp_path / "tokenizer.json"
    one_error(capsys, ["export", str(vocab), "--format", "hf", "-o", str(out)], "other ids than bbpe")
    assert not out.exists() and leftovers(tmp_path) == []


# -- numbers ----------------------------------------------------------------------------------
def test_decimal_counts_are_exact(capsys, tmp_path, corpus):
    out = tmp_path / "v.json"
    assert call(["train", str(corpus), "--vocab", "2.01k", "-o", str(out), "-q", "--workers", "1"]) == 0
    assert bbpe.load(out).metadata["training"]["vocab_size_requested"] == 2010


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--vocab", "inf", "not a finite number"),
        ("--vocab", "nan", "not a finite number"),
        ("--vocab", "1e400", "too large"),
        ("--vocab", "3G", "too large"),
        ("--vocab", "-300", "not a whole non-negative number"),
        ("--vocab", "300.5", "not a whole non-negative number"),
        ("--max-merges", "1e400", "too large"),
        ("--min-frequency=-inf", None, "not a finite number"),
        ("--max-bytes", "0.5", "not a whole"),
        ("--max-bytes", "0", "max_bytes must be at least 1"),
        ("--workers", "1G", "too many worker processes"),
    ],
)
def test_bad_numbers_are_one_line(capsys, tmp_path, corpus, option, value, message):
    argv = ["train", str(corpus), "-o", str(tmp_path / "v.json"), "-q", option, *([value] if value else [])]
    one_error(capsys, argv if option == "--vocab" else [*argv, "--vocab", "300"], message)
    assert not (tmp_path / "v.json").exists()


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_absurd_vocab_is_harmless(capsys, tmp_path, corpus, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    out = tmp_path / "v.json"
    assert (
        call(["train", str(corpus), "--vocab", "1G", "--backend", backend, "-o", str(out), "-q", "--workers", "1"]) == 0
    )
    assert bbpe.load(out).metadata["training"]["stop_reason"] == "min_frequency"


# -- text -------------------------------------------------------------------------------------
def test_encode_file_keeps_carriage_returns(capsys, tmp_path, vocab):
    text = "one\r\ntwo\rthree\n"
    source = tmp_path / "t.txt"
    source.write_bytes(text.encode())
    assert main(["encode", str(vocab), "-f", str(source)]) == 0
    from_file = capsys.readouterr().out.split()
    expected = bbpe.load(vocab).encode(text)
    assert list(map(int, from_file)) == expected != bbpe.load(vocab).encode(text.replace("\r\n", "\n"))
    done = subprocess.run(
        [sys.executable, "-m", "bbpe", "encode", str(vocab)], input=text.encode(), capture_output=True, timeout=120
    )
    assert list(map(int, done.stdout.split())) == expected


def test_jsonl_and_text_files_split_lines_the_same_way(capsys, tmp_path):
    text = "a\rb\x0cc\x1cd\x85e\u2028f\u2029g\n" * 30 + "end of one document\n" * 20
    (tmp_path / "t.txt").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "d.jsonl").write_text(json.dumps({"text": text}) + "\n", encoding="utf-8")
    for name in ("t.txt", "d.jsonl"):
        assert (
            call(
                [
                    "train",
                    str(tmp_path / name),
                    "--vocab",
                    "290",
                    "-o",
                    str(tmp_path / f"{name}.json"),
                    "-q",
                    "--workers",
                    "1",
                ]
            )
            == 0
        )
    assert bbpe.load(tmp_path / "t.txt.json").ranks == bbpe.load(tmp_path / "d.jsonl.json").ranks
    assert bbpe.train([text], vocab_size=290, workers=1).ranks == bbpe.load(tmp_path / "t.txt.json").ranks


@pytest.mark.parametrize("engine", ["python", "tiktoken"])
def test_lone_surrogates_raise_in_both_engines(engine):
    tok = bbpe.Tokenizer.from_bytes_only(engine=engine)
    for call_it in (tok.encode, tok.encode_ordinary, lambda t: tok.encode_batch([t])):
        with pytest.raises(ValueError, match="lone surrogate"):
            call_it("ab\udcffc")


def test_lone_surrogate_on_the_command_line_is_one_line(capsys, vocab):
    one_error(capsys, ["encode", str(vocab), "ab\udcff"], "lone surrogate")


def test_lone_surrogate_escape_in_jsonl_is_replaced_or_refused(capsys, caplog, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"text": "ab\ud800cd ab ab ab\n" * 5}) + "\n")
    out = tmp_path / "v.json"
    assert call(["train", str(path), "--vocab", "260", "-o", str(out), "--workers", "1"]) == 0
    assert "lone surrogate replaced by U+FFFD" in caplog.text
    capsys.readouterr()
    assert bbpe.load(out).metadata["corpus"]["replaced_invalid_utf8"] == 5  # one per replaced character
    one_error(capsys, ["train", str(path), "--vocab", "260", "-o", str(out), "--strict-utf8"], "s.jsonl:1: a lone")
    with pytest.raises(ValueError, match="lone surrogate"):
        bbpe.train(["ab\udcff"], vocab_size=260, workers=1)


def test_empty_special_token_for_count_is_refused(capsys, tmp_path, corpus):
    out = tmp_path / "c.parquet"
    one_error(capsys, ["count", str(corpus), "--special", "", "-o", str(out)], "special token cannot be empty")
    assert not out.exists()


def test_tokenizer_json_mentioning_bbpe_loads_as_tokenizer_json(capsys, tmp_path, corpus):
    pytest.importorskip("tokenizers")
    out, hf = tmp_path / "v.json", tmp_path / "tokenizer.json"
    assert (
        call(["train", str(corpus), "--vocab", "300", "--special", "bbpe", "-o", str(out), "-q", "--workers", "1"]) == 0
    )
    assert call(["export", str(out), "--format", "hf", "-o", str(hf)]) == 0
    assert b"bbpe" in hf.read_bytes()[:4096]
    assert bbpe.load(hf).encode("quick bbpe", allowed_special="all") == bbpe.load(out).encode(
        "quick bbpe", allowed_special="all"
    )


@pytest.mark.parametrize("kind", ["gz", "xz", "bz2"])
def test_damaged_compressed_corpus_is_one_line(capsys, tmp_path, kind):
    opener = {"gz": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress}[kind]
    data = bytearray(opener(("some text to compress %d\n" * 2000 % tuple(range(2000))).encode()))
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # damaged stream
    damaged = tmp_path / f"d.txt.{kind}"
    damaged.write_bytes(data)
    truncated = tmp_path / f"t.txt.{kind}"
    truncated.write_bytes(opener(b"short text\n" * 100)[:-20])
    for path in (damaged, truncated):
        line = one_error(
            capsys, ["train", str(path), "--vocab", "300", "-o", str(tmp_path / "v.json"), "-q"], str(path)
        )
        assert "read error" in line
    assert not (tmp_path / "v.json").exists()


# -- last line of defence ---------------------------------------------------------------------
def test_unexpected_exception_is_one_internal_error_line(capsys, monkeypatch, vocab):
    def broken(args):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(inspection, "_cmd_inspect", broken)
    line = one_error(capsys, ["inspect", str(vocab)], "internal error: RuntimeError: something unforeseen", code=70)
    assert "--debug" in line
    assert call(["--debug", "inspect", str(vocab)]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("bbpe: internal error:")


def test_memory_error_and_ctrl_c(capsys, monkeypatch, vocab):
    def out_of_memory(args):
        raise MemoryError

    monkeypatch.setattr(inspection, "_cmd_inspect", out_of_memory)
    one_error(capsys, ["inspect", str(vocab)], "out of memory")

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(inspection, "_cmd_inspect", interrupted)
    one_error(capsys, ["inspect", str(vocab)], "interrupted", code=130)
