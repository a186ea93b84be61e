"""Hugging Face ``tokenizer.json`` export: ``tokenizers`` (and ``transformers``) give bbpe's ids, specials included.

What is written, and why each part gives bbpe's ids (``encode(text, allowed_special="all")``):

* **Model**: a BPE model with ``ignore_merges`` (a whole pre-token that is a token is used as is,
  as in tiktoken).  The merge list holds, for every multi-byte token in rank order, each way to
  write it as two tokens (the pair rank-based BPE builds it from first, then the others by the
  ranks of their parts), so ``tokenizers`` may join exactly the adjacent pairs that tiktoken
  joins, in rank order; this also covers tokens not built in rank order (llama3 has 678).
* **Special tokens** are in ``model.vocab`` at their ids (as GPT-2's file has ``<|endoftext|>``)
  and in ``added_tokens`` (``normalized: false``).  ``tokenizers`` gives an added token the id
  its text has in the model's vocabulary and numbers the others from the vocabulary's size up,
  which would shift them past id gaps (cl100k has 100256 and 100261-100275 unused).  When a
  special's text is also a regular token's byte-level text (``?``, ``the``), the regular token is
  written under a placeholder key (``<bbpe regular 63>``) that a ``Replace`` decoder turns back
  into its text; no ordinary segment can hold it (the special is always cut out first).
* **Added tokens** (always matched, ``bbpe.vocabulary``) are written as specials are, with
  ``special: false``; one that shares a regular token's id (DeepSeek's ``ø`` = the byte 0xF8) only
  as an ``added_tokens`` entry, which needs its text to be that token's byte-level key (then
  ``tokenizers`` gives it that id and decodes it to those bytes, as bbpe does).
* **Normalizer**: the vocabulary's Unicode form (``{"type": "NFC"}``; none: ``null``).  Added
  tokens are matched before normalization, as bbpe cuts special tokens out of the raw text.
* **Pre-tokenizer**: Split(regex, Isolated) + ByteLevel without its own regex.

Refused, in one line: a special whose every character is a byte-level stand-in but not plain
ASCII (``é``, ``Ġx``): the ByteLevel decoder would turn it into other bytes.  With a normalizer,
also a plain-ASCII special that a pre-token could spell (one character, a regular token's text, or
text the pattern keeps whole): normalization can make that text (``？`` -> ``?`` under NFKC), and
``tokenizers`` would give it the special's id where bbpe encodes it as ordinary text.  The export check
loads the file in ``tokenizers`` (when installed) and compares ids, specials' ids and decoding
on a probe text that contains every special token.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from bbpe import bpe
from bbpe.encoding.encoder import Encoder
from bbpe.encoding.tiktoken_engine import has_tiktoken
from bbpe.formats.hf_bytes import byte_to_unicode, decodes_as_itself, to_bytes, to_str
from bbpe.output import atomic_write
from bbpe.pretokenize.patterns import PROBE_TEXT, compile_pattern, to_oniguruma
from bbpe.vocabulary import VocabularyLike

__all__ = ["byte_to_unicode", "check_export", "merges_of", "to_json", "write"]
PLACEHOLDER = "<bbpe regular {rank}>"  # a space: never a byte-level text, so never a pre-token's key


def merges_of(ranks: Mapping[bytes, int]) -> list[tuple[bytes, bytes]]:
    """Every (left, right) pair of tokens that spells a multi-byte token, by the token's rank; for one
    token, the pair rank-based BPE builds it from comes first, then the others by (rank left, rank right).

    >>> ranks = {bytes([i]): i for i in range(256)} | {b"ab": 257, b"abc": 256, b"bc": 258}
    >>> merges_of(ranks)
    [(b'a', b'bc'), (b'ab', b'c'), (b'a', b'b'), (b'b', b'c')]
    """
    merges: list[tuple[bytes, bytes]] = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) < 2:
            continue
        pairs = [(token[:at], token[at:]) for at in range(1, len(token)) if token[:at] in ranks and token[at:] in ranks]
        built = bpe.bpe_split(token, ranks, max_rank=rank)
        first = [(built[0], built[1])] if len(built) == 2 else []
        others = sorted((pair for pair in pairs if pair not in first), key=lambda p: (ranks[p[0]], ranks[p[1]]))
        merges += first + others
    return merges


def to_json(tokenizer: VocabularyLike) -> dict[str, Any]:
    """The ``tokenizer.json`` document (ValueError for a special or added token tokenizers cannot decode back)."""
    ranks = tokenizer.ranks
    vocab = {to_str(token): rank for token, rank in ranks.items()}
    aliases = _aliases(tokenizer.added_tokens, ranks, vocab)
    # every text cut out of the raw text that has an id of its own: written into model.vocab
    specials = {**{t: r for t, r in tokenizer.added_tokens.items() if t not in aliases}, **tokenizer.special_tokens}
    for text in specials:
        kind = "special" if text in tokenizer.special_tokens else "added"
        if not decodes_as_itself(text):
            raise ValueError(
                f"{kind} token {text!r} cannot be exported to tokenizer.json: every character of it is a byte-level "
                f"stand-in, so tokenizers' ByteLevel decoder would decode it as the bytes {to_bytes(text)!r}; "
                "rename it (or export with --format tiktoken)"
            )
        if tokenizer.normalization != "none" and _spelled_by_a_pretoken(text, ranks, tokenizer.pattern):
            raise ValueError(
                f"{kind} token {text!r} cannot be exported to tokenizer.json with the {tokenizer.normalization} "
                f"normalizer: normalized text can spell it as a pre-token, and tokenizers would give that the "
                f"{kind} token's id (bbpe encodes it as ordinary text); rename it (or export with --format tiktoken)"
            )
    shadowed = {rank: key for key, rank in vocab.items() if key in specials}  # a special's text is this key
    placeholders: dict[str, str] = {}
    for rank, key in sorted(shadowed.items()):
        placeholder = PLACEHOLDER.format(rank=rank)
        while any(placeholder in text for text in specials) or placeholder in vocab:
            placeholder = f"<{placeholder}>"
        del vocab[key]
        vocab[placeholder] = rank
        placeholders[placeholder] = key
    vocab.update(specials)
    decoder: dict[str, Any] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    if placeholders:
        replaces = [
            {"type": "Replace", "pattern": {"String": placeholder}, "content": key}
            for placeholder, key in placeholders.items()
        ]
        decoder = {"type": "Sequence", "decoders": [*replaces, decoder]}
    added = [
        {
            "id": rank,
            "content": text,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": text in tokenizer.special_tokens,
        }
        for text, rank in sorted({**specials, **aliases}.items(), key=lambda item: item[1])
    ]
    normalization = tokenizer.normalization
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None if normalization == "none" else {"type": normalization},
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
        "decoder": decoder,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": vocab,
            "merges": [[to_str(left), to_str(right)] for left, right in merges_of(ranks)],
        },
    }


def _aliases(added: Mapping[str, int], ranks: Mapping[bytes, int], vocab: Mapping[str, int]) -> dict[str, int]:
    """The added tokens that share a regular token's id; ValueError unless the text is that token's key."""
    regular_ids = set(ranks.values()) if added else set()
    aliases = {text: rank for text, rank in added.items() if rank in regular_ids}
    for text, rank in aliases.items():
        if vocab.get(text) != rank:
            raise ValueError(
                f"added token {text!r} shares id {rank} with a regular token whose byte-level text is not {text!r}; "
                "tokenizer.json cannot give one id two texts (export with --format bbpe)"
            )
    return aliases


def _spelled_by_a_pretoken(text: str, ranks: Mapping[bytes, int], pattern: str) -> bool:
    """True when a plain-ASCII special's text can be a key ``tokenizers`` looks up for ordinary text: one
    character, a regular token's text, or a whole pre-token of the pattern."""
    if to_bytes(text) is None:  # a character outside the byte-level alphabet: never a pre-token's key
        return False
    return len(text) == 1 or text.encode("utf-8") in ranks or compile_pattern(pattern).findall(text) == [text]


