"""Which format a vocabulary file is, from its structure (not its name), and a checked JSON reader."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bbpe.errors import VocabFormatError


def detect_format(path: str | os.PathLike[str]) -> str:
    """'bbpe', 'hf' or 'tiktoken', from the file's structure (not its name): a JSON object with
    ``"format": "bbpe"`` is native, one with a ``model`` key is a tokenizer.json, anything else ranks."""
    return structure(path)[0]


def structure(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any] | None]:
    """The format and, for a JSON file, its parsed object (so it is read once)."""
    source = Path(path)
    if not source.is_file():
        raise VocabFormatError(source, "no such vocabulary file")
    with open(source, "rb") as handle:
        head = handle.read(4096).lstrip()
    if not head:
        raise VocabFormatError(source, "the file is empty")
    if not head.startswith(b"{"):
        return "tiktoken", None
    data = read_json(source)
    if data.get("format") == "bbpe":
        return "bbpe", data
    if "model" in data:
        return "hf", data
    raise VocabFormatError(
        source, 'a JSON object that is neither a bbpe vocabulary ("format": "bbpe") nor a tokenizer.json ("model")'
    )


def is_sentencepiece(path: str | os.PathLike[str]) -> bool:
    """A SentencePiece ModelProto starts with field 1 (pieces), wire type 2: byte 0x0a."""
    with open(path, "rb") as handle:
        return handle.read(1) == b"\x0a"


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a JSON object file, turning every failure into a VocabFormatError."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise VocabFormatError(
            path, f"not valid JSON ({exc.msg}); the file may be truncated", line=exc.lineno
        ) from None
    except UnicodeDecodeError:
        raise VocabFormatError(path, "not UTF-8 text") from None
    except RecursionError:
        raise VocabFormatError(path, "JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise VocabFormatError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise VocabFormatError(path, "expected a JSON object at the top level")
    return data
