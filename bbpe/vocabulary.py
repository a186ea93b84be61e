"""Vocabulary: what a vocabulary file holds — regular tokens by rank, the pre-tokenization
pattern, special tokens, metadata, the Unicode normalization and the added tokens — checked, but
without an encoder.

**Special tokens** are found in text only where ``allowed_special`` allows them (tiktoken's rules).
**Added tokens** (Hugging Face's ``special: false`` added tokens, such as Qwen's ``<tool_call>``) are
always cut out of the text, as the model's own tokenizer does, also when special-token text counts as
ordinary text.  An added token has an id of its own, or the id of a regular token: DeepSeek's
``"ø"`` is id 100002, which is also the byte 0xF8 (a byte its BPE vocabulary lacks), so text ``ø``
encodes to 100002 and 100002 decodes to the byte 0xF8, as in Hugging Face ``tokenizers``.

File formats read and write this record; ``bbpe.Tokenizer`` is built from it.

>>> vocab = Vocabulary({bytes([i]): i for i in range(256)}, "gpt2", {"<|endoftext|>": 256})
>>> vocab.max_token_value, vocab.pattern.startswith("'s|'t")
(256, True)
>>> Vocabulary(vocab.ranks, "gpt2", added_tokens={"<think>": 256, "ÿ": 255}).vocab_size
257
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bbpe.encoding.normalization import Normalization, check_normalization
from bbpe.pretokenize.patterns import resolve_pattern

MAX_ID = 2**31 - 1


class VocabularyLike(Protocol):
    """Anything with a vocabulary's five parts (a ``Vocabulary`` or a ``bbpe.Tokenizer``)."""

    @property
    def ranks(self) -> Mapping[bytes, int]: ...
    @property
    def pattern(self) -> str: ...
    @property
    def special_tokens(self) -> Mapping[str, int]: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...
    @property
    def normalization(self) -> Normalization: ...
    @property
    def added_tokens(self) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class Vocabulary:
    """Regular tokens (bytes -> id), pattern (a preset name is resolved), special tokens, metadata,
    the normalization applied to text before pre-tokenization (``bbpe.encoding.normalization``) and the
    always-matched added tokens (text -> an id of their own or a regular token's id).

    Construction checks every part and raises ValueError naming the first problem.
    """

    ranks: Mapping[bytes, int]
    pattern: str
    special_tokens: Mapping[str, int] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    normalization: Normalization = "none"
    added_tokens: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalization", check_normalization(self.normalization))
        object.__setattr__(self, "ranks", dict(self.ranks))
        object.__setattr__(self, "special_tokens", dict(self.special_tokens))
        object.__setattr__(self, "metadata", dict(self.metadata))
        object.__setattr__(self, "added_tokens", dict(self.added_tokens))
        object.__setattr__(self, "pattern", resolve_pattern(self.pattern))
        check_tokens(self.ranks, self.special_tokens, self.added_tokens)

    @property
    def max_token_value(self) -> int:
        return max([*self.ranks.values(), *self.special_tokens.values(), *self.added_tokens.values()])

    @property
    def vocab_size(self) -> int:
        """The number of distinct ids: regular, special and added tokens (an added token with a regular
        token's id is not counted twice)."""
        return len({*self.ranks.values(), *self.special_tokens.values(), *self.added_tokens.values()})

    @classmethod
    def of(cls, source: VocabularyLike) -> Vocabulary:
        """The vocabulary of a Tokenizer (or a copy of a Vocabulary)."""
        return cls(
            source.ranks,
            source.pattern,
            source.special_tokens,
            source.metadata,
            source.normalization,
            source.added_tokens,
        )


def check_tokens(
    ranks: Mapping[bytes, int], special_tokens: Mapping[str, int], added_tokens: Mapping[str, int] | None = None
) -> None:
    """ValueError unless the tokens form a byte-level vocabulary with distinct ids in range (an added
    token may share a regular token's id, not a special token's)."""
    for token, rank in ranks.items():
        if not isinstance(token, bytes) or not token:
            raise ValueError(f"regular token {token!r} must be non-empty bytes")
        _check_id(rank, f"token {token!r}")
    for text, rank in special_tokens.items():
        if not isinstance(text, str) or not text:
            raise ValueError(f"special token {text!r} must be a non-empty string")
        _check_id(rank, f"special token {text!r}")
    missing = [byte for byte in range(256) if bytes([byte]) not in ranks]
    if missing:
        raise ValueError(
            f"the vocabulary lacks {len(missing)} single-byte tokens (e.g. byte {missing[0]}); "
            "byte-level BPE needs all 256 to encode any text"
        )
    if len(set(ranks.values())) != len(ranks):
        raise ValueError("two regular tokens share one id")
    clash = set(special_tokens.values()) & set(ranks.values())
    if clash:
        raise ValueError(f"special token id {min(clash)} is also a regular token id")
    if len(set(special_tokens.values())) != len(special_tokens):
        raise ValueError("two special tokens share one id")
    _check_added(added_tokens or {}, special_tokens)


def _check_added(added_tokens: Mapping[str, int], special_tokens: Mapping[str, int]) -> None:
    for text, rank in added_tokens.items():
        if not isinstance(text, str) or not text:
            raise ValueError(f"added token {text!r} must be a non-empty string")
        _check_id(rank, f"added token {text!r}")
        if text in special_tokens:
            raise ValueError(f"{text!r} is both a special token and an added token")
    clash = set(added_tokens.values()) & set(special_tokens.values())
    if clash:
        raise ValueError(f"added token id {min(clash)} is also a special token id")
    if len(set(added_tokens.values())) != len(added_tokens):
        raise ValueError("two added tokens share one id")


def _check_id(rank: object, what: str) -> None:
    if not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank <= MAX_ID:
        raise ValueError(f"{what} has id {rank!r}; ids are integers from 0 to 2**31 - 1")
