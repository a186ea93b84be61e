"""bbpe: byte-level BPE tokenizers — train, extend, encode, decode, benchmark.

>>> import bbpe
>>> tok = bbpe.train(["hello hello world"], vocab_size=258, pattern="gpt2", workers=1)
>>> tok.decode(tok.encode("hello world"))
'hello world'

Importing bbpe loads almost nothing: each name below is imported from its module when it is first
used (``import bbpe`` stays fast for programs that only need part of it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bbpe._version import __version__
from bbpe.errors import BBPEError, CorpusError, VocabFormatError

if TYPE_CHECKING:
    from bbpe.pretokenize.patterns import PRESETS, resolve_pattern
    from bbpe.progress import ProgressEvent
    from bbpe.tokenizer import Tokenizer, load
    from bbpe.training import train, train_from_counts

_LAZY = {
    "PRESETS": "bbpe.pretokenize.patterns",
    "ProgressEvent": "bbpe.progress",
    "Tokenizer": "bbpe.tokenizer",
    "load": "bbpe.tokenizer",
    "resolve_pattern": "bbpe.pretokenize.patterns",
    "train": "bbpe.training",
    "train_from_counts": "bbpe.training",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'bbpe' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "PRESETS",
    "BBPEError",
    "CorpusError",
    "ProgressEvent",
    "Tokenizer",
    "VocabFormatError",
    "__version__",
    "load",
    "resolve_pattern",
    "train",
    "train_from_counts",
]
