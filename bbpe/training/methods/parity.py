"""Parity-aware BPE (Foroutan et al. 2025, arXiv 2508.04796): every merge helps the worst-compressed language.

Training files carry their language in the name, ``<code>.<anything>`` (``eng_Latn.manpages.txt.gz``);
each language's pre-tokens are counted apart (one pass over the corpus).  The dev set is a
line-aligned parallel corpus in the report's layout (``bbpe.parallel_corpora``); a language's dev
text is its lines joined by one space, pre-tokenized with the training pattern.

The merge loop (the paper's *base* variant; the reference implementation is
swiss-ai/parity-aware-bpe):

* the **candidate languages** are those with both training files and dev text;
* before each merge, the worst-compressed candidate is the one whose dev text currently has
  the most tokens (ties: the smallest language code); the merge is that language's most
  frequent pair (ties: the smallest (left id, right id), as in ``bbpe.bpe``);
* the merge is applied to every language's words and to the dev words, whose token counts are
  kept up to date incrementally (no re-encoding);
* the *hybrid* variant takes the first ``global_merges`` merges by the pair count summed over
  all languages (classic BPE), then continues parity-aware;
* a candidate without a pair occurring ``min_frequency`` times drops out for good (merges never
  raise a language's highest pair count) and the next-worst language chooses; training stops
  when no candidate is left (or, during global merges, no pair is frequent enough).  The
  reference stops at the first such language instead; on imbalanced data (a language with a
  few kilobytes of training text) that ends training after a few hundred merges.

This module is the readable reference loop; ``bbpe.training.methods.parity_compiled`` is its compiled twin
with the same results (``backend="auto"`` uses it when numba imports, as plain training does).
The hybrid's global merges read the pair counts summed over the languages; no pooled copy of
the words is merged.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bbpe.corpus.documents import UnitStats
from bbpe.corpus.reading import CorpusStats, expand_paths
from bbpe.corpus.units import plan_units
from bbpe.corpus.workers import run_tasks, worker_count
from bbpe.encoding.normalization import Normalization
from bbpe.errors import CorpusError
from bbpe.formats.counts import check_pair_total
from bbpe.parallel_corpora import load_corpus
from bbpe.training.counting.pretokens import (
    CountSettings,
    Unit,
    add_stats,
    count_pretokens,
    count_unit,
    load_counter,
)
from bbpe.training.loops.reference import Merge, MergeCallback, Pair, apply_merge, pair_counts, pop_best, token_for

Words = Iterable[tuple[Sequence[int], int]]


def language_of(path: Path) -> str:
    """The language code a training file's name starts with.

    >>> language_of(Path("train/eng_Latn.manpages.txt.gz"))
    'eng_Latn'
    """
    return path.name.split(".", 1)[0]


def count_by_language(
    paths: Sequence[str | os.PathLike[str]],
    settings: CountSettings,
    *,
    stats: CorpusStats,
    max_bytes: int | None = None,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> dict[str, Counter[bytes]]:
    """Pre-token counts per language code (files grouped by ``language_of``); ``max_bytes`` caps each language.

    The work units of all languages go to one pool of ``workers`` processes (as plain training's counting).
    """
    if not paths:
        raise CorpusError("parity-aware training needs training files named <language>.* (not text or stdin)")
    groups: dict[str, list[Path]] = {}
    for file in expand_paths(paths):
        if str(file) == "-":
            raise CorpusError("parity-aware training cannot read stdin: the language comes from the file name")
        groups.setdefault(language_of(file), []).append(file)
    counts: dict[str, Counter[bytes]] = {code: Counter() for code in sorted(groups)}
    jobs = (
        (code, unit, settings)
        for code in counts
        for unit in plan_units(
            groups[code], settings.rule, max_bytes=max_bytes, stats=stats, parts=worker_count(workers)
        )
    )

    def add(result: tuple[str, Counter[bytes], UnitStats]) -> None:
        code, words, unit_stats = result
        counts[code].update(words)
        add_stats(stats, unit_stats)
        if on_bytes:
            on_bytes(stats.bytes)

    load_counter(settings)
    run_tasks(_count_language_unit, jobs, workers=workers, on_result=add)
    if stats.bytes == 0 and not any(counts.values()):
        raise CorpusError("all input files are binary" if stats.skipped_binary else "the corpus is empty (no text)")
    return counts


def _count_language_unit(code: str, unit: Unit, settings: CountSettings) -> tuple[str, Counter[bytes], UnitStats]:
    """Count one work unit of a language (runs in a worker)."""
    return (code, *count_unit(unit, settings))


def dev_words(
    path: str | os.PathLike[str], pattern: str, *, normalization: Normalization = "none"
) -> dict[str, Counter[str]]:
    """Pre-token counts of every language of a line-aligned parallel corpus (the report's text of a language),
    normalized as the training text is."""
    corpus = load_corpus(path)
    if not corpus.aligned:
        raise CorpusError(f"{path}: the parity dev set must be line-aligned (every language the same line count)")
    return {language.code: _text_counts(language.text, pattern, normalization) for language in corpus.languages}


def _text_counts(text: str, pattern: str, normalization: Normalization) -> Counter[str]:
    """Pre-token counts of one text, counted as one document (in compiled code for the presets)."""
    counts = count_pretokens([text], pattern, workers=1, normalization=normalization)
    return Counter({word.decode("utf-8"): count for word, count in counts.items()})


def language_words(counts: Mapping[str, Mapping[bytes, int]]) -> dict[str, Words]:
    """Per language, the words (UTF-8 bytes, as counting gives them: a sequence of byte ids) with their counts
    (streams, as the merge loops want them)."""
    return {code: iter(words.items()) for code, words in counts.items()}


def settings(
    dev: str | os.PathLike[str], global_merges: int, counts: Mapping[str, Any], chosen: dict[str, int]
) -> dict[str, Any]:
    """What goes into ``metadata["training"]["parity"]``; ``chosen`` is filled by the merge loop."""
    return {
        "dev": os.fspath(dev),
        "variant": "hybrid" if global_merges else "base",
        "global_merges": global_merges,
        "languages": sorted(counts),
        "selection": "most dev tokens; ties to the smallest code",
        "merges_per_language": chosen,
    }


class _Side:
    """Words of one language (training or dev) with their pair counts and pair -> word index."""

    def __init__(self, words: Words) -> None:
        self.ids: list[list[int]] = []
        self.counts: list[int] = []
        self.pairs: dict[Pair, int] = {}
        self.where: dict[Pair, set[int]] = {}
        self.pair_total = 0  # sum of count x (length - 1): the bound of every pair count
        for ids, count in words:
            if count <= 0:
                if count < 0:
                    raise ValueError(f"word counts must not be negative, got {count}")
                continue  # as in bbpe.training.loops.reference.learn_merges
            index = len(self.ids)
            self.ids.append(list(ids))
            self.counts.append(count)
            self.pair_total += count * max(0, len(ids) - 1)
            for pair, occurrences in pair_counts(list(ids)).items():
                self.pairs[pair] = self.pairs.get(pair, 0) + occurrences * count
                self.where.setdefault(pair, set()).add(index)
        self.heap = [(-count, pair) for pair, count in self.pairs.items()]
        heapq.heapify(self.heap)

    def tokens(self, indices: Iterable[int]) -> int:
        return sum(len(self.ids[i]) * self.counts[i] for i in indices)

    def merge(self, pair: Pair, token: int) -> set[Pair]:
        """Apply a merge to every word holding ``pair``; return the pairs that grew."""
        grown = apply_merge(pair, token, self.ids, self.counts, self.pairs, self.where)
        for changed in grown:
            heapq.heappush(self.heap, (-self.pairs[changed], changed))
        return grown

    def saved_by(self, pair: Pair, token: int) -> int:
        """Apply a merge; return how many tokens it saved."""
        affected = list(self.where.get(pair, ()))
        before = self.tokens(affected)
        self.merge(pair, token)
        return before - self.tokens(affected)


class _Pooled:
    """The pair counts of all languages summed, read from the languages' own counts, with a lazy heap."""

    def __init__(self, sides: list[_Side]) -> None:
        self.sides = sides
        totals: Counter[Pair] = Counter()
        for side in sides:
            totals.update(side.pairs)
        self.heap = [(-count, pair) for pair, count in totals.items()]
        heapq.heapify(self.heap)

    def count(self, pair: Pair) -> int:
        return sum(side.pairs.get(pair, 0) for side in self.sides)

    def push(self, grown: Iterable[Pair]) -> None:
        for pair in grown:
            heapq.heappush(self.heap, (-self.count(pair), pair))

    def pop_best(self) -> tuple[Pair, int] | None:
        """As ``bbpe.training.loops.reference.pop_best``: counts of existing pairs only fall, grown pairs were pushed again."""
        while self.heap:
            negative, pair = heapq.heappop(self.heap)
            current = self.count(pair)
            if current == -negative:
                return pair, current
            if current > 0:
                heapq.heappush(self.heap, (-current, pair))
        return None


def candidate_languages(train: Iterable[str], dev: Iterable[str]) -> list[str]:
    """The languages with both training words and dev text, sorted; none is an error."""
    candidates = sorted(set(train) & set(dev))
    if not candidates:
        raise CorpusError(
            f"no language has both training files ({', '.join(sorted(train)) or 'none'}) and dev text "
            f"({', '.join(sorted(dev)) or 'none'}); name training files <code>.* with the dev set's codes"
        )
    return candidates


def learn_parity_merges(
    words: Mapping[str, Words],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
    dev: Mapping[str, Mapping[str, int]],
    global_merges: int = 0,
    chosen: dict[str, int] | None = None,
) -> tuple[list[Merge], str]:
    """The parity-aware merge loop (interface of ``bbpe.training.loops.reference.learn_merges`` plus the dev set).

    ``words``: language -> (ids in ``token_bytes``, count); ``dev``: language -> pre-token text ->
    count.  ``chosen`` (if given) receives how many merges each language chose ("*" = global).
    """
    train = {code: _Side(words[code]) for code in sorted(words)}
    check_pair_total(sum(side.pair_total for side in train.values()))  # global merges add the languages up
    candidates = candidate_languages(train, dev)
    held_out = {code: _Side((list(text.encode("utf-8")), n) for text, n in dev[code].items()) for code in candidates}
    dev_tokens = {code: side.tokens(range(len(side.ids))) for code, side in held_out.items()}
    # The hybrid's global merges read the pair counts summed over the languages (no pooled copy of the words).
    pooled = _Pooled(list(train.values())) if global_merges > 0 else None
    id_of = {token: index for index, token in enumerate(token_bytes)}
    chosen = {} if chosen is None else chosen
    merges: list[Merge] = []
    added = 0
    while added < n_new_tokens:
        if pooled is not None and len(merges) >= global_merges:
            pooled = None
        if pooled is not None:
            language, best = "*", pooled.pop_best()
        else:
            language, best = _worst_language_pair(candidates, train, dev_tokens, min_frequency)
        if best is None or best[1] < min_frequency:
            return merges, "min_frequency"
        pair, count = best
        token, is_new = token_for(token_bytes[pair[0]] + token_bytes[pair[1]], token_bytes, id_of)
        added += is_new
        merges.append(Merge(pair[0], pair[1], token, count, is_new))
        chosen[language] = chosen.get(language, 0) + 1
        grown: set[Pair] = set()
        for side in train.values():
            grown |= side.merge(pair, token)
        if pooled is not None:
            pooled.push(grown)
        for code, side in held_out.items():
            dev_tokens[code] -= side.saved_by(pair, token)
        if on_merge is not None:
            on_merge(added)
    return merges, "vocab_size"


def _worst_language_pair(
    candidates: list[str], train: Mapping[str, _Side], dev_tokens: Mapping[str, int], min_frequency: int
) -> tuple[str, tuple[Pair, int] | None]:
    """The worst-compressed candidate with a pair occurring ``min_frequency`` times, and that pair.

    A language without such a pair is dropped from ``candidates`` for good: merges never raise the
    highest pair count of a language (a new pair occurs at most as often as the pairs it replaces).
    """
    for code in sorted(candidates, key=lambda code: (-dev_tokens[code], code)):
        side = train[code]
        best = pop_best(side.heap, side.pairs)
        if best is not None and best[1] >= min_frequency:
            return code, best
        candidates.remove(code)
    return "", None
