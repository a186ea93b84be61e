"""Tokenizer: a rank table, a pre-tokenization pattern and special tokens.

Encoding is tiktoken's rank-based byte-level BPE.  Two engines give identical ids:
``"python"`` (the readable reference in ``bbpe.bpe``) and ``"tiktoken"`` (tiktoken's
Rust core built from the same ranks; the default when tiktoken imports).

>>> tok = Tokenizer.from_bytes_only(pattern="cl100k")
>>> tok.decode(tok.encode("héllo"))
'héllo'
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal, cast

import regex

from bbpe import bpe, references
from bbpe.formats import native, transformers_dir
from bbpe.pretokenize.patterns import compile_pattern
from bbpe.vocabulary import Vocabulary

AllowedSpecial = Literal["all"] | Collection[str]
Engine = Literal["auto", "python", "tiktoken"]
ChosenEngine = Literal["python", "tiktoken"]  # what "auto" resolves to


class Tokenizer:
    """A byte-level BPE tokenizer over a general rank table (ids need not be byte-ordered)."""

    def __init__(
        self,
        ranks: Mapping[bytes, int],
        *,
        pattern: str,
        special_tokens: Mapping[str, int] | None = None,
        engine: Engine = "auto",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._adopt(Vocabulary(ranks, pattern, special_tokens or {}, metadata or {}), engine)

    @classmethod
    def from_vocabulary(cls, vocabulary: Vocabulary, *, engine: Engine = "auto") -> Tokenizer:
        """A tokenizer for a vocabulary read from a file (already checked: not checked again)."""
        tokenizer = cls.__new__(cls)
        tokenizer._adopt(vocabulary, engine)
        return tokenizer

    def _adopt(self, vocabulary: Vocabulary, engine: Engine) -> None:
        """Take a checked vocabulary's parts (Vocabulary holds its own copies) and set up the engine."""
        self._ranks = dict(vocabulary.ranks)
        self._pattern = vocabulary.pattern
        self._special_tokens = dict(vocabulary.special_tokens)
        self._metadata = dict(vocabulary.metadata)
        self._bytes_of = {rank: token for token, rank in self._ranks.items()}
        self._bytes_of.update((rank, text.encode("utf-8")) for text, rank in self._special_tokens.items())
        self._engine_name = _choose_engine(engine)
        self._tiktoken: Any = None
        self._compiled = compile_pattern(self._pattern)
        self._piece_cache: dict[str, list[int]] = {}

    @classmethod
    def from_bytes_only(cls, *, pattern: str = "cl100k", engine: Engine = "auto") -> Tokenizer:
        """The 256-token vocabulary of raw bytes (ids 0..255 in byte order)."""
        return cls({bytes([i]): i for i in range(256)}, pattern=pattern, engine=engine)

    # -- properties -------------------------------------------------------------------
    @property
    def pattern(self) -> str:
        return self._pattern

    @property
    def special_tokens(self) -> dict[str, int]:
        return dict(self._special_tokens)

    @property
    def ranks(self) -> dict[bytes, int]:
        """Regular tokens (bytes -> id), specials excluded."""
        return dict(self._ranks)

    @property
    def vocab_size(self) -> int:
        """Number of tokens: regular tokens plus special tokens."""
        return len(self._ranks) + len(self._special_tokens)

    @property
    def n_merges(self) -> int:
        """Number of regular tokens longer than one byte."""
        return sum(1 for token in self._ranks if len(token) > 1)

    @property
    def max_token_value(self) -> int:
        return max(self._bytes_of)

    @property
    def engine(self) -> ChosenEngine:
        return self._engine_name

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def with_engine(self, engine: Engine) -> Tokenizer:
        """The same vocabulary served by another engine."""
        return Tokenizer(
            self._ranks,
            pattern=self._pattern,
            special_tokens=self._special_tokens,
            engine=engine,
            metadata=self._metadata,
        )

    # -- encoding ---------------------------------------------------------------------
    def encode_ordinary(self, text: str) -> list[int]:
        """Encode text, treating special-token text as ordinary text (a lone surrogate raises ValueError)."""
        check_text(text)
        if self._engine_name == "tiktoken":
            return cast(list[int], self._tiktoken_encoding().encode_ordinary(text))
        ids: list[int] = []
        for piece in self._compiled.findall(text):
            ids.extend(self._encode_piece(piece))
        return ids

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = frozenset(),
        disallowed_special: AllowedSpecial = "all",
    ) -> list[int]:
        """Encode text; special tokens follow tiktoken's rules.

        Special-token text in ``disallowed_special`` (by default every special token not
        allowed) raises ValueError; pass ``allowed_special={...}`` to encode it as the
        special id, or ``disallowed_special=()`` to encode it as ordinary text.
        """
        check_text(text)
        if self._engine_name == "tiktoken":
            return cast(
                list[int],
                self._tiktoken_encoding().encode(
                    text,
                    allowed_special=_as_set(allowed_special),
                    disallowed_special=_as_set(disallowed_special),
                ),
            )
        allowed = set(self._special_tokens) if allowed_special == "all" else set(allowed_special)
        if disallowed_special == "all":
            disallowed = set(self._special_tokens) - allowed
        else:
            disallowed = set(disallowed_special)
        if disallowed:
            found = _special_regex(disallowed).search(text)
            if found:
                raise ValueError(
                    f"Encountered text corresponding to disallowed special token {found.group()!r}. "
                    f"Pass allowed_special={{{found.group()!r}}} to encode it as a special token, "
                    "or disallowed_special=() to encode it as ordinary text."
                )
        if not allowed:
            return self.encode_ordinary(text)
        ids: list[int] = []
        start = 0
        for match in _special_regex(allowed).finditer(text):
            ids.extend(self.encode_ordinary(text[start : match.start()]))
            ids.append(self._special_tokens[match.group()])
            start = match.end()
        ids.extend(self.encode_ordinary(text[start:]))
        return ids

    def encode_batch(self, texts: Sequence[str], **kwargs: Any) -> list[list[int]]:
        """Encode several texts (keyword arguments as for ``encode``)."""
        texts = [check_text(text) for text in texts]
        if self._engine_name == "tiktoken":
            return cast(list[list[int]], self._tiktoken_encoding().encode_batch(texts, **kwargs))
        return [self.encode(text, **kwargs) for text in texts]

    def encode_bytes(self, data: bytes) -> list[int]:
        """Encode arbitrary bytes losslessly (invalid UTF-8 spans go through the byte tokens)."""
        ids: list[int] = []
        for chunk in _utf8_chunks(data):
            if isinstance(chunk, str):
                ids.extend(self.encode_ordinary(chunk))
            else:
                ids.extend(self._ranks[bytes([byte])] for byte in chunk)
        return ids

    def _encode_piece(self, piece: str) -> list[int]:
        ids = self._piece_cache.get(piece)
        if ids is None:
            ids = bpe.bpe_encode(piece.encode("utf-8"), self._ranks)
            if len(self._piece_cache) > 200_000:
                self._piece_cache.clear()
            self._piece_cache[piece] = ids
        return ids

    # -- decoding ---------------------------------------------------------------------
    def token_bytes(self, token: int) -> bytes:
        """The bytes of one token id (special tokens give their UTF-8 text)."""
        try:
            return self._bytes_of[token]
        except KeyError:
            raise KeyError(f"token id {token} is not in this vocabulary (max id {self.max_token_value})") from None

    def decode_tokens_bytes(self, tokens: Iterable[int]) -> list[bytes]:
        return [self.token_bytes(token) for token in tokens]

    def decode_bytes(self, tokens: Iterable[int]) -> bytes:
        if self._engine_name == "tiktoken":
            tokens = list(tokens)
            try:
                return cast(bytes, self._tiktoken_encoding().decode_bytes(tokens))
            except (KeyError, OverflowError, TypeError):
                pass  # the Python path below names the bad id
        return b"".join(self.decode_tokens_bytes(tokens))

    def decode(self, tokens: Iterable[int], errors: str = "replace") -> str:
        """Decode ids to text; partial UTF-8 sequences are replaced unless ``errors`` says otherwise."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    # -- files ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the native bbpe JSON file (atomically)."""
        native.write(self, path)

    def save_pretrained(self, directory: str | os.PathLike[str], **roles: Any) -> dict[str, Any]:
        """Write a ``transformers`` tokenizer directory (``AutoTokenizer.from_pretrained(directory)``).

        ``roles``: ``bos``, ``eos``, ``pad``, ``unk`` and ``additional`` (see
        ``bbpe.formats.transformers_dir``).  Returns the special-token roles written.
        """
        return transformers_dir.write(self, directory, **roles)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, pattern: str | None = None, engine: Engine = "auto") -> Tokenizer:
        """Load a bbpe JSON, a ``.tiktoken`` ranks file (needs ``pattern`` unless it is a known
        reference), a byte-level ``tokenizer.json``, a transformers tokenizer directory, or a
        reference name such as ``"cl100k_base"``."""
        return cls.from_vocabulary(references.load_vocabulary(path, pattern=pattern), engine=engine)

    def __repr__(self) -> str:
        return f"<bbpe.Tokenizer vocab_size={self.vocab_size} engine={self._engine_name!r}>"

    def _tiktoken_encoding(self) -> Any:
        if self._tiktoken is None:
            import tiktoken

            self._tiktoken = tiktoken.Encoding(
                name=f"bbpe-{id(self):x}",
                pat_str=self._pattern,
                mergeable_ranks=self._ranks,
                special_tokens=self._special_tokens,
            )
        return self._tiktoken


