"""What training is asked to do, as small records passed down to every method instead of long keyword lists.

``MergeSettings`` says how the merge loop runs and when it stops; ``TokenizerSettings`` what the trained
tokenizer encodes with and what its metadata says about the corpus; ``ParitySettings`` how parity-aware
training chooses its merges.  ``bbpe.train`` and
``bbpe.train_from_counts`` keep their keyword API (the command line maps one option to one keyword) and
build these records once; extension, superwords and parity-aware training receive them as they are.

>>> merge = MergeSettings(vocab_size=1000, min_frequency=3)
>>> merge.with_vocab_size(500).vocab_size, merge.min_frequency
(500, 3)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bbpe.encoding.normalization import Normalization
from bbpe.progress import ProgressCallback

Backend = Literal["auto", "python", "numba"]


@dataclass(frozen=True)
class MergeSettings:
    """The merge loop: stop at ``vocab_size`` tokens (bytes or base tokens + new tokens + specials), after
    ``max_merges`` new tokens, or when no pair occurs ``min_frequency`` times; which loop (``backend``); where
    progress goes."""

    vocab_size: int
    min_frequency: int = 2
    max_merges: int | None = None
    backend: Backend = "auto"
    on_progress: ProgressCallback | None = None

    def with_vocab_size(self, vocab_size: int) -> MergeSettings:
        """The same settings for another vocabulary size (superwords' stage 1)."""
        return replace(self, vocab_size=vocab_size)


@dataclass(frozen=True)
class TokenizerSettings:
    """What the trained tokenizer gets: its pattern (the split-digit form when ``split_digits``), special
    tokens, normalization, and the corpus summary for its metadata."""

    pattern: str
    special_tokens: tuple[str, ...] = ()
    split_digits: bool = False
    normalization: Normalization = "none"
    corpus_summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParitySettings:
    """Parity-aware training (``bbpe.training.methods.parity``): the ``dev`` set (a parallel corpus directory,
    or a directory of them), how many merges are global first, the training bytes a language needs to take
    part, the stop rule's ``patience`` (0: none), and whether the dev lines are split (``holdout``: the even
    lines choose, the odd ones are held out)."""

    dev: str | os.PathLike[str]
    global_merges: int = 0
    min_bytes: int = 0
    patience: int = 0
    holdout: bool = False
