"""One interface for every tokenizer the compression report compares.

``TokenizerAdapter`` is what the report needs: ``encode`` (no BOS/EOS, special-token text
encoded as ordinary text), ``decode``, the vocabulary size, which ids are SentencePiece
byte-fallback pieces, and whether the model rewrites text (NFC, NFKC, whitespace folding) so
that round trips may legitimately fail.  ``open_adapter`` accepts a reference name
(see ``bbpe.references``) or a file: bbpe JSON, ``.tiktoken``, ``tokenizer.json`` or a
SentencePiece ``.model``.

>>> from bbpe import Tokenizer
>>> enc = BBPEAdapter(Tokenizer.from_bytes_only(), "bytes")
>>> enc.encode("hi"), enc.decode([104, 105]), enc.is_byte_fallback(104)
([104, 105], 'hi', False)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bbpe import references
from bbpe.errors import BBPEError, VocabFormatError
from bbpe.formats import is_sentencepiece
from bbpe.references import table
from bbpe.tokenizer import Tokenizer

_NORMALIZER_PROBE = "ａ  b\tＡ①"  # full-width letters, a double space, a tab, a circled digit


@runtime_checkable
class TokenizerAdapter(Protocol):
    """What the report uses of a tokenizer."""

    name: str
    kind: str  # "bbpe", "tiktoken" or "sentencepiece"
    vocab_size: int
    normalizes: bool

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...

    def is_byte_fallback(self, token_id: int) -> bool: ...


class BBPEAdapter:
    """A ``bbpe.Tokenizer`` as a TokenizerAdapter (no byte-fallback pieces; ``normalizes`` when it carries a
    Unicode normalization, so round trips may legitimately fail, as for SentencePiece's NFKC)."""

    def __init__(self, tokenizer: Tokenizer, name: str, *, kind: str = "bbpe") -> None:
        self.tokenizer = tokenizer
        self.name = name
        self.kind = kind
        self.vocab_size = tokenizer.vocab_size
        self.normalizes = tokenizer.normalization != "none"

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode_ordinary(text)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def is_byte_fallback(self, token_id: int) -> bool:
        return False

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes of one token."""
        return self.tokenizer.token_bytes(token_id)

    def __repr__(self) -> str:
        return f"<BBPEAdapter {self.name!r} kind={self.kind} vocab_size={self.vocab_size}>"


class SentencePieceAdapter:
    """A SentencePiece ``.model`` as a TokenizerAdapter (ids as ``sentencepiece`` gives them, no BOS/EOS)."""

    kind = "sentencepiece"

    def __init__(self, path: str | os.PathLike[str], name: str) -> None:
        import sentencepiece

        self.path = Path(path)
        self.name = name
        try:
            self._sp: Any = sentencepiece.SentencePieceProcessor(model_file=str(self.path))
        except (OSError, RuntimeError) as exc:
            raise VocabFormatError(self.path, f"not a loadable SentencePiece model ({exc})") from None
        self.vocab_size = int(self._sp.get_piece_size())
        self.normalizes = _rewrites_text(self._sp)

    def encode(self, text: str) -> list[int]:
        return list(self._sp.encode(text))

    def decode(self, ids: list[int]) -> str:
        return str(self._sp.decode(list(ids)))

    def is_byte_fallback(self, token_id: int) -> bool:
        return bool(self._sp.is_byte(token_id))

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a piece stands for: ``<0xE4>`` is one byte, ``▁`` a space, control pieces nothing."""
        if self._sp.is_byte(token_id):
            return bytes([int(self._sp.id_to_piece(token_id)[3:-1], 16)])
        if self._sp.is_control(token_id):
            return b""
        return str(self._sp.id_to_piece(token_id)).replace("\u2581", " ").encode("utf-8")

    def __repr__(self) -> str:
        return f"<SentencePieceAdapter {self.name!r} vocab_size={self.vocab_size}>"


def _rewrites_text(sp: Any) -> bool:
    """True unless the normalizer only turns spaces into ``▁`` (plus an optional dummy prefix)."""
    normalized = sp.normalize(_NORMALIZER_PROBE).replace("\u2581", " ")
    return _NORMALIZER_PROBE not in (normalized, normalized[1:])


def open_adapter(
    name_or_path: str | os.PathLike[str], *, pattern: str | None = None
) -> BBPEAdapter | SentencePieceAdapter:
    """A TokenizerAdapter for a reference name or a vocabulary file.

    A file whose SHA-256 is a reference's is named after it and gets its pattern and
    special tokens; ``pattern`` is needed only for other ``.tiktoken`` files.
    """
    if references.is_reference_name(name_or_path):
        return open_reference(str(name_or_path), pattern=pattern)
    path = Path(name_or_path)
    if path.is_dir():  # a transformers tokenizer directory
        return BBPEAdapter(Tokenizer.load(path, pattern=pattern), path.name)
    if not path.is_file():
        known_names = ", ".join(table.REFERENCES)
        raise BBPEError(f"{name_or_path}: no such vocabulary file or reference (known: {known_names})")
    known = references.identify(path)
    if known is not None:
        return open_reference(known.name, path=path, pattern=pattern)
    if is_sentencepiece(path):
        return SentencePieceAdapter(path, path.stem)
    return BBPEAdapter(Tokenizer.load(path, pattern=pattern), path.stem)


def open_reference(
    name: str, *, path: str | os.PathLike[str] | None = None, pattern: str | None = None
) -> BBPEAdapter | SentencePieceAdapter:
    """A reference as a TokenizerAdapter: tiktoken kinds through bbpe, SentencePiece through sentencepiece."""
    reference = references.get(name)
    if reference.kind == "tiktoken":
        vocabulary = references.reference_vocabulary(name, path=path, pattern=pattern)
        return BBPEAdapter(Tokenizer.from_vocabulary(vocabulary), name, kind="tiktoken")
    if pattern is not None:
        raise BBPEError(f"reference {name!r} is a SentencePiece model; it takes no pre-tokenization pattern")
    return SentencePieceAdapter(references.locate(name, path=path).path, name)
