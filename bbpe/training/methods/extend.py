"""Vocabulary extension: continue BPE training from an existing vocabulary (Qwen-style).

Every unique pre-token of the new corpus is segmented with the base vocabulary (rank-based
BPE, exactly as the base encodes it), then the merge loop continues and appends new tokens
after the base ones.  The tie rule and the handling of a pair whose bytes already are a
token ("alias" merges: no new id) are those of training from scratch.

* **Ids.** By default every base regular token keeps its id and bytes; new tokens follow
  the highest base id.  ``prune_unreachable=True`` instead drops the base tokens the new
  pattern can never produce and renumbers the rest 0..n-1 keeping their order.
* **Size.** ``vocab_size`` = base regular tokens (after pruning) + new tokens + specials.
* **Pattern.** The base vocabulary's own pattern unless ``pattern`` is given (e.g. cl100k
  extended under ``qwen``, which splits digits).
* **Special tokens.** Those given replace the base's; with none given the base's specials
  are kept, in their order, with ids right after the new tokens.
* **Normalization.** The base's Unicode normalization unless ``normalization`` is given; the new
  corpus is counted in that form.
* **Unreachable** (for pruning): a base token that cannot occur in the BPE of any pre-token
  the new pattern produces.  Decided by two sound rules, applied in rank order; a token
  neither rule catches is kept:

  1. a multi-byte token that is valid UTF-8 is unreachable iff the pattern splits its own
     text into more than one pre-token (e.g. ``"123"`` under ``qwen``); if the text is one
     pre-token, encoding that text gives the token, so it is reachable.  This assumes the
     pattern's piece boundaries inside a text do not depend on text beyond it, which holds
     for the presets;
  2. a token that is not valid UTF-8 is unreachable if BPE builds it from an unreachable
     part (the parts rank-based merging reaches using only the ranks below its own).

>>> from bbpe import Tokenizer
>>> base = Tokenizer({**{bytes([i]): i for i in range(256)}, b"12": 256, b"ab": 257}, pattern="cl100k")
>>> sorted(unreachable_tokens(base.ranks, "qwen"))
[b'12']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from bbpe import bpe
from bbpe.encoding.normalization import Normalization, check_normalization
from bbpe.encoding.pieces import segmenter
from bbpe.errors import BBPEError
from bbpe.pretokenize.patterns import compile_pattern, resolve_pattern
from bbpe.tokenizer import Tokenizer
from bbpe.training.merging import LearnMerges, merge_into_tokenizer, split_digit_counts
from bbpe.training.settings import MergeSettings, TokenizerSettings

Init = str | os.PathLike[str] | Tokenizer


def load_base(init: Init, *, pattern: str | None = None) -> Tokenizer:
    """The base vocabulary: a Tokenizer, a reference name or a vocabulary file (BBPEError for one with added
    tokens: their ids would collide with the new tokens')."""
    base = init if isinstance(init, Tokenizer) else Tokenizer.load(init, pattern=pattern)
    if base.added_tokens:
        raise BBPEError(
            f"the base vocabulary has {len(base.added_tokens)} added tokens (always matched, e.g. "
            f"{next(iter(base.added_tokens))!r}); extending such a vocabulary is not supported"
        )
    if isinstance(init, Tokenizer):
        return init
    if "reference" in base.metadata:
        return base
    return Tokenizer(
        base.ranks,
        pattern=base.pattern,
        special_tokens=base.special_tokens,
        engine=base.engine,
        metadata=base.metadata | {"source": os.fspath(init)},
        normalization=base.normalization,
    )


def base_settings(
    init: Init, *, pattern: str | None, special_tokens: Iterable[str], normalization: Normalization | None = None
) -> tuple[Tokenizer, str, list[str], Normalization]:
    """The base, the effective pattern (given, else the base's), specials (given, else the base's) and
    normalization (given, else the base's)."""
    base = load_base(init, pattern=pattern)
    given = list(special_tokens)
    specials = given or sorted(base.special_tokens, key=base.special_tokens.__getitem__)
    form = base.normalization if normalization is None else check_normalization(normalization)
    return base, base.pattern if pattern is None else pattern, specials, form


def unreachable_tokens(ranks: Mapping[bytes, int], pattern: str) -> set[bytes]:
    """Base tokens the pattern can never produce (see the module docstring for the rules)."""
    compiled = compile_pattern(resolve_pattern(pattern))
    dead: set[bytes] = set()
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) == 1:
            continue
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            if any(part in dead for part in bpe.bpe_split(token, ranks, max_rank=rank)):
                dead.add(token)
            continue
        if compiled.findall(text) != [text]:
            dead.add(token)
    return dead


def base_tokens(base: Tokenizer, *, pattern: str, prune_unreachable: bool) -> list[bytes]:
    """The base regular tokens in id order (index = new id), pruned if asked."""
    ordered = sorted(base.ranks.items(), key=lambda item: item[1])
    if any(rank != index for index, (_, rank) in enumerate(ordered)):
        raise BBPEError("the base vocabulary's regular ids must be 0..n-1 without gaps to be extended")
    tokens = [token for token, _ in ordered]
    if prune_unreachable:
        dead = unreachable_tokens(base.ranks, pattern)
        tokens = [token for token in tokens if token not in dead]
    return tokens


def extend_from_counts(
    counts: Mapping[str, int] | Mapping[bytes, int],
    init: Init,
    *,
    merge: MergeSettings,
    pattern: str | None = None,
    special_tokens: Iterable[str] = (),
    normalization: Normalization | None = None,
    split_digits: bool = False,
    prune_unreachable: bool = False,
    corpus_summary: Mapping[str, Any] | None = None,
    learner: LearnMerges | None = None,
) -> Tokenizer:
    """Extend a base vocabulary with merges learned from pre-token counts (``learner`` as in ``merge_into_tokenizer``).

    ``pattern``, ``special_tokens`` and ``normalization`` are the base's unless given; ``counts`` must have been
    counted in the effective normalization."""

    base, pattern, specials, form = base_settings(
        init, pattern=pattern, special_tokens=special_tokens, normalization=normalization
    )
    pattern, counts = split_digit_counts(counts, resolve_pattern(pattern), split_digits=split_digits)
    token_bytes = base_tokens(base, pattern=pattern, prune_unreachable=prune_unreachable)
    kept = len(token_bytes)
    segment = segmenter(token_bytes, engine=base.engine)
    words = ((segment(w.encode("utf-8") if isinstance(w, str) else bytes(w)), c) for w, c in counts.items())
    reference = base.metadata.get("reference", {})
    init_settings = {
        "base": reference.get("name") or base.metadata.get("source", "tokenizer"),
        "base_sha256": reference.get("sha256"),
        "base_pattern": base.pattern,
        "base_normalization": base.normalization,
        "base_tokens": len(base.ranks),
        "kept": kept,
        "pruned": len(base.ranks) - kept,
        "prune_unreachable": prune_unreachable,
    }
    output = TokenizerSettings(pattern, tuple(specials), split_digits, form, corpus_summary or {})
    return merge_into_tokenizer(
        words,
        token_bytes,
        merge=merge,
        output=output,
        unique_pretokens=len(counts),
        extra_settings={"init": init_settings},
        learner=learner,
    )
