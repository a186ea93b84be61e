"""The checks of ``bbpe.train`` and ``bbpe.train_from_counts`` arguments: a TypeError or ValueError with one
clear message before any work, instead of a surprise later (one document per character of a bare
string, ``None`` counted as a document, ``"<s>"`` read as three special tokens, a numba typing error).

``check_options(locals())`` at the top of an API function checks every argument it has a rule for;
``tests/test_api_arguments.py`` checks that every parameter of both functions has one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from bbpe.tokenizer import Tokenizer

MAX_COUNT = 2**63 - 1
# Whole-number options: (smallest, largest, None allowed).
WHOLE_NUMBERS: dict[str, tuple[int, int, bool]] = {
    "vocab_size": (1, 2**31 - 1, False),  # token ids are 32-bit
    "min_frequency": (1, MAX_COUNT, False),
    "max_merges": (0, MAX_COUNT, True),
    "max_bytes": (1, MAX_COUNT, True),
    "workers": (0, 256, True),  # 0 or None: one per core
    "superwords_after": (0, MAX_COUNT, True),
    "max_superword_words": (1, MAX_COUNT, True),
    "parity_global_merges": (0, MAX_COUNT, True),
    "parity_min_bytes": (0, MAX_COUNT, True),
    "parity_patience": (0, MAX_COUNT, True),
}
FLAGS = ("split_digits", "prune_unreachable", "parity_holdout")
CHOICES: dict[str, tuple[str, ...]] = {"utf8_errors": ("replace", "strict"), "unit": ("document", "line")}
TEXTS: dict[str, bool] = {"pattern": True, "jsonl_field": False, "address": True}  # name: None allowed
# Options that mean something only with another one.
NEEDS = {
    "max_superword_words": "superwords_after",
    "parity_global_merges": "parity_dev",
    "parity_min_bytes": "parity_dev",
    "parity_patience": "parity_dev",
    "parity_holdout": "parity_dev",
}
# Arguments checked where they are used: the corpus, specials and counts below (they are consumed once),
# backend, executor (unknown names are ValueErrors there), and these.
CHECKED_ELSEWHERE = (
    "texts_or_paths",
    "special_tokens",
    "counts",
    "backend",
    "executor",
    "corpus_summary",
    "normalization",
)


def check_options(arguments: Mapping[str, Any]) -> None:
    """Check the options among ``arguments`` (a function's ``locals()``) that have a rule here."""
    for name, value in arguments.items():
        if name in WHOLE_NUMBERS:
            _whole_number(name, value, *WHOLE_NUMBERS[name])
        elif name in FLAGS and not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
        elif name in CHOICES and value not in CHOICES[name]:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, CHOICES[name]))}, got {value!r}")
        elif name in TEXTS and not (isinstance(value, str) or (value is None and TEXTS[name])):
            raise TypeError(f"{name} must be a str{' or None' if TEXTS[name] else ''}, got {_shown(value)}")
    _check_object(arguments, "init", (str, os.PathLike, Tokenizer), "a Tokenizer, a reference name or a path")
    _check_object(arguments, "parity_dev", (str, os.PathLike), "a path (str or pathlib.Path)")
    if arguments.get("on_progress") is not None and not callable(arguments["on_progress"]):
        raise TypeError(
            f"on_progress must be a function taking a bbpe.ProgressEvent, got {_shown(arguments['on_progress'])}"
        )
    for option, needed in NEEDS.items():
        if arguments.get(option) not in (None, False) and arguments.get(needed) is None and needed in arguments:
            raise ValueError(f"{option} needs {needed} (it means nothing without it)")


def corpus_items(texts_or_paths: Iterable[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    """The corpus as a list of texts (``str``) and paths (``os.PathLike``); anything else is a TypeError."""
    if isinstance(texts_or_paths, (str, bytes, bytearray, memoryview, os.PathLike)):
        raise TypeError(
            f"texts_or_paths must be a collection of texts (str) and paths (pathlib.Path), not a single "
            f"{type(texts_or_paths).__name__}: wrap it in a list ([text] or [path])"
        )
    items = _as_list("texts_or_paths", texts_or_paths)
    for index, item in enumerate(items):
        if not isinstance(item, (str, os.PathLike)):
            hint = "; decode bytes to str first" if isinstance(item, (bytes, bytearray)) else ""
            raise TypeError(
                f"texts_or_paths[{index}] is {_shown(item)}: expected a text (str) or a path (pathlib.Path){hint}"
            )
    return items


def special_token_list(special_tokens: Iterable[str]) -> list[str]:
    """The special tokens as a list of strings; a bare string (read as one token per character) is a TypeError."""
    if isinstance(special_tokens, (str, bytes, bytearray)):
        raise TypeError(
            f"special_tokens must be a collection of strings, not a single {type(special_tokens).__name__} "
            f"(which would make each character a special token): write [{special_tokens!r}]"
        )
    tokens = _as_list("special_tokens", special_tokens)
    bad = next((index for index, token in enumerate(tokens) if not isinstance(token, str)), None)
    if bad is not None:
        raise TypeError(f"special_tokens[{bad}] is {_shown(tokens[bad])}: special tokens are strings")
    return tokens


def check_counts(counts: Mapping[str, int] | Mapping[bytes, int]) -> None:
    """Pre-token counts: a mapping of str or bytes words to non-negative ints (checked at C speed; the first
    offender is looked up only when there is one)."""
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts must be a mapping of words (str or bytes) to counts (int), got {_shown(counts)}")
    if not set(map(type, counts)) <= {str, bytes}:
        word = next(w for w in counts if type(w) not in (str, bytes))
        raise TypeError(f"counts: the word {_shown(word)} is not a str or bytes")
    if not set(map(type, counts.values())) <= {int}:
        word, count = next((w, c) for w, c in counts.items() if type(c) is not int)
        raise TypeError(f"counts[{word!r}] is {_shown(count)}: counts are ints")
    if counts and min(counts.values()) < 0:
        word, count = next((w, c) for w, c in counts.items() if c < 0)
        raise ValueError(f"counts[{word!r}] is {count}: counts must not be negative")


def _whole_number(name: str, value: Any, smallest: int, largest: int, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {kind} (a whole number), got {_shown(value)}")
    if value < smallest:
        raise ValueError(f"{name} must be at least {smallest}, got {value}")
    if value > largest:
        raise ValueError(f"{name} must be at most {largest:,}, got {value:,}")


def _check_object(arguments: Mapping[str, Any], name: str, kinds: tuple[type, ...], what: str) -> None:
    value = arguments.get(name)
    if value is not None and not isinstance(value, kinds):
        raise TypeError(f"{name} must be {what} or None, got {_shown(value)}")


def _as_list(name: str, items: Iterable[Any]) -> list[Any]:
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"{name} must be a collection (list, tuple, ...), got {_shown(items)}") from None


def _shown(value: Any) -> str:
    """A value for a message: its type and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
