"""Tokenizer: a rank table, a pre-tokenization pattern, special tokens, a Unicode normalization and
always-matched added tokens (``bbpe.vocabulary``).

Encoding is tiktoken's rank-based byte-level BPE.  Three engines give identical ids:
``"compiled"`` (bbpe's scanner, a pre-token cache and linear-time BPE, numba; the preset patterns),
``"tiktoken"`` (tiktoken's Rust core built from the same ranks) and ``"python"`` (the readable
reference in ``bbpe.bpe``).  ``"auto"`` takes the first that can serve the tokenizer.  Around them,
the same steps for all (``bbpe.encoding``): special tokens (those allowed) and added tokens (always) are
cut out of the raw text (leftmost, longest first), each ordinary segment is normalized (``normalization``),
then pre-tokenized, and the pieces must cover the segment (a pattern that drops a character raises ValueError).

>>> tok = Tokenizer.from_bytes_only(pattern="cl100k")
>>> tok.decode(tok.encode("héllo"))
'héllo'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from bbpe.encoding.encoder import NO_SPECIALS, Encoder, EngineName, check_text
from bbpe.encoding.normalization import Normalization
from bbpe.encoding.specials import AllowedSpecial
from bbpe.encoding.tiktoken_engine import TiktokenEngine, has_tiktoken, require_tiktoken
from bbpe.pretokenize.scanner_presets import supports
from bbpe.vocabulary import Vocabulary

if TYPE_CHECKING:
    import numpy as np

Engine = Literal["auto", "compiled", "tiktoken", "python"]
ChosenEngine = EngineName  # what "auto" resolves to
__all__ = ["ChosenEngine", "Engine", "Tokenizer", "check_text"]


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
        normalization: Normalization = "none",
        added_tokens: Mapping[str, int] | None = None,
    ) -> None:
        self._adopt(
            Vocabulary(ranks, pattern, special_tokens or {}, metadata or {}, normalization, added_tokens or {}), engine
        )

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
        self._normalization = vocabulary.normalization
        self._added_tokens = dict(vocabulary.added_tokens)
        self._bytes_of = {rank: token for token, rank in self._ranks.items()}
        self._bytes_of.update((rank, text.encode("utf-8")) for text, rank in self._special_tokens.items())
        for text, rank in self._added_tokens.items():  # one with a regular token's id decodes as that token
            self._bytes_of.setdefault(rank, text.encode("utf-8"))
        self._engine_name = _choose_engine(engine, self._pattern)
        self._encoder = Encoder(
            self._ranks,
            pattern=self._pattern,
            special_tokens=self._special_tokens,
            normalization=self._normalization,
            engine=self._engine_name,
            added_tokens=self._added_tokens,
        )

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
    def normalization(self) -> Normalization:
        """The Unicode normalization applied to ordinary text before pre-tokenization ("none", "NFC", ...)."""
        return self._normalization

    @property
    def added_tokens(self) -> dict[str, int]:
        """Added tokens (text -> id): always cut out of the text, whatever ``allowed_special`` says."""
        return dict(self._added_tokens)

    @property
    def vocab_size(self) -> int:
        """Number of distinct ids: regular tokens, special tokens and added tokens with an id of their own."""
        return len(self._bytes_of)

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
        return Tokenizer.from_vocabulary(Vocabulary.of(self), engine=engine)

    # -- encoding ---------------------------------------------------------------------
    def encode_ordinary(self, text: str) -> list[int]:
        """Encode text, treating special-token text as ordinary text (added tokens are still cut out; a lone
        surrogate raises ValueError)."""
        return self._encoder.encode_ordinary(text)

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = NO_SPECIALS,
        disallowed_special: AllowedSpecial = "all",
    ) -> list[int]:
        """Encode text; special tokens follow tiktoken's rules, added tokens are always cut out.

        ``allowed_special`` / ``disallowed_special``: ``"all"`` or a collection of special tokens.
        Special-token text in ``disallowed_special`` (by default every special token not allowed)
        raises ValueError; pass ``allowed_special={...}`` to encode it as the special id, or
        ``disallowed_special=()`` to encode it as ordinary text.  Special tokens are cut out of the
        raw text (leftmost, longest first) before the ordinary segments are normalized.
        """
        return self._encoder.encode(text, allowed_special=allowed_special, disallowed_special=disallowed_special)

    def encode_batch(
        self,
        texts: Sequence[str],
        *,
        allowed_special: AllowedSpecial = NO_SPECIALS,
        disallowed_special: AllowedSpecial = "all",
    ) -> list[list[int]]:
        """Encode several texts (keywords as for ``encode``; the tiktoken engine encodes on threads)."""
        return self._encoder.encode_batch(texts, allowed_special=allowed_special, disallowed_special=disallowed_special)

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = NO_SPECIALS,
        disallowed_special: AllowedSpecial = "all",
    ) -> np.ndarray:
        """``encode`` as a uint32 array (no Python int per id with the compiled engine)."""
        ids, _ = self.encode_batch_to_numpy(
            [text], allowed_special=allowed_special, disallowed_special=disallowed_special
        )
        return ids

    def encode_batch_to_numpy(
        self,
        texts: Sequence[str],
        *,
        allowed_special: AllowedSpecial = NO_SPECIALS,
        disallowed_special: AllowedSpecial = "all",
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``encode_batch`` as (ids, offsets): text ``i``'s ids are ``ids[offsets[i]:offsets[i + 1]]``
        (uint32, int64; ``len(offsets) == len(texts) + 1``).  ``threads``: at most this many threads
        (the compiled engine encodes on one per core by default)."""
        return self._encoder.encode_batch_flat(
            texts, allowed_special=allowed_special, disallowed_special=disallowed_special, threads=threads
        )

    def encode_bytes(self, data: bytes) -> list[int]:
        """Encode arbitrary bytes losslessly (invalid UTF-8 spans go through the byte tokens)."""
        ids: list[int] = []
        for chunk in _utf8_chunks(data):
            if isinstance(chunk, str):
                ids.extend(self.encode_ordinary(chunk))
            else:
                ids.extend(self._ranks[bytes([byte])] for byte in chunk)
        return ids

    # -- decoding ---------------------------------------------------------------------
    def token_bytes(self, token: int) -> bytes:
        """The bytes of one token id (special and added tokens give their UTF-8 text)."""
        try:
            return self._bytes_of[token]
        except KeyError:
            raise KeyError(f"token id {token} is not in this vocabulary (max id {self.max_token_value})") from None

    def decode_tokens_bytes(self, tokens: Iterable[int]) -> list[bytes]:
        return [self.token_bytes(token) for token in tokens]

    def decode_bytes(self, tokens: Iterable[int]) -> bytes:
        engine = self._encoder.engine
        if isinstance(engine, TiktokenEngine):
            tokens = list(tokens)
            try:
                return engine.decode_bytes(tokens)
            except (KeyError, OverflowError, TypeError):
                pass  # the Python path below names the bad id
        return b"".join(self.decode_tokens_bytes(tokens))

    def decode(self, tokens: Iterable[int], errors: str = "replace") -> str:
        """Decode ids to text; partial UTF-8 sequences are replaced unless ``errors`` says otherwise."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    # -- files ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the native bbpe JSON file (atomically)."""
        from bbpe.formats import native

        native.write(self, path)

    def save_pretrained(self, directory: str | os.PathLike[str], **roles: Any) -> dict[str, Any]:
        """Write a ``transformers`` tokenizer directory (``AutoTokenizer.from_pretrained(directory)``).

        ``roles``: ``bos``, ``eos``, ``pad``, ``unk`` and ``additional`` (see
        ``bbpe.formats.transformers_dir``).  Returns the special-token roles written.
        """
        from bbpe.formats import transformers_dir

        return transformers_dir.write(self, directory, **roles)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, pattern: str | None = None, engine: Engine = "auto") -> Tokenizer:
        """Load a bbpe JSON, a ``.tiktoken`` ranks file (needs ``pattern`` unless it is a known
        reference), a byte-level ``tokenizer.json``, a transformers tokenizer directory, or a
        reference name such as ``"cl100k_base"``."""
        from bbpe import references  # the reference table and the file formats: imported when a file is read

        return cls.from_vocabulary(references.load_vocabulary(path, pattern=pattern), engine=engine)

    def __repr__(self) -> str:
        return f"<bbpe.Tokenizer vocab_size={self.vocab_size} engine={self._engine_name!r}>"


