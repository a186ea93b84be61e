"""The native bbpe file: versioned JSON with pattern, ranks, special tokens and metadata.

Layout (version 1)::

    {"format": "bbpe", "version": 1,
     "pattern": "<regex>",
     "tokens": ["<base64 of token 0>", "<base64 of token 1>", ...],   # index = id
     "special_tokens": {"<|endoftext|>": 32000},
     "metadata": {"training": {...}, "corpus": {...}}}

Regular token ids are 0..len(tokens)-1; special ids come after them.

A vocabulary with a Unicode normalization (``"NFC"``, ...) is written as version 2, the same
layout plus ``"normalization": "NFC"``, so that a reader that knows only version 1 refuses it
instead of encoding unnormalized text; without one the file is version 1, as before.

A vocabulary with added tokens (always matched, ``bbpe.vocabulary``) or with regular ids that leave
gaps (DeepSeek's specials sit between its regular tokens) is written as version 3: version 2 plus
``"added_tokens": {"<think>": 151667}`` (required), and ``tokens`` may hold ``null`` at an id that
is no regular token.  Every file is written in the lowest version that holds it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from bbpe.encoding.normalization import Normalization, check_normalization
from bbpe.errors import VocabFormatError
from bbpe.formats import _checks
from bbpe.formats.detect import read_json
from bbpe.output import atomic_write
from bbpe.vocabulary import Vocabulary, VocabularyLike

VERSION = 1
VERSION_NORMALIZED = 2  # version 1 + "normalization"
VERSION_ADDED = 3  # version 2 + "added_tokens", null at ids that are no regular token
VERSIONS = (VERSION, VERSION_NORMALIZED, VERSION_ADDED)


def dumps(tokenizer: VocabularyLike) -> str:
    """The native JSON text of a tokenizer."""
    by_id = {rank: token for token, rank in tokenizer.ranks.items()}
    tokens = [by_id.get(rank) for rank in range(max(by_id) + 1)]
    document: dict[str, Any] = {"format": "bbpe", "version": VERSION}
    if tokenizer.normalization != "none":
        document.update(version=VERSION_NORMALIZED, normalization=tokenizer.normalization)
    if tokenizer.added_tokens or len(tokens) != len(by_id):
        document.update(
            version=VERSION_ADDED, normalization=tokenizer.normalization, added_tokens=tokenizer.added_tokens
        )
    document |= {
        "pattern": tokenizer.pattern,
        "special_tokens": tokenizer.special_tokens,
        "metadata": tokenizer.metadata,
        "tokens": [None if token is None else base64.b64encode(token).decode("ascii") for token in tokens],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def write(tokenizer: VocabularyLike, path: str | os.PathLike[str]) -> None:
    atomic_write(path, dumps(tokenizer))


def read(path: str | os.PathLike[str], *, data: dict[str, Any] | None = None) -> Vocabulary:
    """Read a native file (``data``: its already parsed JSON), checking every field's type and range."""
    data = read_json(path) if data is None else data
    if data.get("format") != "bbpe":
        raise VocabFormatError(path, 'not a bbpe vocabulary file (missing "format": "bbpe")')
    if data.get("version") not in VERSIONS:
        raise VocabFormatError(
            path,
            f"vocabulary file version {data.get('version')!r} is not supported "
            f"(this bbpe reads versions {', '.join(map(str, VERSIONS))})",
        )
    for key, kind in (("pattern", str), ("tokens", list), ("special_tokens", dict), ("metadata", dict)):
        if not isinstance(data.get(key), kind):
            raise VocabFormatError(path, f"field {key!r} is missing or not a {kind.__name__}")
    if len(data["tokens"]) > _checks.MAX_ID:
        raise VocabFormatError(path, "field 'tokens': more than 2**31 - 1 tokens")
    ranks: dict[bytes, int] = {}
    for rank, token in enumerate(data["tokens"]):
        if token is None and data["version"] == VERSION_ADDED:
            continue  # an id that is no regular token
        try:
            raw = base64.b64decode(token, validate=True) if isinstance(token, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if not raw:
            raise VocabFormatError(path, f"field 'tokens'[{rank}]: not the base64 of a non-empty token")
        if raw in ranks:
            raise VocabFormatError(path, f"field 'tokens'[{rank}]: duplicate of token {ranks[raw]}")
        ranks[raw] = rank
    specials = _checks.special_tokens(path, "field 'special_tokens'", data["special_tokens"])
    for key in ("training", "corpus"):
        _checks.object_or_none(path, f"field 'metadata.{key}'", data["metadata"].get(key))
    normalization = _normalization(path, data)
    added = _added_tokens(path, data)
    try:
        return Vocabulary(ranks, data["pattern"], specials, data["metadata"], normalization, added)
    except (ValueError, TypeError) as exc:
        raise VocabFormatError(path, str(exc)) from None


def _added_tokens(path: str | os.PathLike[str], data: dict[str, Any]) -> dict[str, int]:
    """Version 3: the (required) ``added_tokens`` field; earlier versions have none."""
    if data["version"] != VERSION_ADDED:
        if "added_tokens" in data:
            raise VocabFormatError(path, "field 'added_tokens' needs file version 3")
        return {}
    if "added_tokens" not in data:
        raise VocabFormatError(path, "field 'added_tokens' is missing (required in version 3)")
    return _checks.special_tokens(path, "field 'added_tokens'", data["added_tokens"], what="added token")


def _normalization(path: str | os.PathLike[str], data: dict[str, Any]) -> Normalization:
    """Version 1: none; versions 2 and 3: the (required) ``normalization`` field."""
    if data["version"] == VERSION:
        if "normalization" in data:
            raise VocabFormatError(path, "field 'normalization' needs file version 2")
        return "none"
    try:
        return check_normalization(data.get("normalization"))
    except (TypeError, ValueError) as exc:
        raise VocabFormatError(path, f"field 'normalization': {exc}") from None
