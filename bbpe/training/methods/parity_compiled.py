"""The numba backend of parity-aware merges: ``bbpe.training.methods.parity.learn_parity_merges``, compiled.

Same input, output and rules (same merges in the same order, the same choosing language, the
same stop reason).  Each language's training words and its dev words become word stores of plain
training's compiled loop (a word in two languages is in both); ``bbpe.training.methods._parity_kernels.learn`` runs
without the GIL in a helper thread while the calling thread reports progress through
``on_merge`` (Ctrl-C or an error in ``on_merge`` stops the loop).  Importing this module raises
ImportError when numba is not installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from bbpe.bpe.tables import pack_tokens
from bbpe.training.loops.compiled import check_pair_total, flatten_words, run_in_thread
from bbpe.training.loops.flat_words import FlatWords
from bbpe.training.loops.reference import Merge, MergeCallback
from bbpe.training.methods import _parity_kernels as loop
from bbpe.training.methods.parity_dev import DevSet, DevText, ParityLog, as_dev_set, candidate_languages

_STOP_REASONS = {
    loop.STOP_VOCAB_SIZE: "vocab_size",
    loop.STOP_MIN_FREQUENCY: "min_frequency",
    loop.STOP_INTERRUPTED: "interrupted",
}


def learn_parity_merges(
    words: Mapping[str, Iterable[tuple[Sequence[int], int]]],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
    dev: DevSet | Mapping[str, Mapping[str, int]],
    global_merges: int = 0,
    patience: int = 0,
    log: ParityLog | None = None,
) -> tuple[list[Merge], str]:
    """Drop-in replacement for ``bbpe.training.methods.parity.learn_parity_merges`` (``min_frequency`` below 1 acts as 1).

    >>> vocab = [bytes([i]) for i in range(256)]
    >>> words = {"eng": [(b"ab", 10)], "fra": [(b"cdcd", 3)]}
    >>> merges, why = learn_parity_merges(words, vocab, n_new_tokens=5, dev={"eng": {"ab": 2}, "fra": {"cdcdcd": 1}})
    >>> [vocab[m.token] for m in merges], why
    ([b'cd', b'ab', b'cdcd'], 'min_frequency')
    """
    dev = as_dev_set(dev)
    log = ParityLog() if log is None else log
    codes = sorted(words)
    candidates = candidate_languages(codes, dev)
    n_new_tokens = max(0, n_new_tokens)
    if len(token_bytes) + n_new_tokens >= 2**31:
        raise ValueError("bbpe supports at most 2**31 - 1 tokens")
    train = [flatten_words(words[code], len(token_bytes)) for code in codes]
    # Global merges add up the pair counts of all languages: the bound holds for all of them together.
    check_pair_total(
        np.concatenate([np.diff(flat.starts) for flat in train]), np.concatenate([flat.counts for flat in train])
    )
    texts, languages = _measured(dev, codes, candidates)
    measured = [_dev_words(counts) for counts in texts]
    # Every step shortens a training word (as in bbpe.training.loops.compiled); summed per language, a word found in two
    # languages counts twice, so this bounds the steps from above: it sizes the loop, the heaps end it.
    # One more than that lets the loop find, as the Python loop does, that no candidate has a pair left.
    n_new_tokens = min(n_new_tokens, sum(len(flat.ids) - len(flat.counts) for flat in train) + 1)
    store, starts, counts, segments = _stores(train + [flat for flat, _ in measured])
    tokens = np.array([count for _, count in measured], np.int64)
    start = tokens.copy()
    tok_data, tok_start = pack_tokens(token_bytes)
    control = np.zeros(2, np.int64)  # [tokens added so far, stop request]
    settings = (n_new_tokens, max(1, min_frequency), global_merges, patience, control)
    args = (store, starts, counts, segments, tokens, languages, tok_data, tok_start, *settings)
    steps, stop, stopped = run_in_thread(loop.learn, args, control, on_merge)
    merges = []
    for left, right, token, count, new, language in steps.tolist():
        if new:
            token_bytes.append(token_bytes[left] + token_bytes[right])
        merges.append(Merge(left, right, token, count, bool(new)))
        name = "*" if language < 0 else codes[language]
        log.chosen[name] = log.chosen.get(name, 0) + 1
    why = {1: "exhausted", 2: "stalled"}
    ended = sorted((int(done), codes[l], why[int(kind)]) for l, (kind, done) in enumerate(stopped.tolist()) if kind)
    log.stopped.update((code, (reason, done)) for done, code, reason in ended)
    log.tokens.update(_token_report(dev, candidates, start.tolist(), tokens.tolist()))
    if on_merge is not None and merges:
        on_merge(int(control[0]))
    return merges, _STOP_REASONS[stop]


def _measured(dev: DevSet, codes: list[str], candidates: list[str]) -> tuple[list[Mapping[str, int]], np.ndarray]:
    """The dev texts to measure (per candidate: choosing and held-out parts; per reference group used: the
    pivot's) and the ``languages`` table of ``_parity_kernels.learn``."""
    groups = sorted({dev.reference_of[code] for code in candidates if code in dev.reference_of})
    texts: list[Mapping[str, int]] = [part for code in candidates for part in _parts(dev.languages[code])]
    texts += [part for group in groups for part in _parts(dev.references[group])]
    languages = np.full((len(codes), 4), -1, np.int64)
    languages[:, 0] = 0
    for index, code in enumerate(candidates):
        row = languages[codes.index(code)]
        row[0], row[1], row[3] = 1, 2 * index, 2 * index + dev.split
        if code in dev.reference_of:
            row[2] = 2 * (len(candidates) + groups.index(dev.reference_of[code]))
    return texts, languages


def _parts(text: DevText) -> tuple[Mapping[str, int], Mapping[str, int]]:
    return text.choose, text.held_out


def _token_report(
    dev: DevSet, candidates: list[str], start: list[int], end: list[int]
) -> dict[str, dict[str, tuple[int, int]]]:
    """``ParityLog.tokens`` from the measured texts' token counts (laid out as ``_measured`` does)."""
    groups = sorted({dev.reference_of[code] for code in candidates if code in dev.reference_of})
    out = {}
    for index, code in enumerate(candidates):
        at = [("dev", 2 * index), ("held_out", 2 * index + 1)]
        if code in dev.reference_of:
            group = 2 * (len(candidates) + groups.index(dev.reference_of[code]))
            at += [("dev_reference", group), ("held_out_reference", group + 1)]
        out[code] = {name: (start[i], end[i]) for name, i in at if start[i]}
    return out


def _dev_words(counts: Mapping[str, int]) -> tuple[FlatWords, int]:
    """A language's dev words as merge-loop arrays (the words that can merge), and its dev tokens (bytes)."""
    encoded = [(text.encode("utf-8"), count) for text, count in counts.items()]
    return flatten_words(encoded, 256), sum(len(word) * count for word, count in encoded)


def _stores(states: list[FlatWords]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The words of the merge states back to back: int32 ids, starts into them (state ``s``'s words are
    ``starts[segments[s]:segments[s + 1] + 1]``), counts, and where each state's words start."""
    segments = np.zeros(len(states) + 1, np.int64)
    np.cumsum([len(flat) for flat in states], out=segments[1:])
    store = np.concatenate([flat.ids.astype(np.int32) for flat in states] + [np.empty(0, np.int32)])
    offsets = np.cumsum([0] + [len(flat.ids) for flat in states])
    starts = np.concatenate([flat.starts[:-1] + offset for flat, offset in zip(states, offsets)] + [offsets[-1:]])
    counts = np.concatenate([flat.counts for flat in states] + [np.empty(0, np.int64)])
    return store, starts.astype(np.int64), counts, segments
