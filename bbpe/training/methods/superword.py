"""Superword tokens (SuperBPE, Liu et al. 2025, arXiv 2503.13423): BPE whose late merges may cross spaces.

Training has two stages on the same corpus:

1. ordinary BPE with the pattern (from the 256 bytes or from ``init``) until the vocabulary
   holds ``superwords_after`` regular tokens (the paper's *transition point*);
2. the corpus is pre-tokenized again with the **stage-2 pattern**, which no longer splits at
   spaces: a piece ends only at a number of up to three digits (one digit when the stage-1
   pattern splits every digit), a run of two or more punctuation marks (with an optional
   leading space), whitespace before more whitespace, or a line break.  These are the splits
   of the reference implementation's stage-2 regex (PythonNut/superbpe,
   ``scripts/extend_tokenizer.sh``) plus line breaks: a superword stays within a line, and a
   document can be cut for parallel counting after a line break (see *Safe cuts*).
   Every stage-2 piece is segmented with the stage-1 vocabulary (rank-based BPE, as
   ``bbpe.training.methods.extend`` segments words with a base vocabulary), and the merge loop continues up to
   the vocab size.  With ``max_words`` a new token may span at most that many
   whitespace-separated words (``len(token.split())``).

The tokenizer stores the stage-2 pattern.  Encoding it (rank-based BPE over all ranks) gives
training's segmentation: every stage-1 rank is lower than every stage-2 rank, so inside a
stage-2 piece rank-based BPE first does exactly the stage-1 segmentation training started
from, then applies the stage-2 merges in the order they were learned.  Extending ``init``
(e.g. cl100k) keeps every base token's id: stage 2 only appends.

**Safe cuts.**  A cut right after a ``\\n`` that is followed by a letter (``safe_cuts.NEWLINE_LETTER``)
is a piece boundary of the stage-2 pattern: pieces of the whole = pieces of the parts (property
tested).  The pattern matches at every position and has no lookbehind or anchor, so it suffices that
(a) no piece runs from the ``\\n`` into the letter: the split alternatives that take a ``\\n``
(``\\s*[\\r\\n]+``, the punctuation run's ``[\\r\\n/]*``) take no letter after it, and the run cannot
take the ``\\n`` (``\\s*[\\r\\n]+`` starts there, so its ``(?!splits)`` fails, and `` ?`` is a space);
(b) no match or lookahead starting before the cut reads past it: everything that reaches the
``\\n`` stops there or before (greedy ``[\\r\\n]*`` stops at the letter as at the end of the text, and
the lookahead ``(?!splits)`` only asks whether some split starts, which the ``\\n`` decides).
``safe_cuts`` registers this rule for both stage-2 patterns, so stage-2 counting cuts documents there.

>>> stage2_pattern("gpt2") == stage2_pattern("cl100k")
True
>>> import regex
>>> regex.findall(stage2_pattern("cl100k"), "by the way, 2024... ok\\n")
['by the way, ', '202', '4', '...', ' ok', '\\n']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np

from bbpe.encoding.pieces import segment_all, segment_compiled
from bbpe.pretokenize.patterns import STAGE2, STAGE2_SPLIT_DIGITS, pretokenize, resolve_pattern, stage2_splits
from bbpe.tokenizer import Tokenizer
from bbpe.training.loops import reference
from bbpe.training.loops.flat_words import FlatWords
from bbpe.training.merging import merge_into_tokenizer
from bbpe.training.methods.extend import base_settings, base_tokens
from bbpe.training.settings import MergeSettings, TokenizerSettings


def stage2_pattern(stage1_pattern: str) -> str:
    """The stage-2 pattern (``patterns.STAGE2``): the split pieces, or else the longest run of text that starts none.

    Digits stay grouped as in stage 1: one per piece if the stage-1 pattern splits every digit,
    else up to three.
    """
    return STAGE2_SPLIT_DIGITS if _splits_every_digit(stage1_pattern) else STAGE2


def run_definition(stage1_pattern: str) -> str:
    """``stage2_pattern`` as defined: a split piece, or else a run of characters none of which starts one."""
    splits = stage2_splits(one_digit=_splits_every_digit(stage1_pattern))
    return rf"(?:{splits})|(?:(?!{splits})[\s\S])+"


def _splits_every_digit(stage1_pattern: str) -> bool:
    return pretokenize("123", resolve_pattern(stage1_pattern)) == ["1", "2", "3"]


def word_count(token: bytes) -> int:
    """Whitespace-separated words in a token.

    >>> word_count(b" by the way"), word_count(b"way"), word_count(b" ")
    (3, 1, 0)
    """
    return len(token.split())


def word_limit(max_words: int) -> Callable[[bytes], bool]:
    """A veto for the merge loop: allow only tokens of at most ``max_words`` words."""
    if max_words < 1:
        raise ValueError(f"max_superword_words must be at least 1, got {max_words}")
    return lambda token: word_count(token) <= max_words


def check_transition(superwords_after: int, *, vocab_size: int, base: int) -> None:
    """The transition point lies between the base vocabulary and the vocab size."""
    if not base <= superwords_after <= vocab_size:
        raise ValueError(
            f"superwords_after must lie between the {base:,} base tokens and the vocab size "
            f"{vocab_size:,}, got {superwords_after:,}"
        )


def add_superwords(
    stage1: Tokenizer,
    stage2_counts: Mapping[str, int] | Mapping[bytes, int],
    *,
    merge: MergeSettings,
    special_tokens: Iterable[str],
    max_words: int | None,
    corpus_summary: Mapping[str, Any] | None,
    split_digits: bool,
) -> Tokenizer:
    """Stage 2: continue ``stage1`` (no special tokens) on the stage-2 pieces up to ``merge.vocab_size``."""
    learner = partial(reference.learn_merges, allow=word_limit(max_words)) if max_words is not None else None
    pattern = stage2_pattern(stage1.pattern)
    max_merges = merge.max_merges
    stage1_merges = None if max_merges is None else max_merges - stage1.metadata["training"]["new_tokens"]
    tokens = base_tokens(stage1, pattern=pattern, prune_unreachable=False)
    pieces = [p.encode("utf-8") if isinstance(p, str) else p for p in stage2_counts]
    counts = list(stage2_counts.values())
    compiled = segment_compiled(pieces, tokens) if stage1.engine != "python" else None
    flat = None if compiled is None else FlatWords(*compiled, np.asarray(counts, np.int64))
    # Else the same ids as pieces.segmenter, through tiktoken on threads.
    words = flat if flat is not None else zip(segment_all(pieces, tokens, engine=stage1.engine), counts)
    del pieces
    specials = base_settings(stage1, pattern=pattern, special_tokens=special_tokens)[2]
    tokenizer = merge_into_tokenizer(
        words,
        tokens,
        merge=dataclasses.replace(merge, max_merges=stage1_merges),
        output=TokenizerSettings(pattern, tuple(specials), split_digits, stage1.normalization, corpus_summary or {}),
        unique_pretokens=len(stage2_counts),
        learner=learner,
    )
    first, second = stage1.metadata["training"], tokenizer.metadata["training"]
    training = {key: value for key, value in first.items() if key not in ("merge_steps", "new_tokens")}
    training |= {
        "vocab_size_requested": merge.vocab_size,
        "max_merges": max_merges,
        "stop_reason": second["stop_reason"],
        "merge_steps": first["merge_steps"] + second["merge_steps"],
        "new_tokens": first["new_tokens"] + second["new_tokens"],
        "superwords": {
            "after": len(stage1.ranks),
            "max_words": max_words,
            "stage1_pattern": stage1.pattern,
            "stage1_stop_reason": first["stop_reason"],
            "stage2_backend": second["backend"],
            "stage2_unique_pretokens": second["unique_pretokens"],
            "superword_tokens": second["new_tokens"],
        },
    }
    return Tokenizer(
        tokenizer.ranks,
        pattern=pattern,
        special_tokens=tokenizer.special_tokens,
        metadata=tokenizer.metadata | {"training": training},
        normalization=stage1.normalization,
    )
