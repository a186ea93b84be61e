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

from bbpe.corpus.reading import CorpusStats, input_size
from bbpe.encoding.encoder import check_text
from bbpe.encoding.normalization import Normalization, check_normalization
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.progress import ProgressCallback, ProgressEvent
from bbpe.tokenizer import Tokenizer
from bbpe.training.arguments import check_counts, check_options, corpus_items, special_token_list
from bbpe.training.counting.executors import Executor, check_executor, count_on_executor
from bbpe.training.counting.pretokens import CountSettings, count_corpus, count_pretokens, scanner_pays
from bbpe.training.loops import reference
from bbpe.training.loops.flat_words import WordTable
from bbpe.training.merging import (
    LearnMerges,
    check_sizes,
    merge_backend,
    merge_into_tokenizer,
    preload_backend,
    split_digit_counts,
    unique_specials,
)
from bbpe.training.methods import parity, superword
from bbpe.training.methods import parity_dev as parity_dev_set
from bbpe.training.methods.extend import Init, base_settings, extend_from_counts
from bbpe.training.settings import Backend, MergeSettings, ParitySettings, TokenizerSettings

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
    executor: Executor | None = None,
    address: str | None = None,
    normalization: Normalization | None = None,
) -> Tokenizer:
    """Train a byte-level BPE tokenizer.

    ``pathlib.Path`` items are files or directories to read; ``str`` items are texts.  Each
    text, file or JSONL record is a document, pre-tokenized whole (``unit="line"``: line by line).
    ``pattern`` defaults to cl100k.  ``init`` (a Tokenizer, reference name or file) extends
    that vocabulary instead of starting from the 256 bytes; see ``bbpe.training.methods.extend``.
    ``superwords_after=N`` continues with superword merges once N regular tokens exist
    (``bbpe.training.methods.superword``); ``parity_dev`` (a parallel corpus directory, or a directory of them)
    trains parity-aware merges, the first ``parity_global_merges`` of them global, without the languages
    that have less than ``parity_min_bytes`` of training text; ``parity_holdout`` chooses on the even dev
    lines and holds the odd ones out; a language stops choosing after ``parity_patience`` merges in a row
    that saved none of its held-out (else dev) tokens (``bbpe.training.methods.parity``, ``.parity_dev``).
    ``executor`` ("local" or "ray", at ``address``) counts the files with ``bbpe count``'s map/reduce
    tasks (``bbpe.training.counting.executors``); the default counts in this process.  Same vocabulary either way.
    ``normalization`` ("none", "NFC", "NFD", "NFKC", "NFKD"; default: the base's with ``init``, else "none")
    is applied to the text between special tokens (and the parity dev text) before pre-tokenization, in
    counting and when the tokenizer encodes.

    >>> tok = train(["low lower lowest " * 20], vocab_size=260, pattern="gpt2", workers=1)
    >>> [tok.token_bytes(i) for i in range(256, 260)]
    [b'lo', b'low', b' low', b' lowe']
    """
    check_options(locals())  # types, ranges and combinations, before any work (bbpe.training.arguments)
    items = corpus_items(texts_or_paths)
    special_tokens = special_token_list(special_tokens)
    if init is not None:  # the base's pattern, specials and normalization unless given
        init, pattern, special_tokens, normalization = base_settings(
            init, pattern=pattern, special_tokens=special_tokens, normalization=normalization
        )
    elif prune_unreachable:
        raise ValueError(_PRUNE_NEEDS_INIT)
    form = check_normalization("none" if normalization is None else normalization)
    pattern = resolve_pattern("cl100k" if pattern is None else pattern, split_digits=split_digits)
    special_tokens = unique_specials(special_tokens)
    check_sizes(vocab_size, 256, special_tokens)
    merge_backend(backend)  # an unknown or missing backend fails before counting
    merge = MergeSettings(vocab_size, min_frequency, max_merges, backend, on_progress)
    check_executor(executor, address)
    paths = [item for item in items if isinstance(item, os.PathLike)]
    texts = [item for item in items if not isinstance(item, os.PathLike)]
    size = input_size(paths)
    compiled = scanner_pays(pattern, None if size is None else size + sum(len(str(text)) for text in texts))
    specials = tuple(sorted(set(special_tokens)))
    settings = CountSettings(pattern, specials, unit, jsonl_field, utf8_errors, form, compiled)
    stats = CorpusStats()
    start = time.monotonic()

    def counted(done: int) -> None:
        if on_progress:
            on_progress(ProgressEvent("count", done, None, time.monotonic() - start))

    def count(settings: CountSettings, stats: CorpusStats) -> Counter[bytes]:
        if not paths:
            counts: Counter[bytes] = Counter()
        elif executor is None:
            counts = count_corpus(
                paths,
                settings,
                max_bytes=max_bytes,
                workers=workers,
                stats=stats,
                on_bytes=counted,
                on_started=None if texts else partial(preload_backend, backend, size),  # texts: a second pool forks
            )
        else:
            counts = count_on_executor(
                paths,
                settings,
                executor=executor,
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
                    normalization=form,
                    workers=workers,
                    stats=stats,
                    on_bytes=counted,
                )
            )
        return counts

    if parity_dev is not None:
        if texts or init is not None or superwords_after is not None or executor is not None:
            raise ValueError(
                "parity-aware training reads files named <language>.* and starts from the 256 bytes "
                "(no text items, init, superwords or counting executor)"
            )
        by_language = parity.count_by_language(
            paths, settings, stats=stats, max_bytes=max_bytes, workers=workers, on_bytes=counted
        )
        corpus = stats.as_dict() | {"sources": [str(p) for p in paths], "texts": 0, "unit": unit}
        return _train_parity(
            by_language,
            ParitySettings(
                parity_dev, parity_global_merges or 0, parity_min_bytes or 0, parity_patience or 0, parity_holdout
            ),
            merge=merge,
            output=TokenizerSettings(pattern, tuple(special_tokens), split_digits, form, corpus),
        )
    counts = count(settings, stats)
    corpus = stats.as_dict() | {"sources": [str(p) for p in paths], "texts": len(texts), "unit": unit}

    def plain(merge: MergeSettings) -> Tokenizer:
        output = TokenizerSettings(pattern, tuple(special_tokens), split_digits, form, corpus)
        return _from_counts(counts, merge, output, init=init, prune_unreachable=prune_unreachable)

    if superwords_after is None:
        return plain(merge)
    superword.check_transition(
        superwords_after,
        vocab_size=vocab_size - len(special_tokens),
        base=len(init.ranks) if isinstance(init, Tokenizer) else 256,
    )
    stage2 = dataclasses.replace(settings, pattern=superword.stage2_pattern(pattern))
    stage2_counts = count(stage2, CorpusStats())
    stage1 = plain(merge.with_vocab_size(superwords_after + len(special_tokens)))
    return superword.add_superwords(
        stage1,
        stage2_counts,
        merge=merge,
        special_tokens=special_tokens,
        max_words=max_superword_words,
        corpus_summary=corpus,
        split_digits=split_digits,
    )