def _choose_engine(engine: str) -> ChosenEngine:
    if engine not in ("auto", "python", "tiktoken"):
        raise ValueError(f"unknown engine {engine!r}; use 'auto', 'python' or 'tiktoken'")
    if engine == "python":
        return "python"
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        if engine == "tiktoken":
            raise ImportError("engine='tiktoken' needs the tiktoken package: pip install tiktoken") from None
        return "python"
    return "tiktoken"


_SURROGATE = regex.compile(r"[\ud800-\udfff]")


def check_text(text: str) -> str:
    """``text``, or a ValueError if it holds a lone surrogate (not encodable as UTF-8), in both engines."""
    if not isinstance(text, str):
        raise TypeError(f"expected text (str), got {type(text).__name__}; use encode_bytes for bytes")
    found = _SURROGATE.search(text)
    if found:
        raise ValueError(
            f"the text holds a lone surrogate (U+{ord(found.group()):04X} at index {found.start()}), "
            "which is not Unicode text; encode raw bytes with encode_bytes instead"
        )
    return text


_SPECIAL_REGEX_CACHE: dict[frozenset[str], regex.Pattern[str]] = {}


def _special_regex(tokens: Collection[str]) -> regex.Pattern[str]:
    key = frozenset(tokens)
    compiled = _SPECIAL_REGEX_CACHE.get(key)
    if compiled is None:
        ordered = sorted(key, key=lambda token: (-len(token), token))
        compiled = regex.compile("|".join(regex.escape(token) for token in ordered))
        _SPECIAL_REGEX_CACHE[key] = compiled
    return compiled


def _utf8_chunks(data: bytes) -> Iterable[str | bytes]:
    """Split bytes into decodable text and undecodable byte runs, in order."""
    start = 0
    while start < len(data):
        try:
            yield data[start:].decode("utf-8")
            return
        except UnicodeDecodeError as exc:
            if exc.start:
                yield data[start : start + exc.start].decode("utf-8")
            yield data[start + exc.start : start + exc.end]
            start += exc.end


def _as_set(tokens: AllowedSpecial) -> Literal["all"] | frozenset[str]:
    """tiktoken takes "all" or a set (a list or tuple would fail in its set arithmetic)."""
    return "all" if tokens == "all" else frozenset(tokens)