def load(path: str | os.PathLike[str], *, pattern: str | None = None, engine: Engine = "auto") -> Tokenizer:
    """Load a tokenizer file (bbpe JSON, ``.tiktoken``, byte-level ``tokenizer.json``), a transformers tokenizer
    directory or a reference name (``Tokenizer.load``)."""
    return Tokenizer.load(path, pattern=pattern, engine=engine)


def _choose_engine(engine: str, pattern: str) -> ChosenEngine:
    """The engine ``engine`` names; "auto": compiled (numba, a preset pattern, compiled on this machine: see
    ``compiled_engine_pays``), else tiktoken, else python."""
    if engine not in ("auto", "compiled", "tiktoken", "python"):
        raise ValueError(f"unknown engine {engine!r}; use 'auto', 'compiled', 'tiktoken' or 'python'")
    if engine == "compiled":
        if supports(pattern) is None:
            raise ValueError(
                "engine='compiled' runs the preset patterns (gpt2, cl100k, o200k, llama3, qwen, their split-digit "
                "and stage-2 forms); use engine='tiktoken' for a custom pattern"
            )
        if not has_numba():
            raise ImportError("engine='compiled' needs numba: pip install 'bbpe[fast]'")
        return "compiled"
    if engine == "tiktoken":
        require_tiktoken()
        return "tiktoken"
    if engine == "auto" and supports(pattern) is not None and has_numba() and compiled_engine_pays(None):
        return "compiled"
    return "tiktoken" if engine == "auto" and has_tiktoken() else "python"


def compiled_engine_pays(input_bytes: int | None) -> bool:
    """Whether "auto" takes the compiled engine (numba importable): when its kernels are compiled on this
    machine already, or for an input of ``input_bytes`` that pays for compiling them (``bbpe._jit``);
    else tiktoken's, with the same ids, serves without a compile."""
    from bbpe._jit import worth_compiling
    from bbpe.encoding import _kernels

    return worth_compiling([_kernels.encode_documents, _kernels.build_trie], input_bytes)


def has_numba() -> bool:
    """True when numba can be imported (found without importing it: that takes a third of a second)."""
    import sys
    from importlib.util import find_spec

    if "numba" in sys.modules:
        return sys.modules["numba"] is not None  # None: blocked (as tests do)
    return find_spec("numba") is not None


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
