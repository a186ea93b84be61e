"""The native bbpe file: versioned JSON with pattern, ranks, special tokens and metadata.

Layout (version 1)::

    {"format": "bbpe", "version": 1,
     "pattern": "<regex>",
     "tokens": ["<base64 of token 0>", "<base64 of token 1>", ...],   # index = id
     "special_tokens": {"<|endoftext|>": 32000},
     "metadata": {"training": {...}, "corpus": {...}}}

Regular token ids are 0..len(tokens)-1; special ids come after them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import TYPE_CHECKING

from bbpe._io import atomic_write
from bbpe.errors import VocabFormatError

if TYPE_CHECKING:
    from bbpe.tokenizer import Engine, Tokenizer

VERSION = 1


def dumps(tokenizer: Tokenizer) -> str:
    """The native JSON text of a tokenizer (ranks must be contiguous from 0)."""
    ordered = sorted(tokenizer.ranks.items(), key=lambda item: item[1])
    if any(rank != index for index, (_, rank) in enumerate(ordered)):
        raise ValueError("the native format needs regular token ids 0..n-1 without gaps")
    document = {
        "format": "bbpe",
        "version": VERSION,
        "pattern": tokenizer.pattern,
        "special_tokens": tokenizer.special_tokens,
        "metadata": tokenizer.metadata,
        "tokens": [base64.b64encode(token).decode("ascii") for token, _ in ordered],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def write(tokenizer: Tokenizer, path: str | os.PathLike[str]) -> None:
    atomic_write(path, dumps(tokenizer))


def read(path: str | os.PathLike[str], *, engine: Engine = "auto") -> Tokenizer:
    from bbpe.formats import read_json
    from bbpe.tokenizer import Tokenizer

    data = read_json(path)
    if data.get("format") != "bbpe":
        raise VocabFormatError(path, "not a bbpe vocabulary file (missing \"format\": \"bbpe\")")
    if data.get("version") != VERSION:
        raise VocabFormatError(
            path, f"vocabulary file version {data.get('version')!r} is not supported (this bbpe reads version {VERSION})"
        )
    for key, kind in (("pattern", str), ("tokens", list), ("special_tokens", dict), ("metadata", dict)):
        if not isinstance(data.get(key), kind):
            raise VocabFormatError(path, f"field {key!r} is missing or not a {kind.__name__}")
    try:
        ranks = {base64.b64decode(token, validate=True): rank for rank, token in enumerate(data["tokens"])}
    except (binascii.Error, TypeError):
        raise VocabFormatError(path, "a token is not valid base64") from None
    if len(ranks) != len(data["tokens"]):
        raise VocabFormatError(path, "the token list holds duplicates")
    try:
        return Tokenizer(
            ranks, pattern=data["pattern"], special_tokens=data["special_tokens"],
            engine=engine, metadata=data["metadata"],
        )
    except (ValueError, TypeError) as exc:
        raise VocabFormatError(path, str(exc)) from None
