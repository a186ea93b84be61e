"""Training: count pre-tokens, run the merge loop on a backend, build a Tokenizer.

``train`` reads a corpus; ``train_from_counts`` starts from pre-token counts (the seam
for sharded or distributed counting).  Both stop at the first of: vocab size reached,
``max_merges`` done, or no pair occurring ``min_frequency`` times; the reason is stored
in ``tokenizer.metadata["training"]["stop_reason"]``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal

from bbpe import bpe
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.progress import ProgressCallback, ProgressEvent
from bbpe.tokenizer import Tokenizer, check_text
from bbpe.training import parity, superword
from bbpe.training import parity_dev as parity_dev_set
from bbpe.training.arguments import check_counts, check_options, corpus_items, special_token_list
from bbpe.training.corpus import CorpusStats
from bbpe.training.counting import CountSettings, count_corpus, count_pretokens
from bbpe.training.engines import Engine, check_engine, count_on_engine
from bbpe.training.extend import Init, base_settings, extend_from_counts
from bbpe.training.merge import (
    LearnMerges,
    check_sizes,
    merge_backend,
    merge_into_tokenizer,
    preload_backend,
    split_digit_counts,
    unique_specials,
)

Backend = Literal["auto", "python", "numba"]
_PRUNE_NEEDS_INIT = "prune_unreachable needs init (the base vocabulary to prune; --init on the command line)"


def train(
    texts_or_paths: Iterable[str | os.PathLike[str]],
    *,
    vocab_size: int,
    pattern: str | None = None,
    split_digits: bool = False,
    special_tokens: Iterable[str] = (),
    min_frequency: int = 2,
    max_merges: int | None = None,
    init: Init | None = None,
    prune_unreachable: bool = False,
    max_bytes: int | None = None,
    workers: int | None = None,
    jsonl_field: str = "text",
    utf8_errors: Literal["replace", "strict"] = "replace",
    backend: Backend = "auto",
    on_progress: ProgressCallback | None = None,
    superwords_after: int | None = None,
    max_superword_words: int | None = None,
    parity_dev: str | os.PathLike[str] | None = None,
    parity_global_merges: int | None = None,
    parity_min_bytes: int | None = None,
    parity_patience: int | None = None,
    parity_holdout: bool = False,
    unit: Literal["document", "line"] = "document",
    engine: Engine | None = None,
    address: str | None = None,
) -> Tokenizer:
    """Train a byte-level BPE tokenizer.

    ``pathlib.Path`` items are files or directories to read; ``str`` items are texts.  Each
    text, file or JSONL record is a document, pre-tokenized whole (``unit="line"``: line by line).
    ``pattern`` defaults to cl100k.  ``init`` (a Tokenizer, reference name or file) extends
    that vocabulary instead of starting from the 256 bytes; see ``bbpe.training.extend``.
    ``superwords_after=N`` continues with superword merges once N regular tokens exist
    (``bbpe.training.superword``); ``parity_dev`` (a parallel corpus directory, or a directory of them)
    trains parity-aware merges, the first ``parity_global_merges`` of them global, without the languages
    that have less than ``parity_min_bytes`` of training text; ``parity_holdout`` chooses on the even dev
    lines and holds the odd ones out; a language stops choosing after ``parity_patience`` merges in a row
    that saved none of its held-out (else dev) tokens (``bbpe.training.parity``, ``bbpe.training.parity_dev``).
    ``engine`` ("local" or "ray", at ``address``) counts the files with ``bbpe count``'s map/reduce
    tasks (``bbpe.training.engines``); the default counts in this process.  Same vocabulary either way.

    >>> tok = train(["low lower lowest " * 20], vocab_size=260, pattern="gpt2", workers=1)
    >>> [tok.token_bytes(i) for i in range(256, 260)]
    [b'lo', b'low', b' low', b' lowe']
    """
    check_options(locals())  # types, ranges and combinations, before any work (bbpe.training.arguments)
    items = corpus_items(texts_or_paths)
    special_tokens = special_token_list(special_tokens)
    if init is not None:  # the base's pattern and specials unless given
        init, pattern, special_tokens = base_settings(init, pattern=pattern, special_tokens=special_tokens)
    elif prune_unreachable:
        raise ValueError(_PRUNE_NEEDS_INIT)
    pattern = resolve_pattern("cl100k" if pattern is None else pattern, split_digits=split_digits)
    special_tokens = unique_specials(special_tokens)
    check_sizes(vocab_size, 256, special_tokens)
    merge_backend(backend)  # an unknown or missing backend fails before counting
    check_engine(engine, address)
    paths = [item for item in items if isinstance(item, os.PathLike)]
    texts = [item for item in items if not isinstance(item, os.PathLike)]
    settings = CountSettings(pattern, tuple(sorted(set(special_tokens))), unit, jsonl_field, utf8_errors)
    stats = CorpusStats()
    start = time.monotonic()

    def counted(done: int) -> None:
        if on_progress:
            on_progress(ProgressEvent("count", done, None, time.monotonic() - start))

    def count(settings: CountSettings, stats: CorpusStats) -> Counter[bytes]:
        if not paths:
            counts: Counter[bytes] = Counter()
        elif engine is None:
            counts = count_corpus(
                paths,
                settings,
                max_bytes=max_bytes,
                workers=workers,
                stats=stats,
                on_bytes=counted,
                on_started=None if texts else partial(preload_backend, backend),  # texts: a second pool forks
            )
        else:
            counts = count_on_engine(
                paths,
                settings,
                engine=engine,
                address=address,
                max_bytes=max_bytes,
                workers=workers,
                stats=stats,
                on_progress=on_progress,
            )
        if texts:
            counts.update(
                count_pretokens(
                    [check_text(str(text)) for text in texts],
                    settings.pattern,
                    special_tokens=special_tokens,
                    unit=unit,
                    workers=workers,
                    stats=stats,
                    on_bytes=counted,
                )
            )
        return counts

    if parity_dev is not None:
        if texts or init is not None or superwords_after is not None or engine is not None:
            raise ValueError(
                "parity-aware training reads files named <language>.* and starts from the 256 bytes "
                "(no text items, init, superwords or counting engine)"
            )
        by_language = parity.count_by_language(
            paths, settings, stats=stats, max_bytes=max_bytes, workers=workers, on_bytes=counted
        )
        dev = parity_dev_set.load_dev(parity_dev, pattern, split=parity_holdout)
        excluded = parity_dev_set.leave_out_small(dev, parity.language_bytes(by_language), parity_min_bytes or 0)
        log = parity_dev_set.ParityLog()  # filled by the merge loop
        learner_name, learn_parity = _parity_learner(backend)
        learner = partial(
            learn_parity, dev=dev, global_merges=parity_global_merges or 0, patience=parity_patience or 0, log=log
        )
        return merge_into_tokenizer(
            parity.language_words(by_language),
            [bytes([i]) for i in range(256)],
            vocab_size=vocab_size,
            pattern=pattern,
            special_tokens=special_tokens,
            min_frequency=min_frequency,
            max_merges=max_merges,
            backend=backend,
            on_progress=on_progress,
            split_digits=split_digits,
            unique_pretokens=sum(map(len, by_language.values())),
            learner=learner,
            corpus_summary=stats.as_dict() | {"sources": [str(p) for p in paths], "texts": 0, "unit": unit},
            extra_settings={
                "backend": learner_name,
                "parity": parity.settings(
                    parity_dev,
                    dev,
                    global_merges=parity_global_merges or 0,
                    counts=by_language,
                    min_bytes=parity_min_bytes or 0,
                    patience=parity_patience or 0,
                    excluded=excluded,
                    log=log,
                ),
            },
        )
    counts = count(settings, stats)
    corpus = stats.as_dict() | {"sources": [str(p) for p in paths], "texts": len(texts), "unit": unit}

    def plain(size: int) -> Tokenizer:
        return train_from_counts(
            counts,
            vocab_size=size,
            pattern=pattern,
            special_tokens=special_tokens,
            corpus_summary=corpus,
            init=init,
            prune_unreachable=prune_unreachable,
            min_frequency=min_frequency,
            max_merges=max_merges,
            backend=backend,
            on_progress=on_progress,
            split_digits=split_digits,
        )

    if superwords_after is None:
        return plain(vocab_size)
    superword.check_transition(
        superwords_after, vocab_size=vocab_size - len(special_tokens), base=len(init.ranks) if init is not None else 256
    )
    stage2 = dataclasses.replace(settings, pattern=superword.stage2_pattern(pattern))
    stage2_counts = count(stage2, CorpusStats())
    stage1 = plain(superwords_after + len(special_tokens))
    return superword.add_superwords(
        stage1,
        stage2_counts,
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        max_words=max_superword_words,
        corpus_summary=corpus,
        min_frequency=min_frequency,
        max_merges=max_merges,
        backend=backend,
        on_progress=on_progress,
        split_digits=split_digits,
    )


def train_from_counts(
    counts: Mapping[str, int] | Mapping[bytes, int],
    *,
    vocab_size: int,
    pattern: str | None = None,
    special_tokens: Iterable[str] = (),
    min_frequency: int = 2,
    max_merges: int | None = None,
    backend: Backend = "auto",
    on_progress: ProgressCallback | None = None,
    corpus_summary: Mapping[str, Any] | None = None,
    split_digits: bool = False,
    init: Init | None = None,
    prune_unreachable: bool = False,
) -> Tokenizer:
    """Run the merge loop on pre-token counts (text or UTF-8 bytes -> count); ``init`` as for ``train``.

    ``pattern`` is the one the counts were made with; ``split_digits=True`` trains (and encodes) with its
    split-digit form, every digit cut out of the counted words first.
    """
    check_options(locals())
    check_counts(counts)
    special_tokens = special_token_list(special_tokens)
    if init is not None:
        return extend_from_counts(
            counts,
            init,
            vocab_size=vocab_size,
            pattern=pattern,
            special_tokens=special_tokens,
            prune_unreachable=prune_unreachable,
            min_frequency=min_frequency,
            max_merges=max_merges,
            backend=backend,
            on_progress=on_progress,
            corpus_summary=corpus_summary,
            split_digits=split_digits,
        )
    if prune_unreachable:
        raise ValueError(_PRUNE_NEEDS_INIT)
    pattern, counts = split_digit_counts(
        counts, resolve_pattern("cl100k" if pattern is None else pattern), split_digits=split_digits
    )
    # A stream, not a list: the merges do not depend on word order, and memory is kept for the merge loop.
    words = ((w.encode("utf-8") if isinstance(w, str) else bytes(w), c) for w, c in counts.items())
    return merge_into_tokenizer(
        words,
        [bytes([i]) for i in range(256)],
        vocab_size=vocab_size,
        pattern=pattern,
        special_tokens=special_tokens,
        min_frequency=min_frequency,
        max_merges=max_merges,
        backend=backend,
        on_progress=on_progress,
        split_digits=split_digits,
        unique_pretokens=len(counts),
        corpus_summary=corpus_summary,
    )


def _parity_learner(backend: str) -> tuple[str, LearnMerges]:
    """The parity-aware merge loop for a backend name, as ``merge_backend`` chooses plain training's."""
    if merge_backend(backend) is bpe.learn_merges:
        return "python", parity.learn_parity_merges
    from bbpe.training import parity_numba  # optional dependency (numba), present: merge_backend imported it

    return "numba", parity_numba.learn_parity_merges


def path_inputs(paths: Iterable[str]) -> list[Path]:
    """CLI helper: command-line strings are paths ("-" is stdin)."""
    return [Path(p) for p in paths]
