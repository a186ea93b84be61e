"""Exception types that bbpe raises for bad input (all subclasses of ValueError)."""

from __future__ import annotations


class BBPEError(ValueError):
    """Base class for user-facing errors; the CLI prints the message on one line."""


class CorpusError(BBPEError):
    """A training corpus is missing, empty, binary or not decodable."""


class VocabFormatError(BBPEError):
    """A vocabulary file is corrupt, truncated or of an unsupported version."""

    def __init__(self, path: object, problem: str, *, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
