"""CLI: the main commands end to end, and one-line errors with exit code 2 for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bbpe
from bbpe.cli import main

CORPUS = "The quick brown fox jumps over the lazy dog. 12345\n" * 40 + "你好，世界。こんにちは\n" * 20


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.fixture
def vocab(tmp_path, corpus, capsys) -> Path:
    out = tmp_path / "v.json"
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(out), "--quiet", "--special", "<|eot|>"]) == 0
    capsys.readouterr()
    return out


def run_error(capsys, argv: list[str], message: str) -> str:
    """Run the CLI, expect exit 2 and exactly one stderr line containing ``message``."""
    code = _call(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err
    return lines[0]


def _call(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse errors
        return int(exit_.code or 0)


def test_train_summary_and_result(capsys, tmp_path, corpus):
    out = tmp_path / "v.json"
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(out), "--split-digits", "--pattern", "gpt2"]) == 0
    captured = capsys.readouterr()
    assert "trained 300 tokens (256 bytes + 44 merges + 0 special)" in captured.out
    assert "stopped: reached the vocab size" in captured.out
    assert "merging:" in captured.err and "ETA" in captured.err
    tok = bbpe.load(out)
    assert tok.vocab_size == 300
    assert tok.metadata["training"]["split_digits"] is True
    assert not any(len(t) > 1 and any(c in b"0123456789" for c in t) for t in tok.ranks)


def test_quiet_silences_progress(capsys, tmp_path, corpus):
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(tmp_path / "q.json"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_stop_reasons(capsys, tmp_path, corpus):
    out = str(tmp_path / "m.json")
    assert main(["train", str(corpus), "--vocab", "1000", "--max-merges", "5", "-o", out, "-q"]) == 0
    assert "reached --max-merges" in capsys.readouterr().out
    assert bbpe.load(out).vocab_size == 261
    assert main(["train", str(corpus), "--vocab", "100k", "--min-frequency", "10", "-o", out, "-q"]) == 0
    assert "no pair occurs min-frequency times" in capsys.readouterr().out


def test_encode_decode_inspect_export(capsys, tmp_path, vocab):
    assert main(["encode", str(vocab), "The quick brown fox"]) == 0
    ids = capsys.readouterr().out.split()
    assert main(["decode", str(vocab), *ids]) == 0
    assert capsys.readouterr().out == "The quick brown fox\n"
    assert main(["encode", str(vocab), "--tokens", "The fox"]) == 0
    assert capsys.readouterr().out.strip().startswith('"The"')
    assert main(["encode", str(vocab), "--allow-special", "a<|eot|>"]) == 0
    assert capsys.readouterr().out.split()[-1] == "299"
    assert main(["inspect", str(vocab)]) == 0
    report = capsys.readouterr().out
    assert "300 (299 regular, 43 multi-byte, 1 special)" in report
    assert "Latin" in report and "<|eot|>=299" in report
    for fmt, name in (("tiktoken", "v.tiktoken"), ("hf", "tokenizer.json")):
        target = tmp_path / name
        assert main(["export", str(vocab), "--format", fmt, "-o", str(target)]) == 0
        capsys.readouterr()
        extra = ["--pattern", "cl100k"] if fmt == "tiktoken" else []
        assert main(["encode", str(target), *extra, "The quick brown fox"]) == 0
        assert capsys.readouterr().out.split() == ids


def test_encode_reads_file_and_stdin(capsys, tmp_path, vocab, monkeypatch):
    text = tmp_path / "t.txt"
    text.write_text("jumps over")
    assert main(["encode", str(vocab), "-f", str(text)]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("jumps over"))
    assert main(["encode", str(vocab)]) == 0
    assert capsys.readouterr().out == from_file


def test_bad_inputs_give_one_line_and_exit_2(capsys, tmp_path, corpus, vocab):
    out = str(tmp_path / "o.json")
    run_error(capsys, ["train", str(tmp_path / "nope.txt"), "--vocab", "300", "-o", out], "nope.txt: no such file")
    run_error(capsys, ["train", str(tmp_path / "nodir") + "/", "--vocab", "300", "-o", out], "no such file")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    run_error(capsys, ["train", str(empty), "--vocab", "300", "-o", out], "corpus is empty")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    run_error(capsys, ["train", str(binary), "--vocab", "300", "-o", out, "-q"], "all input files are binary")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(b"ok\ncaf\xe9\n")
    run_error(
        capsys, ["train", str(latin), "--vocab", "300", "-o", out, "--strict-utf8"], "latin1.txt:2: invalid UTF-8"
    )
    run_error(capsys, ["train", str(corpus), "--vocab", "200", "-o", out], "smaller than the 256 base tokens")
    run_error(
        capsys,
        ["train", str(corpus), "--vocab", "257", "--special", "a", "--special", "b", "-o", out],
        "+ 2 special tokens",
    )
    run_error(capsys, ["train", str(corpus), "--vocab", "lots", "-o", out], "'lots' is not a number")
    run_error(
        capsys,
        ["train", str(corpus), "--vocab", "300", "--pattern", "gpt5", "-o", out],
        "unknown pattern preset 'gpt5'",
    )
    run_error(capsys, ["train", str(corpus), "--vocab", "300", "--regex", "[a-", "-o", out], "invalid regex")
    run_error(
        capsys, ["train", str(corpus), "--vocab", "300", "-o", str(tmp_path / "missing" / "v.json")], "does not exist"
    )
    assert not Path(out).exists()


def test_unwritable_output_directory(capsys, tmp_path, corpus, monkeypatch):
    monkeypatch.setattr("bbpe.output.os.access", lambda *a: False)
    run_error(capsys, ["train", str(corpus), "--vocab", "300", "-o", str(tmp_path / "v.json")], "not writable")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "bbpe", "version": 7}', "version 7 is not supported"),
        ('{"format": "bbpe", "version": 1, "pat', "truncated"),
        ("garbage line\n", ":1: expected '<base64 token> <rank>'"),
    ],
)
def test_corrupt_vocab_files(capsys, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    run_error(capsys, ["encode", str(path), "--pattern", "gpt2", "x"], message)
    run_error(capsys, ["inspect", str(path), "--pattern", "gpt2"], message)


def test_missing_vocab_and_bad_ids(capsys, tmp_path, vocab):
    run_error(capsys, ["encode", str(tmp_path / "none.json"), "x"], "no such vocabulary file")
    run_error(capsys, ["decode", str(vocab), "1", "x"], "token ids must be integers")
    run_error(capsys, ["decode", str(vocab), "999999"], "not in this vocabulary")


def test_interrupt_leaves_no_output(capsys, tmp_path, corpus, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("bbpe.cli.train.train", interrupted)
    out = tmp_path / "v.json"
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [corpus]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    from bbpe import output as _io

    target = tmp_path / "v.json"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_io.os, "replace", broken_replace)
    with pytest.raises(OSError):
        _io.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["v.json"]


def test_python_dash_m_and_help():
    result = subprocess.run([sys.executable, "-m", "bbpe", "--help"], capture_output=True, text=True, check=True)
    assert "train" in result.stdout and "export" in result.stdout
    result = subprocess.run([sys.executable, "-m", "bbpe", "train", "--help"], capture_output=True, text=True)
    assert "--split-digits" in result.stdout and result.returncode == 0


def test_the_console_entry_point_flushes_everything_and_keeps_the_exit_status(tmp_path, corpus, vocab):
    text = CORPUS * 50  # more than one pipe buffer of ids on stdout
    done = subprocess.run(
        [sys.executable, "-m", "bbpe", "encode", str(vocab)], input=text.encode(), capture_output=True, timeout=120
    )
    assert done.returncode == 0 and list(map(int, done.stdout.split())) == bbpe.load(vocab).encode(text)
    out = tmp_path / "again.json"
    argv = ["train", str(corpus), "--vocab", "300", "-o", str(out), "--special", "<|eot|>"]
    done = subprocess.run([sys.executable, "-m", "bbpe", *argv], capture_output=True)
    assert done.returncode == 0 and bbpe.load(out).ranks == bbpe.load(vocab).ranks
    missing = subprocess.run(
        [sys.executable, "-m", "bbpe", "train", str(tmp_path / "nope.txt"), "--vocab", "300", "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and missing.stderr.startswith("bbpe: error:")


def test_train_writes_valid_json(tmp_path, corpus):
    out = tmp_path / "v.json"
    main(["train", str(corpus), "--vocab", "260", "-o", str(out), "-q"])
    assert json.loads(out.read_text())["format"] == "bbpe"


def test_outputs_get_normal_permissions(tmp_path):
    import os

    from bbpe.output import atomic_write

    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "f.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
