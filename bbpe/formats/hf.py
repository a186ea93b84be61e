"""Hugging Face ``tokenizer.json`` for byte-level BPE (GPT-2 style byte-to-unicode strings).

Export writes a BPE model whose merges are derived from the ranks (each token's pair is
found by rank-based BPE with the ranks below it), a Split(regex) + ByteLevel
pre-tokenizer, ``ignore_merges`` (a whole pre-token that is a token is used as is, as in
tiktoken) and the special tokens as added tokens.  Import reads such files back.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from bbpe import _bpe
from bbpe._io import atomic_write
from bbpe.errors import VocabFormatError
from bbpe.patterns import GPT2, to_oniguruma

if TYPE_CHECKING:
    from bbpe.tokenizer import Engine, Tokenizer


@cache
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in character for every byte value."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


def _to_str(token: bytes) -> str:
    table = byte_to_unicode()
    return "".join(table[byte] for byte in token)


def _to_bytes(text: str) -> bytes:
    reverse = {char: byte for byte, char in byte_to_unicode().items()}
    return bytes(reverse[char] for char in text)


def to_json(tokenizer: Tokenizer) -> dict[str, Any]:
    ranks = tokenizer.ranks
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) > 1:
            parts = _bpe.bpe_split(token, ranks, max_rank=rank)
            if len(parts) == 2:
                merges.append([_to_str(parts[0]), _to_str(parts[1])])
    added = [
        {"id": rank, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for text, rank in sorted(tokenizer.special_tokens.items(), key=lambda item: item[1])
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": to_oniguruma(tokenizer.pattern)},
                 "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
            "vocab": {_to_str(token): rank for token, rank in ranks.items()},
            "merges": merges,
        },
    }


def write(tokenizer: Tokenizer, path: str | os.PathLike[str]) -> None:
    atomic_write(path, json.dumps(to_json(tokenizer), ensure_ascii=False, indent=1) + "\n")


def read(path: str | os.PathLike[str], *, engine: Engine = "auto") -> Tokenizer:
    from bbpe.formats import read_json
    from bbpe.tokenizer import Tokenizer

    data = read_json(path)
    model = data.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE" or not isinstance(model.get("vocab"), dict):
        raise VocabFormatError(path, "not a BPE tokenizer.json (model.type must be 'BPE' with a vocab)")
    try:
        ranks = {_to_bytes(text): rank for text, rank in model["vocab"].items()}
    except KeyError:
        raise VocabFormatError(path, "vocab strings are not GPT-2 byte-level; only byte-level BPE is supported") from None
    specials = {token["content"]: token["id"] for token in data.get("added_tokens") or [] if token["id"] not in ranks.values()}
    try:
        return Tokenizer(ranks, pattern=_pattern_of(data), special_tokens=specials, engine=engine)
    except ValueError as exc:
        raise VocabFormatError(path, str(exc)) from None


def _pattern_of(data: dict[str, Any]) -> str:
    """The regex of the file's Split pre-tokenizer, or GPT-2's for a regex-using ByteLevel one."""
    stack = [data.get("pre_tokenizer") or {}]
    while stack:
        node = stack.pop(0)
        if node.get("type") == "Split" and "Regex" in (node.get("pattern") or {}):
            return node["pattern"]["Regex"]
        if node.get("type") == "ByteLevel" and node.get("use_regex", True):
            return GPT2
        stack.extend(node.get("pretokenizers") or [])
    return GPT2