def train_from_counts(
    counts: Mapping[str, int] | Mapping[bytes, int] | WordTable,
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
    normalization: Normalization | None = None,
) -> Tokenizer:
    """Run the merge loop on pre-token counts (text or UTF-8 bytes -> count); ``init`` as for ``train``.

    ``pattern`` is the one the counts were made with; ``split_digits=True`` trains (and encodes) with its
    split-digit form, every digit cut out of the counted words first.  ``normalization``: the form the
    counts were made in (default: the base's with ``init``, else "none"); the tokenizer applies it when
    encoding.  ``counts`` may be a ``WordTable`` of UTF-8 words (uint8 ids, e.g. from
    ``bbpe.formats.count_arrays.read_arrays``): the compiled merge loop takes its arrays over, with no Python
    object per word (split digits and ``init`` turn it into a dict first).
    """
    check_options(locals())
    if not isinstance(counts, WordTable):
        check_counts(counts)
    special_tokens = special_token_list(special_tokens)
    if init is not None:  # the base's pattern, specials and normalization unless given
        init, pattern, special_tokens, normalization = base_settings(
            init, pattern=pattern, special_tokens=special_tokens, normalization=normalization
        )
    form = check_normalization("none" if normalization is None else normalization)
    pattern = resolve_pattern("cl100k" if pattern is None else pattern)
    output = TokenizerSettings(
        pattern, tuple(unique_specials(special_tokens)), split_digits, form, corpus_summary or {}
    )
    merge = MergeSettings(vocab_size, min_frequency, max_merges, backend, on_progress)
    return _from_counts(counts, merge, output, init=init, prune_unreachable=prune_unreachable)


