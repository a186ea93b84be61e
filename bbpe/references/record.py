"""What the table knows about one reference vocabulary (``Reference``), or about a model tokenizer that no
package registry ships (``Unsourced``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bbpe.encoding.normalization import Normalization
from bbpe.references.sources import GGUFRebuild, NpmRanks, Package, Pinned, RankRebuild

Kind = Literal["tiktoken", "sentencepiece"]


@dataclass(frozen=True)
class Reference:
    """One reference vocabulary file and everything needed to load it exactly.

    ``added_tokens``: Hugging Face's ``special: false`` added tokens, always cut out of the text (ids of their
    own); ``byte_stand_ins``: added tokens whose id is a regular byte token's (DeepSeek's ``"ø"`` is id 100002,
    the byte 0xF8 that its BPE vocabulary lacks), also always cut out; ``model_file``: the model's own
    tokenizer file in a registry package, which the exactness tests load with its own library.
    """

    name: str
    filename: str
    sha256: str
    kind: Kind
    n_regular: int
    pattern: str | None
    special_tokens: Mapping[str, int] = field(repr=False)
    license: str
    official: str
    url: str | None = None
    packages: tuple[Package, ...] = ()
    note: str = ""
    sources: tuple[NpmRanks | GGUFRebuild | RankRebuild, ...] = ()
    normalization: Normalization = "none"  # what bbpe applies before pre-tokenization (tiktoken kinds)
    preprocessing: str = ""  # what the model's own tokenizer does to text before BPE
    added_tokens: Mapping[str, int] = field(default_factory=dict, repr=False)
    byte_stand_ins: Mapping[str, int] = field(default_factory=dict, repr=False)
    model_file: Pinned | None = None
    verified: str = ""  # how exactness against the model's own tokenizer is tested

    @property
    def vocab_size(self) -> int:
        """Regular, special and added tokens (SentencePiece: all pieces)."""
        if self.kind != "tiktoken":
            return self.n_regular
        return self.n_regular + len(self.special_tokens) + len(self.added_tokens)

    @property
    def always_matched(self) -> dict[str, int]:
        """The added tokens and byte stand-ins: the text always cut out as these ids."""
        return {**self.added_tokens, **self.byte_stand_ins}


@dataclass(frozen=True)
class Unsourced:
    """A tokenizer the comparisons name that no package registry ships: where the file normally lives."""

    name: str
    model: str
    where: str
    kind: str
    n_pieces: str
    license: str
    note: str = ""
