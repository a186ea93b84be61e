"""Vocabulary file formats: one module per format (``native``, ``tiktoken_file``, ``hf``,
``transformers_dir``, ``counts``), detection by structure, and ``load_any`` that reads any of them
into a ``bbpe.vocabulary.Vocabulary``."""

from __future__ import annotations

import os
from pathlib import Path

from bbpe.errors import VocabFormatError
from bbpe.formats import hf_read, native, tiktoken_file, transformers_dir
from bbpe.formats.detect import detect_format, is_sentencepiece, read_json, structure
from bbpe.vocabulary import Vocabulary

FORMATS = ("bbpe", "tiktoken", "hf")
__all__ = ["FORMATS", "detect_format", "is_sentencepiece", "load_any", "read_json"]


def load_any(path: str | os.PathLike[str], *, pattern: str | None = None) -> Vocabulary:
    """Read a bbpe JSON, a ``.tiktoken`` file (needs ``pattern``), a ``tokenizer.json`` or a
    transformers directory."""
    if Path(path).is_dir():
        return transformers_dir.read(path)
    kind, data = structure(path)
    if kind == "bbpe":
        return native.read(path, data=data)
    if kind == "hf":
        return hf_read.read(path, data=data)
    if is_sentencepiece(path):
        raise VocabFormatError(
            path,
            "a SentencePiece model, not a byte-level BPE vocabulary; use bbpe.tokenizer_adapters.open_adapter for it",
        )
    return tiktoken_file.read(path, pattern=pattern)