def dumps(tokenizer: VocabularyLike) -> str:
    """The ``tokenizer.json`` text, checked by ``check_export``."""
    text = json.dumps(to_json(tokenizer), ensure_ascii=False, indent=1) + "\n"
    check_export(tokenizer, text)
    return text


def write(tokenizer: VocabularyLike, path: str | os.PathLike[str]) -> None:
    """Write ``tokenizer.json`` after checking that Hugging Face ``tokenizers`` (when installed) loads it
    and gives bbpe's ids; otherwise a ValueError and nothing is written."""
    atomic_write(path, dumps(tokenizer))


def probe_text(special_tokens: Mapping[str, int]) -> str:
    """``PROBE_TEXT`` with every special (and added) token in it (after a word, between words, twice in a row), and each
    in full-width letters (which NFKC turns into the special's text, to be encoded as ordinary text)."""
    words = PROBE_TEXT.split(" ")
    specials = sorted(special_tokens, key=special_tokens.__getitem__)
    parts: list[str] = []
    for index, word in enumerate(words):
        parts.append(word)
        if specials:
            parts.append(specials[index % len(specials)])
    wide = [text.translate(_FULL_WIDTH) for text in specials]
    return " ".join(parts) + "".join(specials) + "".join(specials[:2]) + " " + " ".join(wide) + " end"