def _from_counts(
    counts: Mapping[str, int] | Mapping[bytes, int] | WordTable,
    merge: MergeSettings,
    output: TokenizerSettings,
    *,
    init: Init | None,
    prune_unreachable: bool,
) -> Tokenizer:
    """The merge step on counts made with ``output``'s pattern and normalization: from the 256 bytes, or
    extending ``init``."""
    if isinstance(counts, WordTable) and (init is not None or output.split_digits):
        counts = dict(counts.take().words())
    if isinstance(counts, WordTable):
        if prune_unreachable:
            raise ValueError(_PRUNE_NEEDS_INIT)
        return merge_into_tokenizer(
            counts, [bytes([i]) for i in range(256)], merge=merge, output=output, unique_pretokens=counts.unique
        )
    if init is not None:
        return extend_from_counts(
            counts,
            init,
            merge=merge,
            pattern=output.pattern,
            special_tokens=output.special_tokens,
            normalization=output.normalization,
            split_digits=output.split_digits,
            prune_unreachable=prune_unreachable,
            corpus_summary=output.corpus_summary,
        )
    if prune_unreachable:
        raise ValueError(_PRUNE_NEEDS_INIT)
    pattern, counts = split_digit_counts(counts, output.pattern, split_digits=output.split_digits)
    # A stream, not a list: the merges do not depend on word order, and memory is kept for the merge loop.
    words = ((w.encode("utf-8") if isinstance(w, str) else bytes(w), c) for w, c in counts.items())
    return merge_into_tokenizer(
        words,
        [bytes([i]) for i in range(256)],
        merge=merge,
        output=dataclasses.replace(output, pattern=pattern),
        unique_pretokens=len(counts),
    )


def _train_parity(
    by_language: Mapping[str, Mapping[bytes, int]],
    settings: ParitySettings,
    *,
    merge: MergeSettings,
    output: TokenizerSettings,
) -> Tokenizer:
    """Parity-aware merges from per-language counts: read the dev set, leave out the small languages, merge."""
    dev = parity_dev_set.load_dev(
        settings.dev, output.pattern, split=settings.holdout, normalization=output.normalization
    )
    excluded = parity_dev_set.leave_out_small(dev, parity.language_bytes(by_language), settings.min_bytes)
    log = parity_dev_set.ParityLog()  # filled by the merge loop
    learner_name, learn_parity = _parity_learner(merge.backend)
    learner = partial(learn_parity, dev=dev, global_merges=settings.global_merges, patience=settings.patience, log=log)
    return merge_into_tokenizer(
        parity.language_words(by_language),
        [bytes([i]) for i in range(256)],
        merge=merge,
        output=output,
        unique_pretokens=sum(map(len, by_language.values())),
        learner=learner,
        extra_settings={
            "backend": learner_name,
            "parity": parity.settings(settings, dev, counts=by_language, excluded=excluded, log=log),
        },
    )


def _parity_learner(backend: str) -> tuple[str, LearnMerges]:
    """The parity-aware merge loop for a backend name, as ``merge_backend`` chooses plain training's."""
    if merge_backend(backend) is reference.learn_merges:
        return "python", parity.learn_parity_merges
    from bbpe.training.methods import (
        parity_compiled as parity_numba,  # optional dependency (numba), present: merge_backend imported it
    )

    return "numba", parity_numba.learn_parity_merges


def path_inputs(paths: Iterable[str]) -> list[Path]:
    """CLI helper: command-line strings are paths ("-" is stdin)."""
    return [Path(p) for p in paths]
