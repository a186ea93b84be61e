"""Tokens you can see in a terminal: ``encode --tokens --color``, ``compare-text``, ``inspect --plot``."""

from __future__ import annotations

import io
import re
import struct
import sys
from pathlib import Path

import pytest

import bbpe
from bbpe.analysis.token_view import pieces, render, use_color
from bbpe.cli import main
from bbpe.tokenizer_adapters import BBPEAdapter

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TEXT = "Hello wörld, 你好 🤗 hello hello"


@pytest.fixture(scope="module")
def vocab(tmp_path_factory) -> tuple[bbpe.Tokenizer, Path]:
    corpus = ("Hello world, hello wörld! 你好，世界。 " * 30 + "Größe Straße 12345\n") * 5
    tok = bbpe.train([corpus], vocab_size=320, pattern="cl100k", workers=1)
    path = tmp_path_factory.mktemp("view") / "v.json"
    tok.save(path)
    return tok, path


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_rules(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color("auto", _Terminal()) and not use_color("auto", io.StringIO())
    assert use_color("always", io.StringIO()) and not use_color("never", _Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", _Terminal()) and use_color("always", _Terminal())


def test_coloured_pieces_alternate_and_mark_partial_utf8(vocab):
    tok, _ = vocab
    found = pieces(BBPEAdapter(tok, "v"), TEXT)
    assert [p.id for p in found] == tok.encode(TEXT)
    partial = [p for p in found if p.partial]
    assert b"".join(p.data for p in partial) == "🤗".encode()  # the emoji is split into byte tokens
    drawn = render(found, color=True)
    styles = ANSI.findall(drawn)
    assert len([s for s in styles if s != "\x1b[0m"]) == len(found)  # one background per piece
    backgrounds = [s for s in styles if "48;5;153" in s or "48;5;223" in s]
    assert len(backgrounds) == len(found) - len(partial)
    assert styles.count("\x1b[97;48;5;160m") + styles.count("\x1b[97;48;5;124m") == len(partial)
    assert ANSI.sub("", drawn) == TEXT.replace("🤗", "".join(p.hex for p in partial))


def test_encode_tokens_colour_on_request_off_when_piped(vocab, capsys, monkeypatch):
    _, path = vocab
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["encode", str(path), "--tokens", TEXT]) == 0  # capsys is not a terminal: auto means no colour
    plain = capsys.readouterr().out
    assert "\x1b[" not in plain and plain.startswith('"Hello"')
    assert main(["encode", str(path), "--tokens", "--color", "always", TEXT]) == 0
    coloured = capsys.readouterr().out
    assert "\x1b[30;48;5;153mHello\x1b[0m" in coloured
    monkeypatch.setattr("sys.stdout", _Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["encode", str(path), "--tokens", TEXT]) == 0
    assert "\x1b[" not in sys.stdout.getvalue()


def test_compare_text_one_line_per_tokenizer(vocab, tmp_path, capsys, monkeypatch):
    tok, path = vocab
    bytes_only = tmp_path / "bytes.json"
    bbpe.Tokenizer.from_bytes_only().save(bytes_only)
    assert main(["compare-text", str(path), str(bytes_only), "--text", TEXT]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:3] == ["v", str(len(tok.encode(TEXT))), "tokens"]
    n_bytes = len(TEXT.encode())
    assert lines[1].split()[:5] == ["bytes", str(n_bytes), "tokens", "1.00", "bytes/token"]
    non_ascii = sum(byte >= 0x80 for byte in TEXT.encode())  # every byte of ö, 你好 and 🤗 is a partial token
    assert lines[1].endswith(f"  {non_ascii} partial UTF-8")
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    assert main(["compare-text", str(path), "-f", str(tmp_path / "t.txt"), "--tokens", "--color", "never"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == render(pieces(BBPEAdapter(tok, "v"), TEXT), color=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(TEXT))
    assert main(["compare-text", str(path)]) == 0
    assert capsys.readouterr().out.split()[1] == str(len(tok.encode(TEXT)))


def test_compare_text_bad_vocab_is_one_line(capsys, tmp_path):
    assert main(["compare-text", str(tmp_path / "nope.json"), "--text", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such vocabulary file" in err


def test_inspect_plot_writes_a_png(vocab, tmp_path, capsys):
    _, path = vocab
    out = tmp_path / "v.png"
    assert main(["inspect", str(path), "--plot", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 1000 <= width <= 2000 and 400 <= height <= 1000
    assert main(["inspect", str(path), "--plot", str(tmp_path / "missing" / "v.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
