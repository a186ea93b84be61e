"""bbpe: byte-level BPE tokenizers — train, extend, encode, decode, benchmark.

>>> import bbpe
>>> tok = bbpe.train(["hello hello world"], vocab_size=258, pattern="gpt2", workers=1)
>>> tok.decode(tok.encode("hello world"))
'hello world'
"""

import os

from bbpe._version import __version__
from bbpe.errors import BBPEError, CorpusError, VocabFormatError
from bbpe.pretokenize.patterns import PRESETS, resolve_pattern
from bbpe.progress import ProgressEvent
from bbpe.tokenizer import Engine, Tokenizer
from bbpe.training import train, train_from_counts


def load(path: str | os.PathLike[str], *, pattern: str | None = None, engine: Engine = "auto") -> Tokenizer:
    """Load a tokenizer file (bbpe JSON, ``.tiktoken``, byte-level ``tokenizer.json``), a transformers tokenizer
    directory or a reference name."""
    return Tokenizer.load(path, pattern=pattern, engine=engine)


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
