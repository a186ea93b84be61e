"""Text to ids, the same steps for every engine: special tokens and added tokens are cut out of the
raw text (``specials``), each ordinary segment is normalized (``normalization``), then the engine
pre-tokenizes and BPE-encodes it (and checks that the pieces cover it).

>>> ranks = {bytes([i]): i for i in range(256)}
>>> encoder = Encoder(ranks, pattern=r"\\w+|\\s+|.", special_tokens={"<s>": 256}, normalization="NFC", engine="python")
>>> encoder.encode("e\\u0301<s>", allowed_special="all")
[195, 169, 256]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import regex

from bbpe.encoding.normalization import Normalization, normalizer
from bbpe.encoding.python_engine import PythonEngine
from bbpe.encoding.specials import AllowedSpecial, SpecialTokens
from bbpe.encoding.tiktoken_engine import TiktokenEngine

if TYPE_CHECKING:
    import numpy as np

EngineName = Literal["python", "tiktoken", "compiled"]
NO_SPECIALS: AllowedSpecial = frozenset()


class Engine(Protocol):
    """What an engine does: pre-tokenize and BPE-encode text that holds no special tokens (already normalized)."""

    name: str

    def encode_ordinary(self, text: str) -> list[int]: ...
    def encode_ordinary_batch(self, texts: Sequence[str]) -> list[list[int]]: ...


def new_engine(ranks: Mapping[bytes, int], pattern: str, special_tokens: Mapping[str, int], name: EngineName) -> Engine:
    """The engine called ``name`` (the compiled one is imported only when asked for: it needs numba)."""
    if name == "compiled":
        from bbpe.encoding.compiled import CompiledEngine

        return CompiledEngine(ranks, pattern)
    if name == "tiktoken":
        return TiktokenEngine(ranks, pattern, special_tokens)
    return PythonEngine(ranks, pattern)


class Encoder:
    """Encodes text with one engine; ``special_tokens``, ``normalization`` and ``added_tokens`` as a tokenizer
    holds them."""

    def __init__(
        self,
        ranks: Mapping[bytes, int],
        *,
        pattern: str,
        special_tokens: Mapping[str, int],
        normalization: Normalization,
        engine: EngineName,
        added_tokens: Mapping[str, int] | None = None,
    ) -> None:
        added = dict(added_tokens or {})
        self.specials = SpecialTokens(special_tokens, added=added)
        self._normalize = normalizer(normalization)
        regular_ids = set(ranks.values()) if added else set()
        own_ids = {text: rank for text, rank in added.items() if rank not in regular_ids}
        # tiktoken's engine is given the added tokens with ids of their own, as specials it only decodes
        self.engine = new_engine(ranks, pattern, {**special_tokens, **own_ids}, engine)

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of ``text`` with special-token text treated as ordinary text (added tokens are still cut out)."""
        if self.specials.added:
            return self.encode(text, allowed_special=NO_SPECIALS, disallowed_special=NO_SPECIALS)
        return self.engine.encode_ordinary(self._normalized(check_text(text)))

    def encode(
        self, text: str, *, allowed_special: AllowedSpecial = NO_SPECIALS, disallowed_special: AllowedSpecial = "all"
    ) -> list[int]:
        """Ids of ``text`` under tiktoken's special-token rules (``bbpe.encoding.specials``)."""
        parts = self.specials.segments(
            check_text(text), allowed_special=allowed_special, disallowed_special=disallowed_special
        )
        if len(parts) == 1:
            return self.engine.encode_ordinary(self._normalized(text))
        ids: list[int] = []
        for index, part in enumerate(parts):
            if index % 2:
                ids.append(self.specials.ids[part])
            elif part:
                ids.extend(self.engine.encode_ordinary(self._normalized(part)))
        return ids

    def encode_batch(
        self,
        texts: Sequence[str],
        *,
        allowed_special: AllowedSpecial = NO_SPECIALS,
        disallowed_special: AllowedSpecial = "all",
    ) -> list[list[int]]:
        """``encode`` of each text; the ordinary segments of all texts go to the engine in one batch."""
        split = self._split_batch(texts, allowed_special, disallowed_special)
        return self._encode_split(split)

    def encode_batch_flat(
        self,
        texts: Sequence[str],
        *,
        allowed_special: AllowedSpecial = NO_SPECIALS,
        disallowed_special: AllowedSpecial = "all",
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``encode_batch`` as one array: text ``i``'s ids are ``ids[offsets[i]:offsets[i + 1]]`` (uint32, int64);
        ``threads`` bounds the engine's threads (the compiled engine's; the others ignore it)."""
        import numpy as np

        split = self._split_batch(texts, allowed_special, disallowed_special)
        flat = getattr(self.engine, "encode_ordinary_flat", None)
        if flat is not None and all(len(parts) == 1 for parts in split):  # no special token in any text
            ids, offsets = flat([self._normalized(parts[0]) for parts in split], threads=threads)
            return ids.astype(np.uint32, copy=False), offsets
        batches = self._encode_split(split)
        offsets = np.zeros(len(batches) + 1, np.int64)
        np.cumsum([len(ids) for ids in batches], out=offsets[1:])
        return np.fromiter((i for ids in batches for i in ids), np.uint32, int(offsets[-1])), offsets

    def _split_batch(
        self, texts: Sequence[str], allowed_special: AllowedSpecial, disallowed_special: AllowedSpecial
    ) -> list[list[str]]:
        """Each text cut into ordinary segments and special tokens (``SpecialTokens.segments``)."""
        if isinstance(texts, str):
            raise TypeError("encode_batch takes a sequence of texts, not one str (use encode)")
        return [
            self.specials.segments(
                check_text(text), allowed_special=allowed_special, disallowed_special=disallowed_special
            )
            for text in texts
        ]

    def _encode_split(self, split: list[list[str]]) -> list[list[int]]:
        """The ids of texts cut by ``_split_batch``: all ordinary segments go to the engine in one batch."""
        encoded = iter(self.engine.encode_ordinary_batch([self._normalized(p) for parts in split for p in parts[::2]]))
        results: list[list[int]] = []
        for parts in split:
            ids: list[int] = []
            for index, part in enumerate(parts):
                if index % 2:
                    ids.append(self.specials.ids[part])
                else:
                    ids.extend(next(encoded))
            results.append(ids)
        return results

    def _normalized(self, text: str) -> str:
        return text if self._normalize is None else self._normalize(text)


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
