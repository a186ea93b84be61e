"""Vocabulary file formats: one module per format, and ``load_any`` that detects which."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bbpe.errors import VocabFormatError

if TYPE_CHECKING:
    from bbpe.tokenizer import Engine, Tokenizer

FORMATS = ("bbpe", "tiktoken", "hf")


def detect_format(path: str | os.PathLike[str]) -> str:
    """'bbpe', 'hf' or 'tiktoken', from the file's structure (not its name): a JSON object with
    ``"format": "bbpe"`` is native, one with a ``model`` key is a tokenizer.json, anything else ranks."""
    return _detect(path)[0]


def _detect(path: str | os.PathLike[str]) -> tuple[str, dict | None]:
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
    raise VocabFormatError(source, "a JSON object that is neither a bbpe vocabulary (\"format\": \"bbpe\") nor "
                                   "a tokenizer.json (\"model\")")


def load_any(path: str | os.PathLike[str], *, pattern: str | None = None, engine: Engine = "auto") -> Tokenizer:
    """Load a tokenizer from a bbpe JSON, a ``.tiktoken`` file, a ``tokenizer.json`` or a transformers directory."""
    from bbpe.formats import hf, native, tiktoken_file, transformers_dir

    if Path(path).is_dir():
        return transformers_dir.read(path, engine=engine)
    kind, data = _detect(path)
    if kind == "bbpe":
        return native.read(path, engine=engine, data=data)
    if kind == "hf":
        return hf.read(path, engine=engine, data=data)
    from bbpe import references

    known = references.identify(path)  # a known reference file brings its pattern and special tokens
    if known is not None and known.kind == "tiktoken":
        return references.load_tokenizer(known.name, path=path, pattern=pattern, engine=engine)
    if is_sentencepiece(path):
        raise VocabFormatError(path, "a SentencePiece model, not a byte-level BPE vocabulary; "
                               "use bbpe.encoders.open_encoder for it")
    return tiktoken_file.read(path, pattern=pattern, engine=engine)


def is_sentencepiece(path: str | os.PathLike[str]) -> bool:
    """A SentencePiece ModelProto starts with field 1 (pieces), wire type 2: byte 0x0a."""
    with open(path, "rb") as handle:
        return handle.read(1) == b"\x0a"


def read_json(path: str | os.PathLike[str]) -> dict:
    """Parse a JSON object file, turning every failure into a VocabFormatError."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise VocabFormatError(path, f"not valid JSON ({exc.msg}); the file may be truncated", line=exc.lineno) from None
    except UnicodeDecodeError:
        raise VocabFormatError(path, "not UTF-8 text") from None
    except RecursionError:
        raise VocabFormatError(path, "JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise VocabFormatError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise VocabFormatError(path, "expected a JSON object at the top level")
    return data
