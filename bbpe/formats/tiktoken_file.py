"""tiktoken's ranks file: one ``<base64 token> <rank>`` line per regular token.

The file holds no pattern, no special tokens and no normalization; the caller supplies them
(writing a vocabulary with a normalization warns that the file cannot carry it).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping

from bbpe.errors import VocabFormatError
from bbpe.formats._checks import MAX_ID
from bbpe.output import atomic_write
from bbpe.vocabulary import Vocabulary, VocabularyLike


def read_ranks(path: str | os.PathLike[str]) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file into bytes -> rank, naming the line of any error."""
    ranks: dict[bytes, int] = {}
    seen: set[int] = set()
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fields = line.split()
            try:
                token = base64.b64decode(fields[0], validate=True)
            except (IndexError, ValueError, binascii.Error):
                token = b""
            if len(fields) != 2 or not token or not fields[1].isdigit():
                raise VocabFormatError(path, "expected '<base64 token> <rank>' (a non-empty token)", line=number)
            rank = int(fields[1])
            if rank > MAX_ID:
                raise VocabFormatError(path, f"rank {rank} is out of range (0 to 2**31 - 1)", line=number)
            if token in ranks or rank in seen:
                raise VocabFormatError(path, f"duplicate {'token' if token in ranks else 'rank'}", line=number)
            ranks[token] = rank
            seen.add(rank)
    if not ranks:
        raise VocabFormatError(path, "the file holds no tokens")
    return ranks


def dumps(ranks: Mapping[bytes, int]) -> str:
    ordered = sorted(ranks.items(), key=lambda item: item[1])
    return "".join(f"{base64.b64encode(token).decode('ascii')} {rank}\n" for token, rank in ordered)


log = logging.getLogger("bbpe")


def write(tokenizer: VocabularyLike, path: str | os.PathLike[str]) -> None:
    if tokenizer.normalization != "none":
        log.warning(
            "%s: a .tiktoken file cannot carry the %s normalization; whoever loads it must normalize the text "
            "between special tokens to %s before encoding (bbpe JSON and tokenizer.json keep it)",
            path,
            tokenizer.normalization,
            tokenizer.normalization,
        )
    atomic_write(path, dumps(tokenizer.ranks))


def read(
    path: str | os.PathLike[str],
    *,
    pattern: str | None,
    special_tokens: Mapping[str, int] | None = None,
) -> Vocabulary:
    """A ranks file with the pattern (and special tokens) it needs."""
    if pattern is None:
        raise ValueError(f"{path}: a .tiktoken file stores no pre-tokenization pattern; pass pattern= (or --pattern)")
    ranks = read_ranks(path)
    try:
        return Vocabulary(ranks, pattern, special_tokens or {})
    except ValueError as exc:
        raise VocabFormatError(path, str(exc)) from None
