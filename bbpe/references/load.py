"""A vocabulary by reference name or by file: a known reference file brings its pattern and specials."""

from __future__ import annotations

import os
from pathlib import Path

from bbpe.errors import BBPEError
from bbpe.formats import detect_format, load_any
from bbpe.formats.tiktoken_file import read_ranks
from bbpe.references import table
from bbpe.references.lookup import identify, locate
from bbpe.vocabulary import Vocabulary


def reference_vocabulary(
    name: str, *, path: str | os.PathLike[str] | None = None, pattern: str | None = None
) -> Vocabulary:
    """A tiktoken-kind reference's vocabulary (its own pattern unless ``pattern`` is given)."""
    reference = table.get(name)
    if reference.kind != "tiktoken" or reference.pattern is None:
        raise BBPEError(
            f"reference {name!r} is a SentencePiece model, not a byte-level BPE rank table; "
            "use bbpe.tokenizer_adapters.open_adapter for it"
        )
    found = locate(name, path=path)
    source = {"name": name, "sha256": reference.sha256, "path": str(found.path), "found_in": found.source}
    return Vocabulary(
        read_ranks(found.path),
        reference.pattern if pattern is None else pattern,
        reference.special_tokens,
        {"reference": source},
        reference.normalization,
        reference.always_matched,
    )


def load_vocabulary(name_or_path: str | os.PathLike[str], *, pattern: str | None = None) -> Vocabulary:
    """A reference name, a file of any format, or a transformers directory, as a Vocabulary."""
    if table.is_reference_name(name_or_path):
        return reference_vocabulary(str(name_or_path), pattern=pattern)
    path = Path(name_or_path)
    if path.is_file() and detect_format(path) == "tiktoken":
        known = identify(path)
        if known is not None and known.kind == "tiktoken":
            return reference_vocabulary(known.name, path=path, pattern=pattern)
    return load_any(path, pattern=pattern)
