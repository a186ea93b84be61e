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
from typing import Any

import tiktoken

from bbpe import bpe
from bbpe.errors import VocabFormatError
from bbpe.formats import _checks
from bbpe.formats.detect import read_json
from bbpe.output import atomic_write
from bbpe.pretokenize.patterns import GPT2, PROBE_TEXT, to_oniguruma
from bbpe.vocabulary import Vocabulary, VocabularyLike


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
    """The bytes a GPT-2 byte-level string stands for; b"" if it is not one."""
    reverse = _unicode_to_byte()
    try:
        return bytes(reverse[char] for char in text)
    except KeyError:
        return b""


@cache
def _unicode_to_byte() -> dict[str, int]:
    return {char: byte for byte, char in byte_to_unicode().items()}


def to_json(tokenizer: VocabularyLike) -> dict[str, Any]:
    ranks = tokenizer.ranks
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) > 1:
            parts = bpe.bpe_split(token, ranks, max_rank=rank)
            if len(parts) == 2:
                merges.append([_to_str(parts[0]), _to_str(parts[1])])
    added = [
        {
            "id": rank,
            "content": text,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
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
                {
                    "type": "Split",
                    "pattern": {"Regex": to_oniguruma(tokenizer.pattern)},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": {_to_str(token): rank for token, rank in ranks.items()},
            "merges": merges,
        },
    }


def write(tokenizer: VocabularyLike, path: str | os.PathLike[str]) -> None:
    """Write ``tokenizer.json`` after checking that Hugging Face ``tokenizers`` (when installed) loads it
    and gives bbpe's ids on the probe text; otherwise a ValueError and nothing is written."""
    document = to_json(tokenizer)
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    check_export(tokenizer, text)
    atomic_write(path, text)


def check_export(tokenizer: VocabularyLike, text: str) -> None:
    """Raise ValueError unless ``tokenizers`` loads ``text`` and agrees with ``tokenizer`` on ``PROBE_TEXT``."""
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError:
        return
    try:
        loaded = HFTokenizer.from_str(text)
    except Exception as exc:  # tokenizers raises its own Exception types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"the exported tokenizer.json does not load in Hugging Face tokenizers ({first})") from None
    probe = PROBE_TEXT
    for special in tokenizer.special_tokens:
        probe = probe.replace(special, "")
    if loaded.encode(probe, add_special_tokens=False).ids != _tiktoken_ids(tokenizer, probe):
        raise ValueError(
            f"Hugging Face tokenizers gives other ids than bbpe for pattern {tokenizer.pattern!r} "
            "(no equivalent Oniguruma form was found); export with --format tiktoken instead"
        )


def read(path: str | os.PathLike[str], *, data: dict[str, Any] | None = None) -> Vocabulary:
    """Read a byte-level BPE ``tokenizer.json`` (``data``: its already parsed JSON), checking types and ranges."""
    data = read_json(path) if data is None else data
    model = data.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE" or not isinstance(model.get("vocab"), dict):
        raise VocabFormatError(path, "not a BPE tokenizer.json (model.type must be 'BPE' with a vocab)")
    ranks: dict[bytes, int] = {}
    for text, rank in model["vocab"].items():
        token = _to_bytes(text)
        if not token:
            raise VocabFormatError(
                path, f"model.vocab[{text!r}]: not a GPT-2 byte-level string; only byte-level BPE is supported"
            )
        ranks[token] = _checks.token_id(path, f"model.vocab[{text!r}]", rank)
    added = data.get("added_tokens") or []
    if not isinstance(added, list):
        raise VocabFormatError(path, "added_tokens: expected a list of objects")
    specials: dict[str, int] = {}
    regular_ids = set(ranks.values())
    for index, entry in enumerate(added):
        if not isinstance(entry, dict):
            raise VocabFormatError(path, f"added_tokens[{index}]: expected an object with 'content' and 'id'")
        content = _checks.text_of(path, f"added_tokens[{index}].content", entry.get("content"))
        number = _checks.token_id(path, f"added_tokens[{index}].id", entry.get("id"))
        if number not in regular_ids:
            specials[content] = number
    try:
        return Vocabulary(ranks, _pattern_of(path, data), specials)
    except ValueError as exc:
        raise VocabFormatError(path, str(exc)) from None


def _pattern_of(path: str | os.PathLike[str], data: dict[str, Any]) -> str:
    """The regex of the file's Split pre-tokenizer, or GPT-2's for a regex-using ByteLevel one."""
    stack = [_checks.object_or_none(path, "pre_tokenizer", data.get("pre_tokenizer"))]
    while stack:
        node = stack.pop(0)
        if node.get("type") == "Split":
            regex_of = _checks.object_or_none(path, "pre_tokenizer Split.pattern", node.get("pattern")).get("Regex")
            if isinstance(regex_of, str):
                return regex_of
        if node.get("type") == "ByteLevel" and node.get("use_regex", True):
            return GPT2
        children = node.get("pretokenizers") or []
        if not isinstance(children, list):
            raise VocabFormatError(path, "pre_tokenizer.pretokenizers: expected a list")
        stack.extend(_checks.object_or_none(path, "pre_tokenizer.pretokenizers[]", child) for child in children)
    return GPT2


def _tiktoken_ids(vocabulary: VocabularyLike, text: str) -> list[int]:
    """``text`` encoded by tiktoken over the vocabulary's ranks (the reference for the check)."""
    encoding = tiktoken.Encoding(
        name="bbpe-export-check", pat_str=vocabulary.pattern, mergeable_ranks=dict(vocabulary.ranks), special_tokens={}
    )
    return list(encoding.encode_ordinary(text))