_FULL_WIDTH = {code: code + 0xFEE0 for code in range(ord("!"), ord("~") + 1)}


def check_export(tokenizer: VocabularyLike, text: str) -> None:
    """Raise ValueError unless ``tokenizers`` loads ``text`` and agrees with ``tokenizer``: every special's
    id, the ids of a probe text holding every special token (``allowed_special="all"``) and its decoding."""
    try:
        from tokenizers import Tokenizer as HFTokenizer
    except ImportError:
        return
    try:
        loaded = HFTokenizer.from_str(text)
    except Exception as exc:  # tokenizers raises its own Exception types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"the exported tokenizer.json does not load in Hugging Face tokenizers ({first})") from None
    for special, rank in {**tokenizer.added_tokens, **tokenizer.special_tokens}.items():
        if loaded.token_to_id(special) != rank:
            kind = "special" if special in tokenizer.special_tokens else "added"
            raise ValueError(
                f"Hugging Face tokenizers gives {kind} token {special!r} id {loaded.token_to_id(special)}, "
                f"not bbpe's {rank}"
            )
    encoder = Encoder(
        tokenizer.ranks,
        pattern=tokenizer.pattern,
        special_tokens=tokenizer.special_tokens,
        normalization=tokenizer.normalization,
        engine="tiktoken" if has_tiktoken() else "python",
        added_tokens=tokenizer.added_tokens,
    )
    probe = probe_text({**tokenizer.added_tokens, **tokenizer.special_tokens})
    ids = encoder.encode(probe, allowed_special="all")
    if loaded.encode(probe, add_special_tokens=False).ids != ids:
        raise ValueError(
            f"Hugging Face tokenizers gives other ids than bbpe for pattern {tokenizer.pattern!r} "
            "(no equivalent Oniguruma form was found); export with --format tiktoken instead"
        )
    bytes_of = {rank: token for token, rank in tokenizer.ranks.items()}
    bytes_of.update((rank, special.encode("utf-8")) for special, rank in tokenizer.special_tokens.items())
    for text, rank in tokenizer.added_tokens.items():
        bytes_of.setdefault(rank, text.encode("utf-8"))
    expected = b"".join(bytes_of[i] for i in ids).decode("utf-8", errors="replace")
    if loaded.decode(ids, skip_special_tokens=False) != expected:
        raise ValueError("Hugging Face tokenizers does not decode the exported ids back to bbpe's text")
