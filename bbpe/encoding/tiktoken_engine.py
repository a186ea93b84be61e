"""The tiktoken engine (tiktoken's Rust core over the same ranks), and the one place a
``tiktoken.Encoding`` is built.  tiktoken is imported only when an encoding is built.

Special tokens never reach tiktoken's own splitter: ``bbpe.encoding.specials`` cuts them out
and this engine encodes the ordinary segments (``encode_ordinary``), so both engines agree on
overlapping specials.  The specials are still given to tiktoken, for ``decode_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, cast

from bbpe.encoding.coverage import check_byte_count, needs_check


def require_tiktoken() -> ModuleType:
    """The tiktoken module, or an ImportError naming the package."""
    try:
        import tiktoken
    except ImportError:
        raise ImportError("engine='tiktoken' needs the tiktoken package: pip install tiktoken") from None
    return tiktoken


def has_tiktoken() -> bool:
    """True when tiktoken imports."""
    try:
        require_tiktoken()
    except ImportError:
        return False
    return True


def tiktoken_encoding(
    ranks: Mapping[bytes, int],
    *,
    pattern: str,
    special_tokens: Mapping[str, int] | None = None,
    name: str = "bbpe",
) -> Any:
    """A ``tiktoken.Encoding`` over ``ranks`` (ImportError without tiktoken)."""
    return require_tiktoken().Encoding(
        name=name, pat_str=pattern, mergeable_ranks=dict(ranks), special_tokens=dict(special_tokens or {})
    )


def single_piece_encoder(ranks: Mapping[bytes, int]) -> Callable[[bytes], list[int]]:
    """tiktoken's rank-based BPE of one pre-token (bytes) over ``ranks`` (the pattern is unused)."""
    encoder: Callable[[bytes], list[int]] = tiktoken_encoding(
        ranks, pattern=r"(?s).", name="bbpe-pieces"
    )._encode_single_piece
    return encoder


class TiktokenEngine:
    """Encodes text that holds no special tokens (already normalized) with tiktoken."""

    name = "tiktoken"

    def __init__(self, ranks: Mapping[bytes, int], pattern: str, special_tokens: Mapping[str, int]) -> None:
        self._ranks = ranks
        self._pattern = pattern
        self._special_tokens = special_tokens
        self._check = needs_check(pattern)
        self._built: Any = None

    @property
    def encoding(self) -> Any:
        """The ``tiktoken.Encoding``, built on first use (a large vocabulary takes a few tenths of a second)."""
        if self._built is None:
            self._built = tiktoken_encoding(self._ranks, pattern=self._pattern, special_tokens=self._special_tokens)
        return self._built

    def encode_ordinary(self, text: str) -> list[int]:
        encoding = self.encoding
        ids = cast(list[int], encoding.encode_ordinary(text))
        if self._check:
            check_byte_count(self._pattern, text, len(encoding.decode_bytes(ids)))
        return ids

    def encode_ordinary_batch(self, texts: Sequence[str]) -> list[list[int]]:
        encoding = self.encoding
        batches = cast(list[list[int]], encoding.encode_ordinary_batch(list(texts)))
        if self._check:
            for text, ids in zip(texts, batches):
                check_byte_count(self._pattern, text, len(encoding.decode_bytes(ids)))
        return batches

    def decode_bytes(self, ids: list[int]) -> bytes:
        return cast(bytes, self.encoding.decode_bytes(ids))
