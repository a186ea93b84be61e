"""Type and range checks shared by the file readers: every failure is a VocabFormatError naming file and field."""

from __future__ import annotations

import os
from typing import Any

from bbpe.errors import VocabFormatError

MAX_ID = 2**31 - 1


def token_id(path: str | os.PathLike[str], where: str, value: Any) -> int:
    """A token id: an int (not a bool, not a float or string) with 0 <= id < 2**31."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise VocabFormatError(path, f"{where}: the id must be an integer, not {value!r}")
    if not 0 <= value <= MAX_ID:
        raise VocabFormatError(path, f"{where}: id {value} is out of range (0 to 2**31 - 1)")
    return value


def special_tokens(
    path: str | os.PathLike[str], where: str, value: Any, *, what: str = "special token"
) -> dict[str, int]:
    """A JSON object of special (or added, ``what``) token text -> id: non-empty strings, distinct valid ids."""
    if not isinstance(value, dict):
        raise VocabFormatError(path, f"{where}: expected an object of token text -> id")
    result: dict[str, int] = {}
    for text, number in value.items():
        text_of(path, where, text, what=what)
        result[text] = token_id(path, f"{where}[{text!r}]", number)
    if len(set(result.values())) != len(result):
        raise VocabFormatError(path, f"{where}: two {what}s share one id")
    return result


def text_of(path: str | os.PathLike[str], where: str, value: Any, *, what: str = "special token") -> str:
    """A special (or added) token's text: a non-empty string."""
    if not isinstance(value, str):
        raise VocabFormatError(path, f"{where}: a {what} must be a string, not {value!r}")
    if not value:
        raise VocabFormatError(path, f"{where}: a {what} cannot be empty")
    return value


def object_or_none(path: str | os.PathLike[str], where: str, value: Any) -> dict[str, Any]:
    """An optional JSON object (None -> {})."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VocabFormatError(path, f"{where}: expected an object, not {type(value).__name__}")
    return value
