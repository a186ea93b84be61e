"""Tokens you can see: the pieces of a text, drawn in a terminal with alternating colours.

A piece is a token's id and bytes; it is *partial* when its bytes are not valid UTF-8 on
their own (part of a character split across tokens).  ``render`` draws pieces as their text
on alternating background colours (partial ones as hex bytes on alternating reds), or, without colour,
as JSON-quoted strings and ``b'...'`` for partial ones.

>>> from bbpe import Tokenizer
>>> from bbpe.tokenizer_adapters import BBPEAdapter
>>> found = pieces(BBPEAdapter(Tokenizer.from_bytes_only(), "bytes"), "aé")
>>> [(p.id, p.data, p.partial) for p in found]
[(97, b'a', False), (195, b'\\xc3', True), (169, b'\\xa9', True)]
>>> render(found, color=False)
'"a" b\\'\\\\xc3\\' b\\'\\\\xa9\\''
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

COLOR_CHOICES = ("auto", "always", "never")
_BACKGROUNDS = ("\x1b[30;48;5;153m", "\x1b[30;48;5;223m")  # light blue, light orange; black text
_PARTIALS = ("\x1b[97;48;5;160m", "\x1b[97;48;5;124m")  # white on red, on dark red
_RESET = "\x1b[0m"
_VISIBLE = {"\n": "↵\n", "\t": "→", "\r": "␍"}


class _PieceSource(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def token_bytes(self, token_id: int) -> bytes: ...


@dataclass(frozen=True)
class Piece:
    """One token of an encoded text."""

    id: int
    data: bytes

    @property
    def partial(self) -> bool:
        try:
            self.data.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    @property
    def hex(self) -> str:
        return self.data.hex(" ")


def pieces(encoder: _PieceSource, text: str) -> list[Piece]:
    """Encode ``text`` (as the encoder does: no BOS/EOS) and pair every id with its bytes."""
    return [Piece(token_id, encoder.token_bytes(token_id)) for token_id in encoder.encode(text)]


def use_color(when: str, stream: TextIO) -> bool:
    """``always``; ``never``; ``auto``: only on a terminal and when ``NO_COLOR`` is unset or empty."""
    if when not in COLOR_CHOICES:
        raise ValueError(f"--color must be one of {', '.join(COLOR_CHOICES)}, not {when!r}")
    if when != "auto":
        return when == "always"
    return not os.environ.get("NO_COLOR") and stream.isatty()


def render(found: Sequence[Piece], *, color: bool) -> str:
    """The pieces on one string: coloured text, or space-separated quoted pieces without colour."""
    if not color:
        return " ".join(_quoted(piece) for piece in found)
    out = []
    for index, piece in enumerate(found):
        if piece.partial:
            out.append(f"{_PARTIALS[index % 2]}{piece.hex}{_RESET}")
            continue
        text = "".join(_VISIBLE.get(char, char) for char in piece.data.decode("utf-8"))
        lines = text.split("\n")  # keep the background off the line break itself
        style = _BACKGROUNDS[index % 2]
        out.append("\n".join(f"{style}{line}{_RESET}" if line else "" for line in lines))
    return "".join(out)


def _quoted(piece: Piece) -> str:
    if piece.partial:
        return repr(piece.data)
    return json.dumps(piece.data.decode("utf-8"), ensure_ascii=False)


def count_line(name: str, text: str, found: Sequence[Piece], *, width: int) -> str:
    """``name  tokens  bytes/token  chars/token`` for ``bbpe compare-text``."""
    n_bytes = len(text.encode("utf-8"))
    per_token = f"{n_bytes / len(found):6.2f} bytes/token  {len(text) / len(found):5.2f} chars/token" if found else ""
    partial = sum(piece.partial for piece in found)
    marks = f"  {partial} partial UTF-8" if partial else ""
    return f"{name.ljust(width)}  {len(found):6,} tokens  {per_token}{marks}".rstrip()
