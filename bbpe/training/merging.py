"""The merge step shared by training from scratch, extension and the other methods: pick the merge
loop (``bbpe.training.loops.reference.learn_merges`` or the compiled ``merge_numba``), run it, build the Tokenizer."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bbpe._version import __version__
from bbpe.pretokenize.patterns import cut_digits, preset_name, with_split_digits
from bbpe.progress import ProgressEvent
from bbpe.tokenizer import Tokenizer
from bbpe.training.loops import reference
from bbpe.training.settings import MergeSettings, TokenizerSettings

log = logging.getLogger("bbpe")
STOP_REASONS = {
    "vocab_size": "reached the vocab size",
    "max_merges": "reached --max-merges",
    "min_frequency": "no pair occurs min-frequency times",
}


def merge_into_tokenizer(
    words: Iterable[tuple[Sequence[int], int]] | Mapping[str, Iterable[tuple[Sequence[int], int]]],
    token_bytes: list[bytes],
    *,
    merge: MergeSettings,
    output: TokenizerSettings,
    unique_pretokens: int,
    extra_settings: Mapping[str, Any] | None = None,
    learner: LearnMerges | None = None,
) -> Tokenizer:
    """The step shared by training from scratch and extension: merge from ``token_bytes`` and build the tokenizer.

    ``words`` are (ids in ``token_bytes``, count); new tokens go after ``token_bytes``, specials after them.
    ``output.normalization`` is the form the words were counted in (the tokenizer applies it when encoding).
    ``learner`` replaces the backend's merge loop (superword and parity-aware training; it gets ``words`` as is,
    e.g. parity-aware training's words per language).
    """
    special_tokens = unique_specials(output.special_tokens)
    n_base = len(token_bytes)
    check_sizes(merge.vocab_size, n_base, special_tokens)
    if merge.min_frequency < 1:
        raise ValueError(f"min_frequency must be at least 1, got {merge.min_frequency}")
    n_new = merge.vocab_size - n_base - len(special_tokens)
    limit_by_merges = merge.max_merges is not None and merge.max_merges < n_new
    if merge.max_merges is not None and limit_by_merges:
        n_new = max(0, merge.max_merges)
    start = time.monotonic()
    on_progress = merge.on_progress

    def merged(done: int) -> None:
        if on_progress:
            on_progress(ProgressEvent("merge", done, n_new, time.monotonic() - start))

    learn = learner or merge_backend(merge.backend, unique_words=unique_pretokens)
    merges, reason = learn(
        words,
        token_bytes,
        n_new_tokens=n_new,
        min_frequency=merge.min_frequency,
        on_merge=merged,
    )
    if reason == "vocab_size" and limit_by_merges:
        reason = "max_merges"
    ranks = {token: rank for rank, token in enumerate(token_bytes)}
    specials = {text: len(ranks) + index for index, text in enumerate(special_tokens)}
    metadata = {
        "bbpe_version": __version__,
        "training": {
            "vocab_size_requested": merge.vocab_size,
            "pattern_preset": preset_name(output.pattern),
            "split_digits": output.split_digits,
            "min_frequency": merge.min_frequency,
            "max_merges": merge.max_merges,
            "backend": "python" if learn is reference.learn_merges or learner else "numba",
            "stop_reason": reason,
            "merge_steps": len(merges),
            "new_tokens": len(token_bytes) - n_base,
            "tie_rule": "highest count; ties to the smaller (left id, right id)",
            "unique_pretokens": unique_pretokens,
            **(extra_settings or {}),
        },
        "corpus": dict(output.corpus_summary),
    }
    return Tokenizer(
        ranks, pattern=output.pattern, special_tokens=specials, metadata=metadata, normalization=output.normalization
    )


LearnMerges = Callable[..., tuple[list[reference.Merge], str]]


# Unique pre-tokens from which "auto" compiles the merge loop when numba's cache does not hold it: the
# reference loop takes about 40 us per unique pre-token (30K: 0.7 s, 76K: 3 s), compiling about 30 s.
MERGE_LOOP_PAYS_FROM = 250_000


def merge_backend(name: str, *, unique_words: int | None = None) -> LearnMerges:
    """The merge-loop implementation for a backend name.  "auto": numba when it imports and its loop is
    compiled on this machine or ``unique_words`` pays for compiling it (``bbpe._jit.worth_compiling``),
    else the reference loop (the same merges)."""
    if _preloading is not None:
        _preloading.join()
    learn = _backend(name)
    if name == "auto" and learn is not reference.learn_merges and unique_words is not None:
        from bbpe._jit import worth_compiling
        from bbpe.training.loops.compiled import KERNELS

        if not worth_compiling(KERNELS, unique_words, MERGE_LOOP_PAYS_FROM):
            return reference.learn_merges
    return learn


def _backend(name: str) -> LearnMerges:
    if name not in ("auto", "python", "numba"):
        raise ValueError(f"unknown backend {name!r}; use 'auto', 'python' or 'numba'")
    if name == "python":
        return reference.learn_merges
    try:
        from bbpe.training.loops import compiled as merge_numba
    except ImportError:
        if name == "numba":
            raise ImportError("backend 'numba' needs numba: pip install 'bbpe[fast]'") from None
        return reference.learn_merges
    return merge_numba.learn_merges


def preload_backend(name: str, input_bytes: int | None = None) -> None:
    """Load the merge loop's compiled code in a background thread (numba reads it from its cache,
    which takes about a second): called while the counting workers run, so the wait overlaps them.
    Not in the cache yet, it is compiled there only for an input that pays for it (``input_bytes``).

    ``merge_backend`` waits for the thread, so it has ended before merging starts (and before any
    later process pool forks this process).
    """
    global _preloading
    _preloading = threading.Thread(target=_preload, args=(name, input_bytes), name="bbpe-preload", daemon=True)
    _preloading.start()


_preloading: threading.Thread | None = None


def _preload(name: str, input_bytes: int | None) -> None:
    try:
        learn = _backend(name)
        if learn is reference.learn_merges:
            return
        from bbpe._jit import COMPILE_PAYS_FROM, is_ready
        from bbpe.training.loops.compiled import KERNELS

        if name != "auto" or all(is_ready(k) for k in KERNELS) or (input_bytes or 0) >= COMPILE_PAYS_FROM:
            learn([(b"ab", 2)], [bytes([i]) for i in range(256)], n_new_tokens=1)  # a real run's argument types
    except Exception as exc:  # only a head start: the real run reports any problem itself
        log.debug("could not preload the %s merge loop: %s", name, exc)


def check_sizes(vocab_size: int, base: int, special_tokens: list[str]) -> None:
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be an int, got {vocab_size!r}")
    if vocab_size < base + len(special_tokens):
        raise ValueError(
            f"vocab size {vocab_size} is smaller than the {base} base tokens + {len(special_tokens)} special tokens"
        )


def unique_specials(special_tokens: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for token in special_tokens:
        if not token:
            raise ValueError("a special token cannot be empty")
        if token not in seen:
            seen.append(token)
    return seen


def split_digit_counts(
    counts: Mapping[str, int] | Mapping[bytes, int], pattern: str, *, split_digits: bool
) -> tuple[str, Mapping[str, int] | Mapping[bytes, int]]:
    """The pattern and counts to train on: with ``split_digits``, the split-digit form of ``pattern`` and the
    counts with every digit cut out of every word (the definition of splitting digits), unless ``pattern``
    already splits every digit (then the counts were made that way)."""
    split = with_split_digits(pattern) if split_digits else pattern
    if split == pattern:
        return pattern, counts
    cut: Counter[bytes] = Counter()
    for word, count in counts.items():
        text = word if isinstance(word, str) else word.decode("utf-8", "surrogateescape")
        for piece in cut_digits(text):
            cut[piece.encode("utf-8", "surrogateescape")] += count
    return split, cut
