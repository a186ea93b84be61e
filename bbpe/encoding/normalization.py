"""Unicode normalization of the text before pre-tokenization: ``none``, ``NFC``, ``NFD``, ``NFKC``, ``NFKD``.

A tokenizer carries one form.  Special tokens are cut out of the raw text first (as Hugging Face
``tokenizers`` does for added tokens with ``normalized: false``); each ordinary segment between
them is then normalized and pre-tokenized.  Training counts exactly that text.

>>> normalizer("NFC")("e\\u0301") == "\\u00e9", normalizer("none") is None
(True, True)
>>> check_normalization("nfkc")
'NFKC'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import partial
from typing import Literal

Normalization = Literal["none", "NFC", "NFD", "NFKC", "NFKD"]
NORMALIZATIONS: tuple[Normalization, ...] = ("none", "NFC", "NFD", "NFKC", "NFKD")


def check_normalization(value: object) -> Normalization:
    """The canonical name of a normalization form (case does not matter); ValueError/TypeError otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"normalization must be a string such as 'NFC', got {type(value).__name__}")
    name = "none" if value.lower() == "none" else value.upper()
    for form in NORMALIZATIONS:
        if name == form:
            return form
    raise ValueError(f"unknown normalization {value!r}; use one of {', '.join(NORMALIZATIONS)}")


def normalizer(form: str) -> Callable[[str], str] | None:
    """The function that normalizes text to ``form``, or None for ``none`` (ASCII text is in every form)."""
    name = check_normalization(form)
    if name == "none":
        return None
    return partial(_normalize, name)


def _normalize(form: Literal["NFC", "NFD", "NFKC", "NFKD"], text: str) -> str:
    return text if text.isascii() else unicodedata.normalize(form, text)
